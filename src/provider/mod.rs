//! Providers carry out create/read/update/delete for resource types. The engine only sees
//! the [`Provider`] trait: the AWS provider talks to AWS through the SDK, the in-memory
//! one backs engine tests.

pub mod aws;
pub mod memory;

use crate::schema::TypeSchema;
use async_trait::async_trait;
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    /// Set when a create call succeeded but the resource did not become ready (a failed
    /// or timed-out wait): it exists, and must be recorded so it is neither orphaned nor
    /// created twice.
    pub created_id: Option<String>,
    /// Throttling, a 5xx answer, or no answer at all: trying again may succeed. After a
    /// create, the request may also have taken effect.
    pub transient: bool,
}

impl ProviderError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> ProviderError {
        ProviderError { code: code.into(), message: message.into(), created_id: None, transient: false }
    }
}

/// Live status of one operation, shown in progress lines (`creating`, `modifying`, …).
#[derive(Debug, Clone, Default)]
pub struct StatusCell(Arc<Mutex<String>>);

impl StatusCell {
    pub fn set(&self, s: &str) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = s.to_string();
    }
    pub fn get(&self) -> String {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// How to poll a resource until it is ready: exponential backoff with jitter, capped,
/// so many resources waiting at once stay within the APIs' rate limits.
#[derive(Debug, Clone, Copy)]
pub struct PollPolicy {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for PollPolicy {
    fn default() -> PollPolicy {
        PollPolicy { initial: Duration::from_secs(5), max: Duration::from_secs(30) }
    }
}

/// A user's request to stop (SIGINT/SIGTERM), shared by the signal handler, the executor
/// (no new operations start) and waits (they stop polling; the resource is recorded as
/// pending and the next apply waits for it).
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    requested: Arc<std::sync::atomic::AtomicBool>,
    notify: Arc<tokio::sync::Notify>,
    in_flight: Arc<Mutex<std::collections::BTreeSet<String>>>,
}

impl Interrupt {
    /// Record a request; returns whether one had already been made.
    pub fn request(&self) -> bool {
        let before = self.requested.swap(true, std::sync::atomic::Ordering::SeqCst);
        self.notify.notify_waiters();
        before
    }
    pub fn is_requested(&self) -> bool {
        self.requested.load(std::sync::atomic::Ordering::SeqCst)
    }
    /// Resolves when an interrupt is requested.
    pub async fn requested(&self) {
        let notified = self.notify.notified();
        if !self.is_requested() {
            notified.await;
        }
    }
    pub fn started(&self, address: &str) {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).insert(address.to_string());
    }
    pub fn finished(&self, address: &str) {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).remove(address);
    }
    /// Addresses whose operations are running now.
    pub fn in_flight(&self) -> Vec<String> {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
    }
}

/// The context of one create/update/delete.
#[derive(Debug, Clone)]
pub struct OpCtx {
    /// How long the operation may take, waiting included.
    pub timeout: Duration,
    pub status: StatusCell,
    pub poll: PollPolicy,
    pub interrupt: Interrupt,
}

impl Default for OpCtx {
    fn default() -> OpCtx {
        OpCtx {
            timeout: Duration::from_secs(600),
            status: StatusCell::default(),
            poll: PollPolicy::default(),
            interrupt: Interrupt::default(),
        }
    }
}

/// A resource to create: its address (for ownership tags and error messages) and its
/// fully resolved properties.
pub struct CreateRequest<'a> {
    pub ty: &'static TypeSchema,
    pub address: &'a str,
    pub props: &'a Props,
    pub ctx: &'a OpCtx,
}

pub struct UpdateRequest<'a> {
    pub ty: &'static TypeSchema,
    pub id: &'a str,
    pub old: &'a Props,
    pub new: &'a Props,
    pub changed: &'a [String],
    pub ctx: &'a OpCtx,
}

#[async_trait]
pub trait Provider: Send + Sync {
    async fn create(&self, req: CreateRequest<'_>) -> Result<Observed, ProviderError>;

    /// Read many resources of one type at once (one Describe call where the API allows).
    /// The answer has one entry per ID, in order; `None` = the resource no longer exists.
    async fn read(&self, ty: &'static TypeSchema, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError>;

    /// Change the properties named in `changed` from `old` to `new`, then wait until the
    /// resource is ready (with nothing changed: only wait, e.g. for a resource that was
    /// still being created when the last run stopped).
    async fn update(&self, req: UpdateRequest<'_>) -> Result<Observed, ProviderError>;

    /// Delete and wait until it is gone; deleting something already gone succeeds.
    async fn delete(&self, ty: &'static TypeSchema, id: &str, props: &Props, ctx: &OpCtx) -> Result<(), ProviderError>;
}
