//! FollowAnalytics' customer attributes (`/api/customer_attributes…`): each request is one
//! engine declaration command. Types are read by the schema (`AttributeType::FOLLOWANALYTICS`).

use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::shape;
use crate::api::{ApiError, Response};
use crate::engine::{Command, Engine};
use crate::model::SourceId;
use crate::schema::{AttributeDefinition, AttributeType, DeclaredAttribute};

/// The body of `POST /api/customer_attributes`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateBody {
    system_of_record_identifier: String,
    key: String,
    label: String,
    #[serde(rename = "type")]
    value_type: String,
    #[serde(default)]
    length: Option<u32>,
}

/// The body of `PUT /api/customer_attributes/{id}`: what may change.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateBody {
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    length: Option<u32>,
}

/// What a customer attribute route does to a declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Action {
    /// `DELETE`.
    Delete,
    /// `…/share`.
    Share,
    /// `…/unshare`.
    Unshare,
    /// `…/disable` (`true`) or `…/enable`.
    Disable(bool),
}

fn not_found(identifier: &str) -> ApiError {
    ApiError::NotFound {
        resource: "customer attribute",
        id: identifier.to_owned(),
    }
}

/// The declaration an identifier names, with its source, or 404.
fn declared<'a>(
    engine: &'a Engine,
    identifier: &str,
) -> Result<(SourceId, &'a DeclaredAttribute), ApiError> {
    let (source, key) =
        shape::parse_attribute_identifier(identifier).ok_or_else(|| not_found(identifier))?;
    let declared = engine
        .schema()
        .attribute(&source, key)
        .ok_or_else(|| not_found(identifier))?;
    Ok((source, declared))
}

fn answer(result: &Json) -> Response {
    Response::json(200, &json!({"success": true, "result": result}))
}

/// `GET /api/customer_attributes/{id}`.
pub(super) fn view(engine: &Engine, identifier: &str) -> Result<Response, ApiError> {
    let (source, declared) = declared(engine, identifier)?;
    Ok(answer(&shape::attribute_alone(&source, declared)))
}

/// `POST /api/customer_attributes`: `declareAttribute` on the named SOR.
pub(super) fn create(engine: &mut Engine, body: &CreateBody) -> Result<Response, ApiError> {
    let source = SourceId::new(&body.system_of_record_identifier);
    let value_type =
        AttributeType::named_for(&body.key, &body.value_type, &AttributeType::FOLLOWANALYTICS)
            .map_err(crate::engine::EngineError::from)?;
    let mut definition = AttributeDefinition::new(body.key.clone(), value_type);
    definition.max_length = body.length;
    definition.label = Some(body.label.clone());
    engine.execute(Command::DeclareAttribute {
        source: source.clone(),
        definition,
    })?;
    let declared = engine
        .schema()
        .attribute(&source, &body.key)
        .ok_or_else(|| not_found(&shape::attribute_identifier(&source, &body.key)))?;
    let mut result = shape::attribute_alone(&source, declared);
    if let Some(object) = result.as_object_mut() {
        object.remove("system_of_record_identifier");
    }
    Ok(answer(&result))
}

/// `PUT /api/customer_attributes/{id}`: `updateAttribute` with a new label or length.
pub(super) fn update(
    engine: &mut Engine,
    identifier: &str,
    body: &UpdateBody,
) -> Result<Response, ApiError> {
    let (source, declared) = declared(engine, identifier)?;
    let mut definition = declared.definition.clone();
    if let Some(label) = &body.label {
        definition.label = Some(label.clone());
    }
    if let Some(length) = body.length {
        definition.max_length = Some(length);
    }
    engine.execute(Command::UpdateAttribute {
        source: source.clone(),
        definition,
    })?;
    view(engine, identifier)
}

/// Delete, share, unshare, disable and enable: one command each, answered `{success}`.
pub(super) fn act(
    engine: &mut Engine,
    identifier: &str,
    action: Action,
) -> Result<Response, ApiError> {
    let (source, declared) = declared(engine, identifier)?;
    let key = declared.definition.key.clone();
    let command = match action {
        Action::Delete => Command::DeleteAttribute { source, key },
        Action::Share => Command::ShareAttribute { key },
        Action::Unshare => {
            if &source != engine.schema().global_source() {
                return Err(ApiError::InvalidRequest(format!(
                    "Only attributes of the global System of Records can be unshared, not `{identifier}`"
                )));
            }
            Command::UnshareAttribute { key }
        }
        Action::Disable(disabled) => Command::DisableAttribute {
            source,
            key,
            disabled,
        },
    };
    engine.execute(command)?;
    Ok(Response::json(200, &json!({"success": true})))
}
