//! Arrigoo's segment and statistics endpoints on hand-built data: segments defined and events
//! recorded through engine commands on a manual clock, figures worked out by hand.

mod support;

use cdp_engine::api::Response;
use serde_json::{json, Value as Json};
use support::Harness;

/// Two profiles per page, so paging edges are cheap to reach.
const CONFIG: &str = r#"{"arrigoo": {"apiKeys": [
    {"key": "viewer", "secret": "s-viewer", "role": "viewer"}], "pageSize": 2}}"#;

const ENDPOINTS: [&str; 6] = [
    "/v1/customer/segment/gold",
    "/v1/segment",
    "/v1/stat/segment",
    "/v1/stat/event",
    "/v1/stat/event/month",
    "/v1/customer",
];

fn execute(harness: &mut Harness, command: Json) {
    harness.execute(command);
}

fn upsert(harness: &mut Harness, email: &str, attributes: Json) {
    execute(
        harness,
        json!({"upsertProfile": {"identities": {"email": email}, "attributes": attributes}}),
    );
}

fn event(harness: &mut Harness, email: &str, name: &str, happened: &str) {
    execute(
        harness,
        json!({"recordEvent": {"identities": {"email": email}, "name": name, "happened": happened}}),
    );
}

/// The clock stands at 2025-03-21T10:00:00Z. Segments: `gold` (plan gold), `adults`
/// (age ≥ 18), `dormant` (inactive). Profiles in creation order: a (gold, 30), b (gold,
/// then silver: a former gold member, 10), c (silver, 40), d (none, 50). Events: a two
/// page views on 03-20 and a purchase on 03-21; c a login on 02-25 and one on 01-05.
fn shop() -> Harness {
    let mut harness = Harness::with_config(CONFIG);
    execute(
        &mut harness,
        json!({"defineSegment": {"systemTitle": "gold", "name": "Gold", "description": "Gold plan",
            "rule": {"op": "equals", "attribute": "plan", "value": "gold"}}}),
    );
    execute(
        &mut harness,
        json!({"defineSegment": {"systemTitle": "adults", "name": "Adults",
            "rule": {"op": "range", "attribute": "age", "min": 18}}}),
    );
    execute(
        &mut harness,
        json!({"defineSegment": {"systemTitle": "dormant", "name": "Dormant", "active": false,
            "rule": {"op": "exists", "attribute": "plan"}}}),
    );
    upsert(&mut harness, "a@x.io", json!({"plan": "gold", "age": 30}));
    upsert(&mut harness, "b@x.io", json!({"plan": "gold", "age": 10}));
    upsert(&mut harness, "c@x.io", json!({"plan": "silver", "age": 40}));
    upsert(&mut harness, "d@x.io", json!({"age": 50}));
    upsert(&mut harness, "b@x.io", json!({"plan": "silver"}));
    event(&mut harness, "a@x.io", "pageview", "2025-03-20T08:00:00Z");
    event(&mut harness, "a@x.io", "pageview", "2025-03-20T09:00:00Z");
    event(&mut harness, "a@x.io", "purchase", "2025-03-21T09:00:00Z");
    event(&mut harness, "c@x.io", "login", "2025-02-25T12:00:00Z");
    event(&mut harness, "c@x.io", "login", "2025-01-05T12:00:00Z");
    harness
}

fn get(harness: &mut Harness, target: &str) -> Response {
    let token = harness.arrigoo_token("viewer", "s-viewer");
    let bearer = format!("Bearer {token}");
    harness.send("GET", target, &[("authorization", &bearer)], "")
}

fn ok(harness: &mut Harness, target: &str) -> Json {
    let response = get(harness, target);
    assert_eq!(response.status, 200, "{target}: {}", response.body);
    response.body_json()
}

