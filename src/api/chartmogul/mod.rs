//! ChartMogul Enrichment (`../shared/seeds/chartmogul-enrichment-api.md`): HTTP Basic
//! authentication, customers listed (page/per_page and the cursor form of the official
//! clients), fetched and searched by email, their attributes, tags added and removed, and
//! custom attributes declared, set, changed and removed. Customers are the engine's profiles;
//! tags are their manual tags; custom attributes are their attributes, written to and
//! declared on the `default` source of record.

mod error;
mod routes;
mod shape;

pub(crate) use error::error_response;

use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use self::routes::{Handler, ROUTES};
use super::config::{ChartMogulConfig, ChartMogulCredentials};
use super::credentials::{basic_credentials, KeyRing, SecretDigest};
use super::{base64, parse_body, query_number, router, ApiError, Request, Response};
use crate::engine::{ChangeTags, Command, Engine, EngineError, WriteAttributes};
use crate::model::{AttributeKey, Profile, ProfileId, SourceId};
use crate::schema::{validate_word_key, AttributeChange, AttributeDefinition, AttributeType};

/// The largest and default page size.
const MAX_PER_PAGE: usize = 200;

/// The custom attribute types ChartMogul offers: `String`, `Integer`, `Timestamp` (a
/// date-time) and `Boolean`.
const CUSTOM_TYPES: [AttributeType; 4] = [
    AttributeType::String,
    AttributeType::Integer,
    AttributeType::DateTime,
    AttributeType::Boolean,
];

