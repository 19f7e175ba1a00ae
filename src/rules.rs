//! The rules `validate`, `plan` and `check` apply across resources, each with a stable ID
//! (`CB…`), a severity, and what it protects against. Each rule is a static (`CB305`), so
//! a check names the rule itself, never its ID as text, and builds its findings from it
//! ([`Rule::finding`]): a [`crate::diag::Diagnostic`] with the rule's severity, summary
//! and ID. A resource may suppress a rule with a reason (`suppress: { CB305: "why" }`).
//! Numbering: `CB1xx` network, `CB2xx` IAM, `CB3xx` CDC prerequisites and wiring.

use crate::diag::{Diagnostic, Severity};
use serde_json::{json, Value};

/// One rule: its ID, severity, the summary its findings carry, and what it is for.
#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub explanation: &'static str,
}

impl Rule {
    /// A finding of this rule about `resource`: its severity and summary are the rule's.
    pub fn finding(&self, resource: &str, detail: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: self.severity,
            rule: Some(self.id),
            resource: Some(resource.to_string()),
            ..Diagnostic::error(self.summary, detail)
        }
    }
}

/// Declares each rule as a static named by its ID (the ID is the name, written once) and
/// [`RULES`], every rule in the order written.
macro_rules! rules {
    ($($id:ident { $($field:ident: $value:expr),* $(,)? })*) => {
        $(pub static $id: Rule = Rule { id: stringify!($id), $($field: $value),* };)*
        /// Every rule, in the order of their IDs.
        pub static RULES: &[&Rule] = &[$(&$id),*];
    };
}

