//! Contacthub's KPIs: purchases, ecommerce, web, and one customer's buying behaviour.
//!
//! Purchases are events named `completedOrder` (Contacthub's type) or `purchase`. Their
//! amount is the first number among the properties `total`, `amount`, `revenue`, `value`;
//! an `amount` object (Contacthub's order shape) gives its `total` or `revenue`. The
//! currency is the `currency` property (or `amount.currency`) when every counted purchase
//! agrees on one. Page views are `viewedPage` events, carts `addedProduct` and
//! `abandonedCart` events, all Contacthub event types.

use std::collections::{BTreeMap, HashSet};

use super::{Period, StatsError};
use crate::model::{Event, EventContext, ProfileId, RunningSum, Value};
use crate::Engine;

/// What a KPI's value measures.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum KpiKind {
    /// Money, in [`Kpi::currency`].
    Currency,
    /// A count.
    Count,
}

/// One KPI: its value in the range and over all time.
#[derive(Clone, PartialEq, Debug)]
pub struct Kpi {
    /// The KPI's name (`totalRevenue`, `pageViews`).
    pub name: &'static str,
    /// Money or a count.
    pub kind: KpiKind,
    /// The value in the range.
    pub value: f64,
    /// The value over all time.
    pub total: f64,
    /// The currency of money values, when the purchases agree on one.
    pub currency: Option<String>,
}

/// Which purchases Contacthub's purchase KPIs count (its `type`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PurchaseScope {
    /// Every purchase.
    All,
    /// Purchases in the `ECOMMERCE` context.
    Ecommerce,
    /// Purchases in the `RETAIL` context.
    Retail,
}

const PURCHASES: [&str; 2] = ["completedOrder", "purchase"];

fn is_purchase(event: &Event) -> bool {
    PURCHASES.contains(&&*event.name)
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Integer(number) => Some(*number as f64),
        Value::Number(number) => Some(*number),
        Value::Object(fields) => ["total", "revenue"]
            .iter()
            .find_map(|key| fields.get(*key).and_then(number)),
        Value::String(_)
        | Value::Boolean(_)
        | Value::Date(_)
        | Value::DateTime(_)
        | Value::Set(_)
        | Value::List(_) => None,
    }
}

/// The amount of a purchase.
fn amount(event: &Event) -> f64 {
    ["total", "amount", "revenue", "value"]
        .iter()
        .find_map(|key| event.properties.get(key).and_then(number))
        .unwrap_or(0.0)
}

fn currency(event: &Event) -> Option<&str> {
    match event.properties.get("currency") {
        Some(Value::String(code)) => Some(code),
        _ => match event.properties.get("amount") {
            Some(Value::Object(fields)) => match fields.get("currency") {
                Some(Value::String(code)) => Some(code),
                _ => None,
            },
            _ => None,
        },
    }
}

/// Money totals over a set of purchases.
#[derive(Default)]
struct Purchases<'a> {
    revenue: RunningSum,
    orders: u64,
    buyers: HashSet<ProfileId>,
    currencies: BTreeMap<&'a str, u64>,
}

impl<'a> Purchases<'a> {
    fn add(&mut self, event: &'a Event) {
        self.revenue.add(amount(event));
        self.orders += 1;
        self.buyers.insert(event.profile);
        if let Some(code) = currency(event) {
            *self.currencies.entry(code).or_default() += 1;
        }
    }

    fn average(&self) -> f64 {
        if self.orders == 0 {
            0.0
        } else {
            self.revenue.mean(self.orders)
        }
    }

    fn currency(&self) -> Option<String> {
        match self.currencies.keys().collect::<Vec<_>>().as_slice() {
            [only] => Some((**only).to_owned()),
            _ => None,
        }
    }
}

fn money(name: &'static str, value: f64, total: f64, currency: Option<String>) -> Kpi {
    Kpi {
        name,
        kind: KpiKind::Currency,
        value,
        total,
        currency,
    }
}

fn count(name: &'static str, value: u64, total: u64) -> Kpi {
    Kpi {
        name,
        kind: KpiKind::Count,
        value: value as f64,
        total: total as f64,
        currency: None,
    }
}

