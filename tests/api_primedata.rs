//! The PrimeData dialect end to end through `Api::handle`, natively: the events search
//! (window, order, page size, cursor, names, errors) and computed traits in `p_trait`.

mod support;

use cdp_engine::engine::Command;
use serde_json::{json, Value as Json};
use support::Harness;

const EVENTS: &str = "/pub/events/advanced-search";
const PROFILES: &str = "/pub/profiles/advanced-search";

/// The harness clock's start, which event times are offsets from.
const START: &str = "2025-03-21T10:00:00Z";

fn execute(harness: &mut Harness, command: &Json) {
    let command =
        Command::from_json(&command.to_string(), harness.engine.identity_config()).unwrap();
    harness.engine.execute(command).unwrap();
}

/// Records an event named `name` for the profile with `email`, `second` seconds after
/// [`START`].
fn record(harness: &mut Harness, email: &str, name: &str, second: i64) {
    record_with(harness, email, name, second, &json!({}));
}

fn record_with(harness: &mut Harness, email: &str, name: &str, second: i64, properties: &Json) {
    let happened = time(second);
    execute(
        harness,
        &json!({"recordEvent": {"identities": {"email": email}, "name": name,
            "happened": happened, "properties": properties}}),
    );
}

/// [`START`] plus `second` seconds, as RFC 3339.
fn time(second: i64) -> String {
    let start = chrono::DateTime::parse_from_rfc3339(START).unwrap();
    (start + chrono::Duration::seconds(second))
        .with_timezone(&chrono::Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// A harness with a profile for `a@example.com` holding `seconds` events named `view`.
fn with_views(seconds: impl IntoIterator<Item = i64>) -> Harness {
    let mut harness = Harness::new();
    harness.seed(json!({"email": "a@example.com"}), json!({}));
    for second in seconds {
        record(&mut harness, "a@example.com", "view", second);
    }
    harness
}

/// Searches `a@example.com`'s events with the extra body fields in `search`.
fn search(harness: &mut Harness, search: &Json) -> Json {
    let response = search_response(harness, search);
    assert_eq!(response.status, 200, "{}", response.body);
    response.body_json()
}

fn search_response(harness: &mut Harness, search: &Json) -> cdp_engine::api::Response {
    let mut body = json!({"identities": {"email": ["a@example.com"]}});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), search.as_object()) {
        body.extend(extra.clone());
    }
    harness.primedata("POST", EVENTS, &body.to_string())
}

/// The event times of a page, as seconds after [`START`].
fn seconds(page: &Json) -> Vec<i64> {
    let start = chrono::DateTime::parse_from_rfc3339(START).unwrap();
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| {
            let at = chrono::DateTime::parse_from_rfc3339(event["time_stamp"].as_str().unwrap())
                .unwrap();
            (at - start).num_seconds()
        })
        .collect()
}

fn next(page: &Json) -> Option<String> {
    page["cursor"]["next"].as_str().map(str::to_owned)
}

/// Asserts a PrimeData error body with `status` and `code`.
fn assert_error(response: &cdp_engine::api::Response, status: u16, code: &str) {
    assert_eq!(response.status, status, "{}", response.body);
    assert_eq!(
        response.body_json()["error"]["code"],
        code,
        "{}",
        response.body
    );
    assert!(response.body_json()["error"]["message"].is_string());
}

#[test]
fn events_come_in_the_documented_shape() {
    let mut harness = Harness::new();
    let profile = harness.seed(json!({"email": "a@example.com"}), json!({}));
    execute(
        &mut harness,
        &json!({"recordEvent": {"identities": {"email": "a@example.com"}, "name": "OrderCreated", "happened": "2025-03-21T09:00:00Z",
            "sent": "2025-03-21T09:01:00Z", "schemaVersion": "0.1",
            "properties": {"order_revenue": 749547, "phone_number": "0123456789"}}}),
    );
    record(&mut harness, "a@example.com", "view", 0);
    let page = search(&mut harness, &json!({"sort": "asc"}));
    assert!(page["data"][0]["id"].is_string());
    assert_eq!(
        page["data"][0],
        json!({"properties": {"order_revenue": 749547, "phone_number": "0123456789"},
            "id": page["data"][0]["id"], "profile_id": profile.to_string(),
            "event_name": "OrderCreated", "time_stamp": "2025-03-21T09:00:00Z",
            "sent_at": "2025-03-21T09:01:00Z", "input_schema_version": "0.1"})
    );
    assert_eq!(page["data"][1]["sent_at"], Json::Null);
    assert_eq!(page["data"][1]["input_schema_version"], Json::Null);
    assert_eq!(page["cursor"], json!({"has_more": false, "next": null}));
}

