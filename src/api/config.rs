//! The dialects' parts of the configuration.

use std::num::NonZeroU32;

use serde::Deserialize;

/// What an Arrigoo API key may do. Roles are ordered: each may do what those below it may.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArrigooRole {
    /// Reads.
    Viewer,
    /// Reads, and edits in the interface.
    Editor,
    /// Reads and writes through the API.
    Admin,
    /// Everything.
    Owner,
}

impl ArrigooRole {
    /// The role's name as a token scope shows it (`api_viewer`).
    pub fn scope(self) -> &'static str {
        match self {
            Self::Viewer => "api_viewer",
            Self::Editor => "api_editor",
            Self::Admin => "api_admin",
            Self::Owner => "api_owner",
        }
    }
}

/// One Arrigoo API key: its name, secret and role.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrigooApiKey {
    /// The key's name, sent as `key`.
    pub key: String,
    /// The secret, sent as `secret`; kept only as a digest once loaded.
    pub secret: String,
    /// What the key may do.
    pub role: ArrigooRole,
}

/// Arrigoo's part of the configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArrigooConfig {
    /// The API keys that may log in.
    #[serde(default)]
    pub api_keys: Vec<ArrigooApiKey>,
    /// How long an access token lives, in seconds (one hour by default).
    #[serde(default = "ArrigooConfig::default_access_ttl")]
    pub access_token_ttl_seconds: i64,
    /// How long a refresh token lives, in seconds (30 days by default).
    #[serde(default = "ArrigooConfig::default_refresh_ttl")]
    pub refresh_token_ttl_seconds: i64,
    /// How many profiles a page of `GET /v1/customer` holds (100 by default).
    #[serde(default = "ArrigooConfig::default_page_size")]
    pub page_size: usize,
    /// A path prefix the dialect is mounted under as well as at its own paths (`/arrigoo`).
    #[serde(default)]
    pub prefix: Option<String>,
}

impl ArrigooConfig {
    fn default_access_ttl() -> i64 {
        3_600
    }

    fn default_refresh_ttl() -> i64 {
        30 * 24 * 3_600
    }

    fn default_page_size() -> usize {
        100
    }
}

impl Default for ArrigooConfig {
    fn default() -> Self {
        Self {
            api_keys: Vec::new(),
            access_token_ttl_seconds: Self::default_access_ttl(),
            refresh_token_ttl_seconds: Self::default_refresh_ttl(),
            page_size: Self::default_page_size(),
            prefix: None,
        }
    }
}

/// One ChartMogul account: the API token and, optionally, its secret (HTTP Basic).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartMogulAccount {
    /// The account token (the Basic user name).
    pub token: String,
    /// The secret (the Basic password); empty when clients send the key alone.
    #[serde(default)]
    pub secret: String,
}

/// ChartMogul's part of the configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChartMogulConfig {
    /// Accounts that authenticate with HTTP Basic `token:secret`.
    #[serde(default)]
    pub accounts: Vec<ChartMogulAccount>,
    /// API keys that authenticate as the Basic user with an empty password, as ChartMogul's
    /// official clients send them.
    #[serde(default)]
    pub api_keys: Vec<String>,
    /// A path prefix the dialect is mounted under as well as at its own paths (`/cm`).
    #[serde(default)]
    pub prefix: Option<String>,
}

/// A per-key request budget: at most `requests` in each window of `per_seconds` seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimit {
    /// Requests allowed per window; at least 1.
    pub requests: NonZeroU32,
    /// The window's length in seconds; at least 1.
    pub per_seconds: NonZeroU32,
}

/// PrimeData's part of the configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrimeDataConfig {
    /// Accepted `x-api-key` values.
    #[serde(default)]
    pub api_keys: Vec<String>,
    /// The identity types profile searches accept; when empty, the identifier types the
    /// identity configuration declares.
    #[serde(default)]
    pub identity_types: Vec<String>,
    /// The per-key rate limit; none when absent.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// A path prefix the dialect is mounted under as well as at its own paths.
    #[serde(default)]
    pub prefix: Option<String>,
}

/// A FollowAnalytics System of Record's upload credentials.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FollowAnalyticsSource {
    /// The SOR identifier (`SOR_XXXX`), sent as `sor` in uploads.
    pub identifier: String,
    /// The API keys that may upload values to this SOR, sent as `api_key`.
    #[serde(default)]
    pub api_keys: Vec<String>,
}

