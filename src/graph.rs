//! The dependency graph (petgraph): an edge from a resource to each resource it references
//! or names in `depends_on`. Deterministic orderings for plans and walks; cycles become
//! diagnostics that print the cycle.

use crate::config::Stack;
use crate::diag::Diagnostic;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;
use std::collections::{BTreeMap, BTreeSet};

/// Nodes are resource addresses; an edge `a → b` means `a` depends on `b`.
#[derive(Debug, Clone, Default)]
pub struct DepGraph {
    graph: DiGraph<String, ()>,
    index: BTreeMap<String, NodeIndex>,
}

impl DepGraph {
    /// Build from `(address, dependencies)`; dependencies not among the nodes are ignored
    /// (config validation has already reported them).
    pub fn new(nodes: impl IntoIterator<Item = (String, Vec<String>)>) -> DepGraph {
        let mut g = DepGraph::default();
        let nodes: Vec<_> = nodes.into_iter().collect();
        for (name, _) in &nodes {
            let ix = g.graph.add_node(name.clone());
            g.index.insert(name.clone(), ix);
        }
        for (name, deps) in &nodes {
            let a = g.index[name];
            let deps: BTreeSet<&String> = deps.iter().collect();
            for d in deps {
                if let Some(&b) = g.index.get(d) {
                    g.graph.add_edge(a, b, ());
                }
            }
        }
        g
    }

    pub fn from_stack(stack: &Stack) -> DepGraph {
        DepGraph::new(stack.resources.iter().map(|r| (r.name.clone(), stack_deps(r))))
    }

    /// Every address in the graph, sorted.
    pub fn addresses(&self) -> impl Iterator<Item = &str> {
        self.index.keys().map(String::as_str)
    }

    pub fn contains(&self, addr: &str) -> bool {
        self.index.contains_key(addr)
    }

    /// Direct dependencies of `addr`, sorted.
    pub fn dependencies(&self, addr: &str) -> Vec<String> {
        self.neighbours(addr, Direction::Outgoing)
    }

    /// Direct dependents of `addr`, sorted.
    pub fn dependents(&self, addr: &str) -> Vec<String> {
        self.neighbours(addr, Direction::Incoming)
    }

