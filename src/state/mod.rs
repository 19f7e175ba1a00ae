//! Per-environment state: what cloudbridge created, as versioned JSON, and the stores that
//! keep it (a local file, or S3) together with their locks.

mod local;
pub mod s3;
mod surgery;

pub use local::LocalStore;
pub use s3::S3Store;
pub use surgery::matching;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The largest serial state may hold (2^53, the largest integer every JSON reader keeps
/// exact); far from any real count of writes, and far from overflowing.
pub const MAX_SERIAL: u64 = 1 << 53;

/// The state format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub format_version: u32,
    /// Incremented on every write; a saved plan records the serial it was made against.
    pub serial: u64,
    /// Random ID fixed when the state is first created; never changes afterwards.
    pub lineage: String,
    pub stack: String,
    pub env: String,
    pub resources: Vec<ResourceState>,
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    pub address: String,
    #[serde(rename = "type")]
    pub ty: String,
    /// The cloud's identifier (VPC ID, bucket name, role name, policy ARN, …).
    pub id: String,
    /// Properties as last seen; sensitive ones only as a salted hash (`sha256:…`).
    pub properties: Map<String, Value>,
    pub attributes: Map<String, Value>,
    pub dependencies: Vec<String>,
    /// Set when the resource was created but had not become ready when the run ended
    /// (a timeout, a failure while waiting): the next apply waits for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
    /// Properties held as a hash although the type does not mark them sensitive (set
    /// from a sensitive variable or property).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputState {
    pub value: Value,
    pub sensitive: bool,
}

impl State {
    pub fn new(stack: &str, env: &str) -> State {
        State {
            format_version: FORMAT_VERSION,
            serial: 0,
            lineage: uuid::Uuid::new_v4().to_string(),
            stack: stack.to_string(),
            env: env.to_string(),
            resources: Vec::new(),
            outputs: BTreeMap::new(),
        }
    }

    /// A new state with a fixed lineage, for tests whose plan and apply make their states
    /// apart (a run plans and applies against one state, so its ownership tags agree).
    #[cfg(test)]
    pub fn fixed(stack: &str, env: &str) -> State {
        State { lineage: "test-lineage".into(), ..State::new(stack, env) }
    }

    /// Resources are kept sorted by address (`put`, `from_json`): found by bisection.
    pub fn get(&self, addr: &str) -> Option<&ResourceState> {
        let i = self.resources.binary_search_by(|x| x.address.as_str().cmp(addr)).ok()?;
        self.resources.get(i)
    }

    /// Insert or replace a resource, keeping resources sorted by address.
    pub fn put(&mut self, r: ResourceState) {
        match self.resources.binary_search_by(|x| x.address.as_str().cmp(&r.address)) {
            Ok(i) => self.resources[i] = r,
            Err(i) => self.resources.insert(i, r),
        }
    }

    pub fn remove(&mut self, addr: &str) -> Option<ResourceState> {
        let i = self.resources.binary_search_by(|x| x.address.as_str().cmp(addr)).ok()?;
        Some(self.resources.remove(i))
    }

    /// Parse and check a state document.
    pub fn from_json(text: &[u8], origin: &str) -> Result<State, StateError> {
        let v: Value =
            crate::json::parse_strict(text).map_err(|detail| StateError::Corrupt { origin: origin.into(), detail })?;
        let version = v
            .get("format_version")
            .and_then(Value::as_u64)
            .ok_or_else(|| StateError::Corrupt { origin: origin.into(), detail: "no `format_version` field".into() })?;
        if version > u64::from(FORMAT_VERSION) {
            return Err(StateError::NewerVersion { origin: origin.into(), found: version, supported: FORMAT_VERSION });
        }
        let mut state: State = serde_json::from_value(v)
            .map_err(|e| StateError::Corrupt { origin: origin.into(), detail: e.to_string() })?;
        // Every write increments the serial: one that cannot be incremented would stop the
        // run after its first change, with that change not in state.
        if state.serial > MAX_SERIAL {
            return Err(StateError::Corrupt {
                origin: origin.into(),
                detail: format!("`serial` is {}, more than the largest serial, {MAX_SERIAL}", state.serial),
            });
        }
        // Hand-edited or older state may list resources in any order; `put` and `get`
        // rely on the order by address, so normalise it here (duplicates are refused below).
        state.resources.sort_by(|a, b| a.address.cmp(&b.address));
        let mut seen = std::collections::BTreeSet::new();
        for r in &state.resources {
            if !seen.insert(&r.address) {
                return Err(StateError::Corrupt {
                    origin: origin.into(),
                    detail: format!("resource `{}` appears twice", r.address),
                });
            }
        }
        Ok(state)
    }

