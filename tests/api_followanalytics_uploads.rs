//! FollowAnalytics uploads end to end through `Api::handle`, natively: app SORs that
//! auto-declare what they receive, shared keys taken from any SOR, uploads checked whole
//! before anything is written, declared keys shown as `null` on profiles, and the API key a
//! SOR was created with surviving a reopen of its storage.

mod support;

use std::rc::Rc;
use support::block_on;

use cdp_engine::api::{Method, Request};
use cdp_engine::engine::{Database, DatabaseOptions, SystemClock};
use cdp_engine::model::SourceId;
use cdp_engine::storage::{MemoryStorage, Storage};
use cdp_engine::{Api, Config};
use serde_json::{json, Value as Json};
use support::followanalytics::{
    assert_error, body, create, declare, upload_values, ATTRIBUTES, SORS,
};
use support::Harness;

/// A database on `storage` (loaded from what it holds) and a fresh API of [`support::CONFIG`]:
/// what a restart of `serve --data` or a page reload gives.
fn reopen(storage: &MemoryStorage, snapshot_min_changes: u64) -> (Database<&MemoryStorage>, Api) {
    let config = Config::from_json(support::CONFIG).unwrap();
    let database = block_on(Database::open_with(
        storage,
        config.identity.clone(),
        Rc::new(SystemClock),
        DatabaseOptions {
            snapshot_min_changes,
            ..DatabaseOptions::default()
        },
    ))
    .unwrap();
    (database, Api::new(&config))
}

fn send_durably(
    database: &Database<&MemoryStorage>,
    api: &mut Api,
    method: &str,
    target: &str,
    body: &Json,
) -> cdp_engine::api::Response {
    let request = Request::new(Method::parse(method), target)
        .with_header("authorization", "Token token=fk1")
        .with_body(body.to_string());
    block_on(database.write(|engine| api.handle(engine, &request))).unwrap()
}

#[test]
fn an_issued_key_survives_a_reopen_and_its_sor_deletion_forgets_it() {
    // Snapshots after every write (the key travels in the snapshot's schema) and never
    // (it comes back by replaying the log).
    for snapshot_min_changes in [1, 1_000_000] {
        let storage = MemoryStorage::new();
        let (database, mut api) = reopen(&storage, snapshot_min_changes);
        let created = send_durably(&database, &mut api, "POST", SORS, &json!({"name": "CRM"}));
        let result = &body(&created)["result"];
        let sor = result["identifier"].as_str().unwrap().to_owned();
        let key = result["api_keys"][0].as_str().unwrap().to_owned();
        let declaration = json!({"system_of_record_identifier": sor, "key": "fav_team",
            "label": "Team", "type": "String"});
        let declared = send_durably(&database, &mut api, "POST", ATTRIBUTES, &declaration);
        assert_eq!(declared.status, 200, "{}", declared.body);
        drop(database);

        let upload = |sor: &str, key: &str| {
            json!({"sor": sor, "api_key": key, "customer_attribute_values":
                {"customer_id": "u1", "attribute_key": "fav_team", "attribute_value": "PSG"}})
        };
        let (database, mut api) = reopen(&storage, snapshot_min_changes);
        let uploaded = send_durably(
            &database,
            &mut api,
            "POST",
            "/api/attribute_values",
            &upload(&sor, &key),
        );
        assert_eq!(uploaded.status, 200, "{}", uploaded.body);
        assert_eq!(body(&uploaded)["result"]["uploaded"], 1);
        let wrong = upload(&sor, "not-the-key");
        let refused = send_durably(&database, &mut api, "POST", "/api/attribute_values", &wrong);
        assert_error(&refused, 401);
        if snapshot_min_changes == 1 {
            assert!(
                database.snapshot_offset().is_some(),
                "a snapshot was loaded"
            );
        } else {
            let changes = block_on(storage.read_log(0)).unwrap();
            let logged = serde_json::to_string(&changes).unwrap();
            assert!(!logged.contains(&key), "the key itself is never stored");
            assert!(logged.contains("source_key_added"), "{logged}");
        }

        let deleted = send_durably(
            &database,
            &mut api,
            "DELETE",
            &format!("{SORS}/{sor}"),
            &json!({}),
        );
        assert_eq!(deleted.status, 200, "{}", deleted.body);
        drop(database);
        let (database, mut api) = reopen(&storage, snapshot_min_changes);
        let after = send_durably(
            &database,
            &mut api,
            "POST",
            "/api/attribute_values",
            &upload(&sor, &key),
        );
        assert_error(&after, 401);
        assert!(database
            .read(|engine| engine.schema().source(&SourceId::new(&sor)).is_none())
            .unwrap());
    }
}

