//! The bodies of the fuzz targets, in the library so that `cargo test` runs them too: the
//! `cargo fuzz` targets in `fuzz/` call these with libFuzzer's inputs, and the tests below
//! call them with a fixed-seed mutation of the corpus for a bounded number of inputs, so
//! every CI run fuzzes the YAML layer, the stack and env parsers, state and saved plans.

use crate::config::{parse_env, parse_stack};
use crate::yaml::{self, Kind, Node, MAX_DEPTH, MAX_NODES};
use std::path::PathBuf;
use std::sync::Arc;

fn file(name: &str) -> Arc<PathBuf> {
    Arc::new(PathBuf::from(name))
}

/// Any text through the YAML layer: a tree within the depth and size limits, or one
/// located diagnostic; never a panic, a stack overflow or unbounded memory.
pub fn yaml_layer(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let f = file("stacks/fuzz.yaml");
    match yaml::parse_all(&f, text) {
        Ok((node, problems)) => {
            let (depth, count) = measure(&node);
            assert!(depth <= MAX_DEPTH + 1, "depth {depth}");
            assert!(count <= MAX_NODES + text.len() + 1, "{count} nodes");
            assert!(problems.iter().all(|d| d.span.is_some()), "every problem is located");
        }
        Err(d) => assert!(d.span.as_ref().is_some_and(|s| s.line >= 1 && s.col >= 1), "located: {d:?}"),
    }
}

/// Depth and node count of a tree.
fn measure(node: &Node) -> (usize, usize) {
    let children: Vec<&Node> = match &node.kind {
        Kind::Seq(items) => items.iter().collect(),
        Kind::Map(entries) => entries.iter().map(|(_, v)| v).collect(),
        _ => Vec::new(),
    };
    children.iter().map(|c| measure(c)).fold((0, 1), |(d, n), (cd, cn)| (d.max(cd + 1), n + cn))
}

/// Any text as an environment file and as a stack: diagnostics, never a panic; a valid
/// stack also builds its graph.
pub fn stack_and_env(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = parse_env("fuzz", &file("envs/fuzz.yaml"), text);
    let (env, _) = parse_env("fuzz", &file("envs/fuzz.yaml"), "stack: stacks/fuzz.yaml\nvariables: {}\n");
    let Some(env) = env else { return };
    if let Ok(stack) = parse_stack(&file("stacks/fuzz.yaml"), text, "fuzz", &env, &crate::provider::aws::catalog()) {
        let _ = crate::graph::build(&stack);
    }
}

/// Any text through `fmt`: an answer (never a panic or a hang), and the round trip holds
/// (see [`formats_faithfully`]).
pub fn formatter(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(why) = formats_faithfully(text, crate::fmt::Kind::Stack) {
        panic!("{why}\n--- input ---\n{text}");
    }
}

/// `fmt`'s round-trip property: what it formats parses; when the text parsed, to the
/// same value (maps compared by key) with the same comments (as a multiset); and it
/// formats to itself. What it refuses, it refuses with a location. `Ok(true)` if formatted, `Ok(false)` if refused.
pub fn formats_faithfully(text: &str, kind: crate::fmt::Kind) -> Result<bool, String> {
    let f = file("stacks/fuzz.yaml");
    let once = match crate::fmt::format(&f, text, kind) {
        Ok(once) => once,
        Err(d) if d.span.is_some() => return Ok(false),
        Err(d) => return Err(format!("refused without a location: {d:?}")),
    };
    let after = yaml::parse(&f, &once).map_err(|d| format!("the result does not parse: {d:?}"))?;
    let comments = |t: &str| {
        let t = t.strip_prefix('\u{feff}').unwrap_or(t);
        yaml::layout(t).ok().map(|l| {
            let mut c: Vec<String> = l.comments.into_iter().map(|c| c.text).collect();
            c.sort();
            c
        })
    };
    if let Ok(before) = yaml::parse(&f, text) {
        if before.to_json() != after.to_json() {
            return Err(format!("the value changed:\n{once}"));
        }
    }
    if let Some(before) = comments(text) {
        if Some(&before) != comments(&once).as_ref() {
            return Err(format!("the comments changed:\n{once}"));
        }
    }
    let twice = crate::fmt::format(&f, &once, kind);
    if twice.as_deref().ok() != Some(once.as_str()) {
        return Err(format!("not idempotent: {twice:?}"));
    }
    Ok(true)
}

/// Any bytes as a state file: loaded or refused; what loads survives a round trip.
pub fn state_file(data: &[u8]) {
    if let Ok(state) = crate::state::State::from_json(data, "fuzz.json") {
        let again = crate::state::State::from_json(&state.to_json(), "fuzz.json").expect("a written state loads again");
        assert_eq!(state, again);
    }
}