    fn neighbours(&self, addr: &str, dir: Direction) -> Vec<String> {
        let Some(&ix) = self.index.get(addr) else {
            return Vec::new();
        };
        let mut v: Vec<String> = self.graph.neighbors_directed(ix, dir).map(|n| self.graph[n].clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// `addrs` and everything they depend on, transitively.
    pub fn with_dependencies(&self, addrs: &[String]) -> BTreeSet<String> {
        self.closure(addrs, Direction::Outgoing)
    }

    /// `addrs` and everything that depends on them, transitively.
    pub fn with_dependents(&self, addrs: &[String]) -> BTreeSet<String> {
        self.closure(addrs, Direction::Incoming)
    }

    fn closure(&self, addrs: &[String], dir: Direction) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<String> = addrs.to_vec();
        while let Some(a) = todo.pop() {
            if seen.insert(a.clone()) {
                todo.extend(self.neighbours(&a, dir));
            }
        }
        seen
    }

    /// Dependencies first; ties broken by name, so the order is stable.
    pub fn topo_order(&self) -> Vec<String> {
        let mut remaining: BTreeMap<&str, usize> = self
            .index
            .iter()
            .map(|(n, &ix)| (n.as_str(), self.graph.neighbors_directed(ix, Direction::Outgoing).count()))
            .collect();
        let mut ready: BTreeSet<&str> = remaining.iter().filter(|(_, &c)| c == 0).map(|(n, _)| *n).collect();
        let mut order = Vec::new();
        while let Some(n) = ready.pop_first() {
            remaining.remove(n);
            order.push(n.to_string());
            for d in self.graph.neighbors_directed(self.index[n], Direction::Incoming) {
                let name = self.graph[d].as_str();
                if let Some(c) = remaining.get_mut(name) {
                    *c -= 1;
                    if *c == 0 {
                        ready.insert(name);
                    }
                }
            }
        }
        order
    }

    /// Every cycle, as the list of addresses around it (first one repeated at the end).
    pub fn cycles(&self) -> Vec<Vec<String>> {
        let mut cycles = Vec::new();
        for scc in tarjan_scc(&self.graph) {
            let self_loop = scc.len() == 1 && self.graph.contains_edge(scc[0], scc[0]);
            if scc.len() < 2 && !self_loop {
                continue;
            }
            let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
            let start = *scc.iter().min_by_key(|ix| &self.graph[**ix]).unwrap_or(&scc[0]);
            // Walk inside the component, always to the smallest unvisited member.
            let mut path = vec![start];
            let mut cur = start;
            loop {
                let mut next: Vec<NodeIndex> =
                    self.graph.neighbors_directed(cur, Direction::Outgoing).filter(|n| members.contains(n)).collect();
                next.sort_by_key(|n| &self.graph[*n]);
                if next.contains(&start) && (path.len() == members.len() || next.iter().all(|n| path.contains(n))) {
                    break;
                }
                match next.into_iter().find(|n| !path.contains(n)) {
                    Some(n) => {
                        path.push(n);
                        cur = n;
                    }
                    None => break,
                }
            }
            let mut names: Vec<String> = path.iter().map(|ix| self.graph[*ix].clone()).collect();
            names.push(self.graph[start].clone());
            cycles.push(names);
        }
        cycles.sort();
        cycles
    }

    /// Graphviz DOT, dependents pointing at their dependencies; `label` gives each node's
    /// label, already escaped (see [`crate::draw::dot`]).
    pub fn to_dot(&self, label: impl Fn(&str) -> String) -> String {
        crate::draw::dependencies_dot(&self.drawn(), label)
    }

    /// The graph as a Mermaid flowchart (GitHub renders it in Markdown).
    pub fn to_mermaid(&self, label: impl Fn(&str) -> String) -> String {
        crate::draw::dependencies_mermaid(&self.drawn(), label)
    }

    /// Every node with its dependencies, in address order: what the drawings show.
    fn drawn(&self) -> Vec<(&str, Vec<String>)> {
        self.index.keys().map(|name| (name.as_str(), self.dependencies(name))).collect()
    }
}

/// What a stack resource depends on: its references (not data sources) plus `depends_on`.
pub fn stack_deps(r: &crate::config::Resource) -> Vec<String> {
    let mut refs = Vec::new();
    for e in r.props.values() {
        e.refs(&mut refs);
    }
    // Data sources are read at plan time: values, not nodes of the graph.
    let mut deps: Vec<String> = refs.into_iter().map(|r| r.resource).filter(|a| !a.starts_with("data.")).collect();
    deps.extend(r.depends_on.iter().map(|(d, _)| d.clone()));
    deps.sort();
    deps.dedup();
    deps
}

/// Build the stack's graph, reporting every reference cycle.
pub fn build(stack: &Stack) -> Result<DepGraph, Vec<Diagnostic>> {
    let g = DepGraph::from_stack(stack);
    let diags: Vec<Diagnostic> = g
        .cycles()
        .into_iter()
        .map(|cycle| {
            let first = stack.resource(&cycle[0]).map(|r| r.span.clone());
            let d = Diagnostic::error(
                "Reference cycle",
                format!("these resources depend on each other: {}", cycle.join(" → ")),
            )
            .hint("break the cycle: remove one of these references or `depends_on` entries");
            match first {
                Some(s) => d.at(&s),
                None => d,
            }
        })
        .collect();
    if diags.is_empty() {
        Ok(g)
    } else {
        Err(diags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(edges: &[(&str, &[&str])]) -> DepGraph {
        DepGraph::new(edges.iter().map(|(n, d)| (n.to_string(), d.iter().map(|s| s.to_string()).collect())))
    }

    #[test]
    fn topo_order_is_deterministic() {
        let g = g(&[
            ("subnet_b", &["vpc"]),
            ("subnet_a", &["vpc"]),
            ("vpc", &[]),
            ("rt", &["subnet_a", "subnet_b", "vpc"]),
        ]);
        assert_eq!(g.topo_order(), vec!["vpc", "subnet_a", "subnet_b", "rt"]);
        assert_eq!(g.dependents("vpc"), vec!["rt", "subnet_a", "subnet_b"]);
        assert!(g.cycles().is_empty());
    }

    #[test]
    fn cycles_are_printed_in_order() {
        let g = g(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &["d"])]);
        assert_eq!(g.cycles(), vec![vec!["a", "b", "c", "a"], vec!["d", "d"]]);
    }

    #[test]
    fn closures() {
        let g = g(&[("a", &["b"]), ("b", &["c"]), ("c", &[]), ("x", &[])]);
        assert_eq!(g.with_dependencies(&["a".into()]).len(), 3);
        assert_eq!(g.with_dependents(&["c".into()]).into_iter().collect::<Vec<_>>(), vec!["a", "b", "c"]);
    }
}