/// Declares an app (SDK-based) SOR, which FollowAnalytics creates itself.
fn app_sor(harness: &mut Harness) -> &'static str {
    harness
        .execute(json!({"declareSource": {"id": "SOR-SDK_2a116e", "name": "iOS", "kind": "app"}}));
    "SOR-SDK_2a116e"
}

/// The `key → value_type` of every declaration a SOR's view lists.
fn declared_types(harness: &mut Harness, sor: &str) -> Json {
    let viewed = body(&harness.followanalytics("GET", &format!("{SORS}/{sor}"), ""));
    viewed["result"]["customer_attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attribute| {
            (
                attribute["key"].as_str().unwrap().to_owned(),
                attribute["value_type"].clone(),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

#[test]
fn an_app_sor_declares_the_keys_it_receives_typed_by_their_first_value() {
    let mut harness = Harness::new();
    let sor = app_sor(&mut harness);
    let value = |customer: &str, key: &str, value: Json| json!({"customer_id": customer, "attribute_key": key, "attribute_value": value});
    let values = json!([
        value("u1", "fav_team", json!("PSG")),
        value("u1", "age", json!(31)),
        value("u1", "vip", json!(true)),
        value("u1", "birthday", json!("1990-01-02")),
        value("u1", "last_seen", json!("2025-03-21T10:00:00Z")),
        {"customer_id": "u1", "attribute_key": "hobbies", "attribute_value": "Chess", "action_type": "ADD"},
        value("u1", "gone", Json::Null),
        value("u2", "age", json!(40.5)),
    ]);
    let response = upload_values(&mut harness, sor, "fk1", &values);
    assert_eq!(
        body(&response)["result"],
        json!({"uploaded": 8, "unknown": {"count": 0, "keys": []}}),
    );
    assert_eq!(
        declared_types(&mut harness, sor),
        json!({"age": "Number", "birthday": "Date", "fav_team": "String", "hobbies": "Set",
            "last_seen": "DateTime", "vip": "Boolean"}),
        "a removal declares nothing"
    );
    let profile = body(&harness.followanalytics("GET", "/api/customer_profiles/u1", ""));
    assert_eq!(profile["result"][0]["attributes"][sor]["fav_team"], "PSG");
    assert_eq!(
        profile["result"][0]["attributes"][sor]["hobbies"],
        json!(["Chess"])
    );

    // Declared now: a value that does not fit is refused, whole, before anything is written.
    let before = (
        harness.engine.schema().clone(),
        harness.engine.next_offset(),
    );
    for bad in [
        json!([
            value("u3", "fav_team", json!("OM")),
            value("u3", "age", json!("old"))
        ]),
        json!([
            value("u3", "score", json!(5)),
            value("u4", "score", json!("high"))
        ]),
        json!([value("u3", "tags", json!(["a", "b"]))]),
    ] {
        assert_error(&upload_values(&mut harness, sor, "fk1", &bad), 400);
        assert_eq!(
            (
                harness.engine.schema().clone(),
                harness.engine.next_offset()
            ),
            before
        );
    }
}

#[test]
fn an_auto_declared_attribute_is_recreated_after_delete_and_reported_when_disabled() {
    // The spec: deleting an attribute of a live SOR is not advised, as auto-declaration
    // recreates it on the next value; disabling it is the way to refuse its values.
    let mut harness = Harness::new();
    let sor = app_sor(&mut harness);
    let values =
        json!([{"customer_id": "u1", "attribute_key": "fav_team", "attribute_value": "PSG"}]);
    upload_values(&mut harness, sor, "fk1", &values);
    let id = format!("FACA_{sor}.fav_team");
    let deleted = harness.followanalytics("DELETE", &format!("{ATTRIBUTES}/{id}"), "");
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(declared_types(&mut harness, sor), json!({}));
    let again = upload_values(&mut harness, sor, "fk1", &values);
    assert_eq!(body(&again)["result"]["uploaded"], 1);
    assert_eq!(
        declared_types(&mut harness, sor),
        json!({"fav_team": "String"})
    );
    harness.followanalytics("PUT", &format!("{ATTRIBUTES}/{id}/disable"), "");
    let refused = upload_values(&mut harness, sor, "fk1", &values);
    assert_eq!(
        body(&refused)["result"],
        json!({"uploaded": 0, "unknown": {"count": 1, "keys": ["fav_team"]}})
    );
}

#[test]
fn an_upload_with_one_value_of_the_wrong_type_writes_nothing() {
    let mut harness = Harness::new();
    let (sor, key) = create(&mut harness, "CRM");
    declare(&mut harness, &sor, "age", "Number");
    let before = harness.engine.next_offset();
    let values = json!([
        {"customer_id": "u1", "attribute_key": "age", "attribute_value": 5},
        {"customer_id": "u2", "attribute_key": "age", "attribute_value": "abc"}
    ]);
    assert_error(&upload_values(&mut harness, &sor, &key, &values), 400);
    assert_eq!(harness.engine.next_offset(), before, "u1 was not written");
}

#[test]
fn profiles_list_every_declared_key_of_a_sor_and_filters_keep_to_them() {
    let mut harness = Harness::new();
    let (crm, key) = create(&mut harness, "CRM");
    declare(&mut harness, &crm, "favorite_team", "String");
    declare(&mut harness, &crm, "other_team", "String");
    let (erp, _) = create(&mut harness, "ERP");
    declare(&mut harness, &erp, "plan", "String");
    harness.seed(
        json!({"user_id": "u1"}),
        json!({"first_name": "maximillian"}),
    );
    let values =
        json!([{"customer_id": "u1", "attribute_key": "favorite_team", "attribute_value": "PSG"}]);
    upload_values(&mut harness, &crm, &key, &values);
    let viewed = body(&harness.followanalytics("GET", "/api/customer_profiles/u1", ""));
    assert_eq!(
        viewed["result"][0]["attributes"],
        json!({"global": {"first_name": "maximillian"},
            crm.as_str(): {"favorite_team": "PSG", "other_team": null},
            erp.as_str(): {"plan": null}})
    );
    let filtered = body(&harness.followanalytics(
        "GET",
        "/api/customer_profiles/u1?attribute_keys=other_team,plan",
        "",
    ));
    assert_eq!(
        filtered["result"][0]["attributes"],
        json!({crm.as_str(): {"other_team": null}, erp.as_str(): {"plan": null}})
    );
    let listed = body(&harness.followanalytics(
        "GET",
        &format!("/api/customer_profiles?sor_identifiers={erp}"),
        "",
    ));
    assert_eq!(
        listed["result"]["profiles"][0]["attributes"],
        json!({erp.as_str(): {"plan": null}})
    );
}

#[test]
fn a_shared_key_is_taken_from_any_sor_and_handed_back_to_it_on_unshare() {
    // "any SOR attempting to send data to that key will instead send the data to the Global
    // SOR"; unsharing puts it "back onto the SORs that sent data to it".
    let mut harness = Harness::new();
    let (crm, _) = create(&mut harness, "CRM");
    let (erp, erp_key) = create(&mut harness, "ERP");
    let id = declare(&mut harness, &crm, "fav_team", "String");
    harness.followanalytics("PUT", &format!("{ATTRIBUTES}/{id}/share"), "");
    let values =
        json!([{"customer_id": "u1", "attribute_key": "fav_team", "attribute_value": "PSG"}]);
    let sent = upload_values(&mut harness, &erp, &erp_key, &values);
    assert_eq!(
        body(&sent)["result"],
        json!({"uploaded": 1, "unknown": {"count": 0, "keys": []}})
    );
    let profile = body(&harness.followanalytics("GET", "/api/customer_profiles/u1", ""));
    assert_eq!(
        profile["result"][0]["attributes"]["global"]["fav_team"],
        "PSG"
    );
    let erp_view = body(&harness.followanalytics("GET", &format!("{SORS}/{erp}"), ""));
    assert_eq!(erp_view["result"]["customer_attributes"][0]["shared"], true);

    // A disabled global attribute refuses the key from every SOR: reported, not a 400.
    let global = "FACA_global.fav_team";
    harness.followanalytics("PUT", &format!("{ATTRIBUTES}/{global}/disable"), "");
    let refused = upload_values(&mut harness, &erp, &erp_key, &values);
    assert_eq!(
        body(&refused)["result"],
        json!({"uploaded": 0, "unknown": {"count": 1, "keys": ["fav_team"]}})
    );
    harness.followanalytics("PUT", &format!("{ATTRIBUTES}/{global}/enable"), "");

    let unshared = harness.followanalytics("PUT", &format!("{ATTRIBUTES}/{global}/unshare"), "");
    assert_eq!(unshared.status, 200, "{}", unshared.body);
    let profile = body(&harness.followanalytics("GET", "/api/customer_profiles/u1", ""));
    assert_eq!(
        profile["result"][0]["attributes"][erp.as_str()]["fav_team"],
        "PSG"
    );
}

#[test]
fn a_page_of_profiles_lists_at_most_200_000_declared_keys() {
    // Every profile lists every declared key, so the profiles of a page times the declared
    // keys bound its size: with 400 declared keys a page holds 500 profiles, not 2,000, and
    // `total_pages` counts pages of that size ("num_per_page: the maximal number").
    let mut harness = Harness::new();
    let (crm, key) = create(&mut harness, "CRM");
    for index in 0..400 {
        declare(&mut harness, &crm, &format!("k{index:03}"), "Number");
    }
    let values: Vec<Json> = (0..1_200)
        .map(|index| json!({"customer_id": format!("u{index:04}"), "attribute_key": "k000", "attribute_value": index}))
        .collect();
    assert_eq!(
        upload_values(&mut harness, &crm, &key, &json!(values)).status,
        200
    );
    let mut page = |query: &str| {
        let listed =
            body(&harness.followanalytics("GET", &format!("/api/customer_profiles{query}"), ""));
        let profiles = listed["result"]["profiles"].as_array().unwrap().clone();
        (listed["result"]["total_pages"].clone(), profiles)
    };
    let (pages, first) = page("");
    let listed_keys: usize = first[0]["attributes"]
        .as_object()
        .unwrap()
        .values()
        .map(|keys| keys.as_object().unwrap().len())
        .sum();
    assert!(listed_keys >= 400, "{listed_keys}");
    let per_page = 200_000 / listed_keys;
    assert_eq!(first.len(), per_page);
    assert_eq!(pages, json!(1_200usize.div_ceil(per_page)));
    let (_, last) = page(&format!("?page={}", 1_200usize.div_ceil(per_page)));
    assert_eq!(last.len(), (1_200 - 1) % per_page + 1);
    assert_eq!(last.last().unwrap()["customer_id"], "u1199");
    let (pages, small) = page("?num_per_page=7");
    assert_eq!((small.len(), pages), (7, json!(172)));
    let (pages, one_sor) = page("?attribute_keys=k000");
    assert_eq!((one_sor.len(), pages), (1_200, json!(1)));
}
