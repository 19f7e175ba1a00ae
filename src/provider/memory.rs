//! An in-memory cloud for engine and lifecycle tests: resources are JSON maps in a table.
//! It implements the lifecycle's seam ([`ResourceOps`]) the way a cloud does: named types
//! take their name as ID and refuse a second create of it (or, in lax mode, answer it with
//! success as S3, SNS and SQS do); generated IDs are sequential; tags are kept. The
//! provider the engine runs is the real [`Lifecycle`] over it ([`MemoryProvider`]).

use super::{ErrorKind, Lifecycle, Observed, OpCtx, Props, ProviderError, Readiness, ResourceOps};
use crate::schema::{Identity, TypeSchema};
use async_trait::async_trait;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// The in-memory provider: the generic lifecycle over the in-memory cloud.
pub type MemoryProvider = Lifecycle<MemoryCloud>;

impl Lifecycle<MemoryCloud> {
    pub fn new() -> MemoryProvider {
        Lifecycle::over(MemoryCloud::default())
    }
}

impl Default for Lifecycle<MemoryCloud> {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Default)]
pub struct MemoryCloud {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next: u64,
    /// id → (type, address, props)
    resources: BTreeMap<String, (String, String, Props)>,
    fail_create: BTreeMap<String, ProviderError>,
    /// Addresses whose create succeeds but whose wait for readiness fails (once).
    never_ready: Vec<String>,
    /// IDs whose readiness check fails once (set when their create succeeds).
    failing_ready: Vec<String>,
    /// A create of a name that exists answers with success, as some AWS creates do.
    lax: bool,
    /// The create call applies no tags (S3 buckets are tagged by a later call): what a
    /// create whose answer was lost leaves behind carries no ownership tags.
    untagged_creates: bool,
    /// Every call made, as `op type id-or-address`, in order.
    calls: Vec<String>,
    /// IDs by type and `cloudbridge:address` tag, so look-ups by ownership tags do not
    /// scan the whole cloud (entries may be stale: candidates are checked).
    by_owner: std::collections::HashMap<(String, String), Vec<String>>,
    /// How long each create takes, and the most creates seen in flight at once.
    delay: std::time::Duration,
    in_flight: usize,
    max_in_flight: usize,
    /// Slow resources: each is `pending` for this many looks after its create, and one
    /// call tells the readiness of many (`ready_many`).
    slow: Option<usize>,
    looks: std::collections::HashMap<String, usize>,
    /// Calls that looked at readiness (one `ready_many` counts once).
    poll_calls: usize,
}

impl Inner {
    fn readiness(&mut self, id: &str) -> Result<Readiness, ProviderError> {
        if let Some(i) = self.failing_ready.iter().position(|x| x == id) {
            self.failing_ready.remove(i);
            return Err(ProviderError::new("WaitTimeout", format!("`{id}` was still `creating` after the timeout")));
        }
        let Some(looks) = self.slow else { return Ok(Readiness::Ready) };
        let seen = self.looks.entry(id.to_string()).or_default();
        *seen += 1;
        Ok(if *seen > looks { Readiness::Ready } else { Readiness::Pending("creating".into()) })
    }
}

impl MemoryCloud {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Make creating `address` fail with this error.
    pub fn fail_create(&self, address: &str, code: &str, message: &str) {
        self.lock().fail_create.insert(address.into(), ProviderError::new(code, message));
    }

    /// Make every create take this long (to observe concurrency).
    pub fn set_delay(&self, d: std::time::Duration) {
        self.lock().delay = d;
    }

    /// Answer the create of a name that exists with success (S3 in us-east-1, SNS, SQS).
    pub fn set_lax(&self) {
        self.lock().lax = true;
    }

    /// Create calls store no tags (see `Inner::untagged_creates`).
    pub fn set_untagged_creates(&self) {
        self.lock().untagged_creates = true;
    }

    /// Every new resource is pending for `looks` polls, and polls can be batched.
    pub fn set_slow(&self, looks: usize) {
        self.lock().slow = Some(looks);
    }

    /// How many calls looked at readiness (a batch counts once).
    pub fn poll_calls(&self) -> usize {
        self.lock().poll_calls
    }

