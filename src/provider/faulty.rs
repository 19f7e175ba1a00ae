//! A fault-injecting wrapper at the lifecycle's seam: [`Faulty<R>`] passes every call to
//! `R`, except the ones a rule picks (the Nth call of an operation, optionally of one
//! type), which are throttled, fail with a 5xx, take effect but lose their answer, answer
//! with a given error, or panic. The lifecycle's recovery is unit-tested through it.

use super::{ErrorKind, Observed, OpCtx, Props, ProviderError, Readiness, ResourceOps};
use crate::schema::TypeSchema;
use async_trait::async_trait;
use std::sync::Mutex;

/// The operations of [`ResourceOps`], as rules name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Read,
    Update,
    Delete,
    Ready,
    FindOwned,
    ExistingId,
}

#[derive(Debug, Clone)]
pub enum Fault {
    /// Refused before it did anything: throttled (transient).
    Throttle,
    /// Failed before it did anything with a 500 (transient).
    ServerError,
    /// It took effect, then the answer was lost (transient).
    LostAfterEffect,
    /// Answered with this error, without doing anything.
    Error(ProviderError),
    Panic,
}

struct Rule {
    op: Op,
    ty: Option<&'static str>,
    nth: u32,
    fault: Fault,
    seen: u32,
}

pub struct Faulty<R> {
    inner: R,
    rules: Mutex<Vec<Rule>>,
    injected: Mutex<Vec<String>>,
}

fn transient(code: &str, message: &str) -> ProviderError {
    ProviderError { kind: ErrorKind::Transient, transient: true, ..ProviderError::new(code, message) }
}

impl<R> Faulty<R> {
    pub fn new(inner: R) -> Faulty<R> {
        Faulty { inner, rules: Mutex::new(Vec::new()), injected: Mutex::new(Vec::new()) }
    }

    /// Inject `fault` at the `nth` (1-based) call of `op`, of any type.
    pub fn at(self, op: Op, nth: u32, fault: Fault) -> Faulty<R> {
        self.rule(op, None, nth, fault)
    }

    /// Inject `fault` at the `nth` (1-based) call of `op` on the type named `ty`.
    pub fn at_type(self, op: Op, ty: &'static str, nth: u32, fault: Fault) -> Faulty<R> {
        self.rule(op, Some(ty), nth, fault)
    }

    fn rule(self, op: Op, ty: Option<&'static str>, nth: u32, fault: Fault) -> Faulty<R> {
        self.rules.lock().unwrap_or_else(|e| e.into_inner()).push(Rule { op, ty, nth, fault, seen: 0 });
        self
    }

    /// The faults injected so far, as `op type fault`.
    pub fn injected(&self) -> Vec<String> {
        self.injected.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The fault for this call, if a rule picks it (every rule counts every call it matches).
    fn pick(&self, op: Op, ty: &TypeSchema) -> Option<Fault> {
        let mut rules = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        let mut picked = None;
        for r in rules.iter_mut().filter(|r| r.op == op && r.ty.is_none_or(|t| t == ty.name)) {
            r.seen += 1;
            if r.seen == r.nth && picked.is_none() {
                picked = Some(r.fault.clone());
            }
        }
        if let Some(f) = &picked {
            self.injected.lock().unwrap_or_else(|e| e.into_inner()).push(format!("{op:?} {} {f:?}", ty.name));
        }
        picked
    }

    /// Run `call` under the fault picked for it, if any.
    async fn run<T, F>(&self, op: Op, ty: &TypeSchema, call: F) -> Result<T, ProviderError>
    where
        F: std::future::Future<Output = Result<T, ProviderError>>,
    {
        match self.pick(op, ty) {
            None => call.await,
            Some(Fault::Throttle) => Err(transient("ThrottlingException", "Rate exceeded")),
            Some(Fault::ServerError) => Err(transient("InternalFailure", "We encountered an internal error")),
            Some(Fault::LostAfterEffect) => {
                let _ = call.await;
                Err(transient("RequestFailed", "connection reset: the answer was lost"))
            }
            Some(Fault::Error(e)) => Err(e),
            Some(Fault::Panic) => panic!("injected panic in {op:?} of {}", ty.name),
        }
    }
}

#[async_trait]
impl<R: ResourceOps> ResourceOps for Faulty<R> {
    async fn create(
        &self,
        ty: &'static TypeSchema,
        address: &str,
        p: &Props,
        op: &OpCtx,
    ) -> Result<Observed, ProviderError> {
        self.run(Op::Create, ty, self.inner.create(ty, address, p, op)).await
    }
    async fn read(
        &self,
        ty: &'static TypeSchema,
        ids: &[String],
        op: &OpCtx,
    ) -> Result<Vec<Option<Observed>>, ProviderError> {
        self.run(Op::Read, ty, self.inner.read(ty, ids, op)).await
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
        self.run(Op::Update, ty, self.inner.update(ty, id, old, new, changed, op)).await
    }
    async fn delete(&self, ty: &'static TypeSchema, id: &str, p: &Props, op: &OpCtx) -> Result<(), ProviderError> {
        self.run(Op::Delete, ty, self.inner.delete(ty, id, p, op)).await
    }
    async fn ready(&self, ty: &'static TypeSchema, id: &str, op: &OpCtx) -> Result<Readiness, ProviderError> {
        self.run(Op::Ready, ty, self.inner.ready(ty, id, op)).await
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
        self.run(Op::Ready, ty, self.inner.ready_many(ty, ids, op)).await
    }
    async fn find_owned(&self, ty: &'static TypeSchema, p: &Props, op: &OpCtx) -> Result<Vec<String>, ProviderError> {
        self.run(Op::FindOwned, ty, self.inner.find_owned(ty, p, op)).await
    }
    async fn existing_id(
        &self,
        ty: &'static TypeSchema,
        p: &Props,
        op: &OpCtx,
    ) -> Result<Option<String>, ProviderError> {
        self.run(Op::ExistingId, ty, self.inner.existing_id(ty, p, op)).await
    }
}

impl<R> std::ops::Deref for Faulty<R> {
    type Target = R;
    fn deref(&self) -> &R {
        &self.inner
    }
}
