//! Neon's JSON, as far as we read it: every field that may be absent is optional, and
//! `null` where a list or map is expected reads as empty, so that a field Neon adds or drops
//! does not break a create halfway.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::{CREATED_BY, CREATED_BY_KEY};
use crate::secret::Secret;

/// `null` (or an absent field) as the empty value.
pub(super) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A Neon database branch as the API describes it.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct ApiDbBranch {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub default: Option<bool>,
    /// Deprecated alias of `default`.
    #[serde(default)]
    pub primary: Option<bool>,
    #[serde(default)]
    pub protected: Option<bool>,
    #[serde(default)]
    pub current_state: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub creation_source: Option<String>,
    #[serde(default)]
    pub created_by: Option<CreatedBy>,
}

impl ApiDbBranch {
    pub fn is_default(&self) -> bool {
        self.default.or(self.primary).unwrap_or(false)
    }
    pub fn is_protected(&self) -> bool {
        self.protected.unwrap_or(false)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct CreatedBy {
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct Endpoint {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub branch_id: String,
    #[serde(rename = "type", default)]
    pub kind: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct Operation {
    pub id: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub branch_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct ConnectionDetails {
    pub connection_uri: Secret<String>,
    #[serde(default)]
    pub connection_parameters: Option<ConnectionParameters>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct ConnectionParameters {
    #[serde(default)]
    pub database: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
}

/// `POST …/branches` → 201.
#[derive(Debug, Deserialize)]
pub(super) struct CreateReply {
    pub branch: ApiDbBranch,
    #[serde(default, deserialize_with = "nullable")]
    pub endpoints: Vec<Endpoint>,
    #[serde(default, deserialize_with = "nullable")]
    pub operations: Vec<Operation>,
    #[serde(default, deserialize_with = "nullable")]
    pub connection_uris: Vec<ConnectionDetails>,
}

/// `GET …/branches` → 200.
#[derive(Debug, Deserialize)]
pub(super) struct ListReply {
    #[serde(default, deserialize_with = "nullable")]
    pub branches: Vec<ApiDbBranch>,
    /// Keyed by Neon database branch id.
    #[serde(default, deserialize_with = "nullable")]
    pub annotations: HashMap<String, Value>,
    #[serde(default)]
    pub pagination: Option<Pagination>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Pagination {
    #[serde(default)]
    pub next: Option<String>,
}

/// `GET …/branches/{id}` → 200.
#[derive(Debug, Deserialize)]
pub(super) struct GetReply {
    pub branch: ApiDbBranch,
    #[serde(default)]
    pub annotation: Option<Value>,
}

/// `DELETE …/branches/{id}` → 200.
#[derive(Debug, Deserialize)]
pub(super) struct DeleteReply {
    #[serde(default, deserialize_with = "nullable")]
    pub operations: Vec<Operation>,
}

#[derive(Debug, Deserialize)]
pub(super) struct OperationReply {
    pub operation: Operation,
}

#[derive(Debug, Deserialize)]
pub(super) struct OperationsReply {
    #[serde(default, deserialize_with = "nullable")]
    pub operations: Vec<Operation>,
}

#[derive(Debug, Deserialize)]
pub(super) struct EndpointsReply {
    #[serde(default, deserialize_with = "nullable")]
    pub endpoints: Vec<Endpoint>,
}

#[derive(Debug, Deserialize)]
pub(super) struct UriReply {
    pub uri: Secret<String>,
}

/// The `value` of an annotation (`{object, value, …}`): string keys to string values.
#[derive(Debug, Clone, Default)]
pub(super) struct Annotation(Map<String, Value>);

impl Annotation {
    pub fn of(annotation: Option<&Value>) -> Annotation {
        Annotation(
            annotation
                .and_then(|a| a.get("value"))
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        )
    }
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }
    pub fn is_ours(&self) -> bool {
        self.get(CREATED_BY_KEY) == Some(CREATED_BY)
    }
}

/// Every Neon database branch of a listing, with its annotation.
#[derive(Debug, Default)]
pub(super) struct Listing {
    pub db_branches: Vec<ApiDbBranch>,
    pub annotations: HashMap<String, Value>,
}

impl Listing {
    pub fn annotation(&self, id: &str) -> Annotation {
        Annotation::of(self.annotations.get(id))
    }
}