    /// The most creates that were in flight at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.lock().max_in_flight
    }

    /// Creating `address` succeeds, but it does not become ready in time (once).
    pub fn never_ready(&self, address: &str) {
        self.lock().never_ready.push(address.into());
    }

    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// Live resources as (type, address).
    pub fn live(&self) -> Vec<(String, String)> {
        self.lock().resources.values().map(|(t, a, _)| (t.clone(), a.clone())).collect()
    }

    /// The live resource `id`: (address it was created for, its properties).
    pub fn get(&self, id: &str) -> Option<(String, Props)> {
        self.lock().resources.get(id).map(|(_, a, p)| (a.clone(), p.clone()))
    }

    /// Put a resource in the cloud behind cloudbridge's back (someone else's, or one left
    /// by a run that died); returns its ID.
    pub fn insert(&self, ty: &TypeSchema, address: &str, props: Props) -> String {
        let mut inner = self.lock();
        let id = inner.id_for(ty, &props);
        inner.index(ty.name, &id, &props);
        inner.resources.insert(id.clone(), (ty.name.into(), address.into(), props));
        id
    }

    /// Change a live resource behind cloudbridge's back (drift).
    pub fn tamper(&self, address: &str, prop: &str, value: Value) {
        let mut inner = self.lock();
        let found = inner.resources.iter_mut().find(|(_, (_, a, _))| a == address).map(|(id, (t, _, props))| {
            props.insert(prop.into(), value);
            (t.clone(), id.clone(), props.clone())
        });
        if let Some((t, id, props)) = found {
            inner.index(&t, &id, &props);
        }
    }

    /// Delete a live resource behind cloudbridge's back.
    pub fn remove(&self, address: &str) {
        self.lock().resources.retain(|_, (_, a, _)| a != address);
    }

    fn observed(ty: &TypeSchema, id: &str, props: &Props) -> Observed {
        let mut attributes = Props::new();
        attributes.insert("id".into(), Value::String(id.into()));
        for a in ty.attrs {
            if *a != "id" {
                attributes.insert((*a).into(), Value::String(format!("{a}:{id}")));
            }
        }
        let properties = props
            .iter()
            .filter(|(k, _)| ty.prop(k).is_some_and(|p| !p.sensitive))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Observed { id: id.into(), properties, attributes }
    }
}

/// The text of a naming property (strings as they are, anything else as JSON).
fn name_part(props: &Props, prop: &str) -> String {
    match props.get(prop) {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => String::new(),
    }
}

impl Inner {
    /// Note `id` under the address its ownership tags name.
    fn index(&mut self, ty: &str, id: &str, props: &Props) {
        if let Some(address) = crate::ownership::address(props) {
            let ids = self.by_owner.entry((ty.to_string(), address.to_string())).or_default();
            if !ids.iter().any(|i| i == id) {
                ids.push(id.to_string());
            }
        }
    }

    /// A named resource's ID follows from its name, as in the cloud; others get the next number.
    fn id_for(&mut self, ty: &TypeSchema, props: &Props) -> String {
        let short = ty.name.rsplit('.').next().unwrap_or("res");
        match ty.identity {
            Identity::Name(p) => name_part(props, p),
            Identity::Named(ps) | Identity::Encoded(ps) => {
                format!("{short}:{}", ps.iter().map(|p| name_part(props, p)).collect::<Vec<_>>().join("/"))
            }
            Identity::Generated => {
                self.next += 1;
                format!("{short}-{:04}", self.next)
            }
        }
    }
}

#[async_trait]
impl ResourceOps for MemoryCloud {
    /// Data sources over what the in-memory cloud holds: the kinds that look up a resource
    /// type find it by `id` or by every filter key (tags: each tag) matching its properties.
    async fn read_data(&self, kind: &'static crate::data::DataKind, filter: &Props) -> Result<Props, ProviderError> {
        let mut inner = self.lock();
        inner.calls.push(format!("data {}", kind.name));
        let ty = match kind.name {
            "aws.caller_identity" => {
                let v = serde_json::json!({ "account_id": "000011112222", "arn": "arn:aws:iam::000011112222:user/test", "user_id": "AIDTEST" });
                return Ok(v.as_object().cloned().unwrap_or_default());
            }
            "aws.region" => {
                return Ok(serde_json::json!({ "name": "us-east-1" }).as_object().cloned().unwrap_or_default())
            }
            "aws.ec2.subnets" => "aws.ec2.subnet",
            other => other,
        };
        let matches = |id: &str, props: &Props| {
            filter.iter().all(|(k, want)| match (k.as_str(), want) {
                ("id", w) => w.as_str() == Some(id),
                ("tags", Value::Object(tags)) => {
                    tags.iter().all(|(tk, tv)| props.get("tags").and_then(|t| t.get(tk)) == Some(tv))
                }
                (k, w) => props.get(k) == Some(w),
            })
        };
        let mut found: Vec<Props> = inner
            .resources
            .iter()
            .filter(|(id, (t, _, p))| t == ty && matches(id, p))
            .map(|(id, (_, _, p))| {
                let mut a = p.clone();
                a.insert("id".into(), Value::String(id.clone()));
                a
            })
            .collect();
        if kind.name == "aws.ec2.subnets" {
            let list = |k: &str| Value::Array(found.iter().map(|p| p.get(k).cloned().unwrap_or(Value::Null)).collect());
            if found.is_empty() {
                return Err(ProviderError {
                    kind: ErrorKind::NotFound,
                    ..ProviderError::new("NoMatch", "no subnet matches")
                });
            }
            let v = serde_json::json!({ "ids": list("id"), "cidr_blocks": list("cidr_block"), "availability_zones": list("availability_zone") });
            return Ok(v.as_object().cloned().unwrap_or_default());
        }
        match found.len() {
            1 => Ok(found.remove(0)),
            0 => Err(ProviderError {
                kind: ErrorKind::NotFound,
                ..ProviderError::new("NoMatch", format!("no {} matches", kind.name))
            }),
            n => Err(ProviderError::new("TooManyMatches", format!("{n} match"))),
        }
    }

