//! The budgets of evaluation (`crate::budget`), end to end through the config stage: each
//! hostile stack of issue #26 (class 7) is refused with a located diagnostic naming the
//! limit, on a 2 MiB stack (the test threads' default) and within seconds; never a panic,
//! a stack overflow, an allocation abort or a hang.

use crate::config::Stack;
use std::sync::mpsc;
use std::time::Duration;

/// Parse `stacks/t.yaml` with `files` as the project's other files; diagnostics as
/// `file:line:col: summary: detail | hint`.
pub(super) fn parse_project(yaml: &str, files: &[(&str, &str)]) -> Result<Stack, Vec<String>> {
    crate::testutil::try_project("", yaml, files).map_err(|d| {
        d.iter()
            .map(|d| {
                let at =
                    d.span.as_ref().map(|s| format!("{}:{}:{}", s.file.display(), s.line, s.col)).unwrap_or_default();
                format!(
                    "{at}: {}: {}{}",
                    d.summary,
                    d.detail,
                    d.hint.as_ref().map(|h| format!(" | {h}")).unwrap_or_default()
                )
            })
            .collect()
    })
}

/// Run `f` on a thread with Rust's default 2 MiB test stack; fail (instead of hanging the
/// run) if it has not answered within 30 s. A stack overflow aborts the whole test binary,
/// which is how the old code failed these tests.
pub(super) fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn");
    rx.recv_timeout(Duration::from_secs(30)).expect("no answer within 30 s (or it panicked)")
}

fn refused(yaml: String, files: Vec<(String, String)>) -> Vec<String> {
    bounded(move || {
        let files: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        match parse_project(&yaml, &files) {
            Ok(_) => panic!("accepted"),
            Err(e) => e,
        }
    })
}

fn queue(name_expr: &str) -> String {
    format!(
        "resources:\n  q:\n    type: aws.sqs.queue\n    properties: {{ name: q, tags: {{ t: \"{name_expr}\" }} }}\n"
    )
}

#[test]
fn cidrsubnet_with_a_huge_newbits_is_a_located_error() {
    for newbits in ["9223372036854775807", "-9223372036854775808", "33", "0"] {
        let yaml = queue(&format!("${{cidrsubnet(\\\"10.0.0.0/16\\\", {newbits}, 0)}}"));
        let e = refused(yaml, Vec::new());
        assert!(e[0].starts_with("stacks/t.yaml:4:"), "{e:?}");
        assert!(e[0].contains("`cidrsubnet`: `newbits` must be from 1 to 32"), "{e:?}");
    }
}

#[test]
fn two_thousand_plus_terms_are_refused_not_a_stack_overflow() {
    let sum = vec!["1"; 2000].join(" + ");
    let e = refused(queue(&format!("${{{sum}}}")), Vec::new());
    assert!(e[0].contains("nests deeper than 64 levels"), "{e:?}");
    assert!(e[0].contains("stacks/t.yaml:4:"), "{e:?}");
}

#[test]
fn a_thousand_chained_locals_are_computed_one_by_one_not_a_stack_overflow() {
    let mut yaml = String::from("locals:\n  l0: 1\n");
    for i in 1..1000 {
        yaml += &format!("  l{i}: \"${{local.l{} + 1}}\"\n", i - 1);
    }
    // Used by a property: the locals are worked out in the order they use each other.
    let stack = bounded({
        let yaml = format!("{yaml}{}", queue("${local.l999}"));
        move || parse_project(&yaml, &[]).map(|s| s.resource("q").map(|r| r.props["tags"].clone()))
    });
    assert_eq!(stack, Ok(Some(crate::expr::Expr::Lit(serde_json::json!({"t": "1000"})))));
    // Used by a `count` (worked out before, reaching its locals one through the next):
    // the chain is bounded.
    let e = refused(
        format!("{yaml}resources:\n  q:\n    type: aws.sqs.queue\n    count: \"${{local.l999 - 999}}\"\n    properties: {{ name: q }}\n"),
        Vec::new(),
    );
    assert!(e.iter().any(|d| d.contains("a chain of more than 32 locals")), "{e:?}");
}

#[test]
fn a_string_doubled_through_forty_locals_is_refused_before_it_is_built() {
    // Named in the order they are computed, so the chain of locals stays short and the
    // size is what is refused.
    let mut yaml = String::from("locals:\n  l00: abcdefgh\n");
    for i in 1..=40 {
        yaml += &format!("  l{i:02}: \"${{local.l{p:02}}}${{local.l{p:02}}}\"\n", p = i - 1);
    }
    yaml += &queue("${length(local.l40)}");
    let e = refused(yaml, Vec::new());
    assert!(e.iter().any(|d| d.contains("would be larger than 4 MiB")), "{e:?}");
}

