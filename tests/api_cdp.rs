//! The engine's own REST surface, `/cdp/v1`, end to end through `Api::handle`: profiles,
//! merges and events, authentication, and the error statuses and bodies. Traits, segments,
//! statistics and the identity configuration are in `tests/api_cdp_definitions.rs`.

mod support;

use serde_json::{json, Value as Json};
use support::Harness;

/// A harness whose identity policy merges, so merges can be made and explained.
const MERGING: &str = r#"{"identity": {"policy": "merge"}}"#;

/// Sends a request to `/cdp/v1` without credentials; returns the status and the JSON body.
fn cdp(harness: &mut Harness, method: &str, target: &str, body: &str) -> (u16, Json) {
    let response = harness.send(method, target, &[], body);
    (response.status, response.body_json())
}

/// The error code of a `{"error": {"code", "message"}}` body.
fn code(body: &Json) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error code>")
}

fn upsert(harness: &mut Harness, body: &Json) -> String {
    let (status, outcome) = cdp(harness, "POST", "/cdp/v1/profiles", &body.to_string());
    assert!(status == 200 || status == 201, "{status} {outcome}");
    outcome["profile"].as_str().unwrap().to_owned()
}

#[test]
fn open_surface_answers_without_a_key_and_configured_keys_require_a_bearer() {
    let mut open = Harness::with_config("{}");
    assert!(open.api.cdp_is_open());
    assert_eq!(cdp(&mut open, "GET", "/cdp/v1/profiles", "").0, 200);

    let mut keyed = Harness::with_config(r#"{"cdp": {"apiKeys": ["k1"]}}"#);
    assert!(!keyed.api.cdp_is_open());
    for headers in [
        vec![],
        vec![("authorization", "Bearer k2")],
        vec![("authorization", "Basic k1")],
    ] {
        let response = keyed.send(
            "POST",
            "/cdp/v1/profiles",
            &headers,
            r#"{"identities": {"email": "a@b.c"}}"#,
        );
        assert_eq!(response.status, 401, "{headers:?}");
        assert_eq!(code(&response.body_json()), "api.unauthenticated");
        assert_eq!(response.header("www-authenticate"), Some("Bearer"));
    }
    assert_eq!(
        keyed.engine.profile_count(),
        0,
        "refused writes change nothing"
    );
    let response = keyed.send(
        "GET",
        "/cdp/v1/profiles",
        &[("authorization", "bearer k1")],
        "",
    );
    assert_eq!(response.status, 200, "{}", response.body);

    let credentials =
        cdp_engine::api::Credentials::from_json(r#"{"cdp": {"apiKeys": []}}"#).unwrap();
    keyed.api.set_credentials(&credentials);
    assert!(
        keyed.api.cdp_is_open(),
        "removing every key opens the surface"
    );
    assert_eq!(cdp(&mut keyed, "GET", "/cdp/v1/profiles", "").0, 200);
}

#[test]
fn helpers_pass_the_key_check_but_reach_only_cdp_v1() {
    let mut harness =
        Harness::with_config(r#"{"cdp": {"apiKeys": ["k1"]}, "primedata": {"apiKeys": ["pk"]}}"#);
    let request = cdp_engine::api::Request::new(cdp_engine::api::Method::Get, "/cdp/v1/identity");
    let response = harness.api.handle_own(&mut harness.engine, &request);
    assert_eq!(response.status, 200, "{}", response.body);
    let request = cdp_engine::api::Request::new(
        cdp_engine::api::Method::Post,
        "/pub/profiles/advanced-search",
    );
    let response = harness.api.handle_own(&mut harness.engine, &request);
    assert_eq!(response.status, 404);
    assert_eq!(code(&response.body_json()), "api.route_not_found");
}

#[test]
fn upsert_creates_with_201_updates_with_200_and_reads_back_by_id_and_identity() {
    let mut harness = Harness::with_config("{}");
    let body = json!({"identities": {"email": [" Bib@Bob.dk "]}, "attributes": {"name": "Bib", "visits": 1}});
    let (status, created) = cdp(&mut harness, "POST", "/cdp/v1/profiles", &body.to_string());
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["created"], true);
    let id = created["profile"].as_str().unwrap().to_owned();
    let again = json!({"identities": {"email": "bib@bob.dk"}, "attributes": {"visits": 2}, "tags": {"manual": ["vip"]}});
    let (status, updated) = cdp(&mut harness, "POST", "/cdp/v1/profiles", &again.to_string());
    assert_eq!(
        (status, updated["profile"].as_str()),
        (200, Some(id.as_str()))
    );

    let (status, profile) = cdp(&mut harness, "GET", &format!("/cdp/v1/profiles/{id}"), "");
    assert_eq!(status, 200);
    assert_eq!(profile["identities"]["email"], json!(["bib@bob.dk"]));
    assert_eq!(profile["attributes"], json!({"name": "Bib", "visits": 2}));
    assert_eq!(profile["tags"]["manual"], json!(["vip"]));

    let (status, found) = cdp(
        &mut harness,
        "GET",
        "/cdp/v1/profiles/lookup?identity=email:%20BIB%40bob.dk",
        "",
    );
    assert_eq!(
        (status, found["id"].as_str()),
        (200, Some(id.as_str())),
        "the value is normalized"
    );
    let (status, missing) = cdp(
        &mut harness,
        "GET",
        "/cdp/v1/profiles/lookup?identity=email:nobody@x.y",
        "",
    );
    assert_eq!((status, code(&missing)), (404, "api.not_found"));
    for target in [
        "/cdp/v1/profiles/lookup",
        "/cdp/v1/profiles/lookup?identity=email",
    ] {
        let (status, body) = cdp(&mut harness, "GET", target, "");
        assert_eq!(
            (status, code(&body)),
            (400, "api.invalid_request"),
            "{target}"
        );
    }
}

#[test]
fn profiles_page_with_limit_and_an_opaque_cursor() {
    let mut harness = Harness::with_config("{}");
    let ids: Vec<String> = (0..5)
        .map(|n| {
            upsert(
                &mut harness,
                &json!({"identities": {"email": format!("p{n}@x.y")}}),
            )
        })
        .collect();
    let mut seen = Vec::new();
    let mut target = "/cdp/v1/profiles?limit=2".to_owned();
    loop {
        let (status, page) = cdp(&mut harness, "GET", &target, "");
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["total"], 5);
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        seen.extend(
            data.iter()
                .map(|profile| profile["id"].as_str().unwrap().to_owned()),
        );
        match page["next"].as_str() {
            Some(next) => target = format!("/cdp/v1/profiles?limit=2&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(seen, ids, "creation order, each once");
    let (_, first) = cdp(&mut harness, "GET", "/cdp/v1/profiles", "");
    assert_eq!(first["data"].as_array().unwrap().len(), 5, "25 by default");
    for target in [
        "/cdp/v1/profiles?limit=0",
        "/cdp/v1/profiles?limit=101",
        "/cdp/v1/profiles?cursor=nope",
    ] {
        let (status, body) = cdp(&mut harness, "GET", target, "");
        assert_eq!(
            (status, code(&body)),
            (400, "api.invalid_request"),
            "{target}"
        );
    }
}

#[test]
fn unknown_profiles_are_404_and_malformed_ids_400() {
    let mut harness = Harness::with_config("{}");
    let unknown = "6f1c9a8e-3b1d-4c8e-9f0a-1b2c3d4e5f60";
    for suffix in ["", "/traits", "/segments", "/stats/buying", "/stats/events"] {
        let (status, body) = cdp(
            &mut harness,
            "GET",
            &format!("/cdp/v1/profiles/{unknown}{suffix}"),
            "",
        );
        assert_eq!((status, code(&body)), (404, "api.not_found"), "{suffix}");
        let (status, body) = cdp(
            &mut harness,
            "GET",
            &format!("/cdp/v1/profiles/not-a-uuid{suffix}"),
            "",
        );
        assert_eq!((status, code(&body)), (400, "model.invalid_id"), "{suffix}");
    }
}

#[test]
fn a_conflicting_upsert_is_409_and_changes_nothing() {
    let mut harness = Harness::with_config("{}");
    upsert(&mut harness, &json!({"identities": {"email": "a@x.y"}}));
    upsert(&mut harness, &json!({"identities": {"phone": "+4511"}}));
    let before = harness.engine.next_offset();
    let body =
        json!({"identities": {"email": "a@x.y", "phone": "+4511"}, "attributes": {"name": "X"}});
    let (status, error) = cdp(&mut harness, "POST", "/cdp/v1/profiles", &body.to_string());
    assert_eq!(
        (status, code(&error)),
        (409, "identity.conflict"),
        "{error}"
    );
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("profile"));
    assert_eq!(harness.engine.next_offset(), before);
    let (status, error) = cdp(
        &mut harness,
        "POST",
        "/cdp/v1/profiles",
        r#"{"identities": {"email": "b@x.y"}, "bogus": 1}"#,
    );
    assert_eq!((status, code(&error)), (400, "engine.invalid_command"));
    let (status, error) = cdp(
        &mut harness,
        "POST",
        "/cdp/v1/profiles",
        r#"{"attributes": {"a\nb": 1}, "identities": {"email": "b@x.y"}}"#,
    );
    assert_eq!((status, code(&error)), (400, "schema.invalid_key"));
    assert_eq!(harness.engine.next_offset(), before);
}

#[test]
fn a_merge_is_explained_followed_and_undone() {
    let mut harness = Harness::with_config(MERGING);
    let survivor = upsert(
        &mut harness,
        &json!({"identities": {"email": "a@x.y"}, "attributes": {"plan": "gold"}}),
    );
    let absorbed = upsert(&mut harness, &json!({"identities": {"phone": "+4511"}}));
    let (status, _) = cdp(
        &mut harness,
        "GET",
        &format!("/cdp/v1/merges/{absorbed}"),
        "",
    );
    assert_eq!(status, 404, "no merge yet");

    let body = json!({"survivor": survivor, "absorbed": absorbed});
    let (status, outcome) = cdp(&mut harness, "POST", "/cdp/v1/merges", &body.to_string());
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(outcome["merged"], json!([absorbed]));
    let (status, explained) = cdp(
        &mut harness,
        "GET",
        &format!("/cdp/v1/merges/{absorbed}"),
        "",
    );
    assert_eq!(status, 200, "{explained}");
    assert_eq!(explained["survivor"], json!(survivor));
    assert_eq!(explained["absorbed"]["id"], json!(absorbed));
    assert_eq!(
        explained["absorbed"]["identities"]["phone"],
        json!(["+4511"])
    );
    let (_, followed) = cdp(
        &mut harness,
        "GET",
        &format!("/cdp/v1/profiles/{absorbed}"),
        "",
    );
    assert_eq!(
        followed["id"],
        json!(survivor),
        "the old id resolves to the survivor"
    );
    assert_eq!(followed["identities"]["phone"], json!(["+4511"]));

    let (status, restored) = cdp(
        &mut harness,
        "DELETE",
        &format!("/cdp/v1/merges/{absorbed}"),
        "",
    );
    assert_eq!(status, 200, "{restored}");
    assert_eq!(
        restored,
        json!({"survivor": survivor, "restored": absorbed})
    );
    let (_, back) = cdp(
        &mut harness,
        "GET",
        &format!("/cdp/v1/profiles/{absorbed}"),
        "",
    );
    assert_eq!(back["id"], json!(absorbed));
    let (status, again) = cdp(
        &mut harness,
        "DELETE",
        &format!("/cdp/v1/merges/{absorbed}"),
        "",
    );
    assert_eq!((status, code(&again)), (404, "identity.not_merged"));

    let itself = json!({"survivor": survivor, "absorbed": survivor});
    let (status, error) = cdp(&mut harness, "POST", "/cdp/v1/merges", &itself.to_string());
    assert_eq!((status, code(&error)), (400, "identity.same_profile"));
}

#[test]
fn one_event_or_many_are_recorded_and_a_bad_batch_records_nothing() {
    let mut harness = Harness::with_config("{}");
    let body =
        json!({"identities": {"email": "a@x.y"}, "name": "purchase", "properties": {"amount": 30}});
    let (status, one) = cdp(&mut harness, "POST", "/cdp/v1/events", &body.to_string());
    assert_eq!(status, 201, "{one}");
    assert_eq!(one["created"], true, "the event created its profile");
    let profile = one["profile"].as_str().unwrap().to_owned();

    let batch = json!([
        {"profileId": profile, "name": "view", "happened": "2025-03-20T10:00:00Z"},
        {"identities": {"email": "A@x.y"}, "name": "view", "context": "WEB", "id": "0b0e6f1e-8a62-4c39-9d5e-5c1a2b3c4d5e"},
    ]);
    let (status, many) = cdp(&mut harness, "POST", "/cdp/v1/events", &batch.to_string());
    assert_eq!(status, 201, "{many}");
    let outcomes = many["data"].as_array().unwrap();
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes
        .iter()
        .all(|outcome| outcome["profile"] == json!(profile)));
    assert_eq!(outcomes[1]["event"], "0b0e6f1e-8a62-4c39-9d5e-5c1a2b3c4d5e");

    let before = harness.engine.next_offset();
    let refused = [
        (
            json!([{"profileId": profile, "name": "ok"}, {"profileId": profile}]),
            400,
            "events.invalid_event",
            Some("$[1].name"),
        ),
        (
            json!([{"profileId": profile, "name": "ok"}, {"profileId": profile, "name": "x", "context": "MARS"}]),
            400,
            "events.invalid_event",
            Some("$[1].context"),
        ),
        (
            json!([{"profileId": profile, "name": "ok", "id": "0b0e6f1e-8a62-4c39-9d5e-5c1a2b3c4d5e"}]),
            409,
            "events.duplicate_id",
            None,
        ),
        (
            json!([{"profileId": profile, "name": "a", "id": "1b0e6f1e-8a62-4c39-9d5e-5c1a2b3c4d5e"}, {"profileId": profile, "name": "b", "id": "1b0e6f1e-8a62-4c39-9d5e-5c1a2b3c4d5e"}]),
            409,
            "events.duplicate_id",
            None,
        ),
        (
            json!([{"profileId": profile, "name": "ok"}, {"profileId": "6f1c9a8e-3b1d-4c8e-9f0a-1b2c3d4e5f60", "name": "x"}]),
            404,
            "events.unknown_profile",
            None,
        ),
        (json!([{"name": "x"}]), 400, "events.no_subject", None),
        (json!([]), 400, "api.invalid_request", None),
        (
            json!({"profileId": profile, "name": "x", "extra": 1}),
            400,
            "events.invalid_event",
            Some("$.extra"),
        ),
    ];
    for (body, status, expected, path) in refused {
        let (got, error) = cdp(&mut harness, "POST", "/cdp/v1/events", &body.to_string());
        assert_eq!((got, code(&error)), (status, expected), "{body} → {error}");
        if let Some(path) = path {
            assert_eq!(error["error"]["path"], json!(path), "{error}");
        }
        assert_eq!(
            harness.engine.next_offset(),
            before,
            "{body} changed something"
        );
    }
    let (status, error) = cdp(&mut harness, "POST", "/cdp/v1/events", "{not json");
    assert_eq!((status, code(&error)), (400, "api.malformed_json"));
}

#[test]
fn an_event_the_engine_refuses_refuses_the_whole_array_naming_its_index() {
    let mut harness = Harness::with_config("{}");
    upsert(&mut harness, &json!({"identities": {"email": "a@x.y"}}));
    upsert(&mut harness, &json!({"identities": {"phone": "+4511"}}));
    let before = harness.engine.next_offset();
    let batch = json!([
        {"identities": {"email": "a@x.y"}, "name": "first"},
        {"identities": {"email": "a@x.y", "phone": "+4511"}, "name": "second"},
        {"identities": {"email": "a@x.y"}, "name": "third"},
    ]);
    let (status, answer) = cdp(&mut harness, "POST", "/cdp/v1/events", &batch.to_string());
    assert_eq!(status, 409, "{answer}");
    assert_eq!(code(&answer), "identity.conflict");
    assert_eq!(answer["error"]["index"], 1, "{answer}");
    assert_eq!(harness.engine.next_offset(), before);
    assert!(!harness.engine.needs_reload());
    let (_, page) = cdp(
        &mut harness,
        "GET",
        "/cdp/v1/events?identity=email:a@x.y&sort=asc",
        "",
    );
    assert_eq!(page["data"], json!([]), "{page}");
}

/// A profile with `count` `view` events one minute apart from 2025-03-01T00:00Z, and one
/// `purchase` at 00:30.
fn with_views(count: i64) -> (Harness, String) {
    let mut harness = Harness::with_config("{}");
    let id = upsert(&mut harness, &json!({"identities": {"email": "a@x.y"}}));
    let mut events: Vec<Json> = (0..count)
        .map(|minute| json!({"profileId": id, "name": "view", "happened": format!("2025-03-01T{:02}:{:02}:00Z", minute / 60, minute % 60), "properties": {"n": minute}}))
        .collect();
    events.push(json!({"profileId": id, "name": "purchase", "happened": "2025-03-01T00:30:00Z"}));
    let (status, body) = cdp(
        &mut harness,
        "POST",
        "/cdp/v1/events",
        &Json::Array(events).to_string(),
    );
    assert_eq!(status, 201, "{body}");
    (harness, id)
}

fn minutes(page: &Json) -> Vec<i64> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|event| event["properties"]["n"].as_i64())
        .collect()
}

