//! Providers carry out create/read/update/delete for resource types. The engine only sees
//! the [`Provider`] trait: the AWS provider talks to AWS through the SDK, the in-memory
//! one backs engine tests.

pub mod aws;
pub mod faulty;
pub mod id;
pub mod latency;
pub mod lifecycle;
pub mod memory;

pub use lifecycle::{wait_until, Lifecycle, Readiness, ResourceOps};

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

/// What kind of failure an error is, decided once where the error is made (from AWS's
/// error code, or by the in-memory fake) and used by the lifecycle and for hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Something with that name already exists.
    AlreadyExists,
    /// The resource (or a part of it) does not exist.
    NotFound,
    /// Throttling, a 5xx, or no answer: trying again may succeed.
    Transient,
    /// The credentials may not do this.
    AccessDenied,
    /// AWS refused the request as malformed or not allowed in the resource's state.
    Invalid,
    /// A wait ran out of time or the user interrupted it.
    Timeout,
    /// No credentials could be loaded: nothing was sent.
    NoCredentials,
    Other,
}

impl ErrorKind {
    /// Classify an error code (and message, for services that name the kind only there).
    pub fn of(code: &str, message: &str) -> ErrorKind {
        const EXISTS: &[&str] = &[
            "AlreadyExists",
            "AlreadyOwnedByYou",
            "Duplicate",
            "ConflictException",
            "ResourceExistsException",
            "TopicExistsException",
            "ResourceInUse",
            "EntityAlreadyExists",
        ];
        if EXISTS.iter().any(|c| code.contains(c)) || (code == "InvalidRequestException" && message.contains("already"))
        {
            ErrorKind::AlreadyExists
        } else if code.contains("NotFound")
            || code.starts_with("NoSuch")
            || code == "404"
            || code.contains("NonExistent")
            || code.contains("DoesNotExist")
        {
            ErrorKind::NotFound
        } else if code.contains("AccessDenied") || code.contains("Unauthorized") || code == "403" || code == "Forbidden"
        {
            ErrorKind::AccessDenied
        } else if is_throttling_code(code) {
            ErrorKind::Transient
        } else if code == "NoCredentials" {
            ErrorKind::NoCredentials
        } else if code == "WaitTimeout" || code == "Interrupted" {
            ErrorKind::Timeout
        } else if code.contains("Invalid") || code.contains("Validation") || code.contains("Malformed") {
            ErrorKind::Invalid
        } else {
            ErrorKind::Other
        }
    }

    /// What the user can do about an error of this kind.
    pub fn hint(self) -> Option<&'static str> {
        Some(match self {
            ErrorKind::AlreadyExists => {
                "a resource with this name already exists: rename it in the stack, or delete the existing one if it is not needed"
            }
            ErrorKind::NotFound => "something it refers to does not exist: check the IDs and names it references",
            ErrorKind::Transient => "AWS is throttling or failing for now: run apply again; nothing is created twice",
            ErrorKind::AccessDenied => {
                "the credentials in use may not do this: check the IAM policy of the caller (`aws sts get-caller-identity` shows who that is)"
            }
            ErrorKind::Invalid => "AWS refused the request: check the resource's properties against AWS's limits",
            ErrorKind::Timeout => "AWS may still finish it: run apply again to keep waiting, or raise `timeouts:` on the resource",
            ErrorKind::NoCredentials => crate::state::NO_CREDENTIALS,
            ErrorKind::Other => return None,
        })
    }
}

/// Codes by which a service says "too many requests": it refused before doing anything.
fn is_throttling_code(code: &str) -> bool {
    ["Throttl", "TooManyRequests", "RequestLimitExceeded", "SlowDown"].iter().any(|c| code.contains(c))
}