#[test]
fn values_that_multiply_in_one_call_are_refused_before_they_are_built() {
    // 1 MiB of `b`, each replaced by 1 MiB: a terabyte, refused from the count alone; a
    // 1 MiB separator between 1,000 parts; five or six copies of 1 MiB in one call.
    for expr in [
        "${replace(local.big, \\\"b\\\", local.big)}",
        "${join(local.big, split(\\\",\\\", local.commas))}",
        "${format(\\\"%s%s%s%s%s\\\", local.big, local.big, local.big, local.big, local.big)}",
        "${concat(local.list, local.list, local.list, local.list, local.list, local.list)}",
    ] {
        let yaml = format!(
            "locals:\n  big: \"${{replace(format(\\\"%s\\\", local.kib), \\\"b\\\", local.kib)}}\"\n  kib: \"{}\"\n  commas: \"{}\"\n  list: \"${{split(\\\"a\\\", local.big)}}\"\n{}",
            "b".repeat(1024),
            ",".repeat(1000),
            queue(&format!("${{length({})}}", &expr[2..expr.len() - 1]))
        );
        let e = refused(yaml, Vec::new());
        assert!(e.iter().any(|d| d.contains("would be larger than 4 MiB")), "{expr}: {e:?}");
    }
}

#[test]
fn nested_module_for_each_is_refused_past_the_instance_budget_not_a_hang() {
    // Six levels of modules, each making ten copies of the next: a million queues.
    let mut files = Vec::new();
    for level in 1..=6 {
        let body = if level == 6 {
            "resources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: q }\n".to_string()
        } else {
            format!("modules:\n  m:\n    source: m{}.yaml\n    for_each: [a, b, c, d, e, f, g, h, i, j]\n", level + 1)
        };
        files.push((format!("stacks/m{level}.yaml"), body));
    }
    let yaml = "modules:\n  m:\n    source: m1.yaml\n    for_each: [a, b, c, d, e, f, g, h, i, j]\n".to_string();
    let e = refused(yaml, files);
    assert!(e.iter().any(|d| d.contains("more than 100000 instances")), "{e:?}");
    assert!(e.iter().all(|d| d.starts_with("stacks/")), "located: {e:?}");
    assert!(e.len() < 10, "reported once, not once per copy: {e:?}");
}

#[test]
fn toset_of_two_hundred_thousand_strings_is_not_quadratic() {
    let items: Vec<serde_json::Value> = (0..200_000).map(|i| serde_json::Value::String(format!("{i}"))).collect();
    let out = bounded(move || crate::functions::call("toset", &[serde_json::Value::Array(items)], None));
    assert_eq!(out.map(|v| v.as_array().map(Vec::len)), Ok(Some(200_000)));
}

#[test]
fn for_each_over_two_hundred_thousand_strings_is_refused_quickly() {
    let list: Vec<String> = (0..200_000).map(|i| format!("k{i}")).collect();
    let yaml = format!(
        "locals:\n  keys: \"{}\"\nresources:\n  q:\n    type: aws.sqs.queue\n    for_each: \"${{toset(split(\\\",\\\", local.keys))}}\"\n    properties: {{ name: q }}\n",
        list.join(",")
    );
    let e = refused(yaml, Vec::new());
    assert!(e.iter().any(|d| d.contains("at most 10000 are allowed")), "{e:?}");
}

#[test]
fn values_nested_deeper_than_a_plan_file_reads_back_are_refused() {
    // Each local wraps the last in 10 lists: 120 levels through 12 locals, each expression
    // shallow; as a property it would make a plan file that serde_json cannot read back.
    let wrap = |inner: &str| format!("{}{inner}{}", "[".repeat(10), "]".repeat(10));
    let mut yaml = format!("locals:\n  l0: \"${{{}}}\"\n", wrap("1"));
    for i in 1..12 {
        yaml += &format!("  l{i}: \"${{{}}}\"\n", wrap(&format!("local.l{}", i - 1)));
    }
    yaml += "resources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: q, policy: \"${local.l11}\" }\n";
    let e = refused(yaml, Vec::new());
    assert!(e.iter().any(|d| d.contains("nests deeper than 100 levels")), "{e:?}");
}

#[test]
fn a_deep_yaml_property_with_a_reference_at_the_bottom_still_saves_a_readable_plan() {
    // 45 YAML maps around `${vpc.id}`: what apply resolves later is kept as an expression
    // (three JSON levels a map), and the plan file holds it; it must read back, or be
    // refused at validate.
    let mut policy = String::from("\"${vpc.id}\"");
    for i in 0..45 {
        policy = format!("{{ k{i}: {policy} }}");
    }
    let yaml = format!(
        "resources:\n  vpc:\n    type: aws.ec2.vpc\n    properties: {{ cidr_block: 10.0.0.0/16 }}\n  q:\n    type: aws.sqs.queue\n    properties: {{ name: q, policy: {policy} }}\n"
    );
    let result = bounded(move || match parse_project(&yaml, &[]) {
        Err(e) => Err(e),
        Ok(stack) => {
            let g = crate::graph::build(&stack).expect("graph");
            let plan = crate::testutil::plan_for(&stack, &g, &crate::state::State::new("t", "test"), &[], false);
            let cat = crate::testutil::catalog();
            let bytes = crate::plan::seal(&plan, &cat);
            Ok(crate::plan::open(&bytes, std::path::Path::new("p.plan"), &cat)
                .map(|_| ())
                .map_err(|d| format!("{d:?}")))
        }
    });
    match result {
        Err(e) => assert!(e.iter().any(|d| d.contains("nests deeper than")), "{e:?}"),
        Ok(read) => assert_eq!(read, Ok(()), "a saved plan reads back"),
    }
}

