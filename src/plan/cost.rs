//! A plan's cost: each resource's monthly estimate before and after the plan (priced by
//! [`crate::cost`], an ECS service through its task definition), the totals in cents as a
//! saved plan keeps them, what was assumed, and `cloudbridge cost`'s breakdown. An
//! estimate that is not a finite amount within [`MAX_MONTHLY`] is left out.

use super::{Action, Change, Plan};
use crate::cost::{dollars, estimate, fargate, prices_date, Assumptions, Estimate, ASSUMPTIONS, MAX_MONTHLY};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The cost of a plan: each resource before and after, the totals, what was assumed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanCost {
    pub prices_date: String,
    pub before: f64,
    pub after: f64,
    pub resources: Vec<ResourceCost>,
    pub assumptions: Assumptions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceCost {
    pub address: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub before: Option<f64>,
    pub after: Option<f64>,
    pub how: String,
    pub usage_based: bool,
}

impl PlanCost {
    /// `Cost: $1,912/mo → $2,040/mo (+$128)`.
    pub fn line(&self) -> String {
        let delta = self.after - self.before;
        let sign = if delta >= 0.0 { "+" } else { "-" };
        format!(
            "Cost: {}/mo → {}/mo ({sign}{}), estimated from {} list prices; `cloudbridge cost` shows the breakdown and assumptions.",
            dollars(self.before),
            dollars(self.after),
            dollars(delta.abs()),
            self.prices_date
        )
    }
}

/// An estimate a plan can hold: a finite amount within [`MAX_MONTHLY`].
fn finite(e: &Estimate) -> bool {
    e.monthly.is_finite() && e.monthly.abs() <= MAX_MONTHLY
}

/// The cost of a plan: every resource of the stack or state before and after it.
pub fn plan_cost(plan: &Plan, a: &Assumptions) -> PlanCost {
    let props = |c: &Change, after: bool| -> Option<Map<String, Value>> {
        match (c.action, after) {
            (Action::Create, false) | (Action::Delete, true) => None,
            (Action::NoOp, _) => c.after.clone().or_else(|| c.before.clone()),
            (_, true) => c.after.clone(),
            (_, false) => c.before.clone(),
        }
    };
    let price = |c: &Change, after: bool| -> Option<Estimate> {
        let p = props(c, after)?;
        if c.ty == "aws.ecs.service" {
            // The service runs its task definition's tasks: the one its config refers to.
            let mut refs = Vec::new();
            if let Some(e) = c.config.get("task_definition") {
                e.refs(&mut refs);
            }
            let task = refs.iter().find_map(|r| plan.changes.iter().find(|t| t.address == r.resource))?;
            return fargate(&p, &props(task, after)?, a).filter(finite);
        }
        estimate(&c.ty, &p, a).filter(finite)
    };
    // Cents: what is shown, and what a saved plan's digest survives (short decimals read
    // back exactly).
    let cents = |x: f64| (x * 100.0).round() / 100.0 + 0.0;
    let mut resources = Vec::new();
    for c in &plan.changes {
        let (before, after) = (price(c, false), price(c, true));
        let Some(shown) = after.as_ref().or(before.as_ref()) else { continue };
        resources.push(ResourceCost {
            address: c.address.clone(),
            ty: c.ty.clone(),
            before: before.as_ref().map(|e| cents(e.monthly)),
            after: after.as_ref().map(|e| cents(e.monthly)),
            how: shown.how.clone(),
            usage_based: shown.usage_based,
        });
    }
    PlanCost {
        prices_date: prices_date().to_string(),
        before: cents(resources.iter().filter_map(|r| r.before).sum()),
        after: cents(resources.iter().filter_map(|r| r.after).sum()),
        resources,
        assumptions: a.clone(),
    }
}

/// `cloudbridge cost`: each priced resource, the total, and every assumption.
pub fn breakdown(c: &PlanCost) -> String {
    let mut s = format!("Estimated monthly cost (list prices of {}, us-east-1, on demand):\n\n", c.prices_date);
    let width = c.resources.iter().map(|r| r.address.len()).max().unwrap_or(0);
    for r in &c.resources {
        let now = r.after.map_or_else(|| "(removed)".to_string(), dollars);
        let was = match (r.before, r.after) {
            (Some(b), Some(a)) if (b - a).abs() >= 0.005 => format!(" (was {})", dollars(b)),
            (Some(b), None) => format!(" (was {})", dollars(b)),
            (None, Some(_)) => " (new)".to_string(),
            _ => String::new(),
        };
        let usage = if r.usage_based { " [usage-based]" } else { "" };
        s += &format!("  {:width$}  {now:>10}/mo{was}  {}{usage}\n", r.address, r.how);
    }
    s += &format!(
        "\n  Total: {}/mo (now {}/mo)\n\nAssumptions (override per environment under `cost:`):\n",
        dollars(c.after),
        dollars(c.before)
    );
    for (k, v, _, what) in ASSUMPTIONS {
        let value = c.assumptions.0.get(*k).copied().unwrap_or(*v);
        let set = if (value - v).abs() > f64::EPSILON { " (set by the environment)" } else { "" };
        s += &format!("  {k} = {value}{set}: {what}\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// No assumption, property or sum can put a non-finite number into a plan: an estimate
    /// that is not a finite amount below the cap is left out, and a saved plan reads back.
    #[test]
    fn a_plan_with_absurd_assumptions_holds_only_finite_amounts_and_reads_back() {
        let (stack, g) = crate::testutil::stack(
            "resources:\n  a: { type: aws.s3.bucket, properties: { bucket: budget-a-1 } }\n  b: { type: aws.s3.bucket, properties: { bucket: budget-b-1 } }\n",
        );
        let mut plan = crate::testutil::plan_for(&stack, &g, &crate::state::State::new("t", "test"), &[], false);
        let huge = BTreeMap::from([("s3_gb_per_bucket".to_string(), 1e308)]);
        plan.cost = Some(plan_cost(&plan, &Assumptions::new(&huge)));
        let cost = plan.cost.as_ref().unwrap();
        assert!(cost.before.is_finite() && cost.after.is_finite(), "{cost:?}");
        assert!(cost.resources.iter().flat_map(|r| [r.before, r.after]).flatten().all(f64::is_finite), "{cost:?}");
        assert!(!cost.line().contains("inf"), "{}", cost.line());
        let cat = crate::testutil::catalog();
        let opened = crate::plan::open(&crate::plan::seal(&plan, &cat), std::path::Path::new("p.plan"), &cat);
        assert!(opened.is_ok(), "{opened:?}");
    }
}
