use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::{EventId, ProfileId, Properties, Timestamp};

/// Where an event happened (the contexts of Contacthub and PrimeData).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventContext {
    /// A web site.
    Web,
    /// A mobile app.
    Mobile,
    /// An online shop.
    Ecommerce,
    /// A physical store.
    Retail,
    /// A social network.
    Social,
    /// A digital campaign (mail, ads).
    DigitalCampaign,
    /// A contact centre.
    ContactCenter,
    /// A connected device.
    Iot,
    /// Anything else.
    Other,
}

/// Whether the customer acted or something happened to them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventMode {
    /// The customer did it.
    Active,
    /// It happened to the customer.
    Passive,
}

/// Something a customer did, recorded against one profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The event's id.
    pub id: EventId,
    /// The profile the event belongs to.
    pub profile: ProfileId,
    /// The event's name or type (`purchase`, `viewedPage`).
    pub name: Rc<str>,
    /// Where it happened.
    pub context: EventContext,
    /// Active or passive.
    pub mode: EventMode,
    /// When it happened.
    pub happened: Timestamp,
    /// When the sender sent it, if it said.
    pub sent: Option<Timestamp>,
    /// When the engine received it.
    pub received: Timestamp,
    /// Typed properties of the event.
    pub properties: Properties,
    /// The version of the event's schema, if the sender gave one.
    pub schema_version: Option<String>,
}