#[test]
fn the_deepest_evaluation_the_budgets_allow_fits_a_test_threads_stack() {
    // 32 chained locals (the most), each going `n` lists deep and back out by indexes,
    // reached from a `count` (worked out before locals are put in order, so through the
    // chain): up to 32 × (2n + 1) evaluations in progress. Within the budgets it is a
    // value; past them, a located diagnostic; on a 2 MiB stack either way, never an overflow.
    for n in [1, 2, 3, 12] {
        let mut yaml = String::from("locals:\n  l0: 1\n");
        for i in 1..32 {
            let inner = format!("{}local.l{}{}", "[".repeat(n), i - 1, "]".repeat(n));
            yaml += &format!("  l{i}: \"${{{inner}{}}}\"\n", "[0]".repeat(n));
        }
        yaml += "resources:\n  q:\n    type: aws.sqs.queue\n    count: \"${local.l31}\"\n    properties: { name: q }\n";
        let answer = bounded(move || parse_project(&yaml, &[]).map(|_| ()));
        match answer {
            Ok(()) => assert_eq!(n, 1, "{n} lists deep fits the evaluation budget?"),
            Err(e) => assert!(e.iter().any(|d| d.contains("evaluations deep")), "{n}: {e:?}"),
        }
    }
}

#[test]
fn modules_eight_deep_around_a_long_chain_of_locals_fit_a_test_threads_stack() {
    // Each module's `count` reads the next module's output (worked out lazily, module in
    // module), and the last one's reads a chain of locals: the deepest recursion the
    // budgets leave, through every kind of frame. A value or a located diagnostic.
    for links in [20, 25, 31] {
        let mut files = Vec::new();
        for level in 1..=8 {
            let body = if level == 8 {
                let mut y = String::from("locals:\n  l0: 1\n");
                for i in 1..links {
                    y += &format!("  l{i}: \"${{[local.l{}][0]}}\"\n", i - 1);
                }
                // A `count` reaches its locals lazily, one through the next.
                y + &format!(
                    "resources:\n  q:\n    type: aws.sqs.queue\n    count: \"${{local.l{}}}\"\n    properties: {{ name: q8 }}\noutputs:\n  o: {{ value: 1 }}\n",
                    links - 1
                )
            } else {
                format!(
                    "modules:\n  m:\n    source: m{}.yaml\nresources:\n  q:\n    type: aws.sqs.queue\n    count: \"${{module.m.o}}\"\n    properties: {{ name: q{level} }}\noutputs:\n  o: {{ value: \"${{module.m.o}}\" }}\n",
                    level + 1
                )
            };
            files.push((format!("stacks/m{level}.yaml"), body));
        }
        let yaml = "modules:\n  m:\n    source: m1.yaml\n".to_string();
        let answer = bounded(move || {
            let files: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            parse_project(&yaml, &files).map(|s| s.resources.len())
        });
        match answer {
            Ok(n) => assert_eq!(n, 8, "{links}"),
            Err(e) => assert!(e.iter().any(|d| d.contains("evaluations deep")), "{links}: {e:?}"),
        }
    }
}

#[test]
fn a_reference_with_thousands_of_attribute_steps_is_refused_not_a_stack_overflow() {
    // Picked from a value known only after apply: each step would wrap the last in a call.
    let steps = ".a".repeat(3000);
    let yaml = format!(
        "resources:\n  vpc:\n    type: aws.ec2.vpc\n    properties: {{ cidr_block: 10.0.0.0/16 }}\n  q:\n    type: aws.sqs.queue\n    properties: {{ name: q, policy: \"${{vpc.tags{steps}}}\" }}\n"
    );
    let e = refused(yaml, Vec::new());
    assert!(e.iter().any(|d| d.contains("nests deeper than 64 levels")), "{e:?}");
}

/// Each value is at most 4 MiB, but many of them are kept too: before, a local of almost
/// 4 MiB given to 10,000 outputs (about 300 KB of YAML) copied 40 GB. The values the
/// stack keeps (properties, outputs, locals) count against one total.
#[test]
fn many_large_outputs_are_refused_within_the_stacks_total() {
    let mut yaml = String::from("locals:\n  l00: abcdefgh\n");
    for i in 1..=18 {
        yaml += &format!("  l{i:02}: \"${{local.l{p:02}}}${{local.l{p:02}}}\"\n", p = i - 1);
    }
    yaml += "outputs:\n";
    for i in 0..10_000 {
        yaml += &format!("  o{i}: {{ value: \"${{local.l18}}\" }}\n");
    }
    yaml += &queue("q");
    let e = refused(yaml, Vec::new());
    assert!(e.iter().any(|d| d.contains("Stack too large") && d.contains("outputs and locals")), "{e:?}");
    assert_eq!(e.iter().filter(|d| d.contains("Stack too large")).count(), 1, "reported once");
}
