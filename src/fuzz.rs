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

/// Any text as the expression language: its lines become `${…}` expressions in a stack's
/// locals, a resource's properties, and a module's `for_each` and inputs (the module's
/// own locals, outputs and nested module take more of them), validated with the whole
/// config stage. The answer is a stack or located diagnostics; never a panic, a stack
/// overflow (on a test thread's 2 MiB), an allocation abort or a hang: the budgets of
/// [`crate::budget`] hold for any input.
pub fn language(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut lines = text.split('\n').map(|l| {
        // As a YAML double-quoted string (JSON's escapes are YAML's).
        serde_json::to_string(&format!("${{{l}}}")).unwrap_or_default()
    });
    let mut next = || lines.next().unwrap_or_else(|| "\"${local.a}\"".into());
    let stack = format!(
        "locals:\n  a: {}\n  b: {}\n  c: {}\n  d: {}\n  twice: \"${{local.d}}${{local.d}}\"\n\
         resources:\n  q:\n    type: aws.sqs.queue\n    properties:\n      name: {}\n      delay_seconds: {}\n      tags: {{ a: {}, b: \"${{local.twice}}\" }}\n\
         modules:\n  m:\n    source: m.yaml\n    for_each: {}\n    inputs: {{ v: {} }}\n\
         outputs:\n  o: {{ value: {} }}\n",
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
        next()
    );
    let module = format!(
        "variables:\n  v: {{ type: list, default: [] }}\nlocals:\n  a: {}\n  b: {}\n\
         resources:\n  q:\n    type: aws.sqs.queue\n    count: {}\n    properties: {{ name: {} }}\n\
         modules:\n  n:\n    source: n.yaml\n    for_each: {}\n\
         outputs:\n  o: {{ value: {} }}\n",
        next(),
        next(),
        next(),
        next(),
        next(),
        next()
    );
    let leaf =
        format!("resources:\n  q:\n    type: aws.sqs.queue\n    for_each: {}\n    properties: {{ name: q }}\n", next());
    let read = |p: &str| match p {
        "stacks/m.yaml" => Ok(module.clone()),
        "stacks/n.yaml" => Ok(leaf.clone()),
        _ => Err(format!("no file `{p}`")),
    };
    let (env, _) = parse_env("fuzz", &file("envs/fuzz.yaml"), "stack: stacks/fuzz.yaml\nvariables: {}\n");
    let Some(env) = env else { return };
    let catalog = crate::provider::aws::catalog();
    match crate::config::parse_stack_reading(&file("stacks/fuzz.yaml"), &stack, "fuzz", &env, &catalog, Some(&read)) {
        Ok(stack) => {
            let _ = crate::graph::build(&stack);
        }
        Err(d) => assert!(d.iter().all(|d| d.span.is_some()), "every problem is located: {d:?}"),
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

/// Any text as state surgery: its first block (up to a blank line) the addresses a state
/// holds (those the address parser takes), the rest `mv FROM TO` and `rm ADDR` lines, each
/// address parsed as the command line parses it. Every operation is refused, changing
/// nothing, or leaves a state that loading accepts (no problems, no duplicate, dependencies
/// followed), and what is written loads again as it was.
pub fn state_surgery(data: &[u8]) {
    use crate::state::{ResourceState, State};
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (held, ops) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut state = State::new("fuzz", "fuzz");
    let mut previous: Option<String> = None;
    for line in held.lines().take(64) {
        let Ok(address) = crate::addr::resource(line.trim()) else { continue };
        state.put(ResourceState {
            address: address.clone(),
            ty: "aws.sqs.queue".into(),
            id: format!("id-{address}"),
            properties: Default::default(),
            attributes: Default::default(),
            dependencies: previous.iter().cloned().collect(),
            pending: None,
            sensitive: Vec::new(),
        });
        previous = Some(address);
    }
    assert!(state.problems().is_empty(), "what the parser takes, state holds: {:?}", state.problems());
    for line in ops.lines().take(32) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let before = state.clone();
        let result = match words.as_slice() {
            ["mv", from, to] => match (crate::addr::parse(from), crate::addr::parse(to)) {
                (Ok(from), Ok(to)) => state.move_address(&from, &to).map(|_| ()),
                _ => continue,
            },
            ["rm", a] => match crate::addr::parse(a) {
                Ok(a) => state.forget(&a).map(|_| ()),
                _ => continue,
            },
            _ => continue,
        };
        match result {
            Err(_) => assert_eq!(state, before, "a refused `{line}` changed nothing"),
            Ok(()) => {
                assert!(state.problems().is_empty(), "`{line}` left {:?}", state.problems());
                let addresses: Vec<&str> = state.resources.iter().map(|r| r.address.as_str()).collect();
                assert!(addresses.windows(2).all(|w| w[0] < w[1]), "sorted, no duplicate: {addresses:?}");
                assert!(state.resources.len() <= before.resources.len(), "surgery never makes a resource");
            }
        }
    }
    let again = State::from_json(&state.to_json(), "fuzz.json").expect("a written state loads again");
    assert_eq!(again, state);
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

    use crate::testutil::Rng;

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
    fn mutate(rng: &mut Rng, base: &[u8], pool: &[Vec<u8>], tokens: &[&str]) -> Vec<u8> {
        let mut v = base.to_vec();
        for _ in 0..=rng.below(4) {
            let at = rng.below(v.len() + 1);
            match rng.below(6) {
                0 if !v.is_empty() => {
                    let i = rng.below(v.len());
                    v[i] ^= 1 << rng.below(8);
                }
                1 => v.splice(at..at, tokens[rng.below(tokens.len())].bytes()).for_each(drop),
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
                    let piece = tokens[rng.below(tokens.len())].repeat(1 + rng.below(400));
                    v.splice(at..at, piece.bytes()).for_each(drop);
                }
                _ => v.insert(at, rng.next() as u8),
            }
        }
        v
    }

    fn fuzz(dirs: &[&str], extra: Vec<Vec<u8>>, seed: u64, target: fn(&[u8])) {
        fuzz_with(dirs, extra, seed, TOKENS, budget(), target);
    }

    fn fuzz_with(dirs: &[&str], extra: Vec<Vec<u8>>, seed: u64, tokens: &[&str], runs: usize, target: fn(&[u8])) {
        let mut pool = seeds(dirs);
        pool.extend(extra);
        assert!(!pool.is_empty());
        for s in &pool {
            target(s);
        }
        let mut rng = Rng(seed);
        for _ in 0..runs {
            let base = &pool[rng.below(pool.len())];
            target(&mutate(&mut rng, base, &pool, tokens));
        }
    }

    /// Pieces of the expression language that reach its limits: operators to chain,
    /// brackets to nest, locals to chain and double, functions that grow values.
    const LANGUAGE_TOKENS: &[&str] = &[
        " + 1",
        " * 2",
        " - ",
        " / 0",
        " % ",
        " == ",
        " && ",
        " ? 1 : 2",
        "!",
        "-",
        "(",
        ")",
        "[",
        "]",
        ", ",
        "\"",
        "\\",
        "local.a",
        "local.b",
        "local.c",
        "local.d",
        "local.twice",
        "var.v",
        "each.key",
        "each.value",
        "count.index",
        "module.m",
        "module.m[*].o",
        "module.n",
        "q.arn",
        "q[*].arn",
        "[*]",
        ".0",
        "\n",
        "cidrsubnet(\"10.0.0.0/8\", ",
        "9223372036854775807",
        "-9223372036854775808",
        "1e308",
        "toset(",
        "tolist(",
        "concat(",
        "join(\"ab\", ",
        "split(\",\", ",
        "replace(local.d, \"a\", ",
        "format(\"%s%s%d\", ",
        "jsonencode(",
        "merge(",
        "zipmap(",
        "lookup(",
        "length(",
        "keys(",
        "values(",
        "upper(",
        "sha256(",
        "file(\"m.yaml\")",
        "${",
        "}",
    ];

    /// Expressions to start from: one per line, as `language` places them.
    fn language_seeds() -> Vec<Vec<u8>> {
        let chain = vec!["1"; 70].join(" + ");
        vec![
            "\"ab\"\nlocal.a\nlocal.b\nlocal.c\nformat(\"q-%s\", local.a)\n5\nlocal.d\n[\"x\", \"y\"]\n[1, 2]\nlocal.a\n1\n2\n1\n\"mq\"\n[\"k\"]\nlocal.b\n[\"z\"]".into(),
            "join(\"-\", [\"a\", \"b\"])\nupper(local.a)\ncidrsubnet(\"10.0.0.0/16\", 8, 2)\nlength(local.b)\n\"q\"\n1 + 2 * 3\nlocal.c\ntoset([\"a\", \"b\", \"a\"])\nvar.v\nmodule.m[\"a\"].o\n\"x\"\nvar.v\nlength(var.v)\nformat(\"m-%s\", each.key)\nvar.v\nlocal.b\n[\"k\"]".into(),
            "replace(local.b, \"a\", local.b)\nconcat(local.a, local.a)\nlocal.d\n\"abcdefgh\"\n\"q\"\nlocal.c ? 1 : 0\nlocal.twice\n{\"a\": 1}\nlocal.twice\nmodule.m\nq.arn\nq[*].arn\n-1\n\"n\"\n[\"a\", \"a\"]\njsonencode(var.v)\nsplit(\",\", \"a,b\")".into(),
            format!("{chain}\n{}1{}\ncidrsubnet(\"10.0.0.0/16\", 9223372036854775807, 0)\n\"ab\"\n", "(".repeat(80), ")".repeat(80)).into_bytes(),
        ]
    }

    /// Runs for the language target: `CLOUDBRIDGE_FUZZ_INPUTS` (e.g. 40000) for a long
    /// run, else a few seconds' worth.
    fn language_runs() -> usize {
        std::env::var("CLOUDBRIDGE_FUZZ_INPUTS").ok().and_then(|v| v.parse().ok()).unwrap_or(600)
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

    /// On a thread with the test threads' 2 MiB stack, whatever the harness was given.
    #[test]
    fn the_language_gives_a_value_or_a_located_diagnostic_for_any_input() {
        let run = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| {
                let start = std::time::Instant::now();
                let runs = language_runs();
                fuzz_with(&[], language_seeds(), 0x5eed_0006, LANGUAGE_TOKENS, runs, language);
                eprintln!("language: {runs} mutated inputs in {:.1?}", start.elapsed());
            })
            .expect("spawn");
        run.join().expect("no panic");
    }

    #[test]
    fn fmt_answers_for_any_input_and_is_idempotent() {
        fuzz(&["tests/corpus/stacks", "stacks"], adversarial(), 0x5eed_0005, formatter);
    }

    /// State surgery over addresses that move, instances, modules and keys at the edge of
    /// what a key may hold.
    #[test]
    fn state_surgery_leaves_only_what_loading_accepts() {
        let seeds: Vec<Vec<u8>> = [
            "q[\"a\"]\nq[\"b\"]\nraw\nmodule.db.x\nmodule.db[\"k\"].y[0]\n\nmv q x[\"k\"]\nmv raw module.db\nmv q jobs\nrm jobs\nmv module.db module.store\n",
            "a\nb[0]\nb[1]\nc[\"e.f:g=h+i@j-k\"]\n\nmv b[0] a\nmv b c[\"x\"]\nmv c[\"e.f:g=h+i@j-k\"] d\nrm b[1]\nmv a module.m.a\n",
            "module.a.module.b.c\nmodule.a[0].q\n\nmv module.a module.z\nmv module.a[0] module.b[\"k\"]\nrm module.a\n",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        fuzz(&[], seeds, 0x5eed_0006, state_surgery);
    }

    #[test]
    fn state_and_plan_files_load_or_are_refused_for_any_input() {
        fuzz(&["tests/corpus/states"], Vec::new(), 0x5eed_0003, state_file);
        fuzz(&["tests/corpus/states"], Vec::new(), 0x5eed_0004, plan_file);
    }
}
