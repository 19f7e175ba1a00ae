//! The database side of CDC through the RDS Data API, on the emulator's real MariaDB and
//! PostgreSQL: the CDC user logs in with its grants, a rotated secret is followed, the
//! publication and the slot are what PostgreSQL's catalogs list, destroy drops the slot,
//! and a lost `ExecuteStatement` answer makes nothing twice.

use crate::common::{aws, rt, FaultProxy, Project};
use aws_sdk_rdsdata::types::Field;
use serde_json::json;

const MYSQL: &str = r#"
name: {{name}}
resources:
  aurora:
    type: aws.rds.cluster
    properties:
      cluster_identifier: "{{name}}-my"
      engine: aurora-mysql
      engine_version: 8.0.mysql_aurora.3.08.0
      master_username: admin
      manage_master_password: true
      database_name: sales
      enable_http_endpoint: true
      final_snapshot: false
  debezium_secret:
    type: aws.secretsmanager.secret
    properties:
      name: "{{name}}/debezium"
      recovery_window_in_days: 0
      generate: { length: 24, json_key: password, template: { username: debezium } }
  debezium:
    type: aws.rdsdata.cdc_user
    properties:
      resource_arn: ${aurora.arn}
      secret_arn: ${aurora.master_user_secret_arn}
      username: debezium
      password_secret_arn: ${debezium_secret.arn}
      databases: [sales]
  retention:
    type: aws.rdsdata.binlog_retention
    properties:
      resource_arn: ${aurora.arn}
      secret_arn: ${aurora.master_user_secret_arn}
      hours: 24
"#;

/// Rows of `sql` run on `cluster` as the user of `secret`, as text; or the engine's refusal.
fn sql_as(cluster: &str, secret: &str, sql: &str) -> Result<Vec<Vec<String>>, String> {
    rt().block_on(async {
        let out = aws().rds_data.execute_statement().resource_arn(cluster).secret_arn(secret).sql(sql).send().await;
        match out {
            Ok(o) => Ok(o
                .records()
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|f| match f {
                            Field::StringValue(s) => s.clone(),
                            Field::LongValue(n) => n.to_string(),
                            Field::BooleanValue(b) => b.to_string(),
                            _ => String::new(),
                        })
                        .collect()
                })
                .collect()),
            Err(e) => Err(format!("{}", aws_sdk_rdsdata::error::DisplayErrorContext(&e))),
        }
    })
}

fn attr(p: &Project, address: &str, name: &str) -> String {
    let state = p.state();
    let r = state["resources"].as_array().unwrap().iter().find(|r| r["address"] == address).unwrap();
    r["attributes"][name].as_str().unwrap().to_string()
}

