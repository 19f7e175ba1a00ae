//! The engine: refresh state from the cloud, and execute a plan. The executor never
//! decides anything: it runs the plan's changes in dependency order and records each
//! result in state as soon as it happens.

mod apply;
mod journal;
mod refresh;
#[cfg(test)]
mod tests;
mod walk;

pub use crate::plan::StepKind;
pub use apply::{apply, ApplyOptions, ApplyOutcome, Event, Failure, InFlight, Progress};
#[cfg(test)]
pub(crate) use journal::recorded;
pub use refresh::{read_data, read_imports, refresh, RefreshError};

use crate::expr::Ref;
use crate::state::State;
use serde_json::Value;

/// Value of `${resource.attr}` while `plan` is applied: from state, except where state
/// holds only a hash of a secret (set from a sensitive variable): that value is the one
/// the plan sends.
pub fn plan_lookup(plan: &crate::plan::Plan, state: &State, r: &Ref) -> Option<Value> {
    if r.resource.starts_with("data.") {
        return plan.data.iter().find(|d| d.address == r.resource)?.attrs.get(&r.attr).cloned();
    }
    let res = state.get(&r.resource)?;
    if res.sensitive.contains(&r.attr) {
        let e = plan.change(&r.resource)?.config.get(&r.attr)?;
        return Some(e.resolve(&|inner: &Ref| plan_lookup(plan, state, inner)));
    }
    state_lookup(state, r)
}

/// Value of `${resource.attr}` from state: an exported attribute, else a property.
pub fn state_lookup(state: &State, r: &Ref) -> Option<Value> {
    let res = state.get(&r.resource)?;
    if r.attr == "id" {
        return Some(Value::String(res.id.clone()));
    }
    res.attributes.get(&r.attr).or_else(|| res.properties.get(&r.attr)).cloned()
}
