//! Drawing graphs as text: Graphviz DOT (`dot` escapes a name for it) and Mermaid
//! flowcharts (`Mermaid`, which GitHub renders in Markdown). The dependency graph
//! (`graph --format`), the data paths (`graph --data-paths`) and the pull-request summary's
//! diagram of what changes are all drawn with these. Pure; it knows nothing of
//! resources, only names and edges.

/// A dependency graph as Graphviz DOT: `graph` holds each node with what it depends on,
/// dependents pointing at their dependencies; `label` gives each node's label, already
/// escaped (see [`dot`]).
pub fn dependencies_dot(graph: &[(&str, Vec<String>)], label: impl Fn(&str) -> String) -> String {
    let mut s = String::from("digraph cloudbridge {\n  rankdir = \"RL\";\n  node [shape = box];\n");
    for (name, _) in graph {
        s.push_str(&format!("  \"{}\" [label = \"{}\"];\n", dot(name), label(name)));
    }
    for (name, deps) in graph {
        for d in deps {
            s.push_str(&format!("  \"{}\" -> \"{}\";\n", dot(name), dot(d)));
        }
    }
    s.push_str("}\n");
    s
}

/// A dependency graph as a Mermaid flowchart, as [`dependencies_dot`] draws it.
pub fn dependencies_mermaid(graph: &[(&str, Vec<String>)], label: impl Fn(&str) -> String) -> String {
    let mut chart = Mermaid::new("RL");
    for (name, _) in graph {
        chart.node(name);
    }
    for (name, deps) in graph {
        for d in deps {
            chart.edge(name, d, "-->", None);
        }
    }
    chart.render(label, |_| None)
}

/// A Mermaid flowchart (GitHub renders it in Markdown): nodes `n0`, `n1`, … numbered in
/// the order they are first named, so that any address is a safe node ID.
pub struct Mermaid {
    direction: &'static str,
    nodes: Vec<String>,
    edges: Vec<String>,
}

impl Mermaid {
    /// A chart drawn `LR` (left to right) or `RL`.
    pub fn new(direction: &'static str) -> Mermaid {
        Mermaid { direction, nodes: Vec::new(), edges: Vec::new() }
    }

    /// The number of node `name`, added if new.
    pub fn node(&mut self, name: &str) -> usize {
        if let Some(i) = self.nodes.iter().position(|n| n == name) {
            return i;
        }
        self.nodes.push(name.to_string());
        self.nodes.len() - 1
    }

    /// An edge `from` → `to` with Mermaid's `arrow` (`-->`, `==>`, `-.->`) and a label.
    pub fn edge(&mut self, from: &str, to: &str, arrow: &str, label: Option<&str>) {
        let (a, b) = (self.node(from), self.node(to));
        let label = label.map(|l| format!("|\"{}\"|", l.replace('"', "'"))).unwrap_or_default();
        self.edges.push(format!("  n{a} {arrow}{label} n{b}\n"));
    }

    /// The chart: each node's text from `label`, then its `class`, if any; then the edges.
    pub fn render(&self, label: impl Fn(&str) -> String, class: impl Fn(&str) -> Option<String>) -> String {
        let mut s = format!("flowchart {}\n", self.direction);
        for (i, n) in self.nodes.iter().enumerate() {
            s += &format!("  n{i}[\"{}\"]\n", label(n).replace('"', "#quot;"));
            if let Some(c) = class(n) {
                s += &format!("  class n{i} {c}\n");
            }
        }
        s + &self.edges.concat()
    }
}

/// A DOT string's text: `queue["orders"]` keeps its quotes escaped.
pub fn dot(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_for_each_language() {
        let graph = [("queue[\"a\"]", vec!["key".to_string()]), ("key", vec![])];
        let dot_text = dependencies_dot(&graph, dot);
        assert!(dot_text.contains("  \"queue[\\\"a\\\"]\" -> \"key\";\n"), "{dot_text}");
        let chart = dependencies_mermaid(&graph, str::to_string);
        assert_eq!(chart, "flowchart RL\n  n0[\"queue[#quot;a#quot;]\"]\n  n1[\"key\"]\n  n0 --> n1\n");
    }

    #[test]
    fn mermaid_numbers_nodes_as_first_named_and_labels_edges() {
        let mut chart = Mermaid::new("LR");
        chart.edge("b", "a", "==>", Some("reads \"x\""));
        assert_eq!(chart.node("a"), 1);
        assert_eq!(chart.node("c"), 2);
        let text = chart.render(str::to_string, |n| (n == "c").then(|| "new".to_string()));
        assert_eq!(
            text,
            "flowchart LR\n  n0[\"b\"]\n  n1[\"a\"]\n  n2[\"c\"]\n  class n2 new\n  n0 ==>|\"reads 'x'\"| n1\n"
        );
    }
}