#[test]
fn event_search_has_names_an_exclusive_window_order_limits_and_a_cursor() {
    let (mut harness, id) = with_views(40);
    let (status, page) = cdp(
        &mut harness,
        "GET",
        &format!("/cdp/v1/events?profileId={id}&name=view"),
        "",
    );
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        minutes(&page),
        (15..40).rev().collect::<Vec<_>>(),
        "newest first, 25 by default"
    );
    let event = &page["data"][0];
    assert_eq!(event["profileId"], json!(id));
    assert_eq!(event["name"], "view");
    assert_eq!(event["context"], "OTHER");
    assert_eq!(event["mode"], "ACTIVE");
    assert!(event["happened"]
        .as_str()
        .unwrap()
        .starts_with("2025-03-01T00:39:00"));

    let window = format!("/cdp/v1/events?profileId={id}&name=view&start=2025-03-01T00:10:00Z&end=2025-03-01T00:13:00Z&sort=asc");
    let (_, page) = cdp(&mut harness, "GET", &window, "");
    assert_eq!(minutes(&page), [11, 12], "both ends exclusive");
    assert_eq!(page["next"], Json::Null);

    let (_, purchases) = cdp(
        &mut harness,
        "GET",
        "/cdp/v1/events?identity=email:A@x.y&name=purchase",
        "",
    );
    assert_eq!(purchases["data"].as_array().unwrap().len(), 1);

    let mut walked = Vec::new();
    let mut target = format!("/cdp/v1/events?profileId={id}&name=view&sort=asc&limit=15");
    loop {
        let (status, page) = cdp(&mut harness, "GET", &target, "");
        assert_eq!(status, 200, "{page}");
        walked.extend(minutes(&page));
        match page["next"].as_str() {
            Some(next) => {
                target = format!(
                    "/cdp/v1/events?profileId={id}&name=view&sort=asc&limit=15&cursor={next}"
                )
            }
            None => break,
        }
    }
    assert_eq!(walked, (0..40).collect::<Vec<_>>());
    let (_, page) = cdp(
        &mut harness,
        "GET",
        &format!("/cdp/v1/events?profileId={id}&limit=100"),
        "",
    );
    assert_eq!(page["data"].as_array().unwrap().len(), 41);

    let refused = [
        (
            format!("/cdp/v1/events?profileId={id}&limit=101"),
            400,
            "events.limit_out_of_range",
        ),
        (
            format!("/cdp/v1/events?profileId={id}&limit=0"),
            400,
            "events.limit_out_of_range",
        ),
        (
            format!("/cdp/v1/events?profileId={id}&limit=x"),
            400,
            "api.invalid_request",
        ),
        (
            format!("/cdp/v1/events?profileId={id}&cursor=zzz"),
            400,
            "events.invalid_cursor",
        ),
        (
            format!("/cdp/v1/events?profileId={id}&name=never"),
            400,
            "events.unknown_name",
        ),
        (
            format!("/cdp/v1/events?profileId={id}&sort=up"),
            400,
            "api.invalid_request",
        ),
        (
            format!("/cdp/v1/events?profileId={id}&start=yesterday"),
            400,
            "api.invalid_request",
        ),
        (
            format!("/cdp/v1/events?profileId={id}&start=2025-03-02&end=2025-03-01"),
            400,
            "events.empty_window",
        ),
        ("/cdp/v1/events".to_owned(), 400, "api.invalid_request"),
        (
            "/cdp/v1/events?profileId=6f1c9a8e-3b1d-4c8e-9f0a-1b2c3d4e5f60".to_owned(),
            404,
            "api.not_found",
        ),
        (
            "/cdp/v1/events?identity=email:nobody@x.y".to_owned(),
            404,
            "api.not_found",
        ),
    ];
    for (target, status, expected) in refused {
        let (got, body) = cdp(&mut harness, "GET", &target, "");
        assert_eq!((got, code(&body)), (status, expected), "{target}");
    }
}

