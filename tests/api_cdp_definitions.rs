//! `/cdp/v1` computed traits, segments (members, history, state), statistics and the identity
//! configuration, on data built through the same surface on the harness's manual clock
//! (2025-03-21T10:00:00Z).

mod support;

use serde_json::{json, Value as Json};
use support::Harness;

fn cdp(harness: &mut Harness, method: &str, target: &str, body: &Json) -> (u16, Json) {
    let text = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let response = harness.send(method, target, &[], &text);
    (response.status, response.body_json())
}

fn get(harness: &mut Harness, target: &str) -> Json {
    let (status, body) = cdp(harness, "GET", target, &Json::Null);
    assert_eq!(status, 200, "{target}: {body}");
    body
}

fn code(body: &Json) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error code>")
}

fn upsert(harness: &mut Harness, email: &str, attributes: Json) -> String {
    let body = json!({"identities": {"email": email}, "attributes": attributes});
    let (status, outcome) = cdp(harness, "POST", "/cdp/v1/profiles", &body);
    assert!(status == 200 || status == 201, "{outcome}");
    outcome["profile"].as_str().unwrap().to_owned()
}

fn purchase(harness: &mut Harness, email: &str, amount: i64, happened: &str) {
    let body = json!({"identities": {"email": email}, "name": "purchase", "happened": happened,
        "context": "ECOMMERCE", "properties": {"amount": amount}});
    let (status, outcome) = cdp(harness, "POST", "/cdp/v1/events", &body);
    assert_eq!(status, 201, "{outcome}");
}

const SPENT: &str =
    r#"{"name": "spent", "aggregate": "sum", "event": "purchase", "property": "amount"}"#;

fn spent(harness: &mut Harness, id: &str) -> f64 {
    let values = get(harness, &format!("/cdp/v1/profiles/{id}/traits"));
    assert_eq!(values["profile"], json!(id));
    values["traits"]["spent"].as_f64().unwrap_or(0.0)
}

#[test]
fn traits_are_defined_listed_read_valued_and_deleted() {
    let mut harness = Harness::with_config("{}");
    let a = upsert(&mut harness, "a@x.y", json!({}));
    purchase(&mut harness, "a@x.y", 30, "2025-03-20T10:00:00Z");
    let definition: Json = serde_json::from_str(SPENT).unwrap();
    let (status, outcome) = cdp(&mut harness, "POST", "/cdp/v1/traits", &definition);
    assert_eq!(
        (status, outcome),
        (201, json!({"name": "spent", "changed": true}))
    );
    assert_eq!(spent(&mut harness, &a), 30.0, "stored events are folded in");
    purchase(&mut harness, "a@x.y", 20, "2025-03-21T09:00:00Z");
    assert_eq!(spent(&mut harness, &a), 50.0, "and new ones as they arrive");

    let (status, _) = cdp(&mut harness, "POST", "/cdp/v1/traits", &definition);
    assert_eq!(status, 200, "redefining replaces");
    let count = json!({"name": "buys", "aggregate": "count", "event": "purchase"});
    cdp(&mut harness, "POST", "/cdp/v1/traits", &count);
    let list = get(&mut harness, "/cdp/v1/traits");
    let names: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["buys", "spent"]);
    let one = get(&mut harness, "/cdp/v1/traits/spent");
    assert_eq!(
        (one["aggregate"].as_str(), one["property"].as_str()),
        (Some("sum"), Some("amount"))
    );

    let (status, _) = cdp(&mut harness, "DELETE", "/cdp/v1/traits/spent", &Json::Null);
    assert_eq!(status, 200);
    for (method, target) in [
        ("GET", "/cdp/v1/traits/spent"),
        ("DELETE", "/cdp/v1/traits/spent"),
    ] {
        let (status, body) = cdp(&mut harness, method, target, &Json::Null);
        assert_eq!(
            (status, code(&body)),
            (404, "traits.unknown"),
            "{method} {target}"
        );
    }
    assert_eq!(
        get(&mut harness, &format!("/cdp/v1/profiles/{a}/traits"))["traits"],
        json!({"buys": 2})
    );

    let before = harness.engine.next_offset();
    let bad = json!({"name": "bad", "aggregate": "median", "event": "purchase"});
    let (status, body) = cdp(&mut harness, "POST", "/cdp/v1/traits", &bad);
    assert_eq!(
        (status, code(&body)),
        (400, "traits.invalid_definition"),
        "{body}"
    );
    assert_eq!(body["error"]["path"], "$.aggregate");
    assert_eq!(harness.engine.next_offset(), before);
}

