//! FollowAnalytics customer profiles (`../shared/seeds/followanalytics-customer-profiles-api.txt`):
//! an account API key for reads, per-SOR API keys for attribute value uploads, profiles
//! listed and viewed by customer id (`user_id` or `device_id` identifiers), and values
//! uploaded to a source of record.

mod attributes;
mod error;
mod routes;
mod shape;
mod sources;

pub(crate) use error::error_response;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Deserialize;
use serde_json::{json, Value as Json};

use self::routes::{Handler, ROUTES};
use self::shape::Filters;
use super::config::{FollowAnalyticsConfig, FollowAnalyticsCredentials};
use super::credentials::KeyRing;
use super::{parse_body, query_number, router, ApiError, Request, Response};
use crate::engine::{Command, Engine, EngineError, UpsertProfile};
use crate::identity::Identifier;
use crate::model::{Profile, SourceId, Value};
use crate::schema::{
    coerce, validate_key, AttributeChange, AttributeDefinition, AttributeType, DeclaredAttribute,
    Schema, SchemaError, SourceKind,
};

/// The customer id types FollowAnalytics knows, in the order a profile shows them.
const CUSTOMER_ID_TYPES: [&str; 2] = ["user_id", "device_id"];
/// The default and largest page of `GET /api/customer_profiles`.
const MAX_PER_PAGE: usize = 2_000;
/// The most declared keys one page of `GET /api/customer_profiles` lists over its profiles:
/// every profile lists every declared key (`null` where unset), so with many declared keys a
/// page holds fewer profiles than `num_per_page` (which the spec calls the maximal number)
/// and `total_pages` counts pages of that size.
const MAX_DECLARED_PER_PAGE: usize = 200_000;

pub(crate) struct FollowAnalytics {
    account_keys: KeyRing,
    /// Configured SOR keys. Keys issued by `POST /api/system_of_records` are not here: their
    /// digests are engine state (`AddSourceKey`), logged and kept with their SOR.
    sources: Vec<(String, KeyRing)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Upload {
    sor: String,
    api_key: String,
    customer_attribute_values: OneOrMany,
    #[serde(default)]
    customer_id_type: Option<String>,
}

/// Read as serde's untagged enums are, without their buffered form (which would compile the
/// upload's reader once more).
enum OneOrMany {
    Many(Vec<AttributeValueUpload>),
    One(AttributeValueUpload),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use crate::formats::{Doc, Received, Tree};
        let tree = Tree::deserialize(deserializer)?;
        Vec::deserialize(Doc::<Received>::new(tree.clone()))
            .map(Self::Many)
            .or_else(|_| {
                AttributeValueUpload::deserialize(Doc::<Received>::new(tree)).map(Self::One)
            })
            .map_err(|_| {
                serde::de::Error::custom(
                    "data did not match any variant of untagged enum OneOrMany",
                )
            })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttributeValueUpload {
    customer_id: String,
    attribute_key: String,
    attribute_value: Json,
    #[serde(default)]
    action_type: Option<String>,
    #[serde(default)]
    customer_id_type: Option<String>,
}

impl FollowAnalytics {
    pub(crate) fn new(config: &FollowAnalyticsConfig) -> Self {
        let mut followanalytics = Self {
            account_keys: KeyRing::default(),
            sources: Vec::new(),
        };
        followanalytics.set_credentials(&config.credentials());
        followanalytics
    }

    /// Replaces the account and SOR keys.
    pub(crate) fn set_credentials(&mut self, credentials: &FollowAnalyticsCredentials) {
        self.account_keys = KeyRing::new(&credentials.api_keys);
        self.sources = credentials
            .sources
            .iter()
            .map(|source| (source.identifier.clone(), KeyRing::new(&source.api_keys)))
            .collect();
    }

    pub(crate) fn handle(
        &mut self,
        engine: &mut Engine,
        request: &Request,
        segments: &[&str],
    ) -> Response {
        self.route(engine, request, segments)
            .unwrap_or_else(|error| error_response(&error))
    }

