//! Plan rendering, pinned by snapshots: one plan that creates, updates in place, replaces
//! and deletes, against state made by the in-memory provider (stable IDs).

use crate::provider::memory::MemoryProvider;
use crate::state::State;
use crate::testutil::{plan_for, refreshed_plan, run, stack, MemStore};
use std::sync::Arc;

const V1: &str = r#"
resources:
  vpc:
    type: aws.ec2.vpc
    properties: { cidr_block: 10.0.0.0/16 }
  subnet:
    type: aws.ec2.subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.0.1.0/24, availability_zone: eu-west-1a }
  sg:
    type: aws.ec2.security_group
    properties:
      name: app
      vpc_id: ${vpc.id}
      ingress:
        - { protocol: tcp, from_port: 443, to_port: 443, cidr_blocks: [10.0.0.0/16] }
  old_bucket:
    type: aws.s3.bucket
    properties: { bucket: old-data }
outputs:
  subnet_id:
    value: ${subnet.id}
"#;

/// Apply `v1`, then render the plan for `v2`.
async fn check(v1: &str, v2: &str) -> String {
    let (st, g) = stack(v1);
    let mem = Arc::new(MemoryProvider::new());
    let plan = plan_for(&st, &g, &State::fixed("t", "test"), &[], false);
    let s = run(&plan, State::fixed("t", "test"), mem.clone(), &MemStore::default(), 1).await.state;
    let (st2, g2) = stack(v2);
    let plan = refreshed_plan(&st2, &g2, mem.as_ref(), &s, false).await;
    crate::testutil::render(&plan)
}

#[tokio::test]
async fn renders_every_kind_of_change() {
    let start = V1.find("  old_bucket:").unwrap();
    let end = V1.find("outputs:").unwrap();
    let v2 = format!(
        "{}  new_bucket:\n    type: aws.s3.bucket\n    properties: {{ bucket: new-data, versioning: true, tags: {{ team: cdc }} }}\n{}",
        &V1[..start],
        &V1[end..]
    )
    .replace("cidr_block: 10.0.1.0/24", "cidr_block: 10.0.2.0/24")
    .replace("cidr_blocks: [10.0.0.0/16] }", "cidr_blocks: [10.0.0.0/16] }\n        - { protocol: tcp, from_port: 5432, to_port: 5432, cidr_blocks: [10.0.0.0/16] }");
    insta::assert_snapshot!(check(V1, &v2).await);
}