fn split<'a>(
    events: impl Iterator<Item = &'a Event>,
    period: &Period,
    wanted: impl Fn(&Event) -> bool,
) -> (Purchases<'a>, Purchases<'a>) {
    let mut in_range = Purchases::default();
    let mut all_time = Purchases::default();
    for event in events.filter(|event| is_purchase(event) && wanted(event)) {
        all_time.add(event);
        if period.contains(event.happened) {
            in_range.add(event);
        }
    }
    (in_range, all_time)
}

fn purchase_kpis_of(
    in_range: &Purchases<'_>,
    all_time: &Purchases<'_>,
    revenue_name: &'static str,
) -> Vec<Kpi> {
    let currency = in_range.currency().or_else(|| all_time.currency());
    vec![
        money(
            revenue_name,
            in_range.revenue.total(),
            all_time.revenue.total(),
            currency.clone(),
        ),
        count("orders", in_range.orders, all_time.orders),
        money(
            "averageOrderValue",
            in_range.average(),
            all_time.average(),
            currency,
        ),
        count(
            "buyers",
            in_range.buyers.len() as u64,
            all_time.buyers.len() as u64,
        ),
    ]
}

/// Purchase KPIs in the range: `totalRevenue`, `orders`, `averageOrderValue`, `buyers`.
pub fn purchase_kpis(engine: &Engine, scope: PurchaseScope, period: &Period) -> Vec<Kpi> {
    let events = engine.event_store().iter().map(|(_, event)| event);
    let (in_range, all_time) = split(events, period, |event| match scope {
        PurchaseScope::All => true,
        PurchaseScope::Ecommerce => event.context == EventContext::Ecommerce,
        PurchaseScope::Retail => event.context == EventContext::Retail,
    });
    purchase_kpis_of(&in_range, &all_time, "totalRevenue")
}

/// Ecommerce KPIs in the range: `totalSales`, `orders`, `averageOrderValue`, `buyers` of
/// `ECOMMERCE` purchases, plus `addedProducts` and `abandonedCarts`.
pub fn ecommerce_kpis(engine: &Engine, period: &Period) -> Vec<Kpi> {
    let events = || engine.event_store().iter().map(|(_, event)| event);
    let (in_range, all_time) = split(events(), period, |event| {
        event.context == EventContext::Ecommerce
    });
    let mut kpis = purchase_kpis_of(&in_range, &all_time, "totalSales");
    for (name, event_name) in [
        ("addedProducts", "addedProduct"),
        ("abandonedCarts", "abandonedCart"),
    ] {
        let matching = || events().filter(|event| &*event.name == event_name);
        let value = matching()
            .filter(|event| period.contains(event.happened))
            .count();
        kpis.push(count(name, value as u64, matching().count() as u64));
    }
    kpis
}

/// Web KPIs in the range: `pageViews` and `uniqueVisitors` of `viewedPage` events.
pub fn web_kpis(engine: &Engine, period: &Period) -> Vec<Kpi> {
    let views = || {
        engine
            .event_store()
            .iter()
            .map(|(_, event)| event)
            .filter(|event| &*event.name == "viewedPage")
    };
    let in_range = || views().filter(|event| period.contains(event.happened));
    let visitors = |events: &mut dyn Iterator<Item = &Event>| {
        events
            .map(|event| event.profile)
            .collect::<HashSet<_>>()
            .len() as u64
    };
    vec![
        count(
            "pageViews",
            in_range().count() as u64,
            views().count() as u64,
        ),
        count(
            "uniqueVisitors",
            visitors(&mut in_range()),
            visitors(&mut views()),
        ),
    ]
}

/// One customer's buying behaviour in the range: `totalSpending`, `orders`,
/// `averageOrderValue`, `buyers` (1 when they bought).
pub fn buying_behaviour(
    engine: &Engine,
    profile: ProfileId,
    period: &Period,
) -> Result<Vec<Kpi>, StatsError> {
    let events = engine
        .events_of(profile)
        .ok_or(StatsError::UnknownProfile(profile))?;
    let (in_range, all_time) = split(events.iter().map(|stored| &*stored.event), period, |_| true);
    Ok(purchase_kpis_of(&in_range, &all_time, "totalSpending"))
}