    fn route(
        &mut self,
        engine: &mut Engine,
        request: &Request,
        segments: &[&str],
    ) -> Result<Response, ApiError> {
        let matched = router::find(ROUTES, &request.method, segments, &request.path)?;
        match matched.handler {
            Handler::ListProfiles => {
                self.authenticate_account(request)?;
                list_profiles(engine, request)
            }
            Handler::ViewProfile => {
                self.authenticate_account(request)?;
                let customer_id = matched.params.first().copied().unwrap_or_default();
                view_profile(engine, request, customer_id)
            }
            Handler::UploadValues => self.upload(engine, request),
            Handler::ListSors
            | Handler::ViewSor
            | Handler::CreateSor
            | Handler::UpdateSor
            | Handler::DeleteSor
            | Handler::DisableSor
            | Handler::EnableSor => {
                self.authenticate_account(request)?;
                let sor = matched.params.first().copied().unwrap_or_default();
                self.sor_route(engine, request, matched.handler, sor)
            }
            Handler::ViewAttribute
            | Handler::CreateAttribute
            | Handler::UpdateAttribute
            | Handler::DeleteAttribute
            | Handler::ShareAttribute
            | Handler::UnshareAttribute
            | Handler::DisableAttribute
            | Handler::EnableAttribute => {
                self.authenticate_account(request)?;
                let identifier = matched.params.first().copied().unwrap_or_default();
                attribute_route(engine, request, matched.handler, identifier)
            }
        }
    }

    /// The Systems of Records routes, each one engine command (or none, for reads).
    fn sor_route(
        &mut self,
        engine: &mut Engine,
        request: &Request,
        handler: Handler,
        sor: &str,
    ) -> Result<Response, ApiError> {
        match handler {
            Handler::ListSors => sources::list(engine, request),
            Handler::ViewSor => sources::view(engine, sor),
            Handler::CreateSor => sources::create(engine, &parse_body(request)?),
            Handler::UpdateSor => {
                let body: sources::NameBody = parse_body(request)?;
                sources::update(engine, sor, &body)
            }
            Handler::DeleteSor => sources::delete(engine, sor),
            Handler::DisableSor => sources::set_disabled(engine, sor, true),
            Handler::EnableSor => sources::set_disabled(engine, sor, false),
            Handler::ListProfiles
            | Handler::ViewProfile
            | Handler::UploadValues
            | Handler::ViewAttribute
            | Handler::CreateAttribute
            | Handler::UpdateAttribute
            | Handler::DeleteAttribute
            | Handler::ShareAttribute
            | Handler::UnshareAttribute
            | Handler::DisableAttribute
            | Handler::EnableAttribute => Err(ApiError::MethodNotAllowed),
        }
    }

    /// The account key, as `Authorization: Token token=KEY`, `Token KEY` or `Bearer KEY`,
    /// as an `x-api-key` header, or as the `api_key` query parameter.
    fn authenticate_account(&self, request: &Request) -> Result<(), ApiError> {
        let from_header = request.header("authorization").map(|value| {
            let value = value.trim();
            let token = value
                .strip_prefix("Token ")
                .or_else(|| value.strip_prefix("Bearer "))
                .unwrap_or(value)
                .trim();
            token
                .strip_prefix("token=")
                .unwrap_or(token)
                .trim_matches('"')
        });
        let key = from_header
            .or_else(|| request.header("x-api-key"))
            .or_else(|| request.query("api_key"))
            .ok_or(ApiError::Unauthenticated)?;
        if self.account_keys.accepts(key) {
            Ok(())
        } else {
            Err(ApiError::Unauthenticated)
        }
    }

