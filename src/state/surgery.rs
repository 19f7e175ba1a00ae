//! Changes to state that touch nothing in AWS: moving an address (a rename in the stack,
//! `moved:` and `state mv`) and forgetting one (`removed:` and `state rm`). Pure; the
//! commands and the executor take the lock and write the result.

use super::State;

/// The addresses `addr` stands for in `state`: itself, or, for a resource with instances
/// (`queue`), every `queue[…]`, or for a module (`module.db`), everything in it.
pub fn matching(state: &State, addr: &str) -> Vec<String> {
    if state.get(addr).is_some() {
        return vec![addr.to_string()];
    }
    let (instances, inside) = (format!("{addr}["), format!("{addr}."));
    let module = addr.starts_with("module.") || addr.contains(".module.");
    state
        .resources
        .iter()
        .filter(|r| r.address.starts_with(&instances) || (module && r.address.starts_with(&inside)))
        .map(|r| r.address.clone())
        .collect()
}

impl State {
    /// Move `from` to `to`: one resource or instance, or every instance of a resource
    /// (`queue` → `jobs` keeps each key). Returns each (old, new) address moved; what
    /// depended on an old address depends on the new one. Refused, changing nothing, if
    /// `from` is not in state or a new address is taken.
    pub fn move_address(&mut self, from: &str, to: &str) -> Result<Vec<(String, String)>, String> {
        let olds = matching(self, from);
        if olds.is_empty() {
            return Err(format!("there is no `{from}` in state"));
        }
        let pairs: Vec<(String, String)> = olds
            .iter()
            .map(|o| (o.clone(), if o == from { to.to_string() } else { format!("{to}{}", &o[from.len()..]) }))
            .collect();
        // Every instance of a resource keeps its key: it moves to a resource, not into one
        // instance of another (`q` to `x["k"]` would make `x["k"]["a"]`).
        if to.ends_with(']') && olds.iter().any(|o| o != from && o[from.len()..].starts_with('[')) {
            return Err(format!(
                "`{from}` has instances ({}), which keep their keys: move it to a resource address without one, or move each instance",
                olds.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
            ));
        }
        if let Some((_, bad)) = pairs.iter().find(|(_, n)| crate::addr::resource(n).ok().as_deref() != Some(n.as_str()))
        {
            return Err(format!("`{bad}` is not a resource address"));
        }
        if let Some((_, taken)) = pairs.iter().find(|(_, n)| self.get(n).is_some()) {
            return Err(format!("`{taken}` is already in state"));
        }
        for (old, new) in &pairs {
            if let Some(mut r) = self.remove(old) {
                r.address = new.clone();
                self.put(r);
            }
        }
        for r in &mut self.resources {
            for d in &mut r.dependencies {
                if let Some((_, new)) = pairs.iter().find(|(o, _)| o == d) {
                    *d = new.clone();
                }
            }
        }
        Ok(pairs)
    }

    /// Forget `addr` (a resource, an instance, or every instance of a resource) without
    /// touching it in AWS. Returns each (address, ID) forgotten.
    pub fn forget(&mut self, addr: &str) -> Result<Vec<(String, String)>, String> {
        let gone = matching(self, addr);
        if gone.is_empty() {
            return Err(format!("there is no `{addr}` in state"));
        }
        let out = gone.iter().filter_map(|a| self.remove(a).map(|r| (a.clone(), r.id))).collect();
        for r in &mut self.resources {
            r.dependencies.retain(|d| !gone.contains(d));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ResourceState;

    fn res(address: &str, deps: &[&str]) -> ResourceState {
        ResourceState {
            address: address.into(),
            ty: "aws.sqs.queue".into(),
            id: format!("id-{address}"),
            properties: Default::default(),
            attributes: Default::default(),
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
            pending: None,
            sensitive: Vec::new(),
        }
    }

    fn state() -> State {
        let mut s = State::new("st", "dev");
        for r in [res("raw", &[]), res("q[\"a\"]", &["raw"]), res("q[\"b\"]", &[]), res("job", &["q[\"a\"]"])] {
            s.put(r);
        }
        s
    }

    fn addresses(s: &State) -> Vec<&str> {
        s.resources.iter().map(|r| r.address.as_str()).collect()
    }

    #[test]
    fn a_move_renames_and_follows_dependencies() {
        let mut s = state();
        assert_eq!(s.move_address("raw", "landing"), Ok(vec![("raw".into(), "landing".into())]));
        assert_eq!(s.get("landing").map(|r| r.id.as_str()), Some("id-raw"));
        assert_eq!(s.get("q[\"a\"]").unwrap().dependencies, vec!["landing"]);
        // A whole resource keeps its keys; one instance can move into another resource.
        let moved = s.move_address("q", "queue").unwrap();
        assert_eq!(moved.len(), 2);
        assert_eq!(s.get("job").unwrap().dependencies, vec!["queue[\"a\"]"]);
        s.move_address("queue[\"b\"]", "single").unwrap();
        assert_eq!(addresses(&s), vec!["job", "landing", "queue[\"a\"]", "single"]);
    }

    #[test]
    fn a_move_onto_a_taken_address_or_from_nothing_changes_nothing() {
        let mut s = state();
        let before = s.clone();
        assert_eq!(s.move_address("raw", "job"), Err("`job` is already in state".into()));
        assert_eq!(s.move_address("nope", "x"), Err("there is no `nope` in state".into()));
        assert_eq!(s, before);
    }

    /// A whole resource moves to a resource, never into an instance of one: before, `q`
    /// moved to `x["k"]` made `x["k"]["a"]`, an address nothing can name.
    #[test]
    fn instances_never_move_under_an_instance_or_a_module() {
        let mut s = state();
        let before = s.clone();
        let e = s.move_address("q", "x[\"k\"]").unwrap_err();
        assert!(e.contains("has instances (`q[\"a\"]`, `q[\"b\"]`)"), "{e}");
        assert_eq!(s.move_address("raw", "module.db"), Err("`module.db` is not a resource address".into()));
        assert_eq!(s, before);
        // Into a module, a resource keeps its keys.
        assert_eq!(s.move_address("q", "module.db.q").unwrap().len(), 2);
        assert!(s.get("module.db.q[\"a\"]").is_some());
        assert!(s.problems().is_empty());
    }

    #[test]
    fn state_holding_what_no_address_is_has_problems() {
        let mut s = state();
        assert!(s.problems().is_empty());
        s.put(res("not an address!", &["q[\"a\"]", "x[\"a\"b\"]"]));
        let mut forged = res("raw", &[]);
        forged.id = "i-1\n\nPlan: 0 to add.\u{1b}[2K".into();
        s.put(forged);
        let p = s.problems();
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(p[2].contains("with the ID `i-1\\n\\nPlan: 0 to add.\\u{1b}[2K`, which no AWS ID is"), "{p:?}");
        assert!(p[0].contains("holds `not an address!`"), "{p:?}");
        assert!(p[1].contains("depend on `x[\\\"a\\\"b\\\"]`"), "{p:?}");
    }

    #[test]
    fn forgetting_drops_the_entries_and_the_edges_to_them() {
        let mut s = state();
        assert_eq!(s.forget("q").unwrap().len(), 2);
        assert_eq!(addresses(&s), vec!["job", "raw"]);
        assert!(s.get("job").unwrap().dependencies.is_empty());
        assert!(s.forget("q").is_err());
    }
}
