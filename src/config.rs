//! The `config` object that `Cdp.open` takes and `serve --config FILE` reads.

use serde::Deserialize;
use thiserror::Error;

use crate::api::{
    ArrigooConfig, CdpConfig, ChartMogulConfig, FollowAnalyticsConfig, PrimeDataConfig,
};
use crate::identity::IdentityConfig;
use crate::schema::SchemaConfig;

/// Everything an engine is configured with; every part is optional.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// Identifier types and the conflict policy.
    #[serde(default)]
    pub identity: IdentityConfig,
    /// Sources of record and typed attributes declared from the start, and the tag limit.
    #[serde(default)]
    pub schema: SchemaConfig,
    /// Arrigoo API keys and token lifetimes.
    #[serde(default)]
    pub arrigoo: ArrigooConfig,
    /// ChartMogul accounts.
    #[serde(default)]
    pub chartmogul: ChartMogulConfig,
    /// PrimeData API keys.
    #[serde(default)]
    pub primedata: PrimeDataConfig,
    /// FollowAnalytics API keys.
    #[serde(default)]
    pub followanalytics: FollowAnalyticsConfig,
    /// The bearer keys of the engine's own `/cdp/v1` surface (open when there are none).
    #[serde(default)]
    pub cdp: CdpConfig,
    /// The largest request body accepted, in bytes (1 MB by default).
    #[serde(default = "Config::default_max_body_bytes")]
    pub max_body_bytes: usize,
}

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The configuration is not JSON of the documented shape.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl ConfigError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "config.invalid",
        }
    }
}

/// What an empty configuration (`{}`) reads as.
impl Default for Config {
    fn default() -> Self {
        Self {
            identity: IdentityConfig::default(),
            schema: SchemaConfig::default(),
            arrigoo: ArrigooConfig::default(),
            chartmogul: ChartMogulConfig::default(),
            primedata: PrimeDataConfig::default(),
            followanalytics: FollowAnalyticsConfig::default(),
            cdp: CdpConfig::default(),
            max_body_bytes: Self::default_max_body_bytes(),
        }
    }
}

impl Config {
    fn default_max_body_bytes() -> usize {
        1_000_000
    }

    /// Reads a configuration from JSON text; unknown keys are refused so typos surface.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        crate::formats::from_json_str(text).map_err(|error| ConfigError::Invalid(error.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_what_an_empty_configuration_reads_as() {
        let empty = Config::from_json("{}").unwrap();
        assert_eq!(format!("{:?}", Config::default()), format!("{empty:?}"));
        assert_eq!(Config::default().max_body_bytes, 1_000_000);
    }

    #[test]
    fn documented_serve_config_is_accepted() {
        let config = Config::from_json(
            r#"{"arrigoo": {"apiKeys": [{"key": "k1", "secret": "s1", "role": "admin"}]},
                "chartmogul": {"accounts": [{"token": "t1", "secret": "s1"}]},
                "primedata": {"apiKeys": ["pk1"], "identityTypes": ["email", "phone_number", "crm_user_id"]},
                "followanalytics": {"apiKeys": ["fk1"]}}"#,
        )
        .unwrap();
        assert_eq!(config.arrigoo.api_keys.len(), 1);
        assert_eq!(config.max_body_bytes, 1_000_000);
    }

    #[test]
    fn dialect_sections_take_prefixes_rate_limits_and_sor_keys() {
        let config = Config::from_json(
            r#"{"maxBodyBytes": 2048,
                "arrigoo": {"prefix": "/arrigoo", "accessTokenTtlSeconds": 60, "pageSize": 10},
                "chartmogul": {"prefix": "/cm", "apiKeys": ["key"]},
                "primedata": {"apiKeys": ["pk1"], "rateLimit": {"requests": 100, "perSeconds": 1}},
                "followanalytics": {"apiKeys": ["fk1"], "sources": [{"identifier": "SOR_1", "apiKeys": ["k"]}]}}"#,
        )
        .unwrap();
        assert_eq!(config.max_body_bytes, 2048);
        assert_eq!(config.chartmogul.prefix.as_deref(), Some("/cm"));
        assert_eq!(config.primedata.rate_limit.unwrap().requests.get(), 100);
        assert_eq!(config.followanalytics.sources[0].api_keys, ["k"]);
        let zero = r#"{"primedata": {"rateLimit": {"requests": 0, "perSeconds": 1}}}"#;
        assert_eq!(
            Config::from_json(zero).unwrap_err().code(),
            "config.invalid"
        );
    }

    #[test]
    fn unknown_keys_and_roles_are_refused() {
        assert_eq!(
            Config::from_json(r#"{"arigoo": {}}"#).unwrap_err().code(),
            "config.invalid"
        );
        let bad_role = r#"{"arrigoo": {"apiKeys": [{"key": "k", "secret": "s", "role": "god"}]}}"#;
        assert!(Config::from_json(bad_role).is_err());
        assert!(Config::from_json("not json").is_err());
    }
}