rules! {
    CB101 {
        severity: Severity::Error,
        summary: "Subnet outside its VPC",
        explanation: "A subnet's block must lie inside its VPC's: AWS refuses it half-way through an apply.",
    }
    CB102 {
        severity: Severity::Error,
        summary: "Overlapping subnets",
        explanation: "Two subnets of one VPC cannot share addresses: AWS refuses the second half-way through an apply.",
    }
    CB103 {
        severity: Severity::Error,
        summary: "Blocked by a security group",
        explanation: "Each data path over the network (a connector to its database and to MSK, DMS to its endpoints, Redshift to MSK, a JDBC connection to its database) needs an ingress rule on the target's security group for the port, from the source's group or a block holding its subnets, and an egress rule out of the source's group. The first blocking group is reported.",
    }
    CB104 {
        severity: Severity::Error,
        summary: "No route between VPCs",
        explanation: "A data path between subnets of two VPCs needs a route from the source's subnets to the other VPC's block through a peering connection or a transit gateway (for Redshift, when enhanced VPC routing sends its traffic through the VPC).",
    }
    CB105 {
        severity: Severity::Error,
        summary: "No way to the AWS API",
        explanation: "A resource in private subnets that calls an AWS API (a Glue job reading S3 through its connection's subnet, a connector reading Secrets Manager) needs a NAT gateway or a VPC endpoint for that service on its subnet's route table.",
    }
    CB201 {
        severity: Severity::Error,
        summary: "Missing permission",
        explanation: "The role acting on a data path must be allowed every action the path needs on the resources it touches (for Redshift streaming ingestion: `kafka-cluster:Connect`, `DescribeCluster`, `DescribeTopic`, `ReadData` on the cluster and topic ARNs). The stack's inline and customer managed policies are evaluated (wildcards, `Deny`, `NotAction`, ARNs built from references); a role with an AWS managed policy is only checked for explicit denies.",
    }
    CB202 {
        severity: Severity::Error,
        summary: "Grants everything",
        explanation: "An `Allow` of every action (`*` or `NotAction`) on every resource turns a pipeline role into an administrator.",
    }
    CB203 {
        severity: Severity::Warning,
        summary: "Grants a whole service",
        explanation: "An `Allow` of every action of a service (`s3:*`) on every resource reaches far beyond the pipeline's data.",
    }
    CB204 {
        severity: Severity::Warning,
        summary: "Location not determined by its reference",
        explanation: "A generated policy grants only on ARNs a reference fully determines. An S3 location in a job's or function's arguments whose bucket is not the referenced bucket (`s3://*/${lake.bucket}/` would grant on `arn:aws:s3:::*/acme-lake-dev/*`), or whose path holds a `*` or `?` written by hand (IAM reads them as wildcards in a resource ARN: IAM User Guide, \"IAM JSON policy elements: Resource\"), is granted nothing; the finding says which.",
    }
    CB301 {
        severity: Severity::Error,
        summary: "CDC source without change capture",
        explanation: "A database read by DMS or Debezium needs a row-based binlog (MySQL) or logical replication (PostgreSQL), set by a parameter group of the stack: otherwise the connector fails at its first read, hours after the apply.",
    }
    CB302 {
        severity: Severity::Error,
        summary: "Invalid value",
        explanation: "A binlog or replication parameter with a value no CDC reader accepts (`binlog_format: MIXED`, `binlog_row_image: MINIMAL`).",
    }
    CB303 {
        severity: Severity::Error,
        summary: "Binlog without backups",
        explanation: "RDS for MySQL and MariaDB write no binlog when automated backups are off (`backup_retention_period: 0`), so DMS and Debezium have nothing to read.",
    }
    CB304 {
        severity: Severity::Warning,
        summary: "Binlog retention not set",
        explanation: "RDS purges binlogs as soon as it can; a reader that stops for a while loses its position. Retention is set by a stored procedure after the database exists (`CALL mysql.rds_set_configuration('binlog retention hours', N)`), which `aws.rdsdata.binlog_retention` runs through the RDS Data API.",
    }
    CB305 {
        severity: Severity::Error,
        summary: "Too few replication slots",
        explanation: "Each CDC reader of a PostgreSQL database (a DMS task, a Debezium connector) holds a logical replication slot and a WAL sender; a parameter group that allows fewer than there are readers leaves one unable to start.",
    }
    CB306 {
        severity: Severity::Warning,
        summary: "SQL Server CDC prerequisites",
        explanation: "DMS reads SQL Server changes through MS-CDC, which only SQL run on the database turns on (`msdb.dbo.rds_cdc_enable_db`, `sys.sp_cdc_enable_table` per table), with SQL Server Agent running and the full recovery model.",
    }
    CB307 {
        severity: Severity::Error,
        summary: "Connector and database disagree",
        explanation: "A Debezium connector's class must match the engine of the database its `database.hostname` names, and its `database.port` the port that database listens on.",
    }
    CB308 {
        severity: Severity::Error,
        summary: "Kafka authentication mismatch",
        explanation: "A client's Kafka authentication must be one its cluster serves: IAM on 9098 (`bootstrap_brokers_sasl_iam`, `iam_auth: true`), TLS on 9094.",
    }
    CB309 {
        severity: Severity::Error,
        summary: "Topic prefix mismatch",
        explanation: "The topics Redshift's materialized views read must be ones a Debezium writer of the cluster produces (`<topic.prefix>.<database>.<table>`) or an `aws.msk.topic` of the stack; otherwise the views stay empty.",
    }
    CB310 {
        severity: Severity::Warning,
        summary: "Secret not in the stack",
        explanation: "A connector reading its credentials from a secret no resource of the stack creates fails at start if the secret does not exist.",
    }
    CB311 {
        severity: Severity::Warning,
        summary: "Plugin not in the stack",
        explanation: "A connector whose plugin is not an `aws.mskconnect.custom_plugin` of the stack may name a plugin that does not exist or lacks its class.",
    }
    CB312 {
        severity: Severity::Warning,
        summary: "Mapping names another database",
        explanation: "A DMS task from MySQL selects schemas, which in MySQL are databases: a selection naming another database than the source's captures nothing.",
    }
    CB313 {
        severity: Severity::Error,
        summary: "Change data capture would restart",
        explanation: "A plan that replaces a DMS task or an MSK Connect connector restarts its capture: a full reload of the source, or a lost position. It is refused unless the plan is made with `--allow-resnapshot` or the resource sets `allow_resnapshot: true` (or suppresses CB313 with a reason).",
    }
    CB314 {
        severity: Severity::Warning,
        summary: "Replication slot without a reader",
        explanation: "A PostgreSQL logical replication slot keeps every WAL segment from its position on until a reader consumes it: a slot no connector of the stack names fills the database's disk, and then the database stops.",
    }
    CB315 {
        severity: Severity::Error,
        summary: "CDC user lacks grants",
        explanation: "Found by `check --live`: the CDC user a reader logs in as lacks what it needs (MySQL: `SELECT`, `RELOAD`, `SHOW DATABASES`, `REPLICATION SLAVE`, `REPLICATION CLIENT`; PostgreSQL: `LOGIN` and `rds_replication`), or does not exist: the reader fails at its next connection.",
    }
    CB316 {
        severity: Severity::Error,
        summary: "Publication misses captured tables",
        explanation: "Found by `check --live`: a PostgreSQL publication lacks tables its Debezium reader captures (`table.include.list`): their changes are never published, and the topics stay empty without an error.",
    }
    CB317 {
        severity: Severity::Error,
        summary: "Publication needs a superuser",
        explanation: "Debezium's PostgreSQL connector (`pgoutput`) makes its publication `FOR ALL TABLES` unless told otherwise (`publication.autocreate.mode: all_tables`), and only a superuser may; RDS and Aurora have none (`rds_superuser` is not one), so the connector fails at its start with `must be superuser to create FOR ALL TABLES publication`. Use `filtered` (a publication over `table.include.list`), or make the publication with `aws.rdsdata.publication` and name it in `publication.name`.",
    }
    CB318 {
        severity: Severity::Error,
        summary: "Decoding plugin RDS lacks",
        explanation: "Debezium's PostgreSQL connector decodes with `decoderbufs` unless `plugin.name` says otherwise, and RDS and Aurora do not ship it (they offer `pgoutput`, `test_decoding` and `wal2json`): the connector fails when it makes its slot. Debezium's other plugin, `pgoutput`, is PostgreSQL's own.",
    }
}