/// FollowAnalytics' part of the configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FollowAnalyticsConfig {
    /// Account API keys: they authorize every call, and uploads to any SOR.
    #[serde(default)]
    pub api_keys: Vec<String>,
    /// Per-SOR API keys for attribute value uploads.
    #[serde(default)]
    pub sources: Vec<FollowAnalyticsSource>,
    /// A path prefix the dialect is mounted under as well as at its own paths.
    #[serde(default)]
    pub prefix: Option<String>,
}

/// The engine's own REST surface (`/cdp/v1/…`). With no API keys it is open (any caller may
/// read and write); once keys are configured every request needs `Authorization: Bearer <key>`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CdpConfig {
    /// Accepted bearer keys; none leaves `/cdp/v1` open.
    #[serde(default)]
    pub api_keys: Vec<String>,
}

impl CdpConfig {
    /// The credential part of the section.
    pub fn credentials(&self) -> KeyList {
        KeyList {
            api_keys: self.api_keys.clone(),
        }
    }
}

/// New credentials for one or more dialects, given at run time to
/// [`Api::set_credentials`](super::Api::set_credentials). Each section present replaces
/// that dialect's credentials whole (tokens issued to removed or changed keys stop working);
/// sections absent are left as they are. The shape is the configuration's, limited to
/// credentials: `{"chartmogul": {"accounts": [{"token": "t", "secret": "s"}]}}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Credentials {
    /// Arrigoo API keys.
    #[serde(default)]
    pub arrigoo: Option<ArrigooCredentials>,
    /// ChartMogul accounts and API keys.
    #[serde(default)]
    pub chartmogul: Option<ChartMogulCredentials>,
    /// PrimeData API keys.
    #[serde(default)]
    pub primedata: Option<KeyList>,
    /// FollowAnalytics account and SOR keys.
    #[serde(default)]
    pub followanalytics: Option<FollowAnalyticsCredentials>,
    /// Bearer keys of the engine's own `/cdp/v1` surface; an empty list opens it.
    #[serde(default)]
    pub cdp: Option<KeyList>,
}

/// Arrigoo's credentials.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArrigooCredentials {
    /// The API keys that may log in.
    #[serde(default)]
    pub api_keys: Vec<ArrigooApiKey>,
}

/// ChartMogul's credentials.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChartMogulCredentials {
    /// `token:secret` accounts.
    #[serde(default)]
    pub accounts: Vec<ChartMogulAccount>,
    /// API keys sent as the Basic user with an empty password.
    #[serde(default)]
    pub api_keys: Vec<String>,
}

/// A plain list of API keys.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyList {
    /// The keys.
    #[serde(default)]
    pub api_keys: Vec<String>,
}

/// FollowAnalytics' credentials.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FollowAnalyticsCredentials {
    /// Account API keys.
    #[serde(default)]
    pub api_keys: Vec<String>,
    /// Per-SOR upload keys.
    #[serde(default)]
    pub sources: Vec<FollowAnalyticsSource>,
}

impl Credentials {
    /// Reads credentials from JSON; unknown keys are refused.
    pub fn from_json(text: &str) -> Result<Self, crate::config::ConfigError> {
        crate::formats::from_json_str(text)
            .map_err(|error| crate::config::ConfigError::Invalid(error.to_string()))
    }
}

impl ArrigooConfig {
    /// The credential part of the section.
    pub fn credentials(&self) -> ArrigooCredentials {
        ArrigooCredentials {
            api_keys: self.api_keys.clone(),
        }
    }
}

impl ChartMogulConfig {
    /// The credential part of the section.
    pub fn credentials(&self) -> ChartMogulCredentials {
        ChartMogulCredentials {
            accounts: self.accounts.clone(),
            api_keys: self.api_keys.clone(),
        }
    }
}

impl PrimeDataConfig {
    /// The credential part of the section.
    pub fn credentials(&self) -> KeyList {
        KeyList {
            api_keys: self.api_keys.clone(),
        }
    }
}

impl FollowAnalyticsConfig {
    /// The credential part of the section.
    pub fn credentials(&self) -> FollowAnalyticsCredentials {
        FollowAnalyticsCredentials {
            api_keys: self.api_keys.clone(),
            sources: self.sources.clone(),
        }
    }
}
