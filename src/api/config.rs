//! The dialects' parts of the configuration.

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
    /// The accounts that may call the API.
    #[serde(default)]
    pub accounts: Vec<ChartMogulAccount>,
}

/// PrimeData's part of the configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrimeDataConfig {
    /// Accepted `x-api-key` values.
    #[serde(default)]
    pub api_keys: Vec<String>,
    /// The identity types profile searches accept.
    #[serde(default)]
    pub identity_types: Vec<String>,
}

/// FollowAnalytics' part of the configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FollowAnalyticsConfig {
    /// Accepted account API keys.
    #[serde(default)]
    pub api_keys: Vec<String>,
}
