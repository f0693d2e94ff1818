//! FollowAnalytics' JSON shape of a customer profile.

use serde_json::{json, Map, Value as Json};

use crate::identity::Identifier;
use crate::model::{Profile, SourceId};
use crate::schema::{DeclaredAttribute, Schema, DEFAULT_STRING_LENGTH};

/// The SOR name the engine's default source is shown as: attributes written without a
/// source of record (by other dialects, too) are the global SOR's.
const GLOBAL: &str = "global";

/// Which SORs and keys a listing shows (`sor_identifiers`, `attribute_keys`).
#[derive(Default)]
pub(super) struct Filters {
    /// Only these SORs, when given.
    pub(super) sors: Option<Vec<String>>,
    /// Only SORs holding one of these keys, and only those keys, when given.
    pub(super) keys: Option<Vec<String>>,
}

impl Filters {
    /// Whether `key` of `source` is listed.
    fn wants(&self, source: &SourceId, key: &str) -> bool {
        let name = sor_name(source);
        self.sors
            .as_ref()
            .is_none_or(|sors| sors.iter().any(|sor| sor == name))
            && self
                .keys
                .as_ref()
                .is_none_or(|keys| keys.iter().any(|wanted| wanted == key))
    }
}

/// The SOR name of a source.
fn sor_name(source: &SourceId) -> &str {
    if source.as_str() == SourceId::DEFAULT {
        GLOBAL
    } else {
        source.as_str()
    }
}

/// The source a SOR name denotes.
pub(super) fn source_of(sor: &str) -> SourceId {
    if sor == GLOBAL {
        SourceId::default_source()
    } else {
        SourceId::new(sor)
    }
}

/// One profile as seen through one of its customer ids. Each SOR lists every key declared on
/// it, `null` when the profile has no value (as the spec's `"email": null`), and the values
/// the profile has there; a SOR with neither is left out.
pub(super) fn profile(
    schema: &Schema,
    profile: &Profile,
    customer: &Identifier,
    filters: &Filters,
) -> Json {
    let mut attributes: Map<String, Json> = Map::new();
    let mut show = |source: &SourceId, key: &str, value: Json| {
        if !filters.wants(source, key) {
            return;
        }
        if let Json::Object(values) = attributes
            .entry(sor_name(source).to_owned())
            .or_insert_with(|| Json::Object(Map::new()))
        {
            values.insert(key.to_owned(), value);
        }
    };
    for_each_declared(schema, |source, key| show(source, key, Json::Null));
    // Values after the declarations' nulls. The default source and the schema's global one
    // are both `global`: the global source's values (met last, in id order) win.
    for (source, by_key) in &profile.attributes {
        for (key, written) in by_key {
            show(source, key, written.value.to_json());
        }
    }
    json!({
        "customer_id": customer.value(),
        "customer_id_type": customer.kind(),
        "attributes": attributes,
        "applications": [],
    })
}

/// Calls `visit` with every declared key of every SOR, the default source's included.
fn for_each_declared(schema: &Schema, mut visit: impl FnMut(&SourceId, &str)) {
    let default_source = SourceId::default_source();
    let declaring = schema
        .sources()
        .map(|declared| &declared.definition.id)
        .chain(std::iter::once(&default_source));
    for source in declaring {
        for (key, _) in schema.attributes_of(source) {
            visit(source, key);
        }
    }
}

/// How many declared keys [`profile`] lists for every profile under `filters` (as `null`
/// where the profile has no value), at most.
pub(super) fn declared_per_profile(schema: &Schema, filters: &Filters) -> usize {
    let mut count = 0;
    for_each_declared(schema, |source, key| {
        count += usize::from(filters.wants(source, key));
    });
    count
}

/// A customer attribute's identifier: `FACA_` with its source and key, so that the identifier
/// names the declaration without a table of its own.
pub(super) fn attribute_identifier(source: &SourceId, key: &str) -> String {
    format!("FACA_{}.{key}", source.as_str())
}

/// The source and key a customer attribute identifier names. Keys hold no `.`, so the last
/// one separates them (app SOR identifiers may hold dots).
pub(super) fn parse_attribute_identifier(identifier: &str) -> Option<(SourceId, &str)> {
    let (source, key) = identifier.strip_prefix("FACA_")?.rsplit_once('.')?;
    (!source.is_empty() && !key.is_empty()).then(|| (SourceId::new(source), key))
}

/// One customer attribute declaration as the attribute routes show it.
pub(super) fn attribute_alone(source: &SourceId, declared: &DeclaredAttribute) -> Json {
    let definition = &declared.definition;
    let key = definition.key.as_str();
    json!({
        "identifier": attribute_identifier(source, key),
        "key": key,
        "label": definition.label.clone().unwrap_or_else(|| key.to_owned()),
        "value_type": definition.value_type.vendor_name(),
        "length": definition.max_length.unwrap_or(DEFAULT_STRING_LENGTH),
        "predefined": definition.predefined,
        "shared": declared.shared,
        "disabled": declared.disabled,
        "system_of_record_identifier": source.as_str(),
    })
}

/// One customer attribute declaration as the spec shows it.
pub(super) fn attribute(schema: &Schema, source: &SourceId, declared: &DeclaredAttribute) -> Json {
    let definition = &declared.definition;
    let key = definition.key.as_str();
    let sources: Vec<&str> = schema
        .declarations_of(key)
        .map(|(declaring, _)| declaring.as_str())
        .collect();
    json!({
        "disabled": declared.disabled,
        "identifier": attribute_identifier(source, key),
        "key": key,
        "label": definition.label.clone().unwrap_or_else(|| key.to_owned()),
        "length": definition.max_length.unwrap_or(DEFAULT_STRING_LENGTH),
        "predefined": definition.predefined,
        "shared": declared.shared,
        "sources": sources,
        "value_type": definition.value_type.vendor_name(),
    })
}
