//! Statistics on a hand-built data set, checked against counts worked out by hand.

use std::rc::Rc;

use cdp_engine::engine::ManualClock;
use cdp_engine::identity::IdentityConfig;
use cdp_engine::model::{EventContext, ProfileId, Timestamp};
use cdp_engine::stats::{self, ChangeKind, DefaultSpan, Kpi, Period, PurchaseScope, Resolution};
use cdp_engine::Engine;

use super::support::ok;

const NOW: &str = "2025-03-15T12:00:00Z";

fn record(
    engine: &mut Engine,
    identities: &str,
    name: &str,
    context: &str,
    happened: &str,
    properties: &str,
) -> ProfileId {
    ok(
        engine,
        &format!(r#"{{"recordEvent":{{"identities":{identities},"name":"{name}","context":"{context}","happened":"{happened}","properties":{properties}}}}}"#),
    )
    .profile_id()
    .unwrap()
}

/// a: email+phone, two purchases this month and two page views; b: email, one old order
/// and one page view; c: phone, a cart; d: reachable on no channel.
fn shop() -> (Engine, [ProfileId; 4]) {
    let clock = ManualClock::starting_at(Timestamp::parse(NOW).unwrap());
    let mut engine = Engine::new(IdentityConfig::default(), Rc::new(clock));
    let a_ids = r#"{"email":"a@x.io","phone":"+39 555 1"}"#;
    let a = record(
        &mut engine,
        a_ids,
        "completedOrder",
        "ECOMMERCE",
        "2025-03-10T09:00:00Z",
        r#"{"amount":100,"currency":"EUR"}"#,
    );
    record(
        &mut engine,
        a_ids,
        "purchase",
        "RETAIL",
        "2025-03-12T09:00:00Z",
        r#"{"total":50,"currency":"EUR"}"#,
    );
    record(
        &mut engine,
        a_ids,
        "viewedPage",
        "WEB",
        "2025-03-14T08:00:00Z",
        "{}",
    );
    record(
        &mut engine,
        a_ids,
        "viewedPage",
        "WEB",
        "2025-03-14T09:00:00Z",
        "{}",
    );
    let b_ids = r#"{"email":"b@x.io"}"#;
    let b = record(
        &mut engine,
        b_ids,
        "viewedPage",
        "WEB",
        "2025-03-14T10:00:00Z",
        "{}",
    );
    record(
        &mut engine,
        b_ids,
        "completedOrder",
        "ECOMMERCE",
        "2025-01-05T10:00:00Z",
        r#"{"amount":{"total":30,"currency":"EUR"}}"#,
    );
    let c_ids = r#"{"phone":"+39 555 3"}"#;
    let c = record(
        &mut engine,
        c_ids,
        "addedProduct",
        "ECOMMERCE",
        "2025-03-01T10:00:00Z",
        "{}",
    );
    record(
        &mut engine,
        c_ids,
        "abandonedCart",
        "ECOMMERCE",
        "2025-03-01T11:00:00Z",
        "{}",
    );
    let d = ok(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"crm":"D-1"},"attributes":{"plan":"gold"}}}"#,
    )
    .profile_id()
    .unwrap();
    (engine, [a, b, c, d])
}

fn last_month(engine: &Engine) -> Period {
    Period::resolve(None, None, DefaultSpan::LastMonth, engine.now()).unwrap()
}

fn value(kpis: &[Kpi], name: &str) -> (f64, f64) {
    let kpi = kpis.iter().find(|kpi| kpi.name == name).unwrap();
    (kpi.value, kpi.total)
}

#[test]
fn arrigoo_daily_event_stats_cover_the_past_month_by_type() {
    let (engine, _) = shop();
    let daily = stats::daily_event_counts(&engine);
    assert_eq!(
        daily.types,
        [
            "abandonedCart",
            "addedProduct",
            "completedOrder",
            "purchase",
            "viewedPage"
        ]
    );
    assert_eq!(daily.days.len(), 29);
    assert_eq!(daily.days[0].day.to_string(), "2025-02-15");
    let march_14 = daily
        .days
        .iter()
        .find(|day| day.day.to_string() == "2025-03-14")
        .unwrap();
    assert_eq!(
        (
            march_14.total,
            march_14.by_type["viewedPage"],
            march_14.by_type["purchase"]
        ),
        (3, 3, 0)
    );
    assert_eq!(daily.days.iter().map(|day| day.total).sum::<u64>(), 7);
}

#[test]
fn arrigoo_monthly_event_stats_run_from_the_first_event_to_now() {
    let (engine, _) = shop();
    let months: Vec<(String, u64)> = stats::monthly_event_counts(&engine)
        .into_iter()
        .map(|month| (month.month, month.total))
        .collect();
    assert_eq!(
        months,
        [
            ("2025-01".to_owned(), 1),
            ("2025-02".to_owned(), 0),
            ("2025-03".to_owned(), 7)
        ]
    );
}