#[test]
fn routing_errors_have_the_cdp_shape_and_statuses() {
    let mut harness = Harness::with_config(r#"{"maxBodyBytes": 64}"#);
    let (status, body) = cdp(&mut harness, "GET", "/cdp/v1/nothing", "");
    assert_eq!((status, code(&body)), (404, "api.route_not_found"));
    assert!(body["error"]["message"].is_string());
    let (status, body) = cdp(&mut harness, "PUT", "/cdp/v1/profiles", "");
    assert_eq!((status, code(&body)), (405, "api.method_not_allowed"));
    let (status, body) = cdp(&mut harness, "POST", "/cdp/v1/profiles/lookup", "");
    assert_eq!((status, code(&body)), (405, "api.method_not_allowed"));
    let big = format!(
        r#"{{"identities": {{"email": "{}@x.y"}}}}"#,
        "a".repeat(100)
    );
    let (status, body) = cdp(&mut harness, "POST", "/cdp/v1/profiles", &big);
    assert_eq!((status, code(&body)), (413, "api.body_too_large"));
    assert_eq!(harness.engine.profile_count(), 0);
    let (status, body) = cdp(&mut harness, "POST", "/cdp/v1/profiles", "[1");
    assert_eq!((status, code(&body)), (400, "api.malformed_json"));
    let (status, body) = cdp(&mut harness, "POST", "/cdp/v1/profiles", "[1]");
    assert_eq!((status, code(&body)), (400, "api.invalid_request"));
}

/// Every `/cdp/v1` endpoint with the query parameters it reads.
const PARAMETERS: &[(&str, &str, &[&str])] = &[
    ("GET", "/cdp/v1/profiles", &["limit", "cursor"]),
    ("POST", "/cdp/v1/profiles", &[]),
    ("GET", "/cdp/v1/profiles/lookup", &["identity"]),
    ("GET", "/cdp/v1/profiles/{id}", &[]),
    ("GET", "/cdp/v1/profiles/{id}/traits", &[]),
    ("GET", "/cdp/v1/profiles/{id}/segments", &[]),
    (
        "GET",
        "/cdp/v1/profiles/{id}/stats/buying",
        &["start", "end"],
    ),
    (
        "GET",
        "/cdp/v1/profiles/{id}/stats/events",
        &["resolution", "start", "end"],
    ),
    ("POST", "/cdp/v1/merges", &[]),
    ("GET", "/cdp/v1/merges/{id}", &[]),
    ("DELETE", "/cdp/v1/merges/{id}", &[]),
    ("POST", "/cdp/v1/events", &[]),
    (
        "GET",
        "/cdp/v1/events",
        &[
            "profileId",
            "identity",
            "name",
            "start",
            "end",
            "sort",
            "limit",
            "cursor",
        ],
    ),
    ("GET", "/cdp/v1/traits", &[]),
    ("POST", "/cdp/v1/traits", &[]),
    ("GET", "/cdp/v1/traits/t", &[]),
    ("DELETE", "/cdp/v1/traits/t", &[]),
    ("GET", "/cdp/v1/segments", &[]),
    ("POST", "/cdp/v1/segments", &[]),
    ("GET", "/cdp/v1/segments/s", &[]),
    ("DELETE", "/cdp/v1/segments/s", &[]),
    ("POST", "/cdp/v1/segments/s/activate", &[]),
    ("POST", "/cdp/v1/segments/s/deactivate", &[]),
    ("GET", "/cdp/v1/segments/s/members", &["limit", "cursor"]),
    ("GET", "/cdp/v1/segments/s/history", &["limit", "cursor"]),
    ("GET", "/cdp/v1/identity", &[]),
    ("GET", "/cdp/v1/stats/segments", &[]),
    ("GET", "/cdp/v1/stats/events/daily", &[]),
    ("GET", "/cdp/v1/stats/events/monthly", &[]),
    (
        "GET",
        "/cdp/v1/stats/events/by-type",
        &["context", "start", "end"],
    ),
    ("GET", "/cdp/v1/stats/events/added", &["start", "end"]),
    ("GET", "/cdp/v1/stats/customers", &[]),
    (
        "GET",
        "/cdp/v1/stats/customers/created",
        &["resolution", "start", "end"],
    ),
    (
        "GET",
        "/cdp/v1/stats/customers/changed",
        &["kind", "start", "end"],
    ),
    (
        "GET",
        "/cdp/v1/stats/kpis/purchases",
        &["scope", "start", "end"],
    ),
    ("GET", "/cdp/v1/stats/kpis/ecommerce", &["start", "end"]),
    ("GET", "/cdp/v1/stats/kpis/web", &["start", "end"]),
];

#[test]
fn a_query_parameter_an_endpoint_does_not_read_is_400_naming_it() {
    let mut harness = Harness::with_config("{}");
    let id = upsert(&mut harness, &json!({"identities": {"email": "ann@x.dk"}}));
    for (method, path, known) in PARAMETERS {
        let path = path.replace("{id}", &id);
        let (status, body) = cdp(&mut harness, method, &format!("{path}?limt=5"), "");
        assert_eq!(status, 400, "{method} {path}: {body}");
        assert_eq!(code(&body), "api.invalid_request", "{method} {path}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("`limt`"), "{method} {path}: {message}");
        for parameter in *known {
            assert!(message.contains(parameter), "{method} {path}: {message}");
        }
        // Each parameter the endpoint reads passes the check (its value may still be
        // refused on its own terms).
        for parameter in *known {
            let (_, body) = cdp(&mut harness, method, &format!("{path}?{parameter}=x"), "");
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(
                !message.contains("unknown query parameter"),
                "{method} {path}?{parameter}: {message}"
            );
        }
    }
    // The listing does not filter: an identity meant for the lookup is refused there rather
    // than answered with every profile.
    let (status, body) = cdp(
        &mut harness,
        "GET",
        "/cdp/v1/profiles?identity=email:ann@x.dk",
        "",
    );
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("`identity`"));
    assert_eq!(harness.engine.profile_count(), 1, "nothing written");
}