#[test]
fn window_ends_are_both_exclusive() {
    let mut harness = with_views([0, 10, 20, 30]);
    let page = search(
        &mut harness,
        &json!({"start": time(0), "end": time(30), "sort": "asc"}),
    );
    assert_eq!(seconds(&page), [10, 20]);
    let page = search(&mut harness, &json!({"start": time(10), "sort": "asc"}));
    assert_eq!(seconds(&page), [20, 30]);
    let page = search(&mut harness, &json!({"end": time(10), "sort": "asc"}));
    assert_eq!(seconds(&page), [0]);
}

#[test]
fn dates_without_a_time_are_midnight_utc() {
    let mut harness = with_views([-36_000, -35_999, 0]);
    // -36 000 s is 2025-03-21T00:00:00Z: not after midnight, so left out.
    let page = search(
        &mut harness,
        &json!({"start": "2025-03-21", "end": "2025-03-22", "sort": "asc"}),
    );
    assert_eq!(seconds(&page), [-35_999, 0]);
}

#[test]
fn sort_orders_by_time_and_defaults_to_newest_first() {
    let mut harness = with_views([20, 0, 10]);
    assert_eq!(
        seconds(&search(&mut harness, &json!({"sort": "asc"}))),
        [0, 10, 20]
    );
    assert_eq!(
        seconds(&search(&mut harness, &json!({"sort": "desc"}))),
        [20, 10, 0]
    );
    assert_eq!(seconds(&search(&mut harness, &json!({}))), [20, 10, 0]);
}

#[test]
fn limit_defaults_to_25_and_accepts_1_to_100() {
    let mut harness = with_views(0..101);
    let page = search(&mut harness, &json!({}));
    assert_eq!(page["data"].as_array().unwrap().len(), 25);
    let page = search(&mut harness, &json!({"limit": 1, "sort": "asc"}));
    assert_eq!(seconds(&page), [0]);
    assert_eq!(page["cursor"]["has_more"], true);
    let page = search(&mut harness, &json!({"limit": 100, "sort": "asc"}));
    assert_eq!(seconds(&page), (0..100).collect::<Vec<_>>());
    assert_eq!(page["cursor"]["has_more"], true);
    let last = search(
        &mut harness,
        &json!({"limit": 100, "sort": "asc", "cursor": next(&page)}),
    );
    assert_eq!(seconds(&last), [100]);
    assert_eq!(last["cursor"], json!({"has_more": false, "next": null}));
    for limit in [json!(0), json!(101), json!(-1), json!(2.5), json!("12")] {
        let response = search_response(&mut harness, &json!({ "limit": limit }));
        assert_error(&response, 400, "invalid_request_error");
    }
}

#[test]
fn cursor_walk_stays_valid_while_events_arrive() {
    let mut harness = with_views([0, 10, 20, 30, 40]);
    let first = search(&mut harness, &json!({"sort": "asc", "limit": 2}));
    assert_eq!(seconds(&first), [0, 10]);
    // One lands before the cursor, one after it, one at the same time as the cursor's event.
    record(&mut harness, "a@example.com", "view", 5);
    record(&mut harness, "a@example.com", "view", 50);
    record(&mut harness, "a@example.com", "view", 10);
    let second = search(
        &mut harness,
        &json!({"sort": "asc", "limit": 2, "cursor": next(&first)}),
    );
    assert_eq!(seconds(&second), [10, 20]);
    let third = search(
        &mut harness,
        &json!({"sort": "asc", "limit": 2, "cursor": next(&second)}),
    );
    assert_eq!(seconds(&third), [30, 40]);
    let fourth = search(
        &mut harness,
        &json!({"sort": "asc", "limit": 2, "cursor": next(&third)}),
    );
    assert_eq!(seconds(&fourth), [50]);
    assert_eq!(fourth["cursor"]["has_more"], false);

    let newest = search(&mut harness, &json!({"sort": "desc", "limit": 3}));
    assert_eq!(seconds(&newest), [50, 40, 30]);
    record(&mut harness, "a@example.com", "view", 60);
    record(&mut harness, "a@example.com", "view", 25);
    let older = search(
        &mut harness,
        &json!({"sort": "desc", "limit": 3, "cursor": next(&newest)}),
    );
    assert_eq!(seconds(&older), [25, 20, 10]);
}

