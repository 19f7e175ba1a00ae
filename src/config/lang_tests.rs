//! The language inside stacks, end to end through the config stage: `for_each`, `count`,
//! instance addresses, splats, locals, functions, conditionals and their errors.

use crate::config::{parse_env, parse_stack, Stack};
use crate::expr::{Expr, Ref};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

fn parse(yaml: &str) -> Result<Stack, Vec<String>> {
    parse_with("", yaml)
}

fn parse_with(env_vars: &str, yaml: &str) -> Result<Stack, Vec<String>> {
    let (env, d) =
        parse_env("test", &Arc::new(PathBuf::from("envs/test.yaml")), &format!("stack: stacks/t.yaml\n{env_vars}"));
    assert!(d.is_empty(), "{d:?}");
    parse_stack(&Arc::new(PathBuf::from("stacks/t.yaml")), yaml, "t", &env.expect("env"), &crate::testutil::catalog())
        .map_err(|d| {
            d.iter()
                .map(|d| {
                    format!(
                        "{}: {}: {}{}",
                        d.span.as_ref().map_or(0, |s| s.line),
                        d.summary,
                        d.detail,
                        d.hint.as_ref().map(|h| format!(" | {h}")).unwrap_or_default()
                    )
                })
                .collect()
        })
}

fn prop<'a>(s: &'a Stack, address: &str, p: &str) -> &'a Expr {
    let r = s.resource(address).unwrap_or_else(|| panic!("no {address} in {:?}", names(s)));
    &r.props[p]
}

fn names(s: &Stack) -> Vec<&str> {
    s.resources.iter().map(|r| r.name.as_str()).collect()
}

fn lit(e: &Expr) -> &Value {
    match e {
        Expr::Lit(v) => v,
        other => panic!("not known at validate: {other:?}"),
    }
}

const QUEUES: &str = r#"
variables:
  queues: { type: map, default: { orders: { delay: 5 }, payments: { delay: 0 } } }
resources:
  q:
    type: aws.sqs.queue
    for_each: "${var.queues}"
    properties:
      name: "cdc-${each.key}"
      delay_seconds: "${each.value.delay}"
  dlq:
    type: aws.sqs.queue
    for_each: [orders, payments]
    properties:
      name: "${format(\"%s-dlq\", each.value)}"
      tags: { target: "${q[each.key].arn}" }
outputs:
  urls: { value: "${q[*].url}" }
  orders: { value: "${q[\"orders\"].arn}" }
"#;

