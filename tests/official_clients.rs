//! Requests exactly as the official chartmogul-node client (3.12.3) sends them: the API key as
//! the Basic user with an empty password, `{}` as the body of every GET, `per_page` and
//! `cursor` (never `page`) to list, and JSON bodies on POST and DELETE. Captured by pointing the
//! client at the engine; the JS suite against `serve` repeats this with the client itself.

mod support;

use serde_json::{json, Value as Json};
use support::{basic, Harness};

fn client(harness: &mut Harness, method: &str, target: &str, body: &Json) -> Json {
    let auth = basic("cm-key", "");
    let headers = [
        ("authorization", auth.as_str()),
        ("user-agent", "chartmogul-node/3.12.3"),
        ("content-type", "application/json"),
        ("accept", "application/json"),
    ];
    let response = harness.send(method, target, &headers, &body.to_string());
    assert_eq!(response.status, 200, "{method} {target}: {}", response.body);
    response.body_json()
}

#[test]
fn chartmogul_node_lists_searches_retrieves_and_tags_customers() {
    let mut harness = Harness::new();
    for number in 0..5 {
        harness.seed(
            json!({"email": format!("c{number}@example.com")}),
            json!({"name": format!("C{number}")}),
        );
    }
    let mut page = client(&mut harness, "GET", "/v1/customers?per_page=2", &json!({}));
    let mut seen: Vec<Json> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["email"].clone())
        .collect();
    while page["has_more"] == true {
        let cursor = page["cursor"].as_str().unwrap().replace('=', "%3D");
        page = client(
            &mut harness,
            "GET",
            &format!("/v1/customers?per_page=2&cursor={cursor}"),
            &json!({}),
        );
        seen.extend(
            page["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|entry| entry["email"].clone()),
        );
    }
    assert_eq!(seen.len(), 5);
    let found = client(
        &mut harness,
        "GET",
        "/v1/customers/search?email=c3%40example.com",
        &json!({}),
    );
    let uuid = found["entries"][0]["uuid"].as_str().unwrap().to_owned();
    let customer = client(
        &mut harness,
        "GET",
        &format!("/v1/customers/{uuid}"),
        &json!({}),
    );
    assert_eq!(customer["name"], "C3");
    let tags = format!("/v1/customers/{uuid}/attributes/tags");
    let added = client(
        &mut harness,
        "POST",
        &tags,
        &json!({"tags": ["important", "Prio1"]}),
    );
    assert_eq!(added, json!({"tags": ["Prio1", "important"]}));
    let by_email = client(
        &mut harness,
        "POST",
        "/v1/customers/attributes/tags",
        &json!({"email": "c3@example.com", "tags": ["engage"]}),
    );
    assert_eq!(
        by_email["entries"][0]["attributes"]["tags"],
        json!(["Prio1", "engage", "important"])
    );
    let removed = client(&mut harness, "DELETE", &tags, &json!({"tags": ["Prio1"]}));
    assert_eq!(removed, json!({"tags": ["engage", "important"]}));
    let attributes = client(
        &mut harness,
        "GET",
        &format!("/v1/customers/{uuid}/attributes"),
        &json!({}),
    );
    assert_eq!(attributes["attributes"]["custom"], json!({"name": "C3"}));
}