#[test]
fn cursor_walk_keeps_the_window_and_names() {
    let mut harness = with_views([0, 10, 20, 30]);
    record(&mut harness, "a@example.com", "buy", 15);
    let filter = json!({"start": time(0), "include": ["view"], "sort": "asc", "limit": 1});
    let mut walked = Vec::new();
    let mut body = filter.clone();
    loop {
        let page = search(&mut harness, &body);
        walked.extend(seconds(&page));
        let Some(cursor) = next(&page) else { break };
        body = filter.clone();
        body["cursor"] = json!(cursor);
    }
    assert_eq!(walked, [10, 20, 30]);
}

#[test]
fn a_cursor_is_refused_with_other_filters_but_not_another_page_size() {
    let mut harness = with_views([0, 10, 20, 30]);
    record(&mut harness, "a@example.com", "buy", 15);
    harness.seed(json!({"email": "b@example.com"}), json!({}));
    record(&mut harness, "b@example.com", "view", 5);
    let filter =
        json!({"start": time(0), "end": time(40), "include": ["view"], "sort": "asc", "limit": 1});
    let first = search(&mut harness, &filter);
    let cursor = next(&first).unwrap();
    let with_cursor = |changes: Json| {
        let mut body = filter.clone();
        body["cursor"] = json!(cursor);
        body.as_object_mut()
            .unwrap()
            .extend(changes.as_object().unwrap().clone());
        body
    };
    // The same filters, names in another order or repeated, and another page size: accepted.
    for same in [
        json!({}),
        json!({"limit": 2}),
        json!({"include": ["view", "view"]}),
    ] {
        let page = search(&mut harness, &with_cursor(same));
        assert_eq!(seconds(&page)[0], 20);
    }
    for other in [
        json!({"sort": "desc"}),
        json!({"include": ["buy"]}),
        json!({"include": []}),
        json!({"start": time(1)}),
        json!({"end": null}),
        json!({"identities": {"email": ["b@example.com"]}}),
    ] {
        let response = search_response(&mut harness, &with_cursor(other.clone()));
        assert_error(&response, 400, "invalid_request_error");
    }
    // A cursor of the engine's bare form, or with its binding cut off or altered, is refused.
    let (position, binding) = cursor.split_once('.').unwrap();
    let altered = format!("{position}.{}", binding.replace(|c: char| c != '0', "0"));
    for forged in [position.to_owned(), format!("{position}."), altered] {
        let mut body = filter.clone();
        body["cursor"] = json!(forged);
        assert_error(
            &search_response(&mut harness, &body),
            400,
            "invalid_request_error",
        );
    }
}

#[test]
fn include_keeps_only_the_named_events() {
    let mut harness = with_views([0, 20]);
    record(&mut harness, "a@example.com", "buy", 10);
    record(&mut harness, "b@example.com", "refund", 0);
    let page = search(&mut harness, &json!({"include": ["buy"]}));
    assert_eq!(seconds(&page), [10]);
    assert_eq!(page["data"][0]["event_name"], "buy");
    let page = search(
        &mut harness,
        &json!({"include": ["buy", "view"], "sort": "asc"}),
    );
    assert_eq!(seconds(&page), [0, 10, 20]);
    // Recorded for another profile only: a known name, so no events rather than an error.
    let page = search(&mut harness, &json!({"include": ["refund"]}));
    assert_eq!(page["data"], json!([]));
    let page = search(&mut harness, &json!({"include": []}));
    assert_eq!(seconds(&page), [20, 10, 0]);
}

#[test]
fn event_names_nobody_recorded_are_a_validation_error() {
    let mut harness = with_views([0]);
    let response = search_response(
        &mut harness,
        &json!({"include": ["view", "OrderCompleted"]}),
    );
    assert_error(&response, 400, "validation_error");
}

#[test]
fn profile_id_wins_over_identities() {
    let mut harness = with_views([0]);
    let other = harness.seed(json!({"email": "b@example.com"}), json!({}));
    record(&mut harness, "b@example.com", "view", 5);
    let body = json!({"profile_id": other.to_string(), "identities": {"email": ["a@example.com"]}});
    let response = harness.primedata("POST", EVENTS, &body.to_string());
    assert_eq!(response.status, 200, "{}", response.body);
    let page = response.body_json();
    assert_eq!(seconds(&page), [5]);
    assert_eq!(page["data"][0]["profile_id"], other.to_string());
}

