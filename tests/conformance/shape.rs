//! Comparing a response with a documented example by shape: the same keys, and values of the
//! same JSON types, all the way down.

use serde_json::Value as Json;

/// Where an example's shape is data, not structure.
#[derive(Clone, Copy, Debug, Default)]
pub struct Loose<'a> {
    /// Paths (`entries[].attributes.custom`) of objects whose keys are data (custom
    /// attributes, traits, SOR names): only that they are objects is checked.
    pub maps: &'a [&'a str],
    /// Paths of arrays that may be empty here although the example has items.
    pub may_be_empty: &'a [&'a str],
}

fn kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// Every difference in shape between `expected` and `actual`, as `path: what`. A `null` in
/// the example stands for any type.
pub fn mismatches(expected: &Json, actual: &Json, loose: Loose<'_>) -> Vec<String> {
    let mut found = Vec::new();
    compare(expected, actual, "", loose, &mut found);
    found
}

fn compare(expected: &Json, actual: &Json, path: &str, loose: Loose<'_>, found: &mut Vec<String>) {
    let here = if path.is_empty() { "(root)" } else { path };
    if expected.is_null() {
        return;
    }
    if kind(expected) != kind(actual) {
        found.push(format!(
            "{here}: expected {}, got {}",
            kind(expected),
            kind(actual)
        ));
        return;
    }
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match (expected, actual) {
        (Json::Object(expected), Json::Object(actual)) => {
            if loose.maps.contains(&path) {
                return;
            }
            for key in expected.keys().filter(|key| !actual.contains_key(*key)) {
                found.push(format!("{here}: missing key `{key}`"));
            }
            for key in actual.keys().filter(|key| !expected.contains_key(*key)) {
                found.push(format!("{here}: unexpected key `{key}`"));
            }
            for (key, value) in expected {
                if let Some(other) = actual.get(key) {
                    compare(value, other, &join(key), loose, found);
                }
            }
        }
        (Json::Array(expected), Json::Array(actual)) => {
            let Some(first) = expected.first() else {
                return;
            };
            if actual.is_empty() && !loose.may_be_empty.contains(&path) {
                found.push(format!("{here}: expected items, got none"));
            }
            let items = format!("{path}[]");
            for item in actual {
                compare(first, item, &items, loose, found);
            }
        }
        _ => {}
    }
}

#[test]
fn shapes_compare_keys_and_types_recursively() {
    use serde_json::json;
    let expected =
        json!({"entries": [{"id": 1, "custom": {"a": 1}, "gone": null}], "has_more": true});
    let actual =
        json!({"entries": [{"id": 2, "custom": {"b": "x"}, "gone": "x"}], "has_more": false});
    let loose = Loose {
        maps: &["entries[].custom"],
        may_be_empty: &[],
    };
    assert!(mismatches(&expected, &actual, loose).is_empty());
    let actual = json!({"entries": [{"id": "2", "custom": {}, "extra": 1}]});
    assert_eq!(
        mismatches(&expected, &actual, Loose::default()),
        [
            "(root): missing key `has_more`",
            "entries[]: missing key `gone`",
            "entries[]: unexpected key `extra`",
            "entries[].custom: missing key `a`",
            "entries[].id: expected number, got string",
        ]
    );
    assert_eq!(
        mismatches(&json!([1]), &json!([]), Loose::default()),
        ["(root): expected items, got none"]
    );
}