/// Any bytes as a saved plan: opened or refused, never a panic.
pub fn plan_file(data: &[u8]) {
    let _ = crate::plan::open(data, std::path::Path::new("fuzz.plan"), &crate::provider::aws::catalog());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs per target in a test run; `CLOUDBRIDGE_FUZZ_INPUTS` raises it for a longer run.
    fn budget() -> usize {
        std::env::var("CLOUDBRIDGE_FUZZ_INPUTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1500)
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    fn seeds(dirs: &[&str]) -> Vec<Vec<u8>> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for d in dirs {
            let mut files: Vec<_> =
                std::fs::read_dir(root.join(d)).into_iter().flatten().flatten().map(|e| e.path()).collect();
            files.sort();
            out.extend(files.into_iter().filter_map(|p| std::fs::read(p).ok()).filter(|b| b.len() < 64 * 1024));
        }
        out
    }

    /// YAML-shaped pieces that reach the parser's and the tree's limits.
    const TOKENS: &[&str] = &[
        "- ",
        "[",
        "]",
        "{",
        "}",
        ": ",
        "\n",
        "  ",
        "\t",
        "&a ",
        "*a",
        "<<: *a\n",
        "? ",
        "---\n",
        "!Ref ",
        "~",
        "\"",
        "'",
        "${",
        "}",
        "${var.x}",
        "${vpc.id}",
        "#",
        "\u{feff}",
        "0x10",
        "4294967296",
        "-1",
        "3.10",
        "1e3",
        ",",
    ];

    /// A mutation of `base`: flipped, inserted, deleted or spliced bytes, YAML tokens, or
    /// a piece repeated many times (depth, aliases).
    fn mutate(rng: &mut Rng, base: &[u8], pool: &[Vec<u8>]) -> Vec<u8> {
        let mut v = base.to_vec();
        for _ in 0..=rng.below(4) {
            let at = rng.below(v.len() + 1);
            match rng.below(6) {
                0 if !v.is_empty() => {
                    let i = rng.below(v.len());
                    v[i] ^= 1 << rng.below(8);
                }
                1 => v.splice(at..at, TOKENS[rng.below(TOKENS.len())].bytes()).for_each(drop),
                2 if !v.is_empty() => {
                    let end = (at + rng.below(16)).min(v.len());
                    v.drain(at.min(end)..end);
                }
                3 => {
                    let other = &pool[rng.below(pool.len())];
                    let from = rng.below(other.len() + 1);
                    let end = (from + rng.below(256)).min(other.len());
                    v.splice(at..at, other[from..end].iter().copied()).for_each(drop);
                }
                4 => {
                    let piece = TOKENS[rng.below(TOKENS.len())].repeat(1 + rng.below(400));
                    v.splice(at..at, piece.bytes()).for_each(drop);
                }
                _ => v.insert(at, rng.next() as u8),
            }
        }
        v
    }

    fn fuzz(dirs: &[&str], extra: Vec<Vec<u8>>, seed: u64, target: fn(&[u8])) {
        let mut pool = seeds(dirs);
        pool.extend(extra);
        assert!(!pool.is_empty());
        for s in &pool {
            target(s);
        }
        let mut rng = Rng(seed);
        for _ in 0..budget() {
            let base = &pool[rng.below(pool.len())];
            target(&mutate(&mut rng, base, &pool));
        }
    }

    /// Inputs built to hit each limit, besides the corpus.
    fn adversarial() -> Vec<Vec<u8>> {
        let mut laughs = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (p, n) in ["a", "b", "c", "d", "e", "f", "g"].iter().zip(["b", "c", "d", "e", "f", "g", "h"]) {
            laughs += &format!("{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n");
        }
        vec![
            laughs.into_bytes(),
            ("- ".repeat(MAX_DEPTH * 3) + "x").into_bytes(),
            ("a:\n".to_string() + &(1..MAX_DEPTH * 2).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect::<String>())
                .into_bytes(),
            ("[".repeat(300) + &"]".repeat(300)).into_bytes(),
            "x: &m {a: 1}\ny: {<<: [*m, *m, *m], b: 2}\n".into(),
        ]
    }

    #[test]
    fn the_yaml_layer_stays_within_its_limits_for_any_input() {
        fuzz(&["tests/corpus/stacks", "tests/corpus/envs", "stacks"], adversarial(), 0x5eed_0001, yaml_layer);
    }

    #[test]
    fn stacks_and_envs_give_diagnostics_for_any_input() {
        fuzz(&["tests/corpus/stacks", "tests/corpus/envs", "stacks"], adversarial(), 0x5eed_0002, stack_and_env);
    }

    #[test]
    fn fmt_answers_for_any_input_and_is_idempotent() {
        fuzz(&["tests/corpus/stacks", "stacks"], adversarial(), 0x5eed_0005, formatter);
    }

    #[test]
    fn state_and_plan_files_load_or_are_refused_for_any_input() {
        fuzz(&["tests/corpus/states"], Vec::new(), 0x5eed_0003, state_file);
        fuzz(&["tests/corpus/states"], Vec::new(), 0x5eed_0004, plan_file);
    }
}