#[test]
fn bad_parameters_are_invalid_request_errors() {
    let mut harness = with_views([0, 10]);
    let cases = [
        json!({"cursor": "garbage"}),
        json!({"cursor": ""}),
        json!({"cursor": 12}),
        json!({"start": "yesterday"}),
        json!({"end": "2025-13-01"}),
        json!({"start": time(10), "end": time(10)}),
        json!({"start": time(10), "end": time(0)}),
        json!({"sort": "unordered"}),
        json!({"sort": "ASC"}),
        json!({"include": "view"}),
        json!({"page": 2}),
    ];
    for case in cases {
        let response = search_response(&mut harness, &case);
        assert_error(&response, 400, "invalid_request_error");
    }
    for body in ["{}", "not json", r#"{"identities": {}}"#] {
        let response = harness.primedata("POST", EVENTS, body);
        assert_error(&response, 400, "invalid_request_error");
    }
}

#[test]
fn unknown_identity_types_are_validation_errors_and_unknown_profiles_404() {
    let mut harness = with_views([0]);
    let response = harness.primedata(
        "POST",
        EVENTS,
        r#"{"identities": {"phone_numdber": ["0123456789"]}}"#,
    );
    assert_error(&response, 400, "validation_error");
    assert_eq!(
        response.body_json()["error"]["message"],
        "Invalid Identities {phone_numdber=[0123456789]}"
    );
    let unknown_profiles = [
        json!({"identities": {"email": ["nobody@example.com"]}}),
        json!({"profile_id": cdp_engine::model::ProfileId::random().to_string()}),
        json!({"profile_id": "2YhQlO5kmTIRCu22QrO9BmgwbIy"}),
    ];
    for body in unknown_profiles {
        let response = harness.primedata("POST", EVENTS, &body.to_string());
        assert_error(&response, 404, "invalid_request_error");
    }
}

#[test]
fn events_search_needs_a_valid_api_key() {
    let mut harness = with_views([0]);
    let body = r#"{"identities": {"email": ["a@example.com"]}}"#;
    for headers in [vec![], vec![("x-api-key", "wrong")]] {
        let response = harness.send("POST", EVENTS, &headers, body);
        assert_error(&response, 401, "authentication_error");
    }
    let response = harness.primedata("GET", EVENTS, "");
    assert_eq!(response.status, 405);
}

#[test]
fn p_trait_holds_the_computed_traits_by_type_and_include() {
    let mut harness = Harness::new();
    harness.seed(
        json!({"email": "a@example.com"}),
        json!({"full_name": "Sơn"}),
    );
    execute(
        &mut harness,
        &json!({"defineTrait": {"name": "ltv", "aggregate": "sum", "event": "purchase", "property": "amount"}}),
    );
    execute(
        &mut harness,
        &json!({"defineTrait": {"name": "last_time_purchased", "aggregate": "last", "event": "purchase"}}),
    );
    record_with(
        &mut harness,
        "a@example.com",
        "purchase",
        0,
        &json!({"amount": 10}),
    );
    record_with(
        &mut harness,
        "a@example.com",
        "purchase",
        60,
        &json!({"amount": 2.5}),
    );
    let lookup = |harness: &mut Harness, extra: Json| {
        let mut body = json!({"identities": {"email": ["a@example.com"]}});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let response = harness.primedata("POST", PROFILES, &body.to_string());
        assert_eq!(response.status, 200, "{}", response.body);
        response.body_json()["data"].clone()
    };
    let data = lookup(&mut harness, json!({}));
    assert_eq!(
        data["p_trait"],
        json!({"ltv": 12.5, "last_time_purchased": "2025-03-21T10:01:00.000000Z"})
    );
    assert_eq!(data["trait"]["full_name"], "Sơn");
    let data = lookup(
        &mut harness,
        json!({"type": ["ptrait"], "include": ["ltv"]}),
    );
    assert_eq!(data["p_trait"], json!({"ltv": 12.5}));
    assert!(data.get("trait").is_none() && data.get("identity").is_none());
    let data = lookup(&mut harness, json!({"type": ["trait", "identity"]}));
    assert!(data.get("p_trait").is_none());
}