#[test]
fn for_each_makes_one_instance_per_key_with_stable_addresses() {
    let s = parse(QUEUES).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(names(&s), vec![r#"q["orders"]"#, r#"q["payments"]"#, r#"dlq["orders"]"#, r#"dlq["payments"]"#]);
    assert_eq!(lit(prop(&s, r#"q["orders"]"#, "name")), &json!("cdc-orders"));
    assert_eq!(lit(prop(&s, r#"q["orders"]"#, "delay_seconds")), &json!(5));
    assert_eq!(lit(prop(&s, r#"dlq["payments"]"#, "name")), &json!("payments-dlq"));
    assert_eq!(s.resource(r#"q["orders"]"#).unwrap().declared, "q");
    // A reference picks the instance with the same key, and orders the graph by it.
    let Expr::Map(tags) = prop(&s, r#"dlq["orders"]"#, "tags") else { panic!() };
    assert_eq!(tags[0].1, Expr::Ref(Ref { resource: r#"q["orders"]"#.into(), attr: "arn".into() }));
    let g = crate::graph::build(&s).unwrap();
    assert_eq!(g.dependencies(r#"dlq["orders"]"#), vec![r#"q["orders"]"#.to_string()]);
    // The whole collection, in key order, and one instance.
    let urls = &s.outputs.iter().find(|o| o.name == "urls").unwrap().value;
    assert_eq!(
        urls,
        &Expr::List(vec![
            Expr::Ref(Ref { resource: r#"q["orders"]"#.into(), attr: "url".into() }),
            Expr::Ref(Ref { resource: r#"q["payments"]"#.into(), attr: "url".into() }),
        ])
    );
    // Adding a key adds one instance and leaves the others' addresses alone.
    let more = QUEUES.replace("payments: { delay: 0 } }", "payments: { delay: 0 }, audit: { delay: 1 } }");
    let s2 = parse(&more).unwrap();
    assert_eq!(&names(&s2)[..3], &[r#"q["audit"]"#, r#"q["orders"]"#, r#"q["payments"]"#]);
    assert_eq!(prop(&s2, r#"q["orders"]"#, "name"), prop(&s, r#"q["orders"]"#, "name"));
}

#[test]
fn count_numbers_instances_and_zero_or_one_makes_a_resource_conditional() {
    let yaml = |enabled: bool| {
        format!(
            r#"
variables:
  azs: {{ type: list, default: [a, b, c] }}
  enabled: {{ type: bool, default: {enabled} }}
resources:
  vpc:
    type: aws.ec2.vpc
    properties: {{ cidr_block: 10.0.0.0/16 }}
  subnet:
    type: aws.ec2.subnet
    count: "${{length(var.azs)}}"
    properties:
      vpc_id: "${{vpc.id}}"
      cidr_block: "${{cidrsubnet(\"10.0.0.0/16\", 8, count.index)}}"
      availability_zone: "eu-west-1${{var.azs[count.index]}}"
  log:
    type: aws.logs.log_group
    count: "${{var.enabled ? 1 : 0}}"
    properties: {{ name: audit }}
"#
        )
    };
    let s = parse(&yaml(true)).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(names(&s), vec!["vpc", "subnet[0]", "subnet[1]", "subnet[2]", "log[0]"]);
    assert_eq!(lit(prop(&s, "subnet[2]", "cidr_block")), &json!("10.0.2.0/24"));
    assert_eq!(lit(prop(&s, "subnet[1]", "availability_zone")), &json!("eu-west-1b"));
    let off = parse(&yaml(false)).unwrap();
    assert_eq!(names(&off), vec!["vpc", "subnet[0]", "subnet[1]", "subnet[2]"]);
}

#[test]
fn locals_functions_and_conditionals_are_computed_at_validate() {
    let s = parse(
        r#"
variables:
  env: { default: prod }
locals:
  prefix: "cdc-${var.env}"
  big: "${var.env == \"prod\"}"
  tags: { team: data, env: "${var.env}" }
resources:
  q:
    type: aws.sqs.queue
    properties:
      name: "${upper(local.prefix)}"
      delay_seconds: "${local.big ? 10 : 0}"
      tags: "${merge(local.tags, { })}"
"#,
    );
    // `{ }` is not an expression: a map literal in `${…}` is refused with its location.
    let e = s.unwrap_err();
    assert!(e[0].contains("Invalid expression"), "{e:?}");
    let s = parse(
        r#"
variables:
  env: { default: prod }
locals:
  prefix: "cdc-${var.env}"
  big: "${var.env == \"prod\"}"
  tags: { team: data, env: "${var.env}" }
resources:
  q:
    type: aws.sqs.queue
    properties:
      name: "${upper(local.prefix)}"
      delay_seconds: "${local.big ? 10 : 0}"
      tags: "${merge(local.tags, zipmap([\"tier\"], [\"gold\"]))}"
"#,
    )
    .unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(lit(prop(&s, "q", "name")), &json!("CDC-PROD"));
    assert_eq!(lit(prop(&s, "q", "delay_seconds")), &json!(10));
    assert_eq!(lit(prop(&s, "q", "tags")), &json!({"team": "data", "env": "prod", "tier": "gold"}));
}

#[test]
fn functions_of_values_known_only_at_apply_are_computed_at_apply() {
    let s = parse(
        r#"
resources:
  a:
    type: aws.sqs.queue
    properties: { name: a }
  b:
    type: aws.sqs.queue
    properties:
      name: b
      tags: { arns: "${join(\",\", [a.arn, \"x\"])}", up: "q-${upper(a.name)}" }
"#,
    )
    .unwrap_or_else(|e| panic!("{e:#?}"));
    let Expr::Map(tags) = prop(&s, "b", "tags") else { panic!() };
    let known = |r: &Ref| (r.resource == "a").then(|| json!(format!("{}-value", r.attr)));
    assert_eq!(tags[0].1.resolve(&known), json!("arn-value,x"));
    assert_eq!(tags[1].1.resolve(&known), json!("q-NAME-VALUE"));
    assert_eq!(tags[0].1.resolve(&|_| None), json!(crate::expr::UNKNOWN));
    let g = crate::graph::build(&s).unwrap();
    assert_eq!(g.dependencies("b"), vec!["a".to_string()]);
}

#[test]
fn mistakes_are_located_and_say_how_to_fix_them() {
    let err = |yaml: &str| parse(yaml).unwrap_err();
    let base = "resources:\n  q:\n    type: aws.sqs.queue\n    for_each: [a, b]\n    properties: { name: \"q-${each.key}\" }\n";
    let with = |extra: &str| format!("{base}{extra}");
    let e = err(&with("  r:\n    type: aws.sqs.queue\n    properties: { name: \"${q.arn}\" }\n"));
    assert_eq!(
        e,
        vec![
            r#"8: Invalid expression: `q` has `for_each`, so `${q.arn}` must say which instance | write `${q["a"].…}` for one, or `${q[*].…}` for all"#
        ]
    );
    let e = err(&with("  r:\n    type: aws.sqs.queue\n    properties: { name: \"${q[\\\"c\\\"].arn}\" }\n"));
    assert_eq!(e, vec!["8: Invalid expression: `q` has no instance `\"c\"` | its keys are `a`, `b`"]);
    let e = err(&with("  r:\n    type: aws.sqs.queue\n    properties: { name: \"${each.key}\" }\n"));
    assert!(e[0].contains("`each` is only defined in a resource with `for_each`"), "{e:?}");
    let e =
        err(&with("  r:\n    type: aws.sqs.queue\n    count: 2\n    properties: { name: \"${q[\\\"a\\\"].nam}\" }\n"));
    assert!(e[0].starts_with("9: Unknown attribute: `q[\"a\"]` (aws.sqs.queue) has no attribute `nam`"), "{e:?}");
    let e =
        err(&with("  r:\n    type: aws.sqs.queue\n    count: \"${length(q[*].arn)}\"\n    properties: { name: r }\n"));
    assert!(e[0].contains("`for_each` and `count` must be known before anything is created"), "{e:?}");
    let e = err("resources:\n  q:\n    type: aws.sqs.queue\n    for_each: [a, a]\n    properties: { name: q }\n");
    assert!(e[0].starts_with("4: Invalid value: `for_each` lists `a` twice"), "{e:?}");
    let e = err("resources:\n  q:\n    type: aws.sqs.queue\n    for_each: [\"a b\"]\n    properties: { name: q }\n");
    assert!(e[0].contains("key `a b` cannot name an instance"), "{e:?}");
    let e = err("resources:\n  q:\n    type: aws.sqs.queue\n    count: -1\n    properties: { name: q }\n");
    assert!(e[0].contains("`count` must be a whole number from 0 to 10000, not -1"), "{e:?}");
    let e = err(
        "resources:\n  q:\n    type: aws.sqs.queue\n    count: 1\n    for_each: [a]\n    properties: { name: q }\n",
    );
    assert!(e[0].contains("has both `for_each` and `count`"), "{e:?}");
    let e = err("locals:\n  a: \"${local.b}\"\n  b: \"${local.a}\"\nresources: {}\n");
    assert!(e.iter().any(|d| d.contains("local `a` refers to itself")), "{e:?}");
    let e = err("resources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: \"${uper(\\\"a\\\")}\" }\n");
    assert_eq!(e, vec!["4: Invalid expression: there is no function `uper` | did you mean `upper(string)`?"]);
    let e = err("resources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: \"${cidrsubnet(\\\"10.0.0.0/24\\\", 9, 1)}\" }\n");
    assert!(e[0].contains("`cidrsubnet`: 9 more bits on a /24"), "{e:?}");
    let e = err("resources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: \"x-${[1]}\" }\n");
    assert!(e[0].contains("`[1]` is a list, which cannot be placed inside a string"), "{e:?}");
    let e = err("resources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: \"${1 +}\" }\n");
    assert!(e[0].contains("Invalid expression: in `${1 +}`: unexpected `}` (at character 6)"), "{e:?}");
    // Each instance is checked; one mistake they share is reported once.
    let e = err(
        "resources:\n  q:\n    type: aws.sqs.queue\n    count: 3\n    properties: { name: q, delay_seconds: 9999 }\n",
    );
    assert_eq!(e.len(), 1, "{e:?}");
}

#[test]
fn a_computed_value_is_checked_like_a_written_one() {
    // 70000 would not fit a port; computed or written, it is refused where it is written.
    let e = parse(
        "variables:\n  base: { type: number, default: 69999 }\nresources:\n  e:\n    type: aws.dms.endpoint\n    properties: { endpoint_identifier: e, endpoint_type: source, engine_name: mysql, server_name: h, port: \"${var.base + 1}\", username: u, password: p }\n",
    )
    .unwrap_err();
    assert!(e.iter().any(|d| d.contains("Value out of range") || d.contains("`port` must be from")), "{e:?}");
}

#[test]
fn unused_variables_are_warned_about() {
    let s = parse("variables:\n  used: { default: a }\n  spare: { default: b }\nresources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: \"${var.used}\" }\n").unwrap();
    let w: Vec<String> = s.warnings.iter().map(|d| format!("{}: {}", d.summary, d.detail)).collect();
    assert_eq!(w, vec!["Unused variable: variable `spare` is declared but nothing uses it"]);
}

/// A variable read only where a condition does not lead now is still used: the other
/// branch of `?:`, or a resource with `count: 0` (the warning was wrong before).
#[test]
fn a_variable_read_only_by_the_branch_not_taken_is_used() {
    let s = parse("variables:\n  big: { type: bool, default: true }\n  a: { default: x }\n  b: { default: y }\n  c: { default: z }\n  spare: { default: s }\nresources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: \"${var.big ? var.a : var.b}\" }\n  r:\n    type: aws.sqs.queue\n    count: \"${var.big ? 0 : 1}\"\n    properties: { name: \"${var.c}\" }\n").unwrap();
    let w: Vec<String> = s.warnings.iter().map(|d| format!("{}: {}", d.summary, d.detail)).collect();
    assert_eq!(w, vec!["Unused variable: variable `spare` is declared but nothing uses it"]);
}

/// `moved` may name an instance its resource does not have now (`count: 0`): the object
/// moves, and is then planned for destruction; a `to` no resource declares is refused.
#[test]
fn a_move_may_go_to_an_instance_count_leaves_out() {
    let base = "resources:\n  q:\n    type: aws.sqs.queue\n    count: 0\n    properties: { name: q }\n";
    let s = parse(&format!("moved:\n  - {{ from: old, to: 'q[0]' }}\n{base}")).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(s.moved[0].to, "q[0]");
    let e = parse(&format!("moved:\n  - {{ from: old, to: 'p[0]' }}\n{base}")).unwrap_err();
    assert_eq!(
        e,
        vec!["2: Invalid move: `p[0]` is not a resource of the stack | `to` names the resource's new address, declared under `resources:`"]
    );
}

#[test]
fn sensitive_values_stay_sensitive_through_locals_and_functions() {
    let s = parse_with(
        "variables:\n  pw: hunter2\n",
        "variables:\n  pw: { sensitive: true }\nlocals:\n  conn: \"user:${var.pw}\"\nresources:\n  s:\n    type: aws.sqs.queue\n    properties: { name: q, kms_master_key_id: \"${upper(local.conn)}\" }\n",
    )
    .unwrap_or_else(|e| panic!("{e:#?}"));
    assert!(
        s.resource("s").unwrap().sensitive.contains("kms_master_key_id"),
        "a value from a sensitive variable is sensitive"
    );
}

/// Sensitivity is carried into every construct, and refused where it cannot stay secret:
/// before, a sensitive variable in `for_each` was shown through `each.key`/`each.value` in
/// plans and state and named addresses and the `cloudbridge:address` tag, and one in a
/// name became the resource's ID in state.
#[test]
fn a_sensitive_value_is_refused_where_it_cannot_stay_secret() {
    let env = "variables:\n  pw: hunter2\n  names: [hunter2]\n";
    let refused = |yaml: &str, summary: &str, at: &str| {
        let e = parse_with(env, yaml).unwrap_err();
        assert!(e.iter().any(|d| d.contains(summary) && d.starts_with(at)), "{yaml}\n{e:#?}");
        assert!(e.iter().all(|d| !d.contains("hunter2")), "the secret is never in a message: {e:#?}");
    };
    let vars = "variables:\n  pw: { sensitive: true }\n  names: { type: list, sensitive: true }\n";
    // for_each over the secret itself, over a map whose values are secret, through a
    // local and a function; count from it.
    refused(&format!("{vars}resources:\n  q:\n    type: aws.sqs.queue\n    for_each: \"${{var.names}}\"\n    properties: {{ name: \"q-${{each.key}}\" }}\n"), "Sensitive value in for_each or count", "7:");
    refused(&format!("{vars}resources:\n  q:\n    type: aws.sqs.queue\n    for_each: {{ a: \"${{var.pw}}\" }}\n    properties: {{ name: \"q-${{each.key}}\", kms_master_key_id: \"${{each.value}}\" }}\n"), "Sensitive value in for_each or count", "7:");
    refused(&format!("{vars}locals:\n  n: \"${{toset(var.names)}}\"\nresources:\n  q:\n    type: aws.sqs.queue\n    for_each: \"${{local.n}}\"\n    properties: {{ name: \"q-${{each.key}}\" }}\n"), "Sensitive value in for_each or count", "9:");
    refused(&format!("{vars}resources:\n  q:\n    type: aws.sqs.queue\n    count: \"${{length(var.pw)}}\"\n    properties: {{ name: \"q-${{count.index}}\" }}\n"), "Sensitive value in for_each or count", "7:");
    // A name (the resource's ID) and tags.
    refused(
        &format!("{vars}resources:\n  q:\n    type: aws.sqs.queue\n    properties: {{ name: \"q-${{var.pw}}\" }}\n"),
        "Sensitive value cannot stay secret",
        "7:",
    );
    refused(&format!("{vars}resources:\n  q:\n    type: aws.sqs.queue\n    properties:\n      name: q\n      tags: {{ t: \"${{var.pw}}\" }}\n"), "Sensitive value cannot stay secret", "9:");
    // Through a reference to another resource's property that holds it.
    refused(&format!("{vars}resources:\n  a:\n    type: aws.sqs.queue\n    properties: {{ name: a, kms_master_key_id: \"${{var.pw}}\" }}\n  q:\n    type: aws.sqs.queue\n    properties: {{ name: \"${{a.kms_master_key_id}}\" }}\n"), "Sensitive value cannot stay secret", "10:");
    // A data source filtered by it: what it reads is shown in the plan, and not sensitive.
    refused(&format!("{vars}data:\n  s:\n    type: aws.secretsmanager.secret\n    filter: {{ name: \"${{var.pw}}\" }}\nresources: {{}}\n"), "Sensitive value in a data source filter", "7:");
    // A module's input set from it, used in the module's for_each.
    let module = "variables:\n  keys: { type: list }\nresources:\n  q:\n    type: aws.sqs.queue\n    for_each: \"${var.keys}\"\n    properties: { name: \"m-${each.key}\" }\n";
    let e = parse_project_with(
        env,
        &format!("{vars}modules:\n  m:\n    source: ../components/m.yaml\n    inputs: {{ keys: \"${{var.names}}\" }}\nresources: {{}}\n"),
        &[("components/m.yaml", module)],
    )
    .unwrap_err();
    assert!(e.iter().any(|d| d.contains("Sensitive value in for_each or count")), "{e:#?}");
    assert!(e.iter().all(|d| !d.contains("hunter2")), "{e:#?}");
}

#[test]
fn moved_removed_and_import_entries_are_checked_against_the_stack() {
    let base = "resources:\n  q:\n    type: aws.sqs.queue\n    for_each: [orders]\n    properties: { name: \"q-${each.key}\" }\n";
    let s = parse(&format!(
        "moved:\n  - {{ from: orders_queue, to: 'q[\"orders\"]' }}\n  - {{ from: old, to: q }}\nremoved:\n  - {{ from: gone }}\nimport:\n  - {{ to: 'q[\"orders\"]', id: https://sqs/q-orders }}\n{base}"
    ))
    .unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!((s.moved[0].from.as_str(), s.moved[0].to.as_str()), ("orders_queue", r#"q["orders"]"#));
    assert_eq!(s.removed[0].from, "gone");
    assert_eq!(s.imports[0].to, r#"q["orders"]"#);
    let e = parse(&format!(
        "moved:\n  - {{ from: q, to: nowhere }}\n  - {{ from: 'a[', to: q }}\nremoved:\n  - {{ from: q }}\nimport:\n  - {{ to: q, id: x }}\n{base}"
    ))
    .unwrap_err();
    assert_eq!(
        e,
        vec![
            "2: Invalid move: `q` is still declared in the stack, so nothing can move away from it | rename the resource in `resources:` to the `to` address",
            "3: Invalid address: `a[` is not a resource address; write `name`, `name[\"key\"]`, `name[0]` or `module.<name>.name`",
            "5: Invalid removal: `q` is still declared in the stack | delete its declaration under `resources:`; `removed:` then forgets it without deleting it in AWS",
            "7: Invalid import: `q` has `for_each` or `count`: an import takes one instance | import into one of its addresses, such as `q[\"orders\"]`",
        ]
    );
}

/// Parse `stacks/t.yaml` with `files` as the project's other files.
fn parse_project(yaml: &str, files: &[(&str, &str)]) -> Result<Stack, Vec<String>> {
    parse_project_with("", yaml, files)
}

/// As [`parse_project`], with `env_vars` in the env file.
fn parse_project_with(env_vars: &str, yaml: &str, files: &[(&str, &str)]) -> Result<Stack, Vec<String>> {
    crate::testutil::try_project(env_vars, yaml, files).map_err(|d| {
        d.iter()
            .map(|d| {
                let at = d.span.as_ref().map(|s| format!("{}:{}", s.file.display(), s.line)).unwrap_or_default();
                format!("{at}: {}: {}", d.summary, d.detail)
            })
            .collect()
    })
}

const SOURCE: &str = r#"
variables:
  name: { type: string }
  vpc_id: { type: string }
  retention: { type: number, default: 7 }
resources:
  logs:
    type: aws.logs.log_group
    properties: { name: "/cdc/${var.name}", retention_in_days: "${var.retention}" }
  sg:
    type: aws.ec2.security_group
    properties: { name: "${var.name}-db", vpc_id: "${var.vpc_id}", description: "${logs.arn}" }
outputs:
  sg_id: { value: "${sg.id}" }
  log_group: { value: "${logs.name}" }
"#;

#[test]
fn modules_nest_addresses_take_inputs_and_give_outputs() {
    let stack = r#"
resources:
  vpc:
    type: aws.ec2.vpc
    properties: { cidr_block: 10.0.0.0/16 }
  q:
    type: aws.sqs.queue
    properties: { name: "q", tags: { sg: "${module.orders_db.sg_id}", logs: "${module.each_db[\"payments\"].log_group}" } }
modules:
  orders_db:
    source: ../components/source.yaml
    inputs: { name: orders, vpc_id: "${vpc.id}", retention: 14 }
  each_db:
    source: ../components/source.yaml
    for_each: [payments, refunds]
    inputs: { name: "${each.key}", vpc_id: "${vpc.id}" }
outputs:
  all_logs: { value: "${module.each_db[*].log_group}" }
"#;
    let s = parse_project(stack, &[("components/source.yaml", SOURCE)]).unwrap_or_else(|e| panic!("{e:#?}"));
    let mut n = names(&s);
    n.sort();
    assert_eq!(
        n,
        vec![
            "module.each_db[\"payments\"].logs",
            "module.each_db[\"payments\"].sg",
            "module.each_db[\"refunds\"].logs",
            "module.each_db[\"refunds\"].sg",
            "module.orders_db.logs",
            "module.orders_db.sg",
            "q",
            "vpc",
        ]
    );
    assert_eq!(lit(prop(&s, "module.orders_db.logs", "retention_in_days")), &json!(14));
    assert_eq!(lit(prop(&s, "module.each_db[\"refunds\"].logs", "name")), &json!("/cdc/refunds"));
    // A reference inside the module names the module's resource; an input from the
    // calling stack stays a reference to the caller's.
    assert_eq!(
        prop(&s, "module.orders_db.sg", "description"),
        &Expr::Ref(Ref { resource: "module.orders_db.logs".into(), attr: "arn".into() })
    );
    assert_eq!(
        prop(&s, "module.orders_db.sg", "vpc_id"),
        &Expr::Ref(Ref { resource: "vpc".into(), attr: "id".into() })
    );
    let Expr::Map(tags) = prop(&s, "q", "tags") else { panic!() };
    assert_eq!(tags[0].1, Expr::Ref(Ref { resource: "module.orders_db.sg".into(), attr: "id".into() }));
    assert_eq!(tags[1].1, Expr::Ref(Ref { resource: "module.each_db[\"payments\"].logs".into(), attr: "name".into() }));
    let g = crate::graph::build(&s).unwrap();
    assert_eq!(g.dependencies("module.orders_db.sg"), vec!["module.orders_db.logs".to_string(), "vpc".to_string()]);
    let all = &s.outputs[0].value;
    assert!(matches!(all, Expr::List(items) if items.len() == 2), "{all:?}");
}

#[test]
fn module_mistakes_are_located_in_the_file_that_has_them() {
    let files = [
        ("components/source.yaml", SOURCE),
        ("components/a.yaml", "modules:\n  b:\n    source: b.yaml\nresources: {}\n"),
        ("components/b.yaml", "modules:\n  a:\n    source: ./a.yaml\nresources: {}\n"),
    ];
    let e = parse_project("modules:\n  x:\n    source: ../components/a.yaml\nresources: {}\n", &files).unwrap_err();
    assert_eq!(
        e,
        vec!["components/b.yaml:3: Module cycle: modules use each other in a cycle: components/a.yaml → components/b.yaml → components/a.yaml"]
    );
    let e = parse_project(
        "modules:\n  x:\n    source: ../components/source.yaml\n    inputs: { nme: a, vpc_id: v }\nresources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: \"${module.x.sg}\" }\n",
        &files,
    )
    .unwrap_err();
    assert_eq!(
        e,
        vec![
            "stacks/t.yaml:4: Unknown module input: module `x` (components/source.yaml) declares no variable `nme`",
            "components/source.yaml:3: Missing variable value: variable `name` has no default and module `x` gives no input for it",
        ],
        "a module with problems adds no follow-up error where its outputs are used"
    );
    let e = parse_project(
        "modules:\n  x:\n    source: ../components/source.yaml\n    inputs: { name: a, vpc_id: v }\nresources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: \"${module.x.sg}\" }\n",
        &files,
    )
    .unwrap_err();
    assert_eq!(e, vec!["stacks/t.yaml:8: Invalid expression: module `x` has no output `sg`"]);
    let e = parse_project("modules:\n  x:\n    source: ../../etc/passwd\nresources: {}\n", &files).unwrap_err();
    assert!(e[0].contains("leads outside the project directory"), "{e:?}");
    let e =
        parse_project("modules:\n  x:\n    source: https://example.com/m.yaml\nresources: {}\n", &files).unwrap_err();
    assert!(e[0].contains("is not a local path"), "{e:?}");
    let e = parse_project("modules:\n  x:\n    source: ../components/none.yaml\nresources: {}\n", &files).unwrap_err();
    assert!(e[0].contains("cannot read `../components/none.yaml`: no file `components/none.yaml`"), "{e:?}");
}

#[test]
fn data_sources_are_checked_before_anything_is_read() {
    let e = |yaml: &str| parse(yaml).unwrap_err();
    let q = "resources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: q }\n";
    assert_eq!(
        e(&format!("data:\n  v: {{ type: aws.ec2.vpcc, filter: {{ id: x }} }}\n{q}")),
        vec!["2: Unknown data source type: `aws.ec2.vpcc` is not a data source cloudbridge knows | did you mean `aws.ec2.vpc`?"]
    );
    assert_eq!(
        e(&format!("data:\n  v: {{ type: aws.ec2.vpc }}\n{q}")),
        vec!["2: Missing filter: data source `v` (aws.ec2.vpc) must be narrowed by one of `id`, `tags`, `cidr_block` | a lookup without a filter would match whatever the account holds"]
    );
    let with_ref = e(&format!("data:\n  v: {{ type: aws.ec2.vpc, filter: {{ id: \"${{q.arn}}\" }} }}\n{q}"));
    assert!(
        with_ref[0].contains("the filter of `data.v` uses `${q.arn}`, which is known only after apply"),
        "{with_ref:?}"
    );
    let bad_attr = e("data:\n  v: { type: aws.ec2.vpc, filter: { id: x } }\nresources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: \"${data.v.arn}\" }\n");
    assert!(bad_attr[0].contains("`data.v` (aws.ec2.vpc) has no attribute `arn`"), "{bad_attr:?}");
    let cycle = e("data:\n  a: { type: aws.ec2.vpc, filter: { id: \"${data.b.id}\" } }\n  b: { type: aws.ec2.vpc, filter: { id: \"${data.a.id}\" } }\nresources: {}\n");
    assert_eq!(cycle.len(), 2, "{cycle:?}");
    assert!(cycle[0].contains("Data source cycle"), "{cycle:?}");
    let typed = e(&format!("data:\n  v: {{ type: aws.ec2.ami, filter: {{ owners: amazon, name: x }} }}\n{q}"));
    assert!(typed[0].contains("expected a list of strings, found a string"), "{typed:?}");
}

#[test]
fn a_modules_for_each_keys_follow_the_rules_of_a_resources() {
    let stack = |keys: &str| {
        format!("resources:\n  vpc:\n    type: aws.ec2.vpc\n    properties: {{ cidr_block: 10.0.0.0/16 }}\nmodules:\n  db:\n    source: ../components/source.yaml\n    for_each: {keys}\n    inputs: {{ name: \"${{each.key}}\", vpc_id: \"${{vpc.id}}\" }}\n")
    };
    let files = [("components/source.yaml", SOURCE)];
    // A key that no tag value can hold, and a key listed twice, are refused where written.
    let e = parse_project(&stack("[\"a b\"]"), &files).unwrap_err();
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("stacks/t.yaml:8: Invalid value: `for_each` key `a b` cannot name an instance"), "{e:?}");
    let e = parse_project(&stack("[a, a]"), &files).unwrap_err();
    assert!(e[0].contains("`for_each` lists `a` twice"), "{e:?}");
    let s = parse_project(&stack("[b, a]"), &files).unwrap();
    assert!(s.resource("module.db[\"a\"].sg").is_some() && s.resource("module.db[\"b\"].sg").is_some());
}

#[test]
fn a_refused_for_each_is_reported_once_not_again_where_it_is_used() {
    let e = parse(
        "resources:\n  q:\n    type: aws.sqs.queue\n    for_each: [a, a]\n    properties: { name: q }\n  r:\n    type: aws.sqs.queue\n    properties: { name: r, tags: { q: \"${q[\\\"a\\\"].arn}\" } }\n",
    )
    .unwrap_err();
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("4: Invalid value: `for_each` lists `a` twice"), "{e:?}");
}

/// Variable, output and data source names are plain, as resource, local and module names
/// already were: before, an output name holding escape sequences or a newline and a code
/// fence was accepted, and printed raw in plans and pull-request comments, and a variable
/// name became a live link in the findings list.
#[test]
fn every_name_is_a_plain_name() {
    let stacks = [
        ("outputs:\n  \"a\\e[1A\\e[2K\": { value: x }\nresources: {}\n", "output name"),
        ("outputs:\n  \"x\\n```\\n## All checks passed\": { value: x }\nresources: {}\n", "output name"),
        ("variables:\n  \"[click](https://evil.example)\": { default: x }\nresources: {}\n", "variable name"),
        ("variables:\n  \"a b\": { default: x }\nresources: {}\n", "variable name"),
        ("data:\n  \"<img src=x>\": { type: aws.ec2.vpc, filter: { id: vpc-1 } }\nresources: {}\n", "data source name"),
    ];
    for (yaml, what) in stacks {
        let e = parse(yaml).unwrap_err();
        assert!(
            e.iter().any(|d| d.contains("Invalid name") && d.contains(what) && d.contains("may only hold letters")),
            "{yaml}: {e:?}"
        );
    }
    let e = parse("import:\n  - { to: q, id: \"q\\n\\nPlan: 0 to add.\" }\nresources:\n  q:\n    type: aws.sqs.queue\n    properties: { name: q }\n")
        .unwrap_err();
    assert!(e.iter().any(|d| d.contains("`id` holds a control character")), "{e:?}");
    assert!(parse("variables:\n  a_b1: { default: x }\noutputs:\n  o_1: { value: \"${var.a_b1}\" }\nresources: {}\n")
        .is_ok());
}

/// The Data API types have no ID in AWS: their ID is cloudbridge's encoding of their
/// properties, and for a statement it carries the `exists` query a read runs. Before, an
/// `import:` entry of a pull request could name another cluster, another secret and any
/// SQL, which the plan's read of the import then ran.
#[test]
fn an_encoded_id_cannot_be_imported() {
    let stack = "import:\n  - { to: s, id: \"arn:aws:rds:us-east-1:210987654321:cluster:prod|arn:aws:secretsmanager:us-east-1:210987654321:secret:prod-master|app|statement|s|DELETE FROM orders\" }\nresources:\n  s:\n    type: aws.rdsdata.statement\n    properties:\n      resource_arn: arn:aws:rds:us-east-1:210987654321:cluster:dev\n      secret_arn: arn:aws:secretsmanager:us-east-1:210987654321:secret:dev\n      name: hb\n      exists: SELECT 1 FROM heartbeat\n      create: [CREATE TABLE heartbeat (id int)]\n      delete: [DROP TABLE heartbeat]\n";
    let e = parse(stack).unwrap_err();
    assert!(
        e.iter()
            .any(|d| d
                .starts_with("2: Invalid import: `s` is an `aws.rdsdata.statement`, which has no ID in AWS to import")),
        "{e:?}"
    );
    // Every property the ID is built from is part of its identity: a sensitive one is
    // refused there (the ID is in state and plans).
    let ty = crate::testutil::catalog().lookup("aws.rdsdata.statement").expect("type");
    assert_eq!(ty.identity.props(), ["resource_arn", "secret_arn", "database", "name", "exists"]);
}

/// A message that quotes a value never quotes a sensitive one: before, an out-of-range
/// number, an enum value or a CIDR set from a sensitive variable was printed in the error.
#[test]
fn a_sensitive_value_is_never_quoted_in_a_message() {
    let env = "variables:\n  pw: hunter2-s3cret\n  port: 99999\n";
    let vars = "variables:\n  pw: { sensitive: true }\n  port: { type: number, sensitive: true }\n";
    for (props, quoted) in [
        ("{ name: q, delay_seconds: \"${var.port}\" }", true),
        ("{ name: q, visibility_timeout_seconds: \"${var.pw}\" }", false),
    ] {
        let e = parse_with(env, &format!("{vars}resources:\n  q:\n    type: aws.sqs.queue\n    properties: {props}\n"))
            .unwrap_err();
        assert!(e.iter().all(|d| !d.contains("hunter2-s3cret") && !d.contains("99999")), "{props}: {e:#?}");
        assert_eq!(e.iter().any(|d| d.contains("(sensitive value)")), quoted, "{props}: {e:#?}");
    }
}