/// An error from the cloud: its error code and message, as AWS gave them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ProviderError {
    pub code: String,
    pub message: String,
    pub kind: ErrorKind,
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
        let (code, message) = (code.into(), message.into());
        let kind = ErrorKind::of(&code, &message);
        ProviderError { code, message, kind, created_id: None, transient: kind == ErrorKind::Transient }
    }

    /// A throttling answer: the cloud refused the request before doing anything.
    pub fn is_throttling(&self) -> bool {
        is_throttling_code(&self.code)
    }

    /// The same error, marked as one after which the resource `id` exists.
    pub fn with_created(mut self, id: &str) -> ProviderError {
        self.created_id = Some(id.to_string());
        self
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
    /// How long after its create call a resource is first looked at (see [`PollPolicy::for_create`]).
    pub first: Duration,
    /// Whether each type's own first look applies; off when the user set the interval
    /// (`CLOUDBRIDGE_POLL_INTERVAL`).
    pub by_type: bool,
}

impl Default for PollPolicy {
    fn default() -> PollPolicy {
        PollPolicy {
            initial: Duration::from_secs(5),
            max: Duration::from_secs(30),
            first: Duration::ZERO,
            by_type: true,
        }
    }
}

/// The latest first look at a new resource, however slow its type.
pub const MAX_FIRST_POLL: Duration = Duration::from_secs(300);

impl PollPolicy {
    /// The schedule for creating a resource of `ty`. A type that is ready when its call
    /// returns ([`crate::schema::QUICK`]) is looked at at once (its look makes no call).
    /// A slow one is first looked at when it could first be ready: a fortieth of its create
    /// timeout, which follows its typical creation time (an MSK cluster, 120 minutes, after
    /// 3 minutes; an Aurora cluster, 60, after 90 s; a NAT gateway, 10, after 15 s).
    pub fn for_create(self, ty: &crate::schema::TypeSchema) -> PollPolicy {
        if !self.by_type || ty.timeouts == crate::schema::QUICK {
            return self;
        }
        PollPolicy { first: Duration::from_secs(ty.timeouts.create / 40).min(MAX_FIRST_POLL), ..self }
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

    /// Read a data source (read-only, at plan time): the attributes of what `filter` finds.
    async fn read_data(&self, kind: &'static crate::data::DataKind, filter: &Props) -> Result<Props, ProviderError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_classified_once_into_kinds() {
        let kind = |code: &str, message: &str| ErrorKind::of(code, message);
        for code in [
            "BucketAlreadyOwnedByYou",
            "EntityAlreadyExists",
            "ResourceAlreadyExistsFault",
            "InvalidGroup.Duplicate",
            "TopicExistsException",
        ] {
            assert_eq!(kind(code, ""), ErrorKind::AlreadyExists, "{code}");
        }
        assert_eq!(kind("InvalidRequestException", "WorkGroup is already created"), ErrorKind::AlreadyExists);
        for code in [
            "InvalidVpcID.NotFound",
            "NoSuchEntity",
            "NoSuchBucket",
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
        ] {
            assert_eq!(kind(code, ""), ErrorKind::NotFound, "{code}");
        }
        assert_eq!(kind("AccessDeniedException", ""), ErrorKind::AccessDenied);
        assert_eq!(kind("ThrottlingException", ""), ErrorKind::Transient);
        assert_eq!(kind("ValidationException", ""), ErrorKind::Invalid);
        assert_eq!(kind("WaitTimeout", ""), ErrorKind::Timeout);
        assert_eq!(kind("KMSInternal", ""), ErrorKind::Other);
        // Every kind a user can meet comes with a hint; throttling is retried, never blamed.
        for k in [
            ErrorKind::AlreadyExists,
            ErrorKind::NotFound,
            ErrorKind::AccessDenied,
            ErrorKind::Invalid,
            ErrorKind::Timeout,
        ] {
            assert!(k.hint().is_some_and(|h| !h.is_empty()), "{k:?}");
        }
        let e = ProviderError::new("Throttling", "Rate exceeded");
        assert!(e.transient && e.is_throttling());
    }
}