    /// What no state cloudbridge writes can hold: an address or a dependency that is not a
    /// resource address in its canonical spelling ([`crate::addr::resource`]), an output
    /// that is not a plain name, as `state push` of a hand-edited file or a move to a
    /// malformed address could leave. Each
    /// problem is one sentence naming what is wrong.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let canonical = |a: &str| crate::addr::resource(a).is_ok_and(|c| c == a);
        for r in &self.resources {
            if !canonical(&r.address) {
                out.push(format!("holds `{}`, which is not a resource address", r.address.escape_debug()));
            }
            // No AWS ID holds a control character; one that does would act on the
            // terminal wherever an ID is printed (`[id=…]`).
            if r.id.chars().any(char::is_control) {
                out.push(format!("holds `{}` with the ID `{}`, which no AWS ID is", r.address, r.id.escape_debug()));
            }
            for d in r.dependencies.iter().filter(|d| !canonical(d)) {
                out.push(format!(
                    "has `{}` depend on `{}`, which is not a resource address",
                    r.address.escape_debug(),
                    d.escape_debug()
                ));
            }
        }
        for name in self.outputs.keys().filter(|n| !crate::addr::valid_name(n)) {
            out.push(format!("holds the output `{}`, which is not an output name", name.escape_debug()));
        }
        out
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// Hash a sensitive value so state can tell it changed without holding it.
    pub fn hash_sensitive(&self, v: &Value) -> Value {
        let mut h = Sha256::new();
        h.update(self.lineage.as_bytes());
        h.update(b":");
        h.update(v.to_string().as_bytes());
        let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Value::String(format!("sha256:{hex}"))
    }
}

/// Who holds a lock, written into the lock itself so a refused run can name the holder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockInfo {
    pub id: String,
    pub operation: String,
    pub who: String,
    pub host: String,
    pub pid: u32,
    pub created: String,
    pub path: String,
}

impl LockInfo {
    pub fn new(operation: &str, path: &str) -> LockInfo {
        let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into());
        let host = gethostname::gethostname().to_string_lossy().into_owned();
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_string(),
            who: format!("{user}@{host}"),
            host,
            pid: std::process::id(),
            created: aws_smithy_types::DateTime::from(std::time::SystemTime::now())
                .fmt(aws_smithy_types::date_time::Format::DateTime)
                .unwrap_or_default(),
            path: path.to_string(),
        }
    }
}