fn emails(list: &Json) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["i"][0]["id_value"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_segment_and_stat_endpoint_needs_a_valid_token() {
    let mut harness = shop();
    for target in ENDPOINTS {
        for headers in [
            &[][..],
            &[("authorization", "Bearer not-a-token")][..],
            &[("authorization", "Basic dmlld2VyOnMtdmlld2Vy")][..],
        ] {
            let response = harness.send("GET", target, headers, "");
            assert_eq!(response.status, 401, "{target}: {}", response.body);
            assert_eq!(response.body_json()["error"], "api.unauthenticated");
        }
        ok(&mut harness, target);
    }
}

#[test]
fn segment_members_are_the_list_shape_in_creation_order() {
    let mut harness = shop();
    let gold = ok(&mut harness, "/v1/customer/segment/gold");
    assert_eq!(gold.as_array().unwrap().len(), 1);
    let a = &gold[0];
    assert_eq!(
        a.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["cid", "i", "s"]
    );
    assert_eq!(a["s"], json!(["adults", "gold"]));
    assert_eq!(a["i"], json!([{"id_type": "email", "id_value": "a@x.io"}]));
    assert_eq!(
        ok(&mut harness, "/v1/customer/segment/dormant"),
        json!([]),
        "an inactive segment has no members"
    );
}

#[test]
fn segment_members_page_like_the_customer_list() {
    let mut harness = shop();
    let adults = "/v1/customer/segment/adults";
    assert_eq!(emails(&ok(&mut harness, adults)), ["a@x.io", "c@x.io"]);
    let first = ok(&mut harness, &format!("{adults}?page=1"));
    assert_eq!(emails(&first), ["a@x.io", "c@x.io"]);
    assert_eq!(
        emails(&ok(&mut harness, &format!("{adults}?page=2"))),
        ["d@x.io"]
    );
    assert_eq!(ok(&mut harness, &format!("{adults}?page=3")), json!([]));
    assert_eq!(
        ok(&mut harness, &format!("{adults}?page=18446744073709551615")),
        json!([])
    );
    for page in ["0", "-1", "x", ""] {
        let response = get(&mut harness, &format!("{adults}?page={page}"));
        assert_eq!(response.status, 400, "page={page}: {}", response.body);
        assert_eq!(response.body_json()["error"], "api.invalid_request");
    }
}

#[test]
fn unknown_segment_title_is_404_in_arrigoo_shape() {
    let mut harness = shop();
    for title in ["silver", "Gold", "gold%20"] {
        let response = get(&mut harness, &format!("/v1/customer/segment/{title}"));
        assert_eq!(response.status, 404, "{title}: {}", response.body);
        let body = response.body_json();
        assert_eq!(body["error"], "api.not_found");
        assert!(body["message"].is_string());
    }
}

#[test]
fn profiles_carry_their_segment_titles_in_both_shapes() {
    let mut harness = shop();
    let list = ok(&mut harness, "/v1/customer");
    assert_eq!(list[0]["s"], json!(["adults", "gold"]));
    assert_eq!(list[1]["s"], json!([]), "b left gold and is under 18");
    let page_two = ok(&mut harness, "/v1/customer?page=2");
    assert_eq!(page_two[0]["s"], json!(["adults"]));
    let c = page_two[0]["cid"].as_str().unwrap().to_owned();
    let profile = ok(&mut harness, &format!("/v1/customer/{c}"));
    assert_eq!(profile["s"], json!(["adults"]));
    let a = list[0]["cid"].as_str().unwrap().to_owned();
    let profile = ok(&mut harness, &format!("/v1/customer/{a}"));
    assert_eq!(profile["s"], json!(["adults", "gold"]));
}

#[test]
fn segment_list_names_every_defined_segment() {
    let mut harness = shop();
    assert_eq!(
        ok(&mut harness, "/v1/segment"),
        json!([
            {"sys_title": "adults", "title": "Adults", "description": ""},
            {"sys_title": "dormant", "title": "Dormant", "description": ""},
            {"sys_title": "gold", "title": "Gold", "description": "Gold plan"},
        ])
    );
}

#[test]
fn segment_stats_split_current_and_former_members() {
    let mut harness = shop();
    assert_eq!(
        ok(&mut harness, "/v1/stat/segment"),
        json!({
            "types": ["active", "inactive"],
            "entries": [
                {"total": 3, "entry": "Adults", "stats": {"active": 3, "inactive": 0}},
                {"total": 0, "entry": "Dormant", "stats": {"active": 0, "inactive": 0}},
                {"total": 2, "entry": "Gold", "stats": {"active": 1, "inactive": 1}},
            ]
        })
    );
}

#[test]
fn daily_event_stats_cover_the_past_month_by_type() {
    let mut harness = shop();
    let body = ok(&mut harness, "/v1/stat/event");
    assert_eq!(body["types"], json!(["login", "pageview", "purchase"]));
    let entries = body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 29, "2025-02-21 to 2025-03-21");
    assert_eq!(entries.first().unwrap()["entry"], "2025-02-21T00:00:00Z");
    assert_eq!(
        entries.last().unwrap(),
        &json!({"total": 1, "entry": "2025-03-21T00:00:00Z",
            "stats": {"login": 0, "pageview": 0, "purchase": 1}})
    );
    let day = |date: &str| {
        entries
            .iter()
            .find(|entry| entry["entry"] == format!("{date}T00:00:00Z"))
            .unwrap()
            .clone()
    };
    assert_eq!(
        day("2025-03-20"),
        json!({"total": 2, "entry": "2025-03-20T00:00:00Z",
            "stats": {"login": 0, "pageview": 2, "purchase": 0}})
    );
    assert_eq!(day("2025-02-25")["stats"]["login"], 1);
    let totals: u64 = entries
        .iter()
        .map(|entry| entry["total"].as_u64().unwrap())
        .sum();
    assert_eq!(totals, 4, "the January login is older than a month");
}