#[test]
fn the_mysql_cdc_user_logs_in_with_debeziums_grants_and_follows_its_secret() {
    let p = Project::new("cdcuser");
    p.local_env();
    p.write("stacks/main.yaml", MYSQL);
    let run = p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    assert!(run.stderr.contains("Apply complete! Resources: 4 added"), "{}", run.stderr);
    let cluster = attr(&p, "aurora", "arn");
    let master = attr(&p, "aurora", "master_user_secret_arn");
    let user = attr(&p, "debezium_secret", "arn");

    // Logged in as the CDC user: exactly Debezium's grants, SELECT on `sales` only.
    let grants = sql_as(&cluster, &user, "SHOW GRANTS").expect("the CDC user logs in");
    let grants: Vec<String> = grants.into_iter().map(|r| r[0].clone()).collect();
    assert!(grants.iter().any(|g| g.contains("GRANT SELECT ON `sales`.* TO `debezium`@`%`")), "{grants:?}");
    let global = grants.iter().find(|g| g.contains(" ON *.* ")).expect("global grants");
    for p in ["RELOAD", "SHOW DATABASES", "REPLICATION SLAVE", "BINLOG MONITOR"] {
        assert!(global.contains(p), "{p} in {global}");
    }
    assert!(!global.starts_with("GRANT SELECT") && !global.contains(" SELECT,"), "SELECT only on sales: {global}");
    let retention = sql_as(&cluster, &master, "CALL mysql.rds_show_configuration").unwrap();
    assert!(
        retention.contains(&vec!["binlog retention hours".to_string(), "24".into(), retention[0][2].clone()]),
        "{retention:?}"
    );
    // Nothing of the password in state or in what was printed.
    let password = rt().block_on(async {
        let v = aws().secrets.get_secret_value().secret_id(&user).send().await.unwrap();
        serde_json::from_str::<serde_json::Value>(v.secret_string().unwrap()).unwrap()["password"]
            .as_str()
            .unwrap()
            .to_string()
    });
    let state_text = p.state().to_string();
    assert!(!state_text.contains(&password) && !run.stderr.contains(&password) && !run.stdout.contains(&password));
    p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code(0);

    // The secret rotated outside cloudbridge: the plan shows the password outdated, and
    // the apply sets it; the new password logs in, the old one no longer does.
    let old = serde_json::json!({"username": "debezium", "password": password}).to_string();
    let old_secret = rt().block_on(async {
        let new = json!({"username": "debezium", "password": "Rotated0Password0Value"}).to_string();
        aws().secrets.put_secret_value().secret_id(&user).secret_string(new).send().await.unwrap();
        aws()
            .secrets
            .create_secret()
            .name("cdcuser/old-password")
            .secret_string(old)
            .send()
            .await
            .unwrap()
            .arn()
            .unwrap()
            .to_string()
    });
    let plan = p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code(2);
    assert!(
        plan.stdout.contains("~ password") && plan.stdout.contains("\"outdated\" -> \"current\""),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("Rotated0Password0Value"), "{}", plan.stdout);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    sql_as(&cluster, &user, "SELECT 1").expect("the new password logs in");
    let refused = sql_as(&cluster, &old_secret, "SELECT 1").expect_err("the old password no longer does");
    assert!(refused.contains("Access denied"), "{refused}");
    p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code(0);

    // A grant taken behind cloudbridge's back shows as drift and is given again.
    sql_as(&cluster, &master, "REVOKE REPLICATION SLAVE ON *.* FROM 'debezium'@'%'").unwrap();
    let plan = p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code(2);
    assert!(plan.stdout.contains("\"incomplete\" -> \"complete\""), "{}", plan.stdout);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code(0);

    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
}