/// `gold` (plan gold) and `big` (spent ≥ 100); a is gold, b becomes gold then silver.
fn shop() -> (Harness, String, String) {
    let mut harness = Harness::with_config("{}");
    cdp(
        &mut harness,
        "POST",
        "/cdp/v1/traits",
        &serde_json::from_str(SPENT).unwrap(),
    );
    let gold = json!({"systemTitle": "gold", "name": "Gold", "rule": {"op": "equals", "attribute": "plan", "value": "gold"}});
    let (status, outcome) = cdp(&mut harness, "POST", "/cdp/v1/segments", &gold);
    assert_eq!(
        (status, outcome),
        (201, json!({"name": "gold", "changed": true}))
    );
    let big = json!({"systemTitle": "big", "rule": {"op": "range", "trait": "spent", "min": 100}});
    assert_eq!(cdp(&mut harness, "POST", "/cdp/v1/segments", &big).0, 201);
    let a = upsert(&mut harness, "a@x.y", json!({"plan": "gold"}));
    let b = upsert(&mut harness, "b@x.y", json!({"plan": "gold"}));
    upsert(&mut harness, "b@x.y", json!({"plan": "silver"}));
    purchase(&mut harness, "a@x.y", 150, "2025-03-21T09:00:00Z");
    (harness, a, b)
}

#[test]
fn segments_list_read_and_page_their_members_and_history() {
    let (mut harness, a, b) = shop();
    let list = get(&mut harness, "/cdp/v1/segments");
    let summary: Vec<(String, u64)> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["systemTitle"].as_str().unwrap().to_owned(),
                s["members"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(summary, [("big".to_owned(), 1), ("gold".to_owned(), 1)]);
    let gold = get(&mut harness, "/cdp/v1/segments/gold");
    assert_eq!(gold["name"], "Gold");
    assert_eq!(
        gold["rule"],
        json!({"op": "equals", "attribute": "plan", "value": "gold"})
    );
    assert_eq!(
        gold["counts"],
        json!({"members": 1, "formerMembers": 1, "entries": 2, "exits": 1})
    );
    assert_eq!(
        get(&mut harness, "/cdp/v1/segments/gold/members")["data"],
        json!([a])
    );
    assert_eq!(
        get(&mut harness, &format!("/cdp/v1/profiles/{a}/segments"))["segments"],
        json!(["big", "gold"])
    );

    let history = get(&mut harness, "/cdp/v1/segments/gold/history");
    let steps: Vec<(&str, &str)> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["type"].as_str().unwrap(), h["profile"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("enter", a.as_str()),
            ("enter", b.as_str()),
            ("exit", b.as_str())
        ]
    );
    assert_eq!(history["data"][0]["segment"], "gold");
    assert!(history["data"][0]["at"]
        .as_str()
        .unwrap()
        .starts_with("2025-03-21T10:00:00"));
    let first = get(&mut harness, "/cdp/v1/segments/gold/history?limit=2");
    assert_eq!(
        (
            first["data"].as_array().unwrap().len(),
            first["total"].as_u64()
        ),
        (2, Some(3))
    );
    let next = first["next"].as_str().unwrap().to_owned();
    let rest = get(
        &mut harness,
        &format!("/cdp/v1/segments/gold/history?limit=2&cursor={next}"),
    );
    assert_eq!(rest["data"][0]["type"], "exit");
    assert_eq!(rest["next"], Json::Null);

    for target in [
        "/cdp/v1/segments/none",
        "/cdp/v1/segments/none/members",
        "/cdp/v1/segments/none/history",
    ] {
        let (status, body) = cdp(&mut harness, "GET", target, &Json::Null);
        assert_eq!((status, code(&body)), (404, "segments.unknown"), "{target}");
    }
}