    async fn create(
        &self,
        ty: &'static TypeSchema,
        address: &str,
        p: &Props,
        _op: &OpCtx,
    ) -> Result<Observed, ProviderError> {
        let delay = {
            let mut inner = self.lock();
            inner.in_flight += 1;
            inner.max_in_flight = inner.max_in_flight.max(inner.in_flight);
            inner.delay
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let mut inner = self.lock();
        inner.in_flight -= 1;
        inner.calls.push(format!("create {} {address}", ty.name));
        if let Some(e) = inner.fail_create.get(address) {
            return Err(e.clone());
        }
        let id = inner.id_for(ty, p);
        if inner.resources.contains_key(&id) && !inner.lax {
            return Err(ProviderError::new("ResourceAlreadyExists", format!("`{id}` already exists")));
        }
        let mut stored = p.clone();
        if inner.untagged_creates {
            stored.remove("tags");
        }
        inner.index(ty.name, &id, &stored);
        inner.resources.insert(id.clone(), (ty.name.into(), address.into(), stored));
        if let Some(i) = inner.never_ready.iter().position(|a| a == address) {
            inner.never_ready.remove(i);
            inner.failing_ready.push(id.clone());
        }
        Ok(Self::observed(ty, &id, p))
    }

    async fn read(
        &self,
        ty: &'static TypeSchema,
        ids: &[String],
        _op: &OpCtx,
    ) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut inner = self.lock();
        inner.calls.push(format!("read {} {}", ty.name, ids.join(",")));
        Ok(ids.iter().map(|id| inner.resources.get(id).map(|(_, _, p)| Self::observed(ty, id, p))).collect())
    }

    async fn update(
        &self,
        ty: &'static TypeSchema,
        id: &str,
        _old: &Props,
        new: &Props,
        _changed: &[String],
        _op: &OpCtx,
    ) -> Result<(), ProviderError> {
        let mut inner = self.lock();
        inner.calls.push(format!("update {} {id}", ty.name));
        match inner.resources.get_mut(id) {
            Some((_, _, props)) => {
                *props = new.clone();
                inner.index(ty.name, id, new);
                Ok(())
            }
            None => Err(ProviderError::new("NotFound", format!("{id} does not exist"))),
        }
    }

    async fn delete(&self, ty: &'static TypeSchema, id: &str, _p: &Props, _op: &OpCtx) -> Result<(), ProviderError> {
        let mut inner = self.lock();
        inner.calls.push(format!("delete {} {id}", ty.name));
        match inner.resources.remove(id) {
            Some(_) => Ok(()),
            None => Err(ProviderError::new("NotFound", format!("{id} does not exist"))),
        }
    }

    async fn ready(&self, ty: &'static TypeSchema, id: &str, _op: &OpCtx) -> Result<Readiness, ProviderError> {
        let _ = ty;
        let mut inner = self.lock();
        inner.poll_calls += 1;
        inner.readiness(id)
    }
    fn polls_many_at_once(&self, _ty: &'static TypeSchema) -> bool {
        self.lock().slow.is_some()
    }
    async fn ready_many(
        &self,
        ty: &'static TypeSchema,
        ids: &[String],
        _op: &OpCtx,
    ) -> Result<Vec<super::lifecycle::Polled>, ProviderError> {
        let mut inner = self.lock();
        inner.poll_calls += 1;
        inner.calls.push(format!("ready_many {} {}", ty.name, ids.len()));
        // Like a describe that reports status and configuration alike.
        ids.iter()
            .map(|id| {
                let seen = inner.resources.get(id).map(|(_, _, p)| Self::observed(ty, id, p));
                Ok((inner.readiness(id)?, seen))
            })
            .collect()
    }

    async fn find_owned(&self, ty: &'static TypeSchema, p: &Props, _op: &OpCtx) -> Result<Vec<String>, ProviderError> {
        let mut inner = self.lock();
        inner.calls.push(format!("find {}", ty.name));
        let Some(address) = crate::ownership::address(p) else { return Ok(Vec::new()) };
        let candidates = inner.by_owner.get(&(ty.name.to_string(), address.to_string())).cloned().unwrap_or_default();
        Ok(candidates
            .into_iter()
            .filter(|id| {
                inner
                    .resources
                    .get(id)
                    .is_some_and(|(t, _, props)| t == ty.name && crate::ownership::same_owner(p, props))
            })
            .collect())
    }

    async fn existing_id(
        &self,
        ty: &'static TypeSchema,
        p: &Props,
        _op: &OpCtx,
    ) -> Result<Option<String>, ProviderError> {
        let mut inner = self.lock();
        inner.calls.push(format!("find {}", ty.name));
        let names = ty.identity.props();
        if names.is_empty() {
            return Ok(None);
        }
        // A named resource's ID follows from its name: one look-up, not a scan.
        let id = inner.id_for(ty, p);
        Ok(inner
            .resources
            .get(&id)
            .filter(|(t, _, props)| t == ty.name && names.iter().all(|n| props.get(*n) == p.get(*n)))
            .map(|_| id))
    }
}
