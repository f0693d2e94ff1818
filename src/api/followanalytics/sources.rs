//! FollowAnalytics' Systems of Records (`/api/system_of_records…`): each request is one
//! engine source command; the key issued at creation is recorded as a digest in the schema.

use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::shape;
use crate::api::credentials::random_token;
use crate::api::{ApiError, Request, Response};
use crate::engine::{Command, Engine};
use crate::model::SourceId;
use crate::schema::{DeclaredSource, KeyDigest, SourceDefinition, SourceKind};

/// The body of `POST /api/system_of_records` and `PUT /api/system_of_records/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NameBody {
    name: String,
}

impl NameBody {
    /// The name, refused when blank.
    fn name(&self) -> Result<&str, ApiError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(ApiError::InvalidRequest("Param name is missing".to_owned()));
        }
        Ok(name)
    }
}

/// The SOR type a source kind is shown as.
fn kind_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::App => "app",
        SourceKind::Custom => "custom",
        SourceKind::Global => "global",
    }
}

/// The declared source a SOR identifier names, or 404.
fn declared<'a>(engine: &'a Engine, sor: &str) -> Result<&'a DeclaredSource, ApiError> {
    engine
        .schema()
        .source(&SourceId::new(sor))
        .ok_or_else(|| ApiError::NotFound {
            resource: "system of records",
            id: sor.to_owned(),
        })
}

/// One SOR as the spec shows it. `api_keys` holds keys only when they were just issued: the
/// engine keeps digests, never the keys themselves.
pub(super) fn sor(engine: &Engine, source: &DeclaredSource, api_keys: &[String]) -> Json {
    let id = &source.definition.id;
    let attributes: Vec<Json> = engine
        .schema()
        .attributes_of(id)
        .map(|(_, declared)| shape::attribute(engine.schema(), id, declared))
        .collect();
    json!({
        "name": source.definition.name,
        "identifier": id.as_str(),
        "type": kind_name(source.definition.kind),
        "api_keys": api_keys,
        "attributes_count": attributes.len(),
        "disabled": source.disabled,
        "customer_attributes": attributes,
    })
}

/// `GET /api/system_of_records?type=`: every SOR, or those of one type.
pub(super) fn list(engine: &Engine, request: &Request) -> Result<Response, ApiError> {
    let kind = match request.query("type") {
        None => None,
        Some("app") => Some(SourceKind::App),
        Some("custom") => Some(SourceKind::Custom),
        Some("global") => Some(SourceKind::Global),
        Some(other) => {
            return Err(ApiError::InvalidRequest(format!(
                "Param type `{other}` is not valid: use app, custom or global"
            )))
        }
    };
    let result: Vec<Json> = engine
        .schema()
        .sources()
        .filter(|source| kind.is_none_or(|kind| source.definition.kind == kind))
        .map(|source| sor(engine, source, &[]))
        .collect();
    Ok(Response::json(
        200,
        &json!({"success": true, "result": result}),
    ))
}

/// `GET /api/system_of_records/{id}`.
pub(super) fn view(engine: &Engine, sor_id: &str) -> Result<Response, ApiError> {
    let source = declared(engine, sor_id)?;
    Ok(Response::json(
        200,
        &json!({"success": true, "result": sor(engine, source, &[])}),
    ))
}

/// `POST /api/system_of_records`: declares a custom source under a fresh identifier, records
/// the digest of one new API key for it, and returns it with that key. Both commands are
/// persisted together, as every change of one request is.
pub(super) fn create(engine: &mut Engine, body: &NameBody) -> Result<Response, ApiError> {
    let name = body.name()?.to_owned();
    let identifier = format!("SOR_{}", &random_token().replace('-', "")[..16]);
    let key = random_token();
    engine.execute(Command::DeclareSource(SourceDefinition {
        id: SourceId::new(&identifier),
        name,
        kind: SourceKind::Custom,
    }))?;
    engine.execute(Command::AddSourceKey {
        source: SourceId::new(&identifier),
        digest: KeyDigest::of(&key),
    })?;
    let source = declared(engine, &identifier)?;
    let mut result = sor(engine, source, std::slice::from_ref(&key));
    if let Some(object) = result.as_object_mut() {
        object.remove("customer_attributes");
    }
    Ok(Response::json(
        200,
        &json!({"success": true, "result": result}),
    ))
}

/// `PUT /api/system_of_records/{id}`: renames the source.
pub(super) fn update(
    engine: &mut Engine,
    sor_id: &str,
    body: &NameBody,
) -> Result<Response, ApiError> {
    declared(engine, sor_id)?;
    engine.execute(Command::RenameSource {
        source: SourceId::new(sor_id),
        name: body.name()?.to_owned(),
    })?;
    let source = declared(engine, sor_id)?;
    let mut result = sor(engine, source, &[]);
    if let Some(object) = result.as_object_mut() {
        object.remove("customer_attributes");
    }
    Ok(Response::json(
        200,
        &json!({"success": true, "result": result}),
    ))
}

/// `DELETE /api/system_of_records/{id}`.
pub(super) fn delete(engine: &mut Engine, sor_id: &str) -> Result<Response, ApiError> {
    declared(engine, sor_id)?;
    engine.execute(Command::DeleteSource {
        source: SourceId::new(sor_id),
    })?;
    Ok(Response::json(200, &json!({"success": true})))
}

/// `PUT /api/system_of_records/{id}/disable` and `…/enable`.
pub(super) fn set_disabled(
    engine: &mut Engine,
    sor_id: &str,
    disabled: bool,
) -> Result<Response, ApiError> {
    declared(engine, sor_id)?;
    engine.execute(Command::DisableSource {
        source: SourceId::new(sor_id),
        disabled,
    })?;
    Ok(Response::json(200, &json!({"success": true})))
}
