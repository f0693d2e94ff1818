//! A rejected command, of every kind, leaves the state, the next offset and the unpersisted
//! changes exactly as they were.

use cdp_engine::model::ProfileId;

use crate::support::*;

const SCHEMA: &str = r#"{"sources":[{"id":"crm","name":"CRM"}],
    "attributes":{"crm":[{"key":"score","type":"integer"},{"key":"code","type":"string","predefined":true}],
                  "default":[{"key":"score","type":"string"}]}}"#;

#[test]
fn every_rejected_command_kind_leaves_no_trace() {
    let (mut engine, _) = engine_with(
        r#"{"policy":"merge","types":[{"name":"email","normalization":"email","limit":1,"onLimit":"reject"}]}"#,
        SCHEMA,
    );
    let a = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"a@x.dk"},"source":"crm","attributes":{"score":1}}}"#,
    ));
    let b = profile_of(&run(
        &mut engine,
        r#"{"upsertProfile":{"identities":{"email":"b@x.dk"}}}"#,
    ));
    let unknown = ProfileId::random();
    let rejected = [
        (r#"{"upsertProfile":{"identities":{"email":"a@x.dk","crm":"new"},"source":"crm","attributes":{"score":"many"}}}"#.to_owned(), "schema.type_mismatch"),
        (r#"{"upsertProfile":{"identities":{"email":["a@x.dk","b@x.dk"]}}}"#.to_owned(), "identity.limit_exceeded"),
        (r#"{"upsertProfile":{"identities":{}}}"#.to_owned(), "identity.missing"),
        (format!(r#"{{"mergeProfiles":{{"survivor":"{a}","absorbed":"{unknown}"}}}}"#), "identity.unknown_profile"),
        (format!(r#"{{"mergeProfiles":{{"survivor":"{a}","absorbed":"{b}"}}}}"#), "identity.limit_exceeded"),
        (format!(r#"{{"unmergeProfile":{{"absorbed":"{b}"}}}}"#), "identity.not_merged"),
        (r#"{"declareSource":{"id":"crm"}}"#.to_owned(), "schema.source_exists"),
        (r#"{"declareSource":{"id":"g2","kind":"global"}}"#.to_owned(), "schema.global_source_fixed"),
        (r#"{"renameSource":{"source":"nope","name":"N"}}"#.to_owned(), "schema.unknown_source"),
        (r#"{"deleteSource":{"source":"global"}}"#.to_owned(), "schema.global_source_fixed"),
        (r#"{"disableSource":{"source":"nope"}}"#.to_owned(), "schema.unknown_source"),
        (r#"{"enableSource":{"source":"global"}}"#.to_owned(), "schema.global_source_fixed"),
        (r#"{"declareAttribute":{"source":"crm","definition":{"key":"score","type":"integer"}}}"#.to_owned(), "schema.attribute_exists"),
        (r#"{"declareAttribute":{"source":"crm","definition":{"key":" bad key","type":"integer"}}}"#.to_owned(), "schema.invalid_key"),
        (r#"{"updateAttribute":{"source":"crm","definition":{"key":"score","type":"string"}}}"#.to_owned(), "schema.type_mismatch"),
        (r#"{"deleteAttribute":{"source":"crm","key":"nope"}}"#.to_owned(), "schema.unknown_attribute"),
        (r#"{"disableAttribute":{"source":"crm","key":"code"}}"#.to_owned(), "schema.predefined"),
        (r#"{"enableAttribute":{"source":"crm","key":"nope"}}"#.to_owned(), "schema.unknown_attribute"),
        (r#"{"shareAttribute":{"key":"score"}}"#.to_owned(), "schema.share_conflict"),
        (r#"{"unshareAttribute":{"key":"score"}}"#.to_owned(), "schema.unknown_attribute"),
    ];
    let before = snapshot(&engine);
    assert!(before.unpersisted > 0);
    for (json, code) in rejected {
        assert_eq!(run_error(&mut engine, &json), code, "{json}");
        assert_eq!(snapshot(&engine), before, "{json}");
    }
}