pub(crate) struct ChartMogul {
    /// `token:secret` pairs, as digests.
    accounts: Vec<(SecretDigest, SecretDigest)>,
    /// Keys sent as the Basic user with an empty password.
    api_keys: KeyRing,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Tags {
    tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagsByEmail {
    email: String,
    tags: Vec<String>,
}

/// Attribute writes of one request, in order.
type Writes = Vec<(AttributeKey, AttributeChange)>;

/// One custom attribute to add: its type, key and value, and optionally the `source` label
/// ChartMogul shows beside it (accepted, not kept).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomEntry {
    #[serde(rename = "type")]
    type_name: String,
    key: AttributeKey,
    value: Json,
    #[serde(default, rename = "source")]
    _source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddCustom {
    custom: Vec<CustomEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddCustomByEmail {
    email: String,
    custom: Vec<CustomEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateCustom {
    custom: Map<String, Json>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoveCustom {
    custom: Vec<AttributeKey>,
}

/// Which pagination form a request uses: the page form (`page`, `per_page`) of the spec, the
/// cursor form (`cursor`, `per_page`) of the current official clients, or neither (first
/// page; both forms answered so either kind of client can go on).
enum Form {
    Page,
    Cursor,
    Both,
}

impl ChartMogul {
    pub(crate) fn new(config: &ChartMogulConfig) -> Self {
        let mut chartmogul = Self {
            accounts: Vec::new(),
            api_keys: KeyRing::default(),
        };
        chartmogul.set_credentials(&config.credentials());
        chartmogul
    }

    /// Replaces the accounts and API keys.
    pub(crate) fn set_credentials(&mut self, credentials: &ChartMogulCredentials) {
        self.accounts = credentials
            .accounts
            .iter()
            .map(|account| {
                (
                    SecretDigest::of(&account.token),
                    SecretDigest::of(&account.secret),
                )
            })
            .collect();
        let empty_secret = credentials
            .accounts
            .iter()
            .filter(|account| account.secret.is_empty())
            .map(|account| &account.token);
        self.api_keys = KeyRing::new(credentials.api_keys.iter().chain(empty_secret));
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
        &self,
        engine: &mut Engine,
        request: &Request,
        segments: &[&str],
    ) -> Result<Response, ApiError> {
        let matched = router::find(ROUTES, &request.method, segments, &request.path)?;
        self.authenticate(request)?;
        let customer_id = matched.params.first().copied().unwrap_or_default();
        match matched.handler {
            Handler::List => list(engine, request),
            Handler::Search => search(engine, request),
            Handler::AddTagsByEmail => add_tags_by_email(engine, request),
            Handler::Get => {
                let profile = find_customer(engine, customer_id)?;
                Ok(Response::json(200, &shape::customer(profile)))
            }
            Handler::Attributes => {
                let profile = find_customer(engine, customer_id)?;
                Ok(Response::json(
                    200,
                    &json!({"attributes": shape::attributes(profile)}),
                ))
            }
            Handler::AddTags => {
                let body: Tags = parse_body(request)?;
                change_tags(engine, customer_id, body.tags, Vec::new())
            }
            Handler::RemoveTags => {
                let body: Tags = parse_body(request)?;
                change_tags(engine, customer_id, Vec::new(), body.tags)
            }
            Handler::AddCustomByEmail => add_custom_by_email(engine, request),
            Handler::AddCustom => {
                let body: AddCustom = parse_body(request)?;
                let (declare, attributes) = declared_writes(body.custom)?;
                write_custom(engine, customer_id, declare, attributes)
            }
            Handler::UpdateCustom => {
                let body: UpdateCustom = parse_body(request)?;
                let attributes = body
                    .custom
                    .into_iter()
                    .map(|(key, value)| typed_change(key, &value))
                    .collect::<Result<_, _>>()?;
                write_custom(engine, customer_id, Vec::new(), attributes)
            }
            Handler::RemoveCustom => {
                let body: RemoveCustom = parse_body(request)?;
                let attributes = body
                    .custom
                    .into_iter()
                    .map(|key| custom_key(&key).map(|()| (key, AttributeChange::Remove)))
                    .collect::<Result<_, _>>()?;
                write_custom(engine, customer_id, Vec::new(), attributes)
            }
        }
    }

    /// HTTP Basic: an account's `token:secret`, or an API key as the user with an empty
    /// password. Every stored credential is compared, in constant time each.
    fn authenticate(&self, request: &Request) -> Result<(), ApiError> {
        let (user, password) = request
            .header("authorization")
            .and_then(basic_credentials)
            .ok_or(ApiError::Unauthenticated)?;
        let account = self.accounts.iter().fold(false, |found, (token, secret)| {
            (token.matches(&user) & secret.matches(&password) & !password.is_empty()) | found
        });
        let api_key = password.is_empty() & self.api_keys.accepts(&user);
        if account | api_key {
            Ok(())
        } else {
            Err(ApiError::Unauthenticated)
        }
    }
}

/// The profile a customer id names: `cus_<uuid>`, a bare uuid, or the numeric `id`.
fn find_customer<'a>(engine: &'a Engine, customer_id: &str) -> Result<&'a Profile, ApiError> {
    let by_uuid = shape::parse_customer_uuid(customer_id).and_then(|id| engine.profile(id));
    let found = by_uuid.or_else(|| {
        let number = customer_id.parse::<u64>().ok()?;
        engine
            .profiles()
            .find(|profile| shape::numeric_id(profile.id) == number)
    });
    found.ok_or_else(|| ApiError::NotFound {
        resource: "customer",
        id: customer_id.to_owned(),
    })
}

/// The profile an email belongs to, as the identity rules normalize it.
fn find_by_email<'a>(engine: &'a Engine, email: &str) -> Result<&'a Profile, ApiError> {
    let identifier = engine
        .identity_config()
        .normalize("email", email)
        .map_err(EngineError::from)?;
    engine
        .resolve(&identifier)
        .ok_or_else(|| ApiError::NotFound {
            resource: "customer",
            id: email.to_owned(),
        })
}

/// `GET /customers`: customers in creation (`customer-since`) order, a page at a time.
fn list(engine: &Engine, request: &Request) -> Result<Response, ApiError> {
    let per_page = query_number(request, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)?;
    let (form, start) = match (request.query("cursor"), request.query("page")) {
        (Some(cursor), _) if !cursor.is_empty() => {
            let start = base64::position(cursor).ok_or_else(|| {
                ApiError::InvalidRequest(format!("cursor `{cursor}` is not valid"))
            })?;
            (Form::Cursor, start)
        }
        (_, Some(_)) => {
            let page = query_number(request, "page", 1, 1, usize::MAX)?;
            (Form::Page, (page - 1).saturating_mul(per_page))
        }
        (_, None) => (Form::Both, 0),
    };
    let entries: Vec<Json> = engine
        .profiles()
        .skip(start)
        .take(per_page)
        .map(shape::customer)
        .collect();
    let end = start.saturating_add(per_page);
    let has_more = end < engine.profile_count();
    let (page_keys, cursor_keys) = match form {
        Form::Page => (true, false),
        Form::Cursor => (false, true),
        Form::Both => (true, true),
    };
    let mut body = Map::new();
    body.insert("entries".into(), Json::Array(entries));
    body.insert("has_more".into(), Json::Bool(has_more));
    if page_keys {
        body.insert("per_page".into(), Json::from(per_page));
        body.insert("page".into(), Json::from(start / per_page + 1));
    }
    if cursor_keys {
        let next = has_more.then(|| base64::cursor(end));
        body.insert("cursor".into(), next.map_or(Json::Null, Json::String));
    }
    Ok(Response::json(200, &Json::Object(body)))
}

/// `GET /customers/search?email=`: the customers with that email (at most one, as emails
/// identify one profile). Pagination keys are added when the request paginates.
fn search(engine: &Engine, request: &Request) -> Result<Response, ApiError> {
    let email = request
        .query("email")
        .filter(|email| !email.trim().is_empty())
        .ok_or_else(|| ApiError::InvalidRequest("email is required".to_owned()))?;
    let profile = find_by_email(engine, email)?;
    let mut body = Map::new();
    body.insert(
        "entries".into(),
        Json::Array(vec![shape::customer(profile)]),
    );
    let paginated = ["page", "per_page", "cursor"]
        .iter()
        .any(|name| request.query(name).is_some());
    if paginated {
        let per_page = query_number(request, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)?;
        body.insert("has_more".into(), Json::Bool(false));
        body.insert("per_page".into(), Json::from(per_page));
        body.insert("page".into(), Json::from(1));
        body.insert("cursor".into(), Json::Null);
    }
    Ok(Response::json(200, &Json::Object(body)))
}

/// `POST` / `DELETE /customers/{id}/attributes/tags`: the customer's tags afterwards.
fn change_tags(
    engine: &mut Engine,
    customer_id: &str,
    add: Vec<String>,
    remove: Vec<String>,
) -> Result<Response, ApiError> {
    let profile = find_customer(engine, customer_id)?.id;
    engine.execute(Command::ChangeTags(ChangeTags {
        profile,
        add,
        remove,
    }))?;
    let profile = find_customer(engine, customer_id)?;
    Ok(Response::json(200, &json!({"tags": shape::tags(profile)})))
}

/// `POST /customers/attributes/tags`: adds tags to the customers with an email.
fn add_tags_by_email(engine: &mut Engine, request: &Request) -> Result<Response, ApiError> {
    let body: TagsByEmail = parse_body(request)?;
    let profile = find_by_email(engine, &body.email)?.id;
    engine.execute(Command::ChangeTags(ChangeTags {
        profile,
        add: body.tags,
        remove: Vec::new(),
    }))?;
    let profile = find_by_email(engine, &body.email)?;
    Ok(Response::json(
        200,
        &json!({
            "entries": [shape::customer_entry(profile)],
            "has_more": false,
            "per_page": MAX_PER_PAGE,
            "page": 1,
        }),
    ))
}

/// The declarations and writes of `POST …/attributes/custom` entries: each entry's type (one of
/// ChartMogul's four) declares its key; the value is typed by the schema when planned.
fn declared_writes(
    entries: Vec<CustomEntry>,
) -> Result<(Vec<AttributeDefinition>, Writes), ApiError> {
    let mut declare = Vec::with_capacity(entries.len());
    let mut attributes = Vec::with_capacity(entries.len());
    for entry in entries {
        let write = typed_change(entry.key, &entry.value)?;
        let value_type = AttributeType::named_for(&write.0, &entry.type_name, &CUSTOM_TYPES)
            .map_err(EngineError::from)?;
        declare.push(AttributeDefinition::new(write.0.clone(), value_type));
        attributes.push(write);
    }
    Ok((declare, attributes))
}

/// One write of a raw value: set (typed by the schema), or removed for `null`.
fn typed_change(
    key: AttributeKey,
    value: &Json,
) -> Result<(AttributeKey, AttributeChange), ApiError> {
    custom_key(&key)?;
    let change = AttributeChange::from_json(&key, value).map_err(EngineError::from)?;
    Ok((key, change))
}

/// ChartMogul's rule for custom attribute keys: "alphanumeric characters and underscores".
fn custom_key(key: &str) -> Result<(), ApiError> {
    validate_word_key(key).map_err(|error| EngineError::from(error).into())
}

/// Declares and writes custom attributes of one profile on the `default` source, as one
/// command.
fn write_attributes(
    engine: &mut Engine,
    profile: ProfileId,
    declare: Vec<AttributeDefinition>,
    attributes: Writes,
) -> Result<(), ApiError> {
    engine.execute(Command::WriteAttributes(WriteAttributes {
        profile,
        source: SourceId::default_source(),
        declare,
        attributes,
    }))?;
    Ok(())
}

/// `POST` / `PUT` / `DELETE /customers/{id}/attributes/custom`: the customer's custom
/// attributes afterwards.
fn write_custom(
    engine: &mut Engine,
    customer_id: &str,
    declare: Vec<AttributeDefinition>,
    attributes: Writes,
) -> Result<Response, ApiError> {
    let profile = find_customer(engine, customer_id)?.id;
    write_attributes(engine, profile, declare, attributes)?;
    let profile = find_customer(engine, customer_id)?;
    Ok(Response::json(
        200,
        &json!({"custom": shape::custom(profile)}),
    ))
}

/// `POST /customers/attributes/custom`: adds custom attributes to the customers with an email.
fn add_custom_by_email(engine: &mut Engine, request: &Request) -> Result<Response, ApiError> {
    let body: AddCustomByEmail = parse_body(request)?;
    let profile = find_by_email(engine, &body.email)?.id;
    let (declare, attributes) = declared_writes(body.custom)?;
    write_attributes(engine, profile, declare, attributes)?;
    let profile = find_by_email(engine, &body.email)?;
    Ok(Response::json(
        200,
        &json!({
            "entries": [shape::customer_entry(profile)],
            "has_more": false,
            "per_page": MAX_PER_PAGE,
            "page": 1,
        }),
    ))
}