#[test]
fn monthly_event_stats_run_from_the_first_event_to_now() {
    let mut harness = shop();
    assert_eq!(
        ok(&mut harness, "/v1/stat/event/month"),
        json!({
            "types": [],
            "entries": [
                {"total": 1, "entry": "2025-01", "stats": {"total": 1}},
                {"total": 1, "entry": "2025-02", "stats": {"total": 1}},
                {"total": 3, "entry": "2025-03", "stats": {"total": 3}},
            ]
        })
    );
}

#[test]
fn stats_without_segments_or_events_are_empty() {
    let mut harness = Harness::with_config(CONFIG);
    assert_eq!(
        ok(&mut harness, "/v1/stat/segment"),
        json!({"types": ["active", "inactive"], "entries": []})
    );
    assert_eq!(ok(&mut harness, "/v1/segment"), json!([]));
    assert_eq!(
        ok(&mut harness, "/v1/stat/event/month"),
        json!({"types": [], "entries": []})
    );
    let daily = ok(&mut harness, "/v1/stat/event");
    assert_eq!(daily["types"], json!([]));
    assert!(daily["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|entry| entry["total"] == 0 && entry["stats"] == json!({})));
}

#[test]
fn deactivated_segments_stay_listed_and_deleted_ones_are_gone() {
    let mut harness = shop();
    execute(
        &mut harness,
        json!({"setSegmentActive": {"systemTitle": "gold", "active": false}}),
    );
    assert_eq!(ok(&mut harness, "/v1/customer/segment/gold"), json!([]));
    assert_eq!(
        ok(&mut harness, "/v1/stat/segment")["entries"][2],
        json!({"total": 2, "entry": "Gold", "stats": {"active": 0, "inactive": 2}}),
        "a left when the segment stopped: both ever-members are now former members"
    );
    assert_eq!(ok(&mut harness, "/v1/segment")[2]["sys_title"], "gold");
    assert_eq!(ok(&mut harness, "/v1/customer")[0]["s"], json!(["adults"]));
    execute(
        &mut harness,
        json!({"deleteSegment": {"systemTitle": "gold"}}),
    );
    let response = get(&mut harness, "/v1/customer/segment/gold");
    assert_eq!(response.status, 404, "{}", response.body);
    let titles: Vec<Json> = ok(&mut harness, "/v1/segment")
        .as_array()
        .unwrap()
        .iter()
        .map(|segment| segment["sys_title"].clone())
        .collect();
    assert_eq!(titles, [json!("adults"), json!("dormant")]);
    let stats = ok(&mut harness, "/v1/stat/segment");
    assert_eq!(stats["entries"].as_array().unwrap().len(), 2);
}

#[test]
fn segment_stats_answer_post_as_the_specs_authentication_example_sends_it() {
    let mut harness = shop();
    let expected = ok(&mut harness, "/v1/stat/segment");
    let token = harness.arrigoo_token("viewer", "s-viewer");
    let bearer = format!("Bearer {token}");
    let headers = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    let posted = harness.send("POST", "/v1/stat/segment", &headers, "");
    assert_eq!(posted.status, 200, "{}", posted.body);
    assert_eq!(posted.body_json(), expected);
    let anonymous = harness.send("POST", "/v1/stat/segment", &[], "");
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
}
