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
    let plan = plan_for(&st, &g, &State::new("t", "test"), &[], false);
    let s = run(&plan, State::new("t", "test"), mem.clone(), &MemStore::default(), 1).await.state;
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
        taggable: false,
        identity: crate::schema::Identity::Name("name"),
        arn: None,
        normalize: None,
        timeouts: crate::schema::QUICK,
        stateful: false,
    };
    const SECRET: &str = "hunter2-do-not-print";

    fn stack(password: &str) -> (Stack, DepGraph) {
        let props = BTreeMap::from([
            ("name".to_string(), Expr::Lit(json!("db"))),
            ("password".to_string(), Expr::Lit(json!(password))),
        ]);
        let r = Resource {
            name: "db".into(),
            ty: &SECRET_TYPE,
            props,
            depends_on: vec![],
            timeouts: crate::schema::QUICK,
            prevent_destroy: false,
            span: Span::file(Path::new("t")),
        };
        let s = Stack {
            name: "t".into(),
            file: std::sync::Arc::new("t".into()),
            resources: vec![r],
            outputs: vec![],
            warnings: vec![],
        };
        let g = DepGraph::from_stack(&s);
        (s, g)
    }

    #[test]
    fn sensitive_values_are_hashed_in_state_and_redacted_in_plans() {
        let mut state = State::new("t", "test");
        let sent: Props =
            [("name".to_string(), json!("db")), ("password".to_string(), json!(SECRET))].into_iter().collect();
        let obs = Observed { id: "s-1".into(), properties: Props::new(), attributes: Props::new() };
        let recorded = crate::engine::recorded(&state, &SECRET_TYPE, &sent, &obs);
        assert!(recorded["password"].as_str().unwrap().starts_with("sha256:"));
        state.put(ResourceState {
            address: "db".into(),
            ty: SECRET_TYPE.name.into(),
            id: "s-1".into(),
            properties: recorded,
            attributes: Props::new(),
            dependencies: vec![],
            pending: None,
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

mod protection {
    use crate::provider::memory::MemoryProvider;
    use crate::state::State;
    use crate::testutil::{plan_for, run, stack, MemStore};
    use std::sync::Arc;

    const PROTECTED: &str = "resources:\n  db_subnets:\n    type: aws.ec2.vpc\n    properties: { cidr_block: 10.0.0.0/16 }\n    prevent_destroy: true\n  scratch:\n    type: aws.s3.bucket\n    properties: { bucket: scratch }\n";

    #[tokio::test]
    async fn prevent_destroy_blocks_replace_and_destroy_but_not_removal() {
        let (st, g) = stack(PROTECTED);
        let mem = Arc::new(MemoryProvider::new());
        let plan = plan_for(&st, &g, &State::new("t", "test"), &[], false);
        let s = run(&plan, State::new("t", "test"), mem, &MemStore::default(), 1).await.state;

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

    #[tokio::test]
    async fn replacing_a_stateful_resource_is_flagged() {
        let (st, g) = stack(PROTECTED);
        let mem = Arc::new(MemoryProvider::new());
        let plan = plan_for(&st, &g, &State::new("t", "test"), &[], false);
        let s = run(&plan, State::new("t", "test"), mem, &MemStore::default(), 1).await.state;
        let (st2, g2) = stack(&PROTECTED.replace("bucket: scratch", "bucket: scratch-2"));
        let text = crate::testutil::render(&plan_for(&st2, &g2, &s, &[], false));
        assert!(
            text.contains("# WARNING: replacing `scratch` deletes the data it holds (aws.s3.bucket is stateful)"),
            "{text}"
        );
        assert!(text.contains("WARNING: this plan deletes stateful resources and their data: scratch"), "{text}");
    }
}