    /// `POST /api/attribute_values`: the body's `api_key` must be one of the SOR's keys or
    /// an account key. Every value is checked before any is written.
    fn upload(&self, engine: &mut Engine, request: &Request) -> Result<Response, ApiError> {
        let upload: Upload = parse_body(request)?;
        let sor_key = self
            .sources
            .iter()
            .filter(|(identifier, _)| identifier == &upload.sor)
            .fold(false, |found, (_, keys)| {
                keys.accepts(&upload.api_key) | found
            });
        let issued_key = engine
            .schema()
            .source(&SourceId::new(&upload.sor))
            .into_iter()
            .flat_map(|sor| sor.keys.iter())
            .fold(false, |found, digest| {
                digest.matches(&upload.api_key) | found
            });
        if !(sor_key | issued_key | self.account_keys.accepts(&upload.api_key)) {
            return Err(ApiError::Unauthenticated);
        }
        let values = match upload.customer_attribute_values {
            OneOrMany::Many(values) => values,
            OneOrMany::One(value) => vec![value],
        };
        if values.is_empty() {
            return Err(ApiError::InvalidRequest(
                "customer_attribute_values is empty".to_owned(),
            ));
        }
        let source = shape::source_of(&upload.sor);
        if engine
            .schema()
            .source(&source)
            .is_some_and(|sor| sor.disabled)
        {
            return Err(
                EngineError::from(SchemaError::SourceDisabled { source_id: source }).into(),
            );
        }
        // In order of first appearance, each found again through its table: an upload of
        // thousands of keys or customers stays linear.
        let mut commands: Vec<UpsertProfile> = Vec::new();
        let mut command_of: FxHashMap<Identifier, usize> = FxHashMap::default();
        let mut declarations = Declarations::default();
        let mut unknown: Vec<&str> = Vec::new();
        let mut unknown_seen: FxHashSet<&str> = FxHashSet::default();
        let mut unknown_count = 0_usize;
        for value in &values {
            let kind = value
                .customer_id_type
                .as_deref()
                .or(upload.customer_id_type.as_deref())
                .unwrap_or("user_id");
            customer_id_type(kind)?;
            validate_key(&value.attribute_key).map_err(EngineError::from)?;
            let change = match &value.action_type {
                Some(action) => AttributeChange::set_action(
                    &value.attribute_key,
                    action,
                    &value.attribute_value,
                ),
                None => AttributeChange::from_json(&value.attribute_key, &value.attribute_value),
            }
            .map_err(EngineError::from)?;
            if !accepts_key(engine.schema(), &source, &value.attribute_key) {
                unknown_count += 1;
                if unknown_seen.insert(&value.attribute_key) {
                    unknown.push(&value.attribute_key);
                }
                continue;
            }
            if auto_declares(engine.schema(), &source, &value.attribute_key) {
                let shared_type = shared_declaration(engine.schema(), &value.attribute_key)
                    .map(|global| global.definition.value_type);
                auto_declare(
                    &mut declarations,
                    &value.attribute_key,
                    shared_type,
                    &change,
                )?;
            }
            let identifier = engine
                .identity_config()
                .normalize(kind, &value.customer_id)
                .map_err(EngineError::from)?;
            let position = *command_of
                .entry(identifier)
                .or_insert_with_key(|identifier| {
                    commands.push(UpsertProfile::new(vec![identifier.clone()], source.clone()));
                    commands.len() - 1
                });
            let command = commands
                .get_mut(position)
                .ok_or_else(|| ApiError::InvalidRequest("no values".to_owned()))?;
            command
                .attributes
                .push((value.attribute_key.clone(), change));
        }
        // Each customer's values are one command; all are checked before anything is run, so
        // a value the state refuses (a type, a limit) leaves the whole upload unwritten. The
        // declarations and writes then run as one engine batch, all or nothing, so even a
        // refusal only the upload itself causes (two customers' identifiers meeting) keeps
        // nothing of it.
        let commands: Vec<Command> = commands.into_iter().map(Command::UpsertProfile).collect();
        for command in &commands {
            engine.check(command)?;
        }
        let batch: Vec<Command> = declarations
            .list
            .into_iter()
            .map(|definition| Command::DeclareAttribute {
                source: source.clone(),
                definition,
            })
            .chain(commands)
            .collect();
        engine
            .execute_batch(batch)
            .map_err(|refused| ApiError::Engine(refused.error))?;
        let uploaded = values.len() - unknown_count;
        Ok(Response::json(
            200,
            &json!({
                "success": true,
                "result": {"uploaded": uploaded, "unknown": {"count": unknown_count, "keys": unknown}},
            }),
        ))
    }
}

/// The customer attribute routes, each one engine declaration command (or none, to view).
fn attribute_route(
    engine: &mut Engine,
    request: &Request,
    handler: Handler,
    identifier: &str,
) -> Result<Response, ApiError> {
    use attributes::Action;
    let action = match handler {
        Handler::ViewAttribute => return attributes::view(engine, identifier),
        Handler::CreateAttribute => return attributes::create(engine, &parse_body(request)?),
        Handler::UpdateAttribute => {
            return attributes::update(engine, identifier, &parse_body(request)?)
        }
        Handler::DeleteAttribute => Action::Delete,
        Handler::ShareAttribute => Action::Share,
        Handler::UnshareAttribute => Action::Unshare,
        Handler::DisableAttribute => Action::Disable(true),
        Handler::EnableAttribute => Action::Disable(false),
        Handler::ListProfiles
        | Handler::ViewProfile
        | Handler::UploadValues
        | Handler::ListSors
        | Handler::ViewSor
        | Handler::CreateSor
        | Handler::UpdateSor
        | Handler::DeleteSor
        | Handler::DisableSor
        | Handler::EnableSor => return Err(ApiError::MethodNotAllowed),
    };
    attributes::act(engine, identifier, action)
}

/// Whether a value for `key` from `source` is set (the others are reported as `unknown`).
/// A key disabled on the SOR is refused. A shared key is taken from any SOR (the spec: "any
/// SOR attempting to send data to that key will instead send the data to the Global SOR")
/// unless the global attribute is disabled. Otherwise: on a SOR the schema declares as
/// custom or global, only keys declared there; on an app SOR, undeclared keys too
/// (auto-declared, [`auto_declares`]); on a SOR only configured, never declared (and on
/// `global`, the engine's default source), undeclared keys are written typed by inference,
/// as Arrigoo and ChartMogul write theirs.
fn accepts_key(schema: &Schema, source: &SourceId, key: &str) -> bool {
    let local = schema.attribute(source, key);
    if local.is_some_and(|declared| declared.disabled) {
        return false;
    }
    if let Some(shared) = shared_declaration(schema, key) {
        return !shared.disabled;
    }
    match (schema.source(source), local) {
        (_, Some(_)) | (None, None) => true,
        (Some(declared), None) => match declared.definition.kind {
            SourceKind::App => true,
            SourceKind::Custom | SourceKind::Global => false,
        },
    }
}

/// The global SOR's declaration of `key` when the key is shared.
fn shared_declaration<'a>(schema: &'a Schema, key: &str) -> Option<&'a DeclaredAttribute> {
    schema
        .attribute(schema.global_source(), key)
        .filter(|declared| declared.shared)
}

