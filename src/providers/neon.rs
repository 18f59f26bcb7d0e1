//! The `neon` provider: Neon database branches through the Neon API v2. (In progress.)

use crate::config::NeonConfig;
use crate::providers::ProviderError;
use crate::secret::Redactor;

pub struct NeonProvider;

impl NeonProvider {
    pub async fn open(_cfg: &NeonConfig, _redactor: &Redactor) -> Result<super::local::LocalProvider, ProviderError> {
        Err(ProviderError::new("the neon provider is not built yet"))
    }
}
