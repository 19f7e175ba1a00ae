//! The journal: records each completed step in state and writes it at once, so state is
//! never behind what AWS holds. After a failed write it records nothing more, and the
//! executor starts nothing new.

use crate::plan::Change;
use crate::provider::{Observed, Props};
use crate::schema::TypeSchema;
use crate::state::{ResourceState, State, StateError, StateStore};
use serde_json::Value;

pub struct Journal<'a> {
    pub state: State,
    store: &'a dyn StateStore,
    pub error: Option<StateError>,
    /// Addresses put or removed since the last record or write.
    changed: Vec<String>,
    /// Whether steps were recorded (appended) since the state was last written whole.
    appended: bool,
}

/// What state records for a resource: the values sent (sensitive ones hashed), overlaid
/// with what the cloud reports.
pub(crate) fn recorded(state: &State, ty: &TypeSchema, derived: &[String], sent: &Props, obs: &Observed) -> Props {
    let mut props = Props::new();
    for (k, v) in sent {
        props.insert(k.clone(), if ty.secret(k, derived) { state.hash_sensitive(v) } else { v.clone() });
    }
    for (k, v) in &obs.properties {
        if ty.prop(k).is_some() && !ty.secret(k, derived) {
            props.insert(k.clone(), v.clone());
        }
    }
    props
}

impl<'a> Journal<'a> {
    pub fn new(state: State, store: &'a dyn StateStore) -> Journal<'a> {
        Journal { state, store, error: None, changed: Vec::new(), appended: false }
    }

    /// `address` exists as `obs`, made from the values `sent`; `pending`: it was created
    /// but is not ready yet (the next apply waits for it).
    pub fn put(
        &mut self,
        change: Option<&Change>,
        address: &str,
        ty: &TypeSchema,
        sent: &Props,
        obs: &Observed,
        pending: bool,
    ) {
        let mut attributes = obs.attributes.clone();
        attributes.insert("id".into(), Value::String(obs.id.clone()));
        let sensitive = change.map(|c| c.sensitive.clone()).unwrap_or_default();
        let properties = recorded(&self.state, ty, &sensitive, sent, obs);
        let dependencies = change.map(|c| c.dependencies.clone()).unwrap_or_default();
        self.changed.push(address.to_string());
        self.state.put(ResourceState {
            address: address.to_string(),
            ty: ty.name.to_string(),
            id: obs.id.clone(),
            properties,
            attributes,
            dependencies,
            pending: pending.then(|| "create".to_string()),
            sensitive,
        });
    }

    /// `address` is gone; returns the ID it had.
    pub fn remove(&mut self, address: &str) -> Option<String> {
        self.changed.push(address.to_string());
        self.state.remove(address).map(|r| r.id)
    }

    /// Record the step(s) since the last commit durably now (a new serial). Returns the
    /// error of a failed write, which is kept.
    pub async fn commit(&mut self) -> Result<(), &StateError> {
        if self.error.is_none() {
            self.state.serial += 1;
            let changed = std::mem::take(&mut self.changed);
            match self.store.record(&self.state, &changed).await {
                Ok(()) => self.appended = true,
                Err(e) => self.error = Some(e),
            }
        }
        self.result()
    }

    /// Called every second or so while steps run: a store that deferred a recorded step
    /// (S3's coalesced writes) gets the newest state now, not only at the next step.
    pub async fn tick(&mut self) {
        if self.error.is_none() && self.store.deferred() {
            if let Err(e) = self.store.record(&self.state, &[]).await {
                self.error = Some(e);
            }
        }
    }

    /// Write the whole state now (outputs, or folding what was recorded step by step).
    pub async fn write_all(&mut self) -> Result<(), &StateError> {
        if self.error.is_none() {
            self.state.serial += 1;
            self.changed.clear();
            match self.store.write(&self.state).await {
                Ok(()) => self.appended = false,
                Err(e) => self.error = Some(e),
            }
        }
        self.result()
    }

    /// At the end of a run: whatever was recorded step by step is folded into one write.
    pub async fn finish(&mut self) -> Result<(), &StateError> {
        if self.appended {
            return self.write_all().await;
        }
        self.result()
    }

    fn result(&self) -> Result<(), &StateError> {
        match &self.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