/// Whether a value for `key` sent by `source` declares it there first: the source is a
/// declared SOR without a declaration of the key, and either an app SOR (SDK-based,
/// "auto-declaration" in the spec) or the key is shared, so that unsharing hands the values
/// back to every SOR that sent some ("put back onto the SORs that sent data to it").
fn auto_declares(schema: &Schema, source: &SourceId, key: &str) -> bool {
    let Some(declared) = schema.source(source) else {
        return false;
    };
    schema.attribute(source, key).is_none()
        && (declared.definition.kind == SourceKind::App
            || shared_declaration(schema, key).is_some())
}

/// Adds to `declarations` the declaration an auto-declared key gets from its first value
/// (a shared key takes the global type, `shared_type`; otherwise `ADD`/`REMOVE` make a Set, other values a
/// Boolean, a Number, a Date, a DateTime or a String by their shape, as the spec lists
/// them), and checks every value of the key against it, so a value that does not fit is
/// refused (400) before anything is declared or written. Removals declare nothing.
fn auto_declare(
    declarations: &mut Declarations,
    key: &str,
    shared_type: Option<AttributeType>,
    change: &AttributeChange,
) -> Result<(), ApiError> {
    let position = match declarations.by_key.get(key) {
        Some(position) => *position,
        None => {
            let Some(inferred) = auto_declared_type(key, change)? else {
                return Ok(());
            };
            let value_type = shared_type.unwrap_or(inferred);
            declarations
                .list
                .push(AttributeDefinition::new(key, value_type));
            declarations
                .by_key
                .insert(key.to_owned(), declarations.list.len() - 1);
            declarations.list.len() - 1
        }
    };
    let definition = declarations.list.get(position);
    change
        .clone()
        .resulting_value(key, definition, None)
        .map_err(EngineError::from)?;
    Ok(())
}

/// The declarations an upload makes, in the order their keys first appear.
#[derive(Default)]
struct Declarations {
    list: Vec<AttributeDefinition>,
    by_key: FxHashMap<String, usize>,
}

/// The type an app SOR declares `key` with on its first value; `None` for a removal.
fn auto_declared_type(
    key: &str,
    change: &AttributeChange,
) -> Result<Option<AttributeType>, ApiError> {
    let value = match change {
        AttributeChange::AddToSet(_) | AttributeChange::RemoveFromSet(_) => {
            return Ok(Some(AttributeType::Set))
        }
        AttributeChange::Remove | AttributeChange::ClearSet => return Ok(None),
        AttributeChange::Set(value) => value,
    };
    let fits =
        |value_type| coerce(&AttributeDefinition::new(key, value_type), value.clone()).is_ok();
    let value_type = match value {
        Value::Boolean(_) => AttributeType::Boolean,
        Value::Integer(_) | Value::Number(_) => AttributeType::Number,
        Value::String(_) if fits(AttributeType::Date) => AttributeType::Date,
        Value::String(_) if fits(AttributeType::DateTime) => AttributeType::DateTime,
        Value::String(_) => AttributeType::String,
        Value::Date(_) | Value::DateTime(_) | Value::Set(_) | Value::Object(_) | Value::List(_) => {
            return Err(EngineError::from(SchemaError::TypeMismatch {
                key: key.to_owned(),
                reason: "a value is text, a number, a boolean, a date or null".to_owned(),
            })
            .into())
        }
    };
    Ok(Some(value_type))
}

