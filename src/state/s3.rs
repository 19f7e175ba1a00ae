//! State in S3. Writes are conditional on the ETag last read (`If-Match`), or on absence
//! (`If-None-Match: *`) for the first write, so a concurrent writer is never overwritten.
//! The lock is the object `<key>.lock`, created with `If-None-Match: *` and holding the
//! lock info; a refused run reads it back to name the holder.
//!
//! Steps are recorded by coalesced writes: at most one PUT of the state is in flight, in
//! the background; a step recorded meanwhile is written by the next PUT, which carries the
//! newest state (the steps in between are never written one by one), and a PUT starts no
//! sooner than [`MIN_INTERVAL`] (or four times the last PUT's duration, for a large state)
//! after the one before. So the number of PUTs follows the run's length, not its number
//! of steps. The end of a run writes the whole state once more, after the PUT in flight.
//! A run killed between two PUTs leaves state up to a few seconds behind AWS; the next
//! apply adopts what those seconds made (by name, or by ownership tags).

use super::{LockInfo, State, StateError, StateStore};
use crate::sdk::error::sdk_error;
use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use aws_sdk_s3::Client;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// The least time between the starts of two PUTs that record steps.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The coalesced writes (see the module's documentation).
#[derive(Default)]
struct Writes {
    /// The PUT in flight: it answers with the new ETag, and how long it took.
    running: Option<JoinHandle<(Result<Option<String>, StateError>, Duration)>>,
    /// When the last PUT started, and how long it took.
    last: Option<(Instant, Duration)>,
    /// A recorded step that is neither written nor in flight.
    deferred: bool,
}

pub struct S3Store {
    client: Client,
    bucket: String,
    key: String,
    encrypt: bool,
    /// The environment, for the exact `force-unlock` command in lock messages.
    env: String,
    /// ETag of the state object as last read or written; `None` = it did not exist.
    etag: Mutex<Option<String>>,
    writes: Mutex<Writes>,
}

impl S3Store {
    pub fn new(client: Client, bucket: String, key: String, encrypt: bool, env: &str) -> S3Store {
        S3Store {
            client,
            bucket,
            key,
            encrypt,
            env: env.to_string(),
            etag: Mutex::new(None),
            writes: Mutex::new(Writes::default()),
        }
    }

    /// The state's object, for a PUT that runs on its own task.
    fn target(&self) -> Target {
        Target {
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            encrypt: self.encrypt,
        }
    }

    /// Wait for the PUT in flight, if any, and take its ETag (or its error).
    async fn settle(&self) -> Result<(), StateError> {
        let running = self.writes.lock().unwrap_or_else(|e| e.into_inner()).running.take();
        if let Some(task) = running {
            self.landed(task.await)?;
        }
        Ok(())
    }

    /// The end of a background PUT.
    fn landed(
        &self,
        joined: Result<(Result<Option<String>, StateError>, Duration), tokio::task::JoinError>,
    ) -> Result<(), StateError> {
        let (etag, took) =
            joined.map_err(|e| self.remote("cannot write the state", &self.key, ("Panicked".into(), e.to_string())))?;
        if let Some((_, last)) = &mut self.writes.lock().unwrap_or_else(|e| e.into_inner()).last {
            *last = took;
        }
        *self.etag.lock().unwrap_or_else(|e| e.into_inner()) = etag?;
        Ok(())
    }

    fn lock_key(&self) -> String {
        format!("{}.lock", self.key)
    }

    fn remote(&self, what: &'static str, key: &str, (code, message): (String, String)) -> StateError {
        StateError::Remote { what, origin: format!("s3://{}/{key}", self.bucket), code, message }
    }