#[test]
fn arrigoo_segment_stats_split_current_and_former_members() {
    let (mut engine, _) = shop();
    ok(
        &mut engine,
        r#"{"defineSegment":{"systemTitle":"gold","name":"Gold","rule":{"op":"equals","attribute":"plan","value":"gold"}}}"#,
    );
    ok(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.io"},"attributes":{"plan":"gold"}}}"#,
    );
    ok(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"crm":"D-1"},"attributes":{"plan":"silver"}}}"#,
    );
    let stat = stats::segment_stats(&engine).remove(0);
    assert_eq!(
        (
            stat.name.as_str(),
            stat.total,
            stat.active,
            stat.inactive,
            stat.entries
        ),
        ("Gold", 2, 1, 1, 2)
    );
}

#[test]
fn contacthub_customer_counts() {
    let (engine, _) = shop();
    assert_eq!(stats::customer_count(&engine), 4);
    let channels = stats::communication_channels(&engine);
    assert_eq!(
        (
            channels.email_mobile,
            channels.email_only,
            channels.mobile_only,
            channels.not_reachable
        ),
        (1, 1, 1, 1)
    );
    let year = Period::resolve(None, None, DefaultSpan::LastYear, engine.now()).unwrap();
    let created = stats::customers_created(&engine, &year, Resolution::Monthly).unwrap();
    assert_eq!(created.category, "addedCustomers");
    assert_eq!(created.points.len(), 13);
    assert_eq!(created.points.last().unwrap().value, 4);
    let added = stats::customers_changed(&engine, ChangeKind::Added, &last_month(&engine)).unwrap();
    assert_eq!(added.points.iter().map(|point| point.value).sum::<u64>(), 4);
    let updated =
        stats::customers_changed(&engine, ChangeKind::Updated, &last_month(&engine)).unwrap();
    assert_eq!(
        updated.points.iter().map(|point| point.value).sum::<u64>(),
        0
    );
}

#[test]
fn contacthub_event_counts_by_type_context_and_update_date() {
    let (engine, [a, ..]) = shop();
    let month = last_month(&engine);
    let web = stats::events_by_type_and_context(&engine, Some(EventContext::Web), &month).unwrap();
    assert_eq!(web.len(), 1);
    assert_eq!(
        (
            web[0].category.as_str(),
            web[0].points.iter().map(|p| p.value).sum::<u64>()
        ),
        ("viewedPage", 3)
    );
    let all = stats::events_by_type_and_context(&engine, None, &month).unwrap();
    assert_eq!(all.len(), 5);
    let added = stats::events_added(&engine, ChangeKind::Added, &month).unwrap();
    assert_eq!(
        added
            .iter()
            .flat_map(|series| &series.points)
            .map(|p| p.value)
            .sum::<u64>(),
        8
    );
    let year = Period::resolve(None, None, DefaultSpan::LastYear, engine.now()).unwrap();
    let categories =
        stats::customer_events_by_category(&engine, a, &year, Resolution::Daily).unwrap();
    let shape: Vec<(Option<EventContext>, &str, u64)> = categories
        .iter()
        .map(|series| {
            (
                series.context,
                series.category.as_str(),
                series.points.iter().map(|p| p.value).sum(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            (Some(EventContext::Ecommerce), "completedOrder", 1),
            (Some(EventContext::Retail), "purchase", 1),
            (Some(EventContext::Web), "viewedPage", 2)
        ]
    );
    let unknown =
        stats::customer_events_by_category(&engine, ProfileId::random(), &year, Resolution::Daily);
    assert_eq!(unknown.unwrap_err().code(), "stats.unknown_profile");
}

#[test]
fn contacthub_kpis_and_buying_behaviour() {
    let (engine, [a, ..]) = shop();
    let month = last_month(&engine);
    let all = stats::purchase_kpis(&engine, PurchaseScope::All, &month);
    assert_eq!(value(&all, "totalRevenue"), (150.0, 180.0));
    assert_eq!(value(&all, "orders"), (2.0, 3.0));
    assert_eq!(value(&all, "averageOrderValue"), (75.0, 60.0));
    assert_eq!(value(&all, "buyers"), (1.0, 2.0));
    assert_eq!(all[0].currency.as_deref(), Some("EUR"));
    let ecommerce = stats::purchase_kpis(&engine, PurchaseScope::Ecommerce, &month);
    assert_eq!(value(&ecommerce, "totalRevenue"), (100.0, 130.0));
    let retail = stats::purchase_kpis(&engine, PurchaseScope::Retail, &month);
    assert_eq!(value(&retail, "totalRevenue"), (50.0, 50.0));
    let shop_kpis = stats::ecommerce_kpis(&engine, &month);
    assert_eq!(value(&shop_kpis, "totalSales"), (100.0, 130.0));
    assert_eq!(value(&shop_kpis, "abandonedCarts"), (1.0, 1.0));
    assert_eq!(value(&shop_kpis, "addedProducts"), (1.0, 1.0));
    let web = stats::web_kpis(&engine, &month);
    assert_eq!(value(&web, "pageViews"), (3.0, 3.0));
    assert_eq!(value(&web, "uniqueVisitors"), (2.0, 2.0));
    let year = Period::resolve(None, None, DefaultSpan::LastYear, engine.now()).unwrap();
    let behaviour = stats::buying_behaviour(&engine, a, &year).unwrap();
    assert_eq!(value(&behaviour, "totalSpending"), (150.0, 150.0));
    assert_eq!(value(&behaviour, "orders"), (2.0, 2.0));
}