fn customer_id_type(kind: &str) -> Result<&str, ApiError> {
    CUSTOMER_ID_TYPES
        .iter()
        .find(|known| **known == kind)
        .copied()
        .ok_or_else(|| {
            ApiError::InvalidRequest(format!("Param customer_id_type `{kind}` is not valid"))
        })
}

/// A comma-separated list parameter, without empty items.
fn list_param(request: &Request, name: &str) -> Option<Vec<String>> {
    request.query(name).map(|text| {
        text.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect()
    })
}

/// The customer id a profile is listed under: its first identifier of the requested type,
/// or of the first known type it has.
fn customer_identifier<'a>(profile: &'a Profile, kind: Option<&str>) -> Option<&'a Identifier> {
    let kinds: Vec<&str> = kind.map_or_else(|| CUSTOMER_ID_TYPES.to_vec(), |kind| vec![kind]);
    kinds.iter().find_map(|kind| {
        profile
            .identities
            .iter()
            .find(|identifier| identifier.kind() == *kind)
    })
}

fn filters(request: &Request) -> Filters {
    Filters {
        sors: list_param(request, "sor_identifiers"),
        keys: list_param(request, "attribute_keys"),
    }
}

/// `GET /api/customer_profiles`: profiles with a customer id, a page at a time.
fn list_profiles(engine: &Engine, request: &Request) -> Result<Response, ApiError> {
    let kind = request
        .query("customer_id_type")
        .map(customer_id_type)
        .transpose()?;
    let page = query_number(request, "page", 1, 1, usize::MAX)?;
    let per_page =
        query_number(request, "num_per_page", MAX_PER_PAGE, 1, usize::MAX)?.min(MAX_PER_PAGE);
    let listed_ids = list_param(request, "customer_ids");
    let wanted_ids: Option<FxHashSet<&str>> = listed_ids
        .as_ref()
        .map(|ids| ids.iter().map(String::as_str).collect());
    let filters = filters(request);
    let declared = shape::declared_per_profile(engine.schema(), &filters);
    let per_page = per_page.min((MAX_DECLARED_PER_PAGE / declared.max(1)).max(1));
    let matching: Vec<(&Profile, &Identifier)> = engine
        .profiles()
        .filter_map(|profile| customer_identifier(profile, kind).map(|id| (profile, id)))
        .filter(|(_, identifier)| {
            wanted_ids
                .as_ref()
                .is_none_or(|ids| ids.contains(identifier.value()))
        })
        .collect();
    let total = matching.len();
    let profiles: Vec<Json> = matching
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|(profile, identifier)| shape::profile(engine.schema(), profile, identifier, &filters))
        .collect();
    Ok(Response::json(
        200,
        &json!({
            "success": true,
            "result": {
                "total_pages": total.div_ceil(per_page),
                "total_profiles": total,
                "profiles": profiles,
            },
        }),
    ))
}

/// `GET /api/customer_profiles/{customer_id}`: the profiles that customer id names.
fn view_profile(
    engine: &Engine,
    request: &Request,
    customer_id: &str,
) -> Result<Response, ApiError> {
    let kinds: Vec<&str> = match request.query("customer_id_type") {
        Some(kind) => vec![customer_id_type(kind)?],
        None => CUSTOMER_ID_TYPES.to_vec(),
    };
    let filters = filters(request);
    let mut result = Vec::new();
    for kind in kinds {
        let identifier = engine
            .identity_config()
            .normalize(kind, customer_id)
            .map_err(EngineError::from)?;
        if let Some(profile) = engine.resolve(&identifier) {
            result.push(shape::profile(
                engine.schema(),
                profile,
                &identifier,
                &filters,
            ));
        }
    }
    if result.is_empty() {
        return Err(ApiError::NotFound {
            resource: "customer profile",
            id: customer_id.to_owned(),
        });
    }
    Ok(Response::json(
        200,
        &json!({"success": true, "result": result}),
    ))
}