    async fn read_lock(&self) -> Result<Option<LockInfo>, StateError> {
        let key = self.lock_key();
        match self.client.get_object().bucket(&self.bucket).key(&key).send().await {
            Ok(out) => {
                let bytes = out.body.collect().await.map(|b| b.into_bytes()).unwrap_or_default();
                // Garbage is reported as garbage: never a made-up holder to unlock.
                serde_json::from_slice(&bytes).map(Some).map_err(|e| StateError::LockGarbage {
                    origin: format!("s3://{}/{key}", self.bucket),
                    detail: e.to_string(),
                })
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(self.remote("cannot read the lock", &key, sdk_error(&e))),
        }
    }

    fn put(&self, key: &str, body: Vec<u8>) -> aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder {
        put_request(&self.client, &self.bucket, key, self.encrypt, body)
    }
}

fn put_request(
    client: &Client,
    bucket: &str,
    key: &str,
    encrypt: bool,
    body: Vec<u8>,
) -> aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder {
    let mut req =
        client.put_object().bucket(bucket).key(key).content_type("application/json").body(ByteStream::from(body));
    if encrypt {
        req = req.server_side_encryption(ServerSideEncryption::Aes256);
    }
    req
}

/// Where the state object is, owned, for a PUT on its own task.
struct Target {
    client: Client,
    bucket: String,
    key: String,
    encrypt: bool,
}

impl Target {
    fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    /// PUT `body` if the object's ETag is still `etag` (absent for `None`); answers the
    /// new ETag.
    async fn put(&self, etag: Option<String>, body: Vec<u8>) -> Result<Option<String>, StateError> {
        let req = put_request(&self.client, &self.bucket, &self.key, self.encrypt, body.clone());
        let req = match &etag {
            Some(tag) => req.if_match(tag),
            None => req.if_none_match("*"),
        };
        match req.send().await {
            Ok(out) => Ok(out.e_tag().map(str::to_string)),
            Err(e) => {
                let (code, message) = sdk_error(&e);
                if !precondition_failed(&code) {
                    return Err(StateError::Remote {
                        what: "cannot write the state",
                        origin: self.location(),
                        code,
                        message,
                    });
                }
                // An earlier attempt of this very write whose answer was lost (the SDK
                // retried it) has already put these bytes; anything else is a conflict.
                let conflict = || StateError::Conflict { origin: self.location() };
                let out = self
                    .client
                    .get_object()
                    .bucket(&self.bucket)
                    .key(&self.key)
                    .send()
                    .await
                    .map_err(|_| conflict())?;
                let etag = out.e_tag().map(str::to_string);
                match out.body.collect().await.map(|b| b.into_bytes()) {
                    Ok(held) if held[..] == body[..] => Ok(etag),
                    _ => Err(conflict()),
                }
            }
        }
    }
}

fn precondition_failed(code: &str) -> bool {
    code == "PreconditionFailed" || code == "ConditionalRequestConflict"
}

#[async_trait]
impl StateStore for S3Store {
    fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    async fn lock(&self, operation: &str) -> Result<LockInfo, StateError> {
        let key = self.lock_key();
        let info = LockInfo::new(operation, &format!("s3://{}/{key}", self.bucket));
        let body = serde_json::to_vec_pretty(&info).unwrap_or_default();
        match self.put(&key, body).if_none_match("*").send().await {
            Ok(_) => Ok(info),
            Err(e) => {
                let (code, message) = sdk_error(&e);
                if precondition_failed(&code) {
                    let held = self.read_lock().await?;
                    if held.as_ref().is_some_and(|h| h.id == info.id) {
                        // Our own earlier attempt took it; only its answer was lost.
                        return Ok(info);
                    }
                    let holder = held.unwrap_or_else(|| LockInfo {
                        id: "unknown (released while being read)".into(),
                        ..LockInfo::new("unknown", &key)
                    });
                    let unlock = format!("cloudbridge force-unlock -e {} {}", self.env, holder.id);
                    Err(StateError::Locked { holder: Box::new(holder), force_unlock: Some(unlock) })
                } else {
                    Err(self.remote("cannot take the lock", &key, (code, message)))
                }
            }
        }
    }

    async fn unlock(&self, lock: &LockInfo) -> Result<(), StateError> {
        let key = self.lock_key();
        match self.read_lock().await? {
            Some(held) if held.id == lock.id => {}
            held => {
                return Err(StateError::NoSuchLock {
                    id: lock.id.clone(),
                    origin: self.location(),
                    holder: held.map(Box::new),
                })
            }
        }
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| self.remote("cannot release the lock", &key, sdk_error(&e)))?;
        Ok(())
    }