impl LockInfo {
    /// The holder ran on this host and its process is gone: the lock is provably stale.
    pub fn holder_is_dead(&self) -> bool {
        let here = gethostname::gethostname().to_string_lossy().into_owned();
        self.host == here
            && self.pid != std::process::id()
            && !std::path::Path::new(&format!("/proc/{}", self.pid)).exists()
            && std::path::Path::new("/proc/self").exists()
    }
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "  ID:        {}\n  Path:      {}\n  Operation: {}\n  Who:       {}\n  Process:   {} on {}\n  Created:   {}",
            self.id, self.path, self.operation, self.who, self.pid, self.host, self.created
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the state is locked by another run\n{holder}{}", if holder.holder_is_dead() { "\n  The holding process is no longer running on this host: the lock is stale." } else { "" })]
    /// `force_unlock`: the exact command that removes the lock, for locks that can outlive
    /// their process (S3); a local lock dies with its process.
    Locked { holder: Box<LockInfo>, force_unlock: Option<String> },
    #[error("the state at {origin} is not valid state: {detail}")]
    Corrupt { origin: String, detail: String },
    #[error("the state at {origin} has format version {found}; this cloudbridge reads up to version {supported}")]
    NewerVersion { origin: String, found: u64, supported: u32 },
    #[error("the state at {origin} was changed by someone else since it was read")]
    Conflict { origin: String },
    #[error("the state at {origin} belongs to stack `{found}`, not `{expected}`")]
    WrongStack { origin: String, found: String, expected: String },
    #[error("the state at {origin} belongs to environment `{found}`, not `{expected}`")]
    WrongEnv { origin: String, found: String, expected: String },
    #[error("the lock at {origin} cannot be read ({detail}): who holds it is unknown")]
    LockGarbage { origin: String, detail: String },
    #[error("the state file {origin} is read-only")]
    ReadOnly { origin: String },
    #[error("no lock with ID `{id}` is held on {origin}")]
    NoSuchLock { id: String, origin: String, holder: Option<Box<LockInfo>> },
    #[error("{what} {origin}: {source}")]
    Io { what: &'static str, origin: String, source: std::io::Error },
    #[error("{what} {origin}: {code}: {message}")]
    Remote { what: &'static str, origin: String, code: String, message: String },
}

/// What to do when no AWS credentials could be loaded: said by the S3 state store and by
/// the provider (`ErrorKind::NoCredentials`).
pub const NO_CREDENTIALS: &str = "set AWS_PROFILE (after `aws sso login` for SSO), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an instance, task or web-identity role is available; against the local emulator any keys do (AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test)";

impl StateError {
    /// How to get out of this error, shown as `hint:` lines.
    pub fn hints(&self) -> Vec<String> {
        match self {
            StateError::Locked { holder, force_unlock } => {
                let mut h = Vec::new();
                match force_unlock {
                    Some(cmd) if holder.holder_is_dead() => h.push(format!("remove the stale lock with `{cmd}`")),
                    _ => {
                        h.push("wait for the other run to finish, then try again".to_string());
                        if let Some(cmd) = force_unlock {
                            h.push(format!("if that run is gone, remove the lock with `{cmd}`"));
                        }
                    }
                }
                h
            }
            StateError::Corrupt { .. } => vec![
                "restore the previous version of the state (the `.backup` file next to a local state, or an earlier S3 object version)".into(),
            ],
            StateError::NewerVersion { .. } => vec!["upgrade cloudbridge to the version that wrote this state".into()],
            StateError::Conflict { .. } => vec!["another run wrote the state; run `cloudbridge plan` again".into()],
            StateError::WrongStack { .. } => vec![
                "give each stack its own state: put `{stack}` in the backend `key` (or `path`) of the environment file".into(),
            ],
            StateError::LockGarbage { origin, .. } => vec![
                "another run may be writing it right now: wait a moment and run the command again".into(),
                format!("if no run is in progress, delete {origin} (nothing else refers to it)"),
            ],
            StateError::ReadOnly { .. } => vec![
                "cloudbridge would replace it; make it writable (`chmod u+w`) if it may, or use a copy".into(),
            ],
            StateError::Remote { code, .. } if code == "NoCredentials" => {
                vec![NO_CREDENTIALS.to_string()]
            }
            StateError::Remote { code, .. } if code == "NoSuchBucket" => vec![
                "the state bucket does not exist: create it (versioned, encrypted, private) with `cloudbridge init -e ENV`, for the same environment".into(),
            ],
            StateError::WrongEnv { found, .. } => vec![
                "give each environment its own state: put `{env}` in the backend `key` (or `path`) of the environment file".into(),
                format!("to work on `{found}`, pass `-e {found}`"),
            ],
            StateError::NoSuchLock { holder: Some(h), .. } => {
                vec![format!("the lock currently held has ID `{}`", h.id)]
            }
            _ => Vec::new(),
        }
    }
}

/// Where state lives. One store serves one stack in one environment.
#[async_trait]
pub trait StateStore: Send + Sync {
    /// Human-readable location (`path/to/state.json`, `s3://bucket/key`).
    fn location(&self) -> String;
    /// Take the lock, or fail at once naming the holder.
    async fn lock(&self, operation: &str) -> Result<LockInfo, StateError>;
    async fn unlock(&self, lock: &LockInfo) -> Result<(), StateError>;
    /// Remove a lock left by a run that died, after checking its ID.
    async fn force_unlock(&self, id: &str) -> Result<(), StateError>;
    /// Read the current state; `None` when none exists yet.
    async fn read(&self) -> Result<Option<State>, StateError>;
    /// Write the state; fails with `Conflict` if someone else wrote since our last read/write.
    async fn write(&self, state: &State) -> Result<(), StateError>;
    /// Record one step durably: `state` is the whole new state, `changed` the addresses
    /// put or removed since the last write or record. A store that can append only what
    /// changed does (the local file's journal, whose cost does not grow with the state);
    /// the default writes the whole state.
    async fn record(&self, state: &State, changed: &[String]) -> Result<(), StateError> {
        let _ = changed;
        self.write(state).await
    }
    /// Whether a recorded step is neither written nor being written (a store that
    /// coalesces its writes, S3's): the caller records again soon, with the newest state.
    fn deferred(&self) -> bool {
        false
    }
}

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Substitute `{stack}` and `{env}` in a backend path or key.
pub fn expand(template: &str, stack: &str, env: &str) -> String {
    template.replace("{stack}", stack).replace("{env}", env)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(address: &str) -> ResourceState {
        ResourceState {
            address: address.into(),
            ty: "aws.sqs.queue".into(),
            id: format!("id-{address}"),
            properties: Map::new(),
            attributes: Map::new(),
            dependencies: vec![],
            pending: None,
            sensitive: vec![],
        }
    }

    #[test]
    fn resources_out_of_order_are_put_in_order_on_load() {
        // Hand-edited, or written by an older writer: not sorted by address.
        let mut s = State::new("st", "dev");
        s.resources = vec![resource("queue_c"), resource("queue_a"), resource("queue_b")];
        let mut loaded = State::from_json(&s.to_json(), "test").unwrap();
        let addrs: Vec<&str> = loaded.resources.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(addrs, vec!["queue_a", "queue_b", "queue_c"]);
        // `put` of an existing address replaces it, never adds a second copy.
        for a in ["queue_a", "queue_b", "queue_c"] {
            loaded.put(ResourceState { id: "new".into(), ..resource(a) });
        }
        let addrs: Vec<&str> = loaded.resources.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(addrs, vec!["queue_a", "queue_b", "queue_c"]);
        assert!(loaded.resources.iter().all(|r| r.id == "new"));
        // A written copy (and so the backup) is ordered too, and loads again.
        assert!(State::from_json(&loaded.to_json(), "test").is_ok());
    }

    #[test]
    fn a_resource_listed_twice_is_refused() {
        let mut s = State::new("st", "dev");
        s.resources = vec![resource("b"), resource("a"), resource("b")];
        let e = State::from_json(&s.to_json(), "test").unwrap_err();
        assert!(e.to_string().contains("`b` appears twice"), "{e}");
    }

    #[test]
    fn a_key_written_twice_or_a_serial_that_cannot_grow_is_refused() {
        let s = State::new("st", "dev");
        let text = String::from_utf8(s.to_json()).unwrap();
        // JSON readers keep one of two equal keys silently: the env could be two things.
        let twice = text.replacen("\"env\": \"dev\",", "\"env\": \"dev\", \"env\": \"prod\",", 1);
        assert_ne!(twice, text);
        let e = State::from_json(twice.as_bytes(), "test").unwrap_err();
        assert!(e.to_string().contains("the key `env` appears twice"), "{e}");
        let max = text.replacen("\"serial\": 0", &format!("\"serial\": {}", u64::MAX), 1);
        let e = State::from_json(max.as_bytes(), "test").unwrap_err();
        assert!(e.to_string().contains("more than the largest serial"), "{e}");
        let last = text.replacen("\"serial\": 0", &format!("\"serial\": {MAX_SERIAL}"), 1);
        assert_eq!(State::from_json(last.as_bytes(), "test").unwrap().serial, MAX_SERIAL);
    }
}
