//! FollowAnalytics requests the dialect's tests share: creating SORs, declaring attributes,
//! uploading values and checking its error shape.

use cdp_engine::api::Response;
use serde_json::{json, Value as Json};

use super::Harness;

pub const SORS: &str = "/api/system_of_records";
pub const ATTRIBUTES: &str = "/api/customer_attributes";

pub fn body(response: &Response) -> Json {
    serde_json::from_str(&response.body).unwrap()
}

/// Creates a custom SOR named `name`; its identifier and its one API key.
pub fn create(harness: &mut Harness, name: &str) -> (String, String) {
    let response = harness.followanalytics("POST", SORS, &json!({"name": name}).to_string());
    assert_eq!(response.status, 200, "{}", response.body);
    let result = &body(&response)["result"];
    assert_eq!(result["name"], name);
    assert_eq!(result["type"], "custom");
    assert_eq!(result["disabled"], false);
    assert_eq!(result["attributes_count"], 0);
    (
        result["identifier"].as_str().unwrap().to_owned(),
        result["api_keys"][0].as_str().unwrap().to_owned(),
    )
}

/// Declares `key` of `value_type` on `sor`; its identifier.
pub fn declare(harness: &mut Harness, sor: &str, key: &str, value_type: &str) -> String {
    let request =
        json!({"system_of_record_identifier": sor, "key": key, "label": key, "type": value_type});
    let response = harness.followanalytics("POST", ATTRIBUTES, &request.to_string());
    assert_eq!(response.status, 200, "{}", response.body);
    body(&response)["result"]["identifier"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Uploads `values` (one or many `customer_attribute_values`) to `sor` with its `key`.
pub fn upload_values(harness: &mut Harness, sor: &str, key: &str, values: &Json) -> Response {
    let upload = json!({"sor": sor, "api_key": key, "customer_attribute_values": values});
    harness.send("POST", "/api/attribute_values", &[], &upload.to_string())
}

/// `response` is FollowAnalytics' error shape with `status`.
pub fn assert_error(response: &Response, status: u16) {
    assert_eq!(response.status, status, "{}", response.body);
    let body = body(response);
    assert_eq!(body["status"], status.to_string());
    assert_eq!(body["success"], false);
    assert!(body["error_message"].is_string());
}