    async fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        self.unlock(&LockInfo { id: id.to_string(), ..LockInfo::new("force-unlock", "") }).await
    }

    async fn read(&self) -> Result<Option<State>, StateError> {
        match self.client.get_object().bucket(&self.bucket).key(&self.key).send().await {
            Ok(out) => {
                let etag = out.e_tag().map(str::to_string);
                let bytes = out
                    .body
                    .collect()
                    .await
                    .map_err(|e| self.remote("cannot read the state", &self.key, ("ReadFailed".into(), e.to_string())))?
                    .into_bytes();
                let state = State::from_json(&bytes, &self.location())?;
                *self.etag.lock().unwrap_or_else(|e| e.into_inner()) = etag;
                Ok(Some(state))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                *self.etag.lock().unwrap_or_else(|e| e.into_inner()) = None;
                Ok(None)
            }
            Err(e) => Err(self.remote("cannot read the state", &self.key, sdk_error(&e))),
        }
    }

    async fn write(&self, state: &State) -> Result<(), StateError> {
        // After the PUT in flight (its ETag is the one this write must match).
        self.settle().await?;
        let etag = self.etag.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let started = Instant::now();
        let tag = self.target().put(etag, state.to_json()).await?;
        *self.etag.lock().unwrap_or_else(|e| e.into_inner()) = tag;
        let mut w = self.writes.lock().unwrap_or_else(|e| e.into_inner());
        w.deferred = false;
        w.last = Some((started, started.elapsed()));
        Ok(())
    }

    async fn record(&self, state: &State, _changed: &[String]) -> Result<(), StateError> {
        // The PUT in flight, if it ended: its ETag, or its error (reported here, at the
        // next step, which then starts nothing new).
        let ended = {
            let mut w = self.writes.lock().unwrap_or_else(|e| e.into_inner());
            match &w.running {
                Some(task) if task.is_finished() => w.running.take(),
                _ => None,
            }
        };
        if let Some(task) = ended {
            self.landed(task.await)?;
        }
        let mut w = self.writes.lock().unwrap_or_else(|e| e.into_inner());
        let due = w.last.is_none_or(|(start, took)| start.elapsed() >= MIN_INTERVAL.max(took * 4));
        if w.running.is_some() || !due {
            w.deferred = true;
            return Ok(());
        }
        // Serialised here, once per PUT (not once per step).
        let body = state.to_json();
        let etag = self.etag.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let target = self.target();
        let started = Instant::now();
        w.deferred = false;
        w.last = Some((started, Duration::ZERO));
        w.running = Some(tokio::spawn(async move {
            let tag = target.put(etag, body).await;
            (tag, started.elapsed())
        }));
        Ok(())
    }

    fn deferred(&self) -> bool {
        let w = self.writes.lock().unwrap_or_else(|e| e.into_inner());
        w.deferred && w.running.as_ref().is_none_or(|t| t.is_finished())
    }
}

/// An S3 client for state, path-style when an endpoint override is set.
pub fn client(config: &aws_config::SdkConfig, region: Option<&str>) -> Client {
    crate::sdk::s3_client(config, region)
}

impl S3Store {
    /// Create the state bucket if it does not exist: versioned, encrypted, public access blocked.
    /// Returns whether it was created.
    pub async fn init_bucket(&self, region: &str) -> Result<bool, StateError> {
        let b = &self.bucket;
        let origin = format!("s3://{b}");
        let remote = |what: &'static str, (code, message): (String, String)| StateError::Remote {
            what,
            origin: origin.clone(),
            code,
            message,
        };
        match self.client.head_bucket().bucket(b).send().await {
            Ok(_) => return Ok(false),
            Err(e) => {
                let not_found = e.as_service_error().is_some_and(|s| s.is_not_found())
                    || e.raw_response().is_some_and(|r| r.status().as_u16() == 404);
                if !not_found {
                    return Err(remote("cannot check the state bucket", sdk_error(&e)));
                }
            }
        }
        let step = |what: &'static str| move |e: crate::provider::ProviderError| remote(what, (e.code, e.message));
        let c = &self.client;
        crate::sdk::s3::create_bucket(c, b, region).await.map_err(step("cannot create the state bucket"))?;
        crate::sdk::s3::put_versioning(c, b, true).await.map_err(step("cannot enable versioning on"))?;
        crate::sdk::s3::put_encryption(c, b, "AES256", None).await.map_err(step("cannot enable encryption on"))?;
        crate::sdk::s3::put_public_access_block(c, b, true).await.map_err(step("cannot block public access on"))?;
        Ok(true)
    }
}
