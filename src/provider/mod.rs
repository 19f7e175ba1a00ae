//! Providers carry out create/read/update/delete for resource types. The engine only sees
//! the [`Provider`] trait: the AWS provider talks to AWS through the SDK, the in-memory
//! one backs engine tests.

pub mod aws;
pub mod memory;

use crate::schema::TypeSchema;
use async_trait::async_trait;
use serde_json::{Map, Value};

pub type Props = Map<String, Value>;

/// What a resource looks like in the cloud right now.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub id: String,
    /// Properties as the cloud reports them, in the stack's vocabulary. A property the
    /// cloud cannot report (write-only) is left out, and the recorded value is kept.
    pub properties: Props,
    /// Exported attributes (`id`, `arn`, …).
    pub attributes: Props,
}

/// An error from the cloud: its error code and message, as AWS gave them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ProviderError {
    pub code: String,
    pub message: String,
}

impl ProviderError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> ProviderError {
        ProviderError { code: code.into(), message: message.into() }
    }
}

/// A resource to create: its address (for ownership tags and error messages) and its
/// fully resolved properties.
pub struct CreateRequest<'a> {
    pub ty: &'static TypeSchema,
    pub address: &'a str,
    pub props: &'a Props,
}

#[async_trait]
pub trait Provider: Send + Sync {
    async fn create(&self, req: CreateRequest<'_>) -> Result<Observed, ProviderError>;

    /// Read many resources of one type at once (one Describe call where the API allows).
    /// The answer has one entry per ID, in order; `None` = the resource no longer exists.
    async fn read(&self, ty: &'static TypeSchema, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError>;

    /// Change the properties named in `changed` from `old` to `new`.
    async fn update(
        &self,
        ty: &'static TypeSchema,
        id: &str,
        old: &Props,
        new: &Props,
        changed: &[String],
    ) -> Result<Observed, ProviderError>;

    /// Delete; deleting something already gone succeeds.
    async fn delete(&self, ty: &'static TypeSchema, id: &str, props: &Props) -> Result<(), ProviderError>;
}
