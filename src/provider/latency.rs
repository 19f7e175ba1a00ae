//! `Latency<R>`: every call of a [`ResourceOps`] takes a fixed time and is counted, so the
//! engine can be measured as against a cloud 20 ms away (`scripts/bench`), without one.

use super::lifecycle::{Readiness, ResourceOps};
use super::{Observed, OpCtx, Props, ProviderError};
use crate::schema::TypeSchema;
use async_trait::async_trait;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub struct Latency<R> {
    inner: R,
    per_call: Duration,
    calls: AtomicUsize,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

impl<R> Latency<R> {
    pub fn new(inner: R, per_call: Duration) -> Latency<R> {
        Latency {
            inner,
            per_call,
            calls: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// Calls made so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// The most calls that were in flight at once.
    pub fn peak_in_flight(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    async fn wait(&self) -> Guard<'_> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        let guard = Guard(&self.in_flight);
        if !self.per_call.is_zero() {
            tokio::time::sleep(self.per_call).await;
        }
        guard
    }
}

struct Guard<'a>(&'a AtomicUsize);

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl<R: ResourceOps> ResourceOps for Latency<R> {
    async fn create(
        &self,
        ty: &'static TypeSchema,
        address: &str,
        p: &Props,
        op: &OpCtx,
    ) -> Result<Observed, ProviderError> {
        let _g = self.wait().await;
        self.inner.create(ty, address, p, op).await
    }
    async fn read(
        &self,
        ty: &'static TypeSchema,
        ids: &[String],
        op: &OpCtx,
    ) -> Result<Vec<Option<Observed>>, ProviderError> {
        let _g = self.wait().await;
        self.inner.read(ty, ids, op).await
    }
    async fn update(
        &self,
        ty: &'static TypeSchema,
        id: &str,
        old: &Props,
        new: &Props,
        changed: &[String],
        op: &OpCtx,
    ) -> Result<(), ProviderError> {
        let _g = self.wait().await;
        self.inner.update(ty, id, old, new, changed, op).await
    }
    async fn delete(&self, ty: &'static TypeSchema, id: &str, p: &Props, op: &OpCtx) -> Result<(), ProviderError> {
        let _g = self.wait().await;
        self.inner.delete(ty, id, p, op).await
    }
    async fn ready(&self, ty: &'static TypeSchema, id: &str, op: &OpCtx) -> Result<Readiness, ProviderError> {
        let _g = self.wait().await;
        self.inner.ready(ty, id, op).await
    }
    async fn read_data(
        &self,
        kind: &'static crate::data::DataKind,
        filter: &crate::provider::Props,
    ) -> Result<crate::provider::Props, ProviderError> {
        self.inner.read_data(kind, filter).await
    }
    fn polls_many_at_once(&self, ty: &'static TypeSchema) -> bool {
        self.inner.polls_many_at_once(ty)
    }
    async fn ready_many(
        &self,
        ty: &'static TypeSchema,
        ids: &[String],
        op: &OpCtx,
    ) -> Result<Vec<crate::provider::lifecycle::Polled>, ProviderError> {
        let _g = self.wait().await;
        self.inner.ready_many(ty, ids, op).await
    }
    async fn find_owned(&self, ty: &'static TypeSchema, p: &Props, op: &OpCtx) -> Result<Vec<String>, ProviderError> {
        let _g = self.wait().await;
        self.inner.find_owned(ty, p, op).await
    }
    async fn existing_id(
        &self,
        ty: &'static TypeSchema,
        p: &Props,
        op: &OpCtx,
    ) -> Result<Option<String>, ProviderError> {
        let _g = self.wait().await;
        self.inner.existing_id(ty, p, op).await
    }
}
