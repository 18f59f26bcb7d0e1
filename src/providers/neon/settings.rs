//! What the `neon` provider needs, resolved from the config and the environment.

use std::time::Duration;

use super::{api::REQUEST_TIMEOUT, ENV_API_HOST, ENV_PROJECT_ID};
use crate::config::{NeonConfig, NEON_API_HOST};
use crate::providers::ProviderError;
use crate::secret::Secret;

/// Everything the provider needs, resolved: what [`NeonConfig`] says plus the environment.
pub struct NeonSettings {
    pub project_id: String,
    pub api_key: Secret<String>,
    /// The environment variable the key came from (named in error messages, never the key).
    pub api_key_env: String,
    /// Base URL of the API, e.g. `https://console.neon.tech/api/v2`.
    pub api_host: String,
    /// Parent Neon database branch by exact name; `None`: the default one.
    pub parent: Option<String>,
    pub database: String,
    pub role: String,
    pub operation_timeout: Duration,
    /// Timeout of one HTTP request (default [`REQUEST_TIMEOUT`]).
    pub request_timeout: Duration,
}

impl NeonSettings {
    /// The project id from the config, else `$NEON_PROJECT_ID`; the API key only from the
    /// environment variable the config names; the base URL from the config, else
    /// `$NEON_API_HOST`, else Neon's.
    pub fn from_config(cfg: &NeonConfig) -> Result<NeonSettings, ProviderError> {
        let key = env_var(&cfg.api_key_env).ok_or_else(|| {
            ProviderError::new(format!(
                "no Neon API key: the environment variable `{}` is not set",
                cfg.api_key_env
            ))
            .help(format!(
                "create a key in the Neon Console (Account settings → API keys) and `export {}=<key>`; \
                 neon-migrate reads it only from the environment (`api-key-env` under [provider] names the variable)",
                cfg.api_key_env
            ))
        })?;
        let project_id = cfg
            .project_id
            .clone()
            .filter(|p| !p.trim().is_empty())
            .or_else(|| env_var(ENV_PROJECT_ID))
            .ok_or_else(|| {
                ProviderError::new("no Neon project id").help(format!(
                    "set `project-id` under [provider] or the environment variable {ENV_PROJECT_ID} \
                     (the Neon Console shows it under Settings → General)"
                ))
            })?;
        let api_host = cfg
            .api_host
            .clone()
            .or_else(|| env_var(ENV_API_HOST))
            .unwrap_or_else(|| NEON_API_HOST.to_owned());
        Ok(NeonSettings {
            project_id,
            api_key: Secret::new(key),
            api_key_env: cfg.api_key_env.clone(),
            api_host,
            parent: cfg.parent.clone(),
            database: cfg.database.clone(),
            role: cfg.role.clone(),
            operation_timeout: cfg.operation_timeout,
            request_timeout: REQUEST_TIMEOUT,
        })
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}