#[test]
fn a_lost_execute_statement_answer_creates_the_user_once() {
    let p = Project::new("cdclost");
    p.local_env();
    p.write("stacks/main.yaml", MYSQL);
    let proxy = FaultProxy::start();
    proxy.configure(json!({ "lose_first_of": ["rds-data:ExecuteStatement CREATE USER debezium", "rds-data:ExecuteStatement CALL mysql rds_set_configuration"] }));
    let run = p.cb_via(&proxy.url, &["apply", "-e", "test", "--auto-approve"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lost = proxy.status()["lost"].clone();
    assert_eq!(lost.as_array().map(Vec::len), Some(2), "both answers were lost: {lost}");
    // Created once: a second CREATE USER would have failed (MySQL refuses an existing
    // account); the look-up found the user and finished it as the stack's.
    let ops = proxy.status()["ops"].clone();
    assert_eq!(ops["rds-data:ExecuteStatement CREATE USER debezium"], 1, "{ops}");
    proxy.configure(json!({}));
    p.cb_via(&proxy.url, &["plan", "-e", "test", "--detailed-exitcode"]).code(0);
    let cluster = attr(&p, "aurora", "arn");
    let user = attr(&p, "debezium_secret", "arn");
    let grants = sql_as(&cluster, &user, "SHOW GRANTS").expect("the CDC user logs in");
    assert!(grants.iter().any(|g| g[0].contains("REPLICATION SLAVE")), "{grants:?}");
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
}

const POSTGRES: &str = r#"
name: {{name}}
resources:
  wal:
    type: aws.rds.cluster_parameter_group
    properties:
      name: "{{name}}-wal"
      family: aurora-postgresql16
      parameters: { rds.logical_replication: "1" }
  aurora:
    type: aws.rds.cluster
    properties:
      cluster_identifier: "{{name}}-pg"
      engine: aurora-postgresql
      engine_version: "16.4"
      master_username: postgres
      manage_master_password: true
      database_name: shop
      db_cluster_parameter_group_name: ${wal.name}
      enable_http_endpoint: true
      final_snapshot: false
  tables:
    type: aws.rdsdata.statement
    properties:
      resource_arn: ${aurora.arn}
      secret_arn: ${aurora.master_user_secret_arn}
      name: shop_tables
      exists: "SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = 'orders'"
      create:
        - CREATE TABLE IF NOT EXISTS public.orders (id INT PRIMARY KEY, item TEXT)
        - CREATE TABLE IF NOT EXISTS public.customers (id INT PRIMARY KEY, name TEXT)
      delete:
        - DROP TABLE IF EXISTS public.orders, public.customers
  cdc_secret:
    type: aws.secretsmanager.secret
    properties:
      name: "{{name}}/cdc"
      recovery_window_in_days: 0
      generate: { length: 24, json_key: password, template: { username: cdc } }
  cdc:
    type: aws.rdsdata.cdc_user
    properties:
      resource_arn: ${aurora.arn}
      secret_arn: ${aurora.master_user_secret_arn}
      username: cdc
      password_secret_arn: ${cdc_secret.arn}
      tables: [public.orders, public.customers]
    depends_on: [tables]
  publication:
    type: aws.rdsdata.publication
    properties:
      resource_arn: ${aurora.arn}
      secret_arn: ${aurora.master_user_secret_arn}
      name: dbz_publication
      tables: [public.orders]
    depends_on: [tables]
  slot:
    type: aws.rdsdata.replication_slot
    properties:
      resource_arn: ${aurora.arn}
      secret_arn: ${aurora.master_user_secret_arn}
      name: debezium
"#;

/// Names with a quote, a `|` or a dot are refused at validate, each located, before any
/// AWS call: the slot's name, the CDC user's name and the Data API `database` (which had
/// no check and, holding `|`, shifted the fields of the slot's ID).
#[test]
fn names_with_quotes_are_refused_at_validate_before_any_aws_call() {
    let p = Project::new("cdcquote");
    p.local_env();
    let stack = POSTGRES
        .replace(
            "      name: debezium\n",
            "      name: \"debezium', 'pgoutput'); DROP TABLE orders; --\"\n      database: \"shop|slot|x' AND 1/(SELECT 0) = 1 --\"\n",
        )
        .replace("      username: cdc\n", "      username: \"cdc'@'%' IDENTIFIED BY 'x\"\n")
        .replace("      name: dbz_publication\n", "      name: dbz.publication\n");
    p.write("stacks/main.yaml", &stack);
    let proxy = FaultProxy::start();
    let run = p.cb_via(&proxy.url, &["plan", "-e", "test"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    for (what, at) in [
        ("not a plain slot name", "stacks/main.yaml:62:13"),
        ("not a plain database name", "stacks/main.yaml:63:17"),
        ("not a plain user name", "stacks/main.yaml:45:17"),
        ("not a plain publication name", "stacks/main.yaml:54:13"),
    ] {
        assert!(run.stderr.contains(what), "{what}\n{}", run.stderr);
        assert!(run.stderr.contains(at), "{what} at {at}\n{}", run.stderr);
    }
    let ops = proxy.status()["ops"].clone();
    assert_eq!(ops, json!({}), "no AWS call before the configuration is valid: {ops}");
}

#[test]
fn postgres_gets_its_cdc_role_publication_and_slot_and_loses_the_slot_on_destroy() {
    let p = Project::new("cdcpg");
    p.local_env();
    p.write("stacks/main.yaml", POSTGRES);
    let run = p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    assert!(run.stderr.contains("Apply complete! Resources: 7 added"), "{}", run.stderr);
    let cluster = attr(&p, "aurora", "arn");
    let master = attr(&p, "aurora", "master_user_secret_arn");
    let cdc = attr(&p, "cdc_secret", "arn");

    let tables = sql_as(
        &cluster,
        &master,
        "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = 'dbz_publication'",
    )
    .unwrap();
    assert_eq!(tables, vec![vec!["public.orders".to_string()]]);
    let slots = || {
        sql_as(
            &cluster,
            &master,
            "SELECT slot_name, plugin, active FROM pg_replication_slots WHERE slot_name = 'debezium'",
        )
        .unwrap()
    };
    assert_eq!(slots(), vec![vec!["debezium".to_string(), "pgoutput".into(), "false".into()]]);
    // The CDC role logs in, replicates (rds_replication) and reads the captured tables.
    let me = sql_as(
        &cluster,
        &cdc,
        "SELECT current_user, (SELECT rolreplication FROM pg_roles WHERE rolname = current_user)",
    )
    .expect("the CDC role logs in");
    assert_eq!(me, vec![vec!["cdc".to_string(), "true".into()]]);
    sql_as(&cluster, &cdc, "SELECT count(*) FROM public.customers").expect("SELECT on a captured table");
    p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code(0);

    // Live: the slot nobody reads retains WAL (CB314), and a Debezium reader of the stack
    // captures a table the publication lacks (CB316).
    let reader = r#"  reader:
    type: aws.ecs.task_definition
    properties:
      family: "{{name}}-debezium"
      cpu: 256
      memory: 512
      execution_role_arn: arn:aws:iam::210987654321:role/ecs
      container_definitions:
        - name: debezium
          image: quay.io/debezium/server:2.7
          environment:
            DEBEZIUM_SOURCE_CONNECTOR_CLASS: io.debezium.connector.postgresql.PostgresConnector
            DEBEZIUM_SOURCE_PUBLICATION_NAME: dbz_publication
            DEBEZIUM_SOURCE_TABLE_INCLUDE_LIST: public.orders,public.customers
"#;
    p.write("stacks/main.yaml", &(POSTGRES.to_string() + reader));
    let live = p.cb(&["check", "-e", "test", "--live"]);
    assert_eq!(live.code, 1, "{}", live.stderr);
    assert!(live.stderr.contains("error[CB316]: Publication misses captured tables"), "{}", live.stderr);
    assert!(live.stderr.contains("lacks public.customers, which its reader captures"), "{}", live.stderr);
    assert!(live.stderr.contains("warning[CB314]: Replication slot without a reader"), "{}", live.stderr);
    assert!(live.stderr.contains("the slot `debezium` on `aurora` has no reader and retains"), "{}", live.stderr);
    assert!(!live.stderr.contains("CB301"), "logical replication is on: {}", live.stderr);
    p.write("stacks/main.yaml", POSTGRES);

    // A table added to the publication changes it in place.
    p.write(
        "stacks/main.yaml",
        &POSTGRES.replace("tables: [public.orders]\n", "tables: [public.orders, public.customers]\n"),
    );
    let run = p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    assert!(run.stderr.contains("0 added, 1 changed, 0 destroyed"), "{}", run.stderr);
    let tables = sql_as(
        &cluster,
        &master,
        "SELECT tablename FROM pg_publication_tables WHERE pubname = 'dbz_publication' ORDER BY 1",
    )
    .unwrap();
    assert_eq!(tables, vec![vec!["customers".to_string()], vec!["orders".into()]]);

    p.cb(&["destroy", "-e", "test", "--auto-approve", "--target", "slot"]).ok();
    assert_eq!(slots(), Vec::<Vec<String>>::new(), "the slot is dropped");
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
}

#[test]
fn check_live_finds_a_binlog_format_changed_behind_cloudbridges_back() {
    let stack = MYSQL.replace(
        "      enable_http_endpoint: true\n",
        "      enable_http_endpoint: true\n      db_cluster_parameter_group_name: ${binlog.name}\n",
    ) + r#"  binlog:
    type: aws.rds.cluster_parameter_group
    properties:
      name: "{{name}}-binlog"
      family: aurora-mysql8.0
      parameters: { binlog_format: ROW, binlog_row_image: FULL }
"#;
    let p = Project::new("cdclive");
    p.local_env();
    p.write("stacks/main.yaml", &stack);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let ok = p.cb(&["check", "-e", "test", "--live"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(ok.stderr.contains("No findings."), "{}", ok.stderr);

    // Someone sets MIXED in the group, behind cloudbridge's back: the server runs with
    // it, and the live check reads it from the server.
    rt().block_on(async {
        let mixed = aws_sdk_rds::types::Parameter::builder()
            .parameter_name("binlog_format")
            .parameter_value("MIXED")
            .apply_method(aws_sdk_rds::types::ApplyMethod::PendingReboot)
            .build();
        aws()
            .rds
            .modify_db_cluster_parameter_group()
            .db_cluster_parameter_group_name("cdclive-binlog")
            .parameters(mixed)
            .send()
            .await
            .unwrap();
    });
    let cluster = attr(&p, "aurora", "arn");
    let master = attr(&p, "aurora", "master_user_secret_arn");
    assert_eq!(sql_as(&cluster, &master, "SELECT @@binlog_format").unwrap(), vec![vec!["MIXED".to_string()]]);
    let found = p.cb(&["check", "-e", "test", "--live"]);
    assert_eq!(found.code, 1, "{}", found.stderr);
    assert!(
        found.stderr.contains("error[CB302]: Invalid value\n  --> stacks/main.yaml:4:3\n  `aurora` runs with `@@binlog_format` = MIXED: Debezium and DMS need ROW"),
        "{}",
        found.stderr
    );

    // A grant taken from the CDC user: CB315 at the user, in JSON too.
    sql_as(&cluster, &master, "REVOKE RELOAD ON *.* FROM 'debezium'@'%'").unwrap();
    let json = p.cb(&["check", "-e", "test", "--live", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let rules: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["resource"].as_str().unwrap()))
        .collect();
    assert_eq!(rules, [("CB302", "aurora"), ("CB315", "debezium")], "{}", json.stdout);
    assert!(json.stdout.contains("lacks RELOAD"), "{}", json.stdout);
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
}

/// Stack D on Aurora PostgreSQL (`source_engine: aurora-postgresql`): before the
/// application's tables exist the apply fails, saying so, and once they are there the same
/// apply gives Debezium its own login (`rds_replication`, SELECT on
/// the captured tables), a publication over exactly those tables and its slot, and Debezium
/// Server reads with that login and finds them (autocreate off); `check --live` agrees;
/// destroy drops the slot before the database.
#[test]
fn stack_d_on_aurora_postgresql_gives_debezium_its_login_publication_and_slot() {
    let p = Project::reference("stack-d-apg");
    let stack = "cdc-iceberg-lakehouse";
    // Its own env (names and tags), so that it never meets the RDS round trip of stack D.
    p.write(
        "envs/apg.yaml",
        "stack: stacks/cdc-postgres-debezium-iceberg.yaml\nregion: us-east-1\nvariables:\n  prefix: cdc-apg\n  source_engine: aurora-postgresql\ndefault_tags:\n  project: cdc-platform\n  environment: apg\nbackend:\n  type: local\n  path: .cloudbridge/state/{stack}/{env}.json\n",
    );
    let attr = |address: &str, name: &str| {
        let state = p.state_of(stack, "apg");
        let r = state["resources"].as_array().unwrap().iter().find(|r| r["address"] == address).cloned();
        r.unwrap_or_else(|| panic!("{address} in state"))["attributes"][name].as_str().unwrap().to_string()
    };
    // Before the application made its tables, the publication and the login's grants
    // cannot be made: the apply says which table and what to do, and keeps what it made.
    let first = p.cb(&["apply", "-e", "apg", "--auto-approve"]);
    assert_eq!(first.code, 1, "{}", first.stderr);
    assert!(
        first.stderr.contains(r#"`publication[0]`: BadRequestException: relation "public.orders" does not exist (a table it names is not in the database yet: create it with the application's schema"#),
        "{}",
        first.stderr
    );
    let cluster = attr("module.source.cluster[0]", "arn");
    let master = attr("module.source.cluster[0]", "master_user_secret_arn");
    // The application's schema; then the same apply again finishes the work.
    for t in ["users", "products", "orders"] {
        sql_as(&cluster, &master, &format!("CREATE TABLE public.{t} (id INT PRIMARY KEY, v TEXT)")).unwrap();
    }
    let run = p.cb(&["apply", "-e", "apg", "--auto-approve"]).ok();
    assert!(run.stderr.contains("Apply complete!"), "{}", run.stderr);

    let login = attr("debezium_login[0]", "arn");
    let me = sql_as(
        &cluster,
        &login,
        "SELECT current_user, (SELECT rolreplication FROM pg_roles WHERE rolname = current_user), has_table_privilege('public.orders', 'SELECT'), has_table_privilege('public.orders', 'INSERT')",
    )
    .expect("Debezium's login logs in");
    assert_eq!(me, vec![vec!["debezium".to_string(), "true".into(), "true".into(), "false".into()]]);
    let published = sql_as(
        &cluster,
        &master,
        "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = 'debezium_lakehouse' ORDER BY 1",
    )
    .unwrap();
    let published: Vec<String> = published.into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(published, ["public.orders", "public.products", "public.users"]);
    let slots = sql_as(
        &cluster,
        &master,
        "SELECT slot_name, plugin FROM pg_replication_slots WHERE slot_name = 'debezium_lakehouse'",
    )
    .unwrap();
    assert_eq!(slots, vec![vec!["debezium_lakehouse".to_string(), "pgoutput".into()]]);
    // CB317 on the real engine: the master user (rds_superuser, no superuser) may not
    // publish FOR ALL TABLES, Debezium's default; it may publish the tables it owns
    // (`filtered`, what D does on RDS for PostgreSQL).
    let all = sql_as(&cluster, &master, "CREATE PUBLICATION everything FOR ALL TABLES").unwrap_err();
    assert!(all.contains("FOR ALL TABLES publication"), "{all}");
    sql_as(&cluster, &master, "CREATE PUBLICATION filtered FOR TABLE public.users, public.orders").unwrap();
    sql_as(&cluster, &master, "DROP PUBLICATION filtered").unwrap();
    // Debezium Server logs in as `debezium` with that login's password, and makes nothing.
    let task = attr("debezium_task", "arn");
    rt().block_on(async {
        let t = aws().ecs.describe_task_definition().task_definition(&task).send().await.unwrap();
        let c = &t.task_definition().unwrap().container_definitions()[0];
        let env = |k: &str| c.environment().iter().find(|e| e.name() == Some(k)).and_then(|e| e.value());
        assert_eq!(env("DEBEZIUM_SOURCE_DATABASE_USER"), Some("debezium"));
        assert_eq!(env("DEBEZIUM_SOURCE_PUBLICATION_NAME"), Some("debezium_lakehouse"));
        assert_eq!(env("DEBEZIUM_SOURCE_PUBLICATION_AUTOCREATE_MODE"), Some("disabled"));
        let secret = c.secrets().iter().find(|s| s.name() == "DEBEZIUM_SOURCE_DATABASE_PASSWORD").unwrap();
        assert_eq!(secret.value_from(), format!("{login}:password::"));
    });
    let live = p.cb(&["check", "-e", "apg", "--live"]);
    assert_eq!(live.code, 0, "{}", live.stderr);
    assert!(!live.stderr.contains("CB316") && !live.stderr.contains("CB315"), "{}", live.stderr);
    // Nothing runs Debezium on the emulator: the slot is idle, and its reader is named.
    assert!(
        live.stderr.contains("the slot `debezium_lakehouse` on `module.source.cluster[0]` is not being read (its reader `debezium_task` is not connected)"),
        "{}",
        live.stderr
    );
    p.cb(&["plan", "-e", "apg", "--detailed-exitcode"]).code(0);

    let run = p.cb(&["destroy", "-e", "apg", "--auto-approve"]).ok();
    assert!(run.stderr.contains("Destroy complete!"), "{}", run.stderr);
    assert!(p.state_of(stack, "apg")["resources"].as_array().unwrap().is_empty());
}
