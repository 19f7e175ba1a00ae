//! An in-memory provider for engine tests: resources are JSON maps in a table, IDs are
//! sequential, and failures can be injected per address or per type.

use super::{CreateRequest, Observed, OpCtx, Props, Provider, ProviderError, UpdateRequest};
use crate::schema::TypeSchema;
use async_trait::async_trait;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryProvider {
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
    /// Every call made, as `op type id-or-address`, in order.
    calls: Vec<String>,
    /// How long each create takes, and the most creates seen in flight at once.
    delay: std::time::Duration,
    in_flight: usize,
    max_in_flight: usize,
}

impl MemoryProvider {
    pub fn new() -> MemoryProvider {
        MemoryProvider::default()
    }

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

    /// Change a live resource behind cloudbridge's back (drift).
    pub fn tamper(&self, address: &str, prop: &str, value: Value) {
        let mut inner = self.lock();
        if let Some((_, _, props)) = inner.resources.values_mut().find(|(_, a, _)| a == address) {
            props.insert(prop.into(), value);
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

#[async_trait]
impl Provider for MemoryProvider {
    async fn create(&self, req: CreateRequest<'_>) -> Result<Observed, ProviderError> {
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
        inner.calls.push(format!("create {} {}", req.ty.name, req.address));
        if let Some(e) = inner.fail_create.get(req.address) {
            return Err(e.clone());
        }
        inner.next += 1;
        let short = req.ty.name.rsplit('.').next().unwrap_or("res");
        let id = format!("{short}-{:04}", inner.next);
        inner.resources.insert(id.clone(), (req.ty.name.into(), req.address.into(), req.props.clone()));
        if let Some(i) = inner.never_ready.iter().position(|a| a == req.address) {
            inner.never_ready.remove(i);
            let mut e =
                ProviderError::new("WaitTimeout", format!("`{}` was still `creating` after the timeout", req.address));
            e.created_id = Some(id);
            return Err(e);
        }
        Ok(Self::observed(req.ty, &id, req.props))
    }

    async fn read(&self, ty: &'static TypeSchema, ids: &[String]) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut inner = self.lock();
        inner.calls.push(format!("read {} {}", ty.name, ids.join(",")));
        Ok(ids.iter().map(|id| inner.resources.get(id).map(|(_, _, p)| Self::observed(ty, id, p))).collect())
    }

    async fn update(&self, req: UpdateRequest<'_>) -> Result<Observed, ProviderError> {
        let (ty, id, new) = (req.ty, req.id, req.new);
        let mut inner = self.lock();
        inner.calls.push(format!("update {} {id}", ty.name));
        match inner.resources.get_mut(id) {
            Some((_, _, props)) => {
                *props = new.clone();
                Ok(Self::observed(ty, id, new))
            }
            None => Err(ProviderError::new("NotFound", format!("{id} does not exist"))),
        }
    }

    async fn delete(
        &self,
        ty: &'static TypeSchema,
        id: &str,
        _props: &Props,
        _ctx: &OpCtx,
    ) -> Result<(), ProviderError> {
        let mut inner = self.lock();
        inner.calls.push(format!("delete {} {id}", ty.name));
        inner.resources.remove(id);
        Ok(())
    }
}