/// A role whose tags and policy hold many entries: a change to one shows that one, the
/// rest folded (before, one changed tag printed every tag and the whole policy twice).
#[tokio::test]
async fn maps_and_documents_show_only_what_changed() {
    const ROLE: &str = r#"
resources:
  role:
    type: aws.iam.role
    properties:
      name: etl
      assume_role_policy: { Version: "2012-10-17", Statement: [{ Effect: Allow, Principal: { Service: glue.amazonaws.com }, Action: "sts:AssumeRole" }] }
      inline_policies:
        lake:
          Version: "2012-10-17"
          Statement:
            - { Sid: Read, Effect: Allow, Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::lake/*"] }
            - { Sid: List, Effect: Allow, Action: ["s3:ListBucket"], Resource: ["arn:aws:s3:::lake"] }
            - { Sid: Queue, Effect: Allow, Action: ["sqs:ReceiveMessage"], Resource: ["arn:aws:sqs:eu-west-1:111122223333:q"] }
      tags: { team: cdc, owner: data, cost_center: "42", tier: gold, env: test }
"#;
    let v2 = ROLE
        .replace("owner: data", "owner: platform")
        .replace(r#"Action: ["s3:ListBucket"]"#, r#"Action: ["s3:ListBucket", "s3:GetBucketLocation"]"#);
    let text = check(ROLE, &v2).await;
    assert!(!text.contains("sqs:ReceiveMessage"), "unchanged statements are folded:\n{text}");
    assert!(!text.contains("cost_center"), "unchanged tags are folded:\n{text}");
    insta::assert_snapshot!(text);
}

/// The pull-request summary of a plan that replaces a database (warning first), adds a
/// bucket and changes a role's tags, with its cost and a check finding.
#[tokio::test]
async fn a_markdown_summary_for_pull_requests() {
    const V1: &str = r#"
resources:
  db:
    type: aws.rds.instance
    properties: { identifier: orders, engine: postgres, instance_class: db.t3.micro, allocated_storage: 20, master_username: app }
  role:
    type: aws.iam.role
    properties:
      name: etl
      assume_role_policy: { Version: "2012-10-17", Statement: [{ Effect: Allow, Principal: { Service: glue.amazonaws.com }, Action: "sts:AssumeRole" }] }
      tags: { team: cdc }
"#;
    let v2 = V1
        .replace("identifier: orders", "identifier: orders-v2")
        .replace("team: cdc", "team: platform")
        .replace("  role:\n", "  lake:\n    type: aws.s3.bucket\n    properties: { bucket: lake }\n  role:\n");
    let (st, g) = stack(V1);
    let mem = Arc::new(MemoryProvider::new());
    let plan = plan_for(&st, &g, &State::fixed("t", "test"), &[], false);
    let s = run(&plan, State::fixed("t", "test"), mem.clone(), &MemStore::default(), 1).await.state;
    let (st2, g2) = stack(&v2);
    let mut plan = refreshed_plan(&st2, &g2, mem.as_ref(), &s, false).await;
    let a = crate::cost::Assumptions::new(&std::collections::BTreeMap::new());
    plan.cost = Some(crate::plan::plan_cost(&plan, &a));
    let cost = plan.cost.as_ref().unwrap();
    // The database is replaced at the same price; the bucket adds its assumed storage.
    assert!((cost.after - cost.before - 10.0 * 0.023).abs() < 0.001, "{cost:?}");
    let finding = crate::rules::CB203
        .finding("role", "statement 1 of `role`'s inline policy `p` allows every `s3:` action on every resource");
    let md = crate::plan::markdown(&plan, &crate::testutil::catalog(), &[finding]);
    let warning_row = md.find("| ⚠️ | `db`").expect("the replaced database is flagged");
    assert!(warning_row < md.find("| `lake`").unwrap(), "warnings first:\n{md}");
    insta::assert_snapshot!(md);
    // The same plan as the JSON contract, pinned (stable IDs from the in-memory provider).
    let mut contract = crate::plan::contract(&plan, &crate::testutil::catalog(), &[]);
    contract["cloudbridge_version"] = serde_json::json!("<version>");
    insta::assert_snapshot!("contract", serde_json::to_string_pretty(&contract).unwrap());
}

#[tokio::test]
async fn renders_no_changes() {
    insta::assert_snapshot!(check(V1, V1).await, @"No changes. The infrastructure matches the configuration.");
}

mod sensitive {
    use crate::config::{Resource, Stack};
    use crate::diag::Span;
    use crate::expr::Expr;
    use crate::graph::DepGraph;
    use crate::plan::Action;
    use crate::provider::{Observed, Props};
    use crate::schema::{Prop, PropKind, TypeSchema};
    use crate::state::{ResourceState, State};
    use crate::testutil::plan_for;
    use crate::testutil::render;
    use serde_json::json;
    use std::collections::BTreeMap;
    use std::path::Path;

    static SECRET_TYPE: TypeSchema = TypeSchema {
        name: "aws.test.secret",
        doc: "test only",
        props: &[Prop::new("name", PropKind::Str).required(), Prop::new("password", PropKind::Str).sensitive()],
        attrs: &["id"],
        changes_on_update: &[],
        restarts_cdc: None,
        taggable: false,
        identity: crate::schema::Identity::Name("name"),
        arn: None,
        normalize: None,
        timeouts: crate::schema::QUICK,
        stateful: false,
        check: None,
    };
    const SECRET: &str = "hunter2-do-not-print";

    fn stack(password: &str) -> (Stack, DepGraph) {
        let props = BTreeMap::from([
            ("name".to_string(), Expr::Lit(json!("db"))),
            ("password".to_string(), Expr::Lit(json!(password))),
        ]);
        let r = Resource {
            name: "db".into(),
            declared: "db".into(),
            ty: &SECRET_TYPE,
            props,
            depends_on: vec![],
            timeouts: crate::schema::QUICK,
            prevent_destroy: false,
            allow_resnapshot: false,
            suppress: Default::default(),
            sensitive: Default::default(),
            spans: Default::default(),
            span: Span::file(Path::new("t")),
        };
        let s = Stack {
            name: "t".into(),
            file: std::sync::Arc::new("t".into()),
            resources: vec![r],
            moved: vec![],
            removed: vec![],
            imports: vec![],
            data: vec![],
            outputs: vec![],
            warnings: vec![],
        };
        let g = DepGraph::from_stack(&s);
        (s, g)
    }

    #[test]
    fn sensitive_values_are_hashed_in_state_and_redacted_in_plans() {
        let mut state = State::fixed("t", "test");
        let sent: Props =
            [("name".to_string(), json!("db")), ("password".to_string(), json!(SECRET))].into_iter().collect();
        let obs = Observed { id: "s-1".into(), properties: Props::new(), attributes: Props::new() };
        let recorded = crate::engine::recorded(&state, &SECRET_TYPE, &[], &sent, &obs);
        assert!(recorded["password"].as_str().unwrap().starts_with("sha256:"));
        state.put(ResourceState {
            address: "db".into(),
            ty: SECRET_TYPE.name.into(),
            id: "s-1".into(),
            properties: recorded,
            attributes: Props::new(),
            dependencies: vec![],
            pending: None,
            sensitive: vec![],
        });
        assert!(!String::from_utf8(state.to_json()).unwrap().contains(SECRET), "state never holds the secret");

        // Same secret: no change. A new secret: an update that never shows either value.
        let (s, g) = stack(SECRET);
        assert_eq!(plan_for(&s, &g, &state, &[], false).changes[0].action, Action::NoOp);
        let (s, g) = stack("a-new-secret-value");
        let plan = plan_for(&s, &g, &state, &[], false);
        assert_eq!(plan.changes[0].action, Action::Update);
        assert_eq!(plan.changes[0].changed, vec!["password"]);
        let text = render(&plan);
        assert!(text.contains("password = (sensitive value) -> (sensitive value)"), "{text}");
        assert!(!text.contains("a-new-secret-value") && !text.contains("sha256:"), "{text}");
        let shown = serde_json::to_string(&(&plan.changes[0].before, &plan.changes[0].after)).unwrap();
        assert!(!shown.contains("a-new-secret-value") && !shown.contains(SECRET), "{shown}");
    }
}

/// `sensitive: true` on a variable reaches every value derived from it, through
/// references, into plans, saved plans, state and outputs.
mod derived_secrets {
    use crate::provider::memory::MemoryProvider;
    use crate::state::State;
    use crate::testutil::{plan_for, render, run, MemStore};
    use std::sync::Arc;

    const TOKEN: &str = "tok-3f9a1c-never-shown";

    fn yaml(output_sensitive: bool) -> String {
        format!(
            "variables:\n  token: {{ type: string, sensitive: true, default: {TOKEN} }}\nresources:\n  a:\n    type: aws.secretsmanager.secret\n    properties: {{ name: app, description: \"key ${{var.token}}\" }}\n  b:\n    type: aws.secretsmanager.secret\n    properties: {{ name: app-copy, description: \"copy of ${{a.description}}\" }}\n  c:\n    type: aws.sqs.queue\n    properties: {{ name: plain }}\noutputs:\n  shown:\n    value: ${{b.description}}\n    sensitive: {output_sensitive}\n"
        )
    }

    fn parse(text: &str) -> Result<(crate::config::Stack, crate::graph::DepGraph), String> {
        let (env, _) = crate::config::parse_env("test", &Arc::new("envs/test.yaml".into()), "stack: stacks/t.yaml\n");
        let stack = crate::config::parse_stack(
            &Arc::new("stacks/t.yaml".into()),
            text,
            "t",
            &env.unwrap(),
            &crate::testutil::catalog(),
        )
        .map_err(|d| format!("{}", crate::diag::Diagnostics(d)))?;
        let g = crate::graph::build(&stack).unwrap();
        Ok((stack, g))
    }

    #[tokio::test]
    async fn a_sensitive_variable_taints_what_is_made_from_it() {
        let e = parse(&yaml(false)).unwrap_err();
        assert!(e.contains("Output refers to sensitive values") && e.contains("stacks/t.yaml:15:12"), "{e}");
        let (st, g) = parse(&yaml(true)).unwrap();
        assert_eq!(st.resource("a").unwrap().sensitive.iter().collect::<Vec<_>>(), vec!["description"]);
        assert_eq!(
            st.resource("b").unwrap().sensitive.iter().collect::<Vec<_>>(),
            vec!["description"],
            "through the reference"
        );
        assert!(st.resource("c").unwrap().sensitive.is_empty());

        let plan = plan_for(&st, &g, &State::fixed("t", "test"), &[], false);
        let cat = crate::testutil::catalog();
        let printed = serde_json::to_string(&crate::plan::withhold(&plan, &cat)).unwrap();
        let shown =
            format!("{}{}{}", render(&plan), printed, String::from_utf8(crate::plan::seal(&plan, &cat)).unwrap());
        assert!(!shown.contains("tok-3f9a1c"), "{shown}");
        let text = render(&plan);
        let redacted = text.lines().filter(|l| l.contains("+ description ") && l.ends_with("= (sensitive value)"));
        assert_eq!(redacted.count(), 2, "{text}");
        // The saved plan reads its secrets from the stack again, and only the same ones.
        let mut saved = crate::plan::open(&crate::plan::seal(&plan, &cat), std::path::Path::new("p"), &cat).unwrap();
        assert_eq!(saved.change("a").unwrap().withheld, vec!["description"]);
        let mut stale = saved.clone();
        crate::plan::restore(&mut saved, &st).unwrap();
        assert_eq!(crate::plan::Plan { digest: String::new(), ..saved }, plan);
        let (other, _) = parse(&yaml(true).replace(TOKEN, "another-token")).unwrap();
        let e = crate::plan::restore(&mut stale, &other).unwrap_err();
        assert!(e[0].detail.contains("the secret `description` of `a` is not what it was"), "{e:?}");

        let mem = Arc::new(MemoryProvider::new());
        let out = run(&plan, State::fixed("t", "test"), mem.clone(), &MemStore::default(), 1).await;
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        let state = String::from_utf8(out.state.to_json()).unwrap();
        assert!(!state.contains("tok-3f9a1c"), "state holds hashes only: {state}");
        assert!(out.state.outputs["shown"].value.as_str().unwrap().starts_with("sha256:"));
        // The secret did reach AWS, unchanged.
        let (_, cloud) = mem.get(&out.state.get("a").unwrap().id).expect("created");
        assert_eq!(cloud["description"], serde_json::json!(format!("key {TOKEN}")));
        let (_, cloud) = mem.get(&out.state.get("b").unwrap().id).expect("created");
        assert_eq!(
            cloud["description"],
            serde_json::json!(format!("copy of key {TOKEN}")),
            "references get the value, not its hash"
        );
        // Applied again: nothing changes, although state holds only hashes.
        let again = plan_for(&st, &g, &out.state, &[], false);
        assert!(!again.has_changes(), "{}", render(&again));
    }
}

mod protection {
    use crate::provider::memory::MemoryProvider;
    use crate::state::State;
    use crate::testutil::{plan_for, run, stack, MemStore};
    use std::sync::Arc;

    /// The state after applying `text` to nothing, through the in-memory provider.
    async fn applied(text: &str) -> State {
        let (st, g) = stack(text);
        let plan = plan_for(&st, &g, &State::fixed("t", "test"), &[], false);
        run(&plan, State::fixed("t", "test"), Arc::new(MemoryProvider::new()), &MemStore::default(), 1).await.state
    }

    const PROTECTED: &str = "resources:\n  db_subnets:\n    type: aws.ec2.vpc\n    properties: { cidr_block: 10.0.0.0/16 }\n    prevent_destroy: true\n  scratch:\n    type: aws.s3.bucket\n    properties: { bucket: scratch }\n";

    #[tokio::test]
    async fn prevent_destroy_blocks_replace_and_destroy_but_not_removal() {
        let (st, g) = stack(PROTECTED);
        let mem = Arc::new(MemoryProvider::new());
        let plan = plan_for(&st, &g, &State::fixed("t", "test"), &[], false);
        let s = run(&plan, State::fixed("t", "test"), mem, &MemStore::default(), 1).await.state;

        let (st2, g2) = stack(&PROTECTED.replace("10.0.0.0/16", "10.1.0.0/16"));
        let tags = std::collections::BTreeMap::new();
        let catalog = crate::testutil::catalog();
        let req = |st, g, destroy| crate::plan::PlanRequest {
            stack: st,
            graph: g,
            state: &s,
            env: "test",
            default_tags: &tags,
            targets: &[],
            destroy,
            catalog: &catalog,
            imported: &[],
            data: &[],
            allow_resnapshot: false,
        };
        let err = crate::plan::diff(&req(&st2, &g2, false)).unwrap_err();
        assert_eq!(err[0].summary, "Destroy prevented");
        assert!(err[0].detail.contains("would replace it (because of cidr_block)"), "{}", err[0].detail);
        assert_eq!(err[0].span.as_ref().unwrap().line, 2);
        let err = crate::plan::diff(&req(&st, &g, true)).unwrap_err();
        assert!(err[0].detail.contains("would destroy it"), "{}", err[0].detail);
        // Taken out of the stack, the protection goes with it (as in Terraform).
        let (st3, g3) = stack("resources:\n  scratch:\n    type: aws.s3.bucket\n    properties: { bucket: scratch }\n");
        let plan = crate::plan::diff(&req(&st3, &g3, false)).unwrap();
        assert_eq!(plan.change("db_subnets").unwrap().action, crate::plan::Action::Delete);
    }

    /// A DMS task's table mappings change in place; what would replace it (and so reload
    /// the source) is refused unless allowed, by flag or on the resource.
    #[tokio::test]
    async fn replacing_what_holds_a_cdc_position_is_refused_unless_allowed() {
        const TASK: &str = "resources:\n  task:\n    type: aws.dms.replication_task\n    properties:\n      id: orders\n      migration_type: full-load-and-cdc\n      replication_instance_arn: arn:aws:dms:eu-west-1:111122223333:rep:ri\n      source_endpoint_arn: arn:aws:dms:eu-west-1:111122223333:endpoint:src\n      target_endpoint_arn: arn:aws:dms:eu-west-1:111122223333:endpoint:dst\n      table_mappings: { rules: [{ rule-type: selection, rule-id: \"1\", rule-name: orders, object-locator: { schema-name: sales, table-name: orders }, rule-action: include }] }\n";
        let s = applied(TASK).await;
        let tags = std::collections::BTreeMap::new();
        let catalog = crate::testutil::catalog();
        let diff = |text: &str, allow_resnapshot: bool| {
            let (st, g) = stack(text);
            let req = crate::plan::PlanRequest {
                stack: &st,
                graph: &g,
                state: &s,
                env: "test",
                default_tags: &tags,
                targets: &[],
                destroy: false,
                catalog: &catalog,
                imported: &[],
                data: &[],
                allow_resnapshot,
            };
            crate::plan::diff(&req)
        };
        // Another table: an update in place (stop, modify, resume), not a reload.
        let mapped = TASK.replace("table-name: orders", "table-name: \"%\"");
        let plan = diff(&mapped, false).expect("an in-place change");
        assert_eq!(plan.change("task").unwrap().action, crate::plan::Action::Update);

        let other_source = TASK.replace("endpoint:src", "endpoint:src2");
        let err = diff(&other_source, false).unwrap_err();
        assert_eq!(err[0].summary, "Change data capture would restart");
        assert!(
            err[0]
                .detail
                .contains("replaces `task` (because of `source_endpoint_arn`): a new task starts over: a full load"),
            "{}",
            err[0].detail
        );
        assert!(err[0].hint.as_deref().unwrap_or("").contains("--allow-resnapshot"), "{:?}", err[0].hint);
        // Located at the property that forces the replacement, with its rule.
        assert_eq!(err[0].span.as_ref().unwrap().line, 8);
        assert_eq!(err[0].rule, Some("CB313"));

        let plan = diff(&other_source, true).expect("allowed by the flag");
        let text = crate::testutil::render(&plan);
        assert!(
            text.contains("# WARNING: replacing `task` restarts change data capture: a new task starts over"),
            "{text}"
        );
        let opted = other_source.replace(
            "    type: aws.dms.replication_task\n",
            "    type: aws.dms.replication_task\n    allow_resnapshot: true\n",
        );
        assert_eq!(
            diff(&opted, false).expect("allowed on the resource").change("task").unwrap().action,
            crate::plan::Action::Replace
        );
        // Suppressing the rule, with its reason, allows it too.
        let suppressed = other_source.replace(
            "    type: aws.dms.replication_task\n",
            "    type: aws.dms.replication_task\n    suppress: { CB313: \"the target is rebuilt nightly anyway\" }\n",
        );
        assert_eq!(
            diff(&suppressed, false).expect("suppressed on the resource").change("task").unwrap().action,
            crate::plan::Action::Replace
        );
    }

    #[tokio::test]
    async fn replacing_a_stateful_resource_is_flagged() {
        let (st, g) = stack(PROTECTED);
        let mem = Arc::new(MemoryProvider::new());
        let plan = plan_for(&st, &g, &State::fixed("t", "test"), &[], false);
        let s = run(&plan, State::fixed("t", "test"), mem, &MemStore::default(), 1).await.state;
        let (st2, g2) = stack(&PROTECTED.replace("bucket: scratch", "bucket: scratch-2"));
        let text = crate::testutil::render(&plan_for(&st2, &g2, &s, &[], false));
        assert!(
            text.contains("# WARNING: replacing `scratch` deletes the data it holds (aws.s3.bucket is stateful)"),
            "{text}"
        );
        assert!(text.contains("WARNING: this plan deletes stateful resources and their data: scratch"), "{text}");
    }

    /// A new revision of an MSK configuration (an in-place update) reaches what refers
    /// to its `latest_revision` in the same plan, not one apply later.
    #[tokio::test]
    async fn what_refers_to_an_attribute_an_update_changes_is_planned_with_the_new_value() {
        const CONFIG: &str = "resources:\n  conf:\n    type: aws.msk.configuration\n    properties: { name: lh, server_properties: auto.create.topics.enable=true }\n  logs:\n    type: aws.logs.log_group\n    properties: { name: /lh, tags: { revision: \"${conf.latest_revision}\", arn: \"${conf.arn}\" } }\n";
        let s = applied(CONFIG).await;
        let (st2, g2) = stack(&CONFIG.replace("enable=true", "enable=false"));
        let plan = plan_for(&st2, &g2, &s, &[], false);
        assert_eq!(plan.change("conf").expect("conf").action, crate::plan::Action::Update);
        assert_eq!(plan.change("logs").expect("logs").action, crate::plan::Action::Update, "the revision changes");
        let text = crate::testutil::render(&plan);
        assert!(text.contains("(known after apply)"), "{text}");
        // Unchanged: nothing refers to a value it does not have.
        let (st3, g3) = stack(CONFIG);
        assert_eq!(plan_for(&st3, &g3, &s, &[], false).change("logs").expect("logs").action, crate::plan::Action::NoOp);

        // A task definition's ARN (its revision) changes with its containers, not its tags.
        const TASK: &str = "resources:\n  task:\n    type: aws.ecs.task_definition\n    properties: { family: lh, cpu: 256, memory: 512, execution_role_arn: arn:aws:iam::111122223333:role/x, container_definitions: [{ name: app, image: busybox:1 }] }\n  logs:\n    type: aws.logs.log_group\n    properties: { name: /lh, tags: { task: \"${task.arn}\" } }\n";
        let s = applied(TASK).await;
        let logs_after = |text: &str| {
            let (st, g) = stack(text);
            plan_for(&st, &g, &s, &[], false).change("logs").expect("logs").action
        };
        assert_eq!(logs_after(&TASK.replace("busybox:1", "busybox:2")), crate::plan::Action::Update);
        assert_eq!(
            logs_after(&TASK.replace("busybox:1 }] }", "busybox:1 }], tags: { team: cdc } }")),
            crate::plan::Action::NoOp
        );
    }

    #[tokio::test]
    async fn a_grow_only_property_updates_when_raised_and_replaces_when_lowered() {
        const TOPIC: &str = "resources:\n  t:\n    type: aws.msk.topic\n    properties: { cluster_arn: \"arn:aws:kafka:eu-west-1:111122223333:cluster/c/u-1\", name: cdc.public.orders, partitions: 6, replication_factor: 2 }\n";
        let s = applied(TOPIC).await;
        let planned = |text: &str| {
            let (st, g) = stack(text);
            let plan = plan_for(&st, &g, &s, &[], false);
            (plan.change("t").expect("t").action, crate::testutil::render(&plan))
        };
        let (action, _) = planned(&TOPIC.replace("partitions: 6", "partitions: 12"));
        assert_eq!(action, crate::plan::Action::Update);
        let (action, text) = planned(&TOPIC.replace("partitions: 6", "partitions: 3"));
        assert_eq!(action, crate::plan::Action::Replace);
        assert!(text.contains("partitions") && text.contains("# forces replacement"), "{text}");
        assert!(text.contains("aws.msk.topic is stateful"), "{text}");
    }
}

/// Saved plans: sealed with a digest, and opened only when every part checks out.
mod saved {
    use super::V1;
    use crate::plan::{open, seal, Plan};
    use crate::state::State;
    use crate::testutil::{catalog, plan_for, stack};
    use serde_json::{json, Value};
    use std::path::Path;

    fn planned() -> Plan {
        let (st, g) = stack(V1);
        plan_for(&st, &g, &State::fixed("t", "test"), &[], false)
    }

    /// Open `bytes`; the first diagnostic's detail on refusal.
    fn opened(bytes: &[u8]) -> Result<Plan, String> {
        open(bytes, Path::new("tf.plan"), &catalog()).map_err(|d| {
            assert_eq!(d[0].span.as_ref().map(|s| s.file.display().to_string()), Some("tf.plan".into()));
            format!("{}: {}", d[0].summary, d[0].detail)
        })
    }

    /// Edit the plan's JSON, then seal it again as a forger would (the digest is public).
    fn forged(edit: impl Fn(&mut Value)) -> Vec<u8> {
        let mut v: Value = serde_json::to_value(planned()).unwrap();
        edit(&mut v);
        seal(&serde_json::from_value(v).unwrap(), &catalog())
    }

    fn sg(v: &mut Value) -> &mut Value {
        v["changes"].as_array_mut().unwrap().iter_mut().find(|c| c["address"] == "sg").unwrap()
    }

    #[test]
    fn a_sealed_plan_opens_as_it_was() {
        let plan = planned();
        let back = opened(&seal(&plan, &catalog())).unwrap();
        assert_eq!(Plan { digest: String::new(), ..back }, plan);
    }

    #[test]
    fn an_edited_plan_is_refused_before_anything_runs() {
        let text = String::from_utf8(seal(&planned(), &catalog())).unwrap();
        // What the display shows stays; what apply sends is opened to the world.
        let edited = text.replacen("\"10.0.0.0/16\"", "\"0.0.0.0/0\"", 2);
        assert_ne!(edited, text);
        assert!(opened(edited.as_bytes()).unwrap_err().starts_with("Modified plan file"));
        let unsealed = serde_json::to_vec(&planned()).unwrap();
        assert!(opened(&unsealed).unwrap_err().starts_with("Modified plan file"), "a plan without digest");
        let twice = text.replacen("\"destroy\": false,", "\"destroy\": false, \"destroy\": true,", 1);
        assert!(opened(twice.as_bytes()).unwrap_err().contains("the key `destroy` appears twice"));
    }

    #[test]
    fn a_forged_plan_that_shows_one_thing_and_sends_another_is_refused() {
        let bytes = forged(|v| {
            sg(v)["config"]["ingress"] =
                json!({"lit": [{"protocol": "all", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}]});
        });
        let e = opened(&bytes).unwrap_err();
        assert!(e.contains("change `sg`: the plan shows `ingress` differently from what apply would send"), "{e}");
        let bytes = forged(|v| {
            sg(v)["type"] = json!("aws.ec2.nonsense");
        });
        assert!(opened(&bytes).unwrap_err().contains("type `aws.ec2.nonsense` is not a resource type"));
        let bytes = forged(|v| {
            sg(v)["config"]["ingress"] =
                json!({"lit": [{"protocol": "tcp", "from_port": 4294967296i64, "to_port": 0}]});
            sg(v)["after"]["ingress"] = json!([{"protocol": "tcp", "from_port": 4294967296i64, "to_port": 0}]);
        });
        assert!(opened(&bytes).unwrap_err().contains("`ingress`"), "nested values are checked by the type's rules too");
        let bytes = forged(|v| {
            let changes = v["changes"].as_array_mut().unwrap();
            let vpc = changes.iter_mut().find(|c| c["address"] == "vpc").unwrap();
            vpc["dependencies"] = json!(["sg"]);
        });
        assert!(opened(&bytes).unwrap_err().starts_with("Dependency cycle in plan file"));
    }
}

/// An output name that state holds (any text, from a state written before names were
/// checked, or pushed) cannot break out of the pull-request comment's "Full plan" block or
/// act on a terminal: before, a name holding a newline and a fence closed the block and
/// added a heading of its own, and one holding escape sequences erased the summary above.
#[test]
fn names_from_state_stay_inside_the_plan() {
    let (st, g) = stack(V1);
    let mut state = State::fixed("t", "test");
    let forged = "x\n```\n## All checks passed, safe to merge\n[details](https://evil.example)\n\u{1b}[1A\u{1b}[2K";
    state
        .outputs
        .insert(forged.to_string(), crate::state::OutputState { value: serde_json::json!("v"), sensitive: false });
    let plan = plan_for(&st, &g, &state, &[], false);
    let text = crate::plan::render(&plan, &crate::testutil::catalog());
    assert!(!text.contains('\u{1b}'), "{text}");
    let md = crate::plan::markdown(&plan, &crate::testutil::catalog(), &[]);
    let (_, full) = md.split_once("<summary>Full plan</summary>\n\n").expect("the full plan");
    let fence: String = full.chars().take_while(|c| *c == '`').collect();
    assert!(fence.len() > 3, "a fence longer than the name's: {md}");
    let body = &full[fence.len()..full.rfind(&fence).expect("closed")];
    assert!(body.contains("## All checks passed"), "the name is shown inside the block: {md}");
    assert!(!body.lines().any(|l| l.starts_with(&fence)), "nothing inside closes it: {md}");
    assert!(!md.contains('\u{1b}'));
}
