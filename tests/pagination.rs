//! Pagination edges: ChartMogul page/per_page (≤ 200) with has_more and the cursor form of
//! its official Node client, Arrigoo pages, FollowAnalytics page/num_per_page.

mod support;

use serde_json::{json, Value as Json};
use support::Harness;

fn seeded(count: usize) -> Harness {
    let mut harness = Harness::new();
    for number in 0..count {
        harness.seed(
            json!({"email": format!("c{number:03}@example.com"), "user_id": format!("u{number:03}")}),
            json!({"n": number}),
        );
    }
    harness
}

fn emails(body: &Json) -> Vec<String> {
    body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["email"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn chartmogul_pages_follow_customer_since_order_with_has_more() {
    let mut harness = seeded(5);
    let first = harness
        .chartmogul("GET", "/v1/customers?page=1&per_page=2", "")
        .body_json();
    assert_eq!(emails(&first), ["c000@example.com", "c001@example.com"]);
    assert_eq!(
        (
            first["has_more"].clone(),
            first["page"].clone(),
            first["per_page"].clone()
        ),
        (json!(true), json!(1), json!(2))
    );
    assert!(first.get("cursor").is_none(), "the page form has no cursor");
    let last = harness
        .chartmogul("GET", "/v1/customers?page=3&per_page=2", "")
        .body_json();
    assert_eq!(emails(&last), ["c004@example.com"]);
    assert_eq!(last["has_more"], false);
    let exact = harness
        .chartmogul("GET", "/v1/customers?page=1&per_page=5", "")
        .body_json();
    assert_eq!(
        exact["has_more"], false,
        "no more when the page ends exactly at the last"
    );
    let beyond = harness
        .chartmogul("GET", "/v1/customers?page=9&per_page=2", "")
        .body_json();
    assert_eq!(emails(&beyond), Vec::<String>::new());
    assert_eq!(beyond["has_more"], false);
}

#[test]
fn chartmogul_per_page_defaults_to_and_is_capped_at_200() {
    let mut harness = seeded(201);
    let body = harness.chartmogul("GET", "/v1/customers", "").body_json();
    assert_eq!(body["entries"].as_array().unwrap().len(), 200);
    assert_eq!(
        (body["per_page"].clone(), body["has_more"].clone()),
        (json!(200), json!(true))
    );
    assert!(
        body["cursor"].is_string(),
        "a first page answers both forms"
    );
    for bad in [
        "per_page=201",
        "per_page=0",
        "per_page=x",
        "page=0",
        "page=-1",
        "cursor=%21%21",
    ] {
        let response = harness.chartmogul("GET", &format!("/v1/customers?{bad}"), "");
        assert_eq!(response.status, 400, "{bad}");
    }
}

#[test]
fn chartmogul_cursor_walk_visits_every_customer_once() {
    let mut harness = seeded(7);
    let mut seen = Vec::new();
    let mut target = "/v1/customers?per_page=3".to_owned();
    loop {
        let body = harness.chartmogul("GET", &target, "").body_json();
        seen.extend(emails(&body));
        if body["has_more"] == false {
            assert_eq!(body["cursor"], Json::Null);
            break;
        }
        let cursor = body["cursor"].as_str().unwrap();
        assert!(body.get("page").is_none() || target.ends_with("per_page=3"));
        target = format!(
            "/v1/customers?per_page=3&cursor={}",
            cursor.replace('=', "%3D").replace('+', "%2B")
        );
    }
    let expected: Vec<String> = (0..7)
        .map(|number| format!("c{number:03}@example.com"))
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn chartmogul_search_is_by_normalized_email() {
    let mut harness = seeded(3);
    let body = harness
        .chartmogul("GET", "/v1/customers/search?email=%20C001@Example.com", "")
        .body_json();
    assert_eq!(emails(&body), ["c001@example.com"]);
    assert_eq!(
        body.as_object().unwrap().len(),
        1,
        "the documented shape has only entries"
    );
    let paged = harness
        .chartmogul(
            "GET",
            "/v1/customers/search?email=c001@example.com&per_page=10",
            "",
        )
        .body_json();
    assert_eq!(
        (paged["has_more"].clone(), paged["cursor"].clone()),
        (json!(false), Json::Null)
    );
}

#[test]
fn arrigoo_pages_hold_the_configured_size() {
    let mut harness = Harness::with_config(
        r#"{"arrigoo": {"pageSize": 2, "apiKeys": [{"key": "admin", "secret": "s-admin", "role": "admin"}]}}"#,
    );
    for number in 0..3 {
        harness.seed(
            json!({"email": format!("c{number}@example.com")}),
            json!({}),
        );
    }
    let sizes: Vec<usize> = (1..=3)
        .map(|page| {
            harness
                .arrigoo("GET", &format!("/v1/customer?page={page}"), "")
                .body_json()
                .as_array()
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(sizes, [2, 1, 0]);
}

#[test]
fn followanalytics_pages_count_profiles_with_a_customer_id() {
    let mut harness = seeded(5);
    harness.seed(json!({"email": "no-customer-id@example.com"}), json!({}));
    let body = harness
        .followanalytics("GET", "/api/customer_profiles?page=2&num_per_page=2", "")
        .body_json();
    assert_eq!(body["result"]["total_profiles"], 5);
    assert_eq!(body["result"]["total_pages"], 3);
    let ids: Vec<&str> = body["result"]["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["customer_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["u002", "u003"]);
    let all = harness
        .followanalytics("GET", "/api/customer_profiles?num_per_page=99999", "")
        .body_json();
    assert_eq!(
        all["result"]["profiles"].as_array().unwrap().len(),
        5,
        "num_per_page is capped, not refused"
    );
    let filtered = harness
        .followanalytics("GET", "/api/customer_profiles?customer_ids=u001,u004", "")
        .body_json();
    assert_eq!(filtered["result"]["total_profiles"], 2);
}