#[test]
fn segments_are_turned_off_and_on_redefined_and_deleted() {
    let (mut harness, a, _) = shop();
    let (status, outcome) = cdp(
        &mut harness,
        "POST",
        "/cdp/v1/segments/gold/deactivate",
        &Json::Null,
    );
    assert_eq!(
        (status, outcome),
        (200, json!({"name": "gold", "changed": true}))
    );
    assert_eq!(get(&mut harness, "/cdp/v1/segments/gold")["active"], false);
    assert_eq!(
        get(&mut harness, "/cdp/v1/segments/gold/members")["total"],
        0
    );
    let (_, again) = cdp(
        &mut harness,
        "POST",
        "/cdp/v1/segments/gold/deactivate",
        &Json::Null,
    );
    assert_eq!(again["changed"], false, "already off");
    cdp(
        &mut harness,
        "POST",
        "/cdp/v1/segments/gold/activate",
        &Json::Null,
    );
    assert_eq!(
        get(&mut harness, "/cdp/v1/segments/gold/members")["data"],
        json!([a])
    );

    let silver = json!({"systemTitle": "gold", "rule": {"op": "equals", "attribute": "plan", "value": "silver"}});
    assert_eq!(
        cdp(&mut harness, "POST", "/cdp/v1/segments", &silver).0,
        200,
        "redefined"
    );
    assert_eq!(get(&mut harness, "/cdp/v1/segments/gold")["members"], 1);
    assert_ne!(
        get(&mut harness, "/cdp/v1/segments/gold/members")["data"],
        json!([a])
    );

    assert_eq!(
        cdp(&mut harness, "DELETE", "/cdp/v1/segments/gold", &Json::Null).0,
        200
    );
    for (method, target) in [
        ("DELETE", "/cdp/v1/segments/gold"),
        ("POST", "/cdp/v1/segments/gold/activate"),
        ("POST", "/cdp/v1/segments/gold/deactivate"),
    ] {
        let (status, body) = cdp(&mut harness, method, target, &Json::Null);
        assert_eq!(
            (status, code(&body)),
            (404, "segments.unknown"),
            "{method} {target}"
        );
    }
    let titles: Vec<Json> = get(&mut harness, "/cdp/v1/segments")["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["systemTitle"].clone())
        .collect();
    assert_eq!(titles, [json!("big")]);
}

#[test]
fn an_invalid_segment_rule_is_400_naming_the_bad_node_and_defines_nothing() {
    let (mut harness, _, _) = shop();
    let before = harness.engine.next_offset();
    let refused = [
        (
            json!({"systemTitle": "x", "rule": {"op": "and", "rules": [{"op": "exists", "attribute": "plan"}, {"op": "bogus"}]}}),
            "segments.invalid_rule",
            "$.rule.rules[1].op",
        ),
        (
            json!({"systemTitle": "x", "rule": {"op": "range", "attribute": "age", "min": "old"}}),
            "segments.invalid_rule",
            "$.rule.min",
        ),
        (
            json!({"systemTitle": "x y", "rule": {"op": "exists", "attribute": "plan"}}),
            "segments.invalid_definition",
            "$.systemTitle",
        ),
        (
            json!({"systemTitle": "x", "rule": {"op": "exists", "attribute": "plan"}, "colour": "red"}),
            "segments.invalid_definition",
            "$.colour",
        ),
    ];
    for (body, expected, path) in refused {
        let (status, error) = cdp(&mut harness, "POST", "/cdp/v1/segments", &body);
        assert_eq!((status, code(&error)), (400, expected), "{body} → {error}");
        assert_eq!(error["error"]["path"], json!(path), "{error}");
        assert!(error["error"]["message"].as_str().unwrap().contains(path));
    }
    assert_eq!(harness.engine.next_offset(), before);
    assert_eq!(
        get(&mut harness, "/cdp/v1/segments")["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn an_average_order_value_stays_right_past_the_largest_revenue() {
    let mut harness = Harness::with_config("{}");
    for email in ["a@x.y", "b@x.y"] {
        let body = json!({"identities": {"email": email}, "name": "purchase",
            "happened": "2025-01-10T12:00:00Z", "properties": {"amount": 1.7e308}});
        let (status, outcome) = cdp(&mut harness, "POST", "/cdp/v1/events", &body);
        assert_eq!(status, 201, "{outcome}");
    }
    let kpis = get(
        &mut harness,
        "/cdp/v1/stats/kpis/purchases?start=2025-01-01&end=2025-02-01",
    );
    let kpi = |name: &str| {
        kpis["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|kpi| kpi["name"] == name)
            .unwrap()
            .clone()
    };
    let average = kpi("averageOrderValue");
    assert_eq!(
        (average["value"].as_f64(), average["total"].as_f64()),
        (Some(1.7e308), Some(1.7e308))
    );
    // The revenue itself is past the largest number: out of range, as a trait's sum.
    assert_eq!(kpi("totalRevenue")["value"], Json::Null);
    assert_eq!(kpi("orders")["value"].as_f64(), Some(2.0));
}

#[test]
fn statistics_count_segments_events_customers_and_purchases() {
    let (mut harness, a, b) = shop();
    upsert(&mut harness, "c@x.y", json!({}));
    let body = json!({"identities": {"phone": "+4520304050"}, "name": "viewedPage", "context": "WEB", "happened": "2025-03-20T08:00:00Z"});
    cdp(&mut harness, "POST", "/cdp/v1/events", &body);
    purchase(&mut harness, "b@x.y", 50, "2025-01-10T12:00:00Z");

    let segments = get(&mut harness, "/cdp/v1/stats/segments");
    assert_eq!(
        segments["data"][1],
        json!({"systemTitle": "gold", "name": "Gold", "active": true,
        "total": 2, "members": 1, "formerMembers": 1, "entries": 2})
    );

    let daily = get(&mut harness, "/cdp/v1/stats/events/daily");
    assert_eq!(daily["types"], json!(["purchase", "viewedPage"]));
    let today = daily["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (today["day"].as_str(), today["total"].as_u64()),
        (Some("2025-03-21"), Some(1))
    );
    let monthly = get(&mut harness, "/cdp/v1/stats/events/monthly");
    assert_eq!(
        monthly["data"],
        json!([{"month": "2025-01", "total": 1}, {"month": "2025-02", "total": 0}, {"month": "2025-03", "total": 2}])
    );

    let customers = get(&mut harness, "/cdp/v1/stats/customers");
    assert_eq!(customers["total"], 4);
    assert_eq!(
        customers["channels"],
        json!({"emailMobile": 0, "emailOnly": 3, "mobileOnly": 1, "notReachable": 0})
    );
    let created = get(
        &mut harness,
        "/cdp/v1/stats/customers/created?start=2025-03-01&end=2025-03-22&resolution=weekly",
    );
    let points = created["data"][0]["points"].as_array().unwrap();
    assert_eq!(created["data"][0]["category"], "addedCustomers");
    assert_eq!(
        points
            .iter()
            .map(|p| p["value"].as_u64().unwrap())
            .sum::<u64>(),
        4
    );
    let updated = get(&mut harness, "/cdp/v1/stats/customers/changed?kind=updated");
    assert_eq!(
        updated["data"][0]["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["value"].as_u64().unwrap())
            .sum::<u64>(),
        0,
        "every change came at creation time on this clock"
    );

    let by_type = get(&mut harness, "/cdp/v1/stats/events/by-type?context=WEB");
    assert_eq!(by_type["data"].as_array().unwrap().len(), 1);
    assert_eq!(by_type["data"][0]["category"], "viewedPage");
    assert_eq!(by_type["data"][0]["context"], "WEB");
    let added = get(&mut harness, "/cdp/v1/stats/events/added");
    assert_eq!(
        added["data"].as_array().unwrap().len(),
        2,
        "purchase and viewedPage"
    );

    let kpis = get(&mut harness, "/cdp/v1/stats/kpis/purchases");
    let revenue = &kpis["data"][0];
    assert_eq!(
        (revenue["name"].as_str(), revenue["kind"].as_str()),
        (Some("totalRevenue"), Some("currency"))
    );
    assert_eq!(
        (revenue["value"].as_f64(), revenue["total"].as_f64()),
        (Some(150.0), Some(200.0)),
        "the last month, and all time"
    );
    let ecommerce = get(
        &mut harness,
        "/cdp/v1/stats/kpis/ecommerce?start=2025-01-01",
    );
    assert_eq!(ecommerce["data"][0]["value"].as_f64(), Some(200.0));
    let web = get(&mut harness, "/cdp/v1/stats/kpis/web");
    assert_eq!(
        web["data"][0],
        json!({"name": "pageViews", "kind": "count", "value": 1.0, "total": 1.0, "currency": null})
    );
    let retail = get(&mut harness, "/cdp/v1/stats/kpis/purchases?scope=retail");
    assert_eq!(retail["data"][0]["total"].as_f64(), Some(0.0));

    let buying = get(&mut harness, &format!("/cdp/v1/profiles/{b}/stats/buying"));
    assert_eq!(buying["data"][0]["value"].as_f64(), Some(50.0));
    let events = get(
        &mut harness,
        &format!("/cdp/v1/profiles/{a}/stats/events?resolution=monthly&start=2025-03-01"),
    );
    assert_eq!(events["data"][0]["category"], "purchase");
    assert_eq!(
        events["data"][0]["points"],
        json!([{"date": "2025-03-01", "value": 1}])
    );

    let refused = [
        (
            "/cdp/v1/stats/kpis/web?start=2025-03-02&end=2025-03-01",
            "events.empty_window",
        ),
        ("/cdp/v1/stats/kpis/web?start=soon", "api.invalid_request"),
        (
            "/cdp/v1/stats/customers/created?resolution=hourly",
            "api.invalid_request",
        ),
        (
            "/cdp/v1/stats/customers/changed?kind=moved",
            "api.invalid_request",
        ),
        (
            "/cdp/v1/stats/kpis/purchases?scope=moon",
            "api.invalid_request",
        ),
        (
            "/cdp/v1/stats/events/by-type?context=MARS",
            "api.invalid_request",
        ),
        // Every bucket of every series is answered: ranges whose answer would exceed
        // 200,000 points are refused, not built (or cut short).
        (
            "/cdp/v1/stats/events/by-type?start=0001-01-01&end=9999-12-31",
            "api.invalid_request",
        ),
        (
            "/cdp/v1/stats/events/added?start=0001-01-01&end=9999-12-31",
            "api.invalid_request",
        ),
        (
            "/cdp/v1/stats/customers/created?resolution=daily&start=0001-01-01",
            "api.invalid_request",
        ),
        (
            "/cdp/v1/stats/customers/changed?start=0001-01-01&end=9999-12-31",
            "api.invalid_request",
        ),
    ];
    for (target, expected) in refused {
        let (status, body) = cdp(&mut harness, "GET", target, &Json::Null);
        assert_eq!((status, code(&body)), (400, expected), "{target}");
    }
    let (status, body) = cdp(
        &mut harness,
        "GET",
        &format!("/cdp/v1/profiles/{a}/stats/events?resolution=daily&start=0001-01-01"),
        &Json::Null,
    );
    assert_eq!(
        (status, code(&body)),
        (400, "api.invalid_request"),
        "{body}"
    );
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|message| message.contains("more than 200000")));
    // The same centuries by month fit.
    get(
        &mut harness,
        "/cdp/v1/stats/customers/created?resolution=monthly&start=0001-01-01",
    );
}

#[test]
fn the_identity_configuration_reads_as_configured() {
    let mut harness = Harness::with_config(
        r#"{"identity": {"policy": "merge", "types": [{"name": "email", "normalization": "email"},
            {"name": "crm_id", "caseSensitive": false, "limit": 1, "onLimit": "reject", "priority": 5}]}}"#,
    );
    let identity = get(&mut harness, "/cdp/v1/identity");
    assert_eq!(identity["policy"], "merge");
    assert_eq!(identity["types"][1]["name"], "crm_id");
    assert_eq!(identity["types"][1]["caseSensitive"], false);
    assert_eq!(identity["types"][1]["limit"], 1);
    assert_eq!(identity["types"][1]["onLimit"], "reject");
    assert_eq!(identity["types"][1]["priority"], 5);
    assert_eq!(identity["types"].as_array().unwrap().len(), 2);
}