/// The rule with this ID.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id).copied()
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// `cloudbridge check --json`: every finding with its rule, severity and location.
pub fn json(findings: &[Diagnostic]) -> String {
    let count = |s: Severity| findings.iter().filter(|d| d.severity == s).count();
    let out = json!({
        "format_version": "1",
        "errors": count(Severity::Error),
        "warnings": count(Severity::Warning),
        "findings": self::findings(findings),
    });
    serde_json::to_string_pretty(&out).unwrap_or_default()
}

/// Each finding with its rule, severity and location, as a JSON array.
pub fn findings(findings: &[Diagnostic]) -> Value {
    Value::Array(findings.iter().map(finding).collect())
}

/// One finding (or any diagnostic) with its rule, severity and location.
pub fn finding(d: &Diagnostic) -> Value {
    json!({
        "rule": d.rule,
        "severity": level(d.severity),
        "summary": d.summary,
        "detail": d.detail,
        "resource": d.resource,
        "file": d.span.as_ref().map(|s| s.file.display().to_string()),
        "line": d.span.as_ref().map(|s| s.line),
        "column": d.span.as_ref().map(|s| s.col),
        "hint": d.hint,
    })
}

/// `cloudbridge check --format sarif`: SARIF 2.1.0, one run, the rules as the driver's
/// (so code scanning shows their explanations), paths relative to the project.
pub fn sarif(findings: &[Diagnostic]) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.summary,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": r.explanation },
                "defaultConfiguration": { "level": level(r.severity) },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|d| {
            let text = match &d.hint {
                Some(h) => format!("{}: {} (fix: {h})", d.summary, d.detail),
                None => format!("{}: {}", d.summary, d.detail),
            };
            let mut r = json!({ "level": level(d.severity), "message": { "text": text } });
            if let Some(id) = d.rule {
                r["ruleId"] = json!(id);
            }
            if let Some(s) = d.span.as_ref() {
                let mut region = json!({});
                if s.line > 0 {
                    region = json!({ "startLine": s.line, "startColumn": s.col.max(1) });
                }
                r["locations"] = json!([{ "physicalLocation": {
                    "artifactLocation": { "uri": s.file.display().to_string().replace('\\', "/") },
                    "region": region,
                } }]);
            }
            r
        })
        .collect();
    let out = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "cloudbridge",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            } },
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_lists_every_rule() {
        let readme = include_str!("../README.md");
        for r in RULES {
            assert!(readme.contains(&format!("| `{}` | {} |", r.id, level(r.severity))), "README lacks {}", r.id);
        }
    }

    #[test]
    fn rule_ids_are_unique_sorted_and_well_formed() {
        let ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted, "sorted, each once");
        for id in ids {
            assert!(id.len() == 5 && id.starts_with("CB") && id[2..].chars().all(|c| c.is_ascii_digit()), "{id}");
        }
    }
}
