//! The rules `validate`, `plan` and `check` apply across resources, each with a stable ID
//! (`CB…`), a severity, and what it protects against. A finding of a rule is a
//! [`crate::diag::Diagnostic`] carrying the ID; a resource may suppress a rule with a
//! reason (`suppress: { CB305: "why" }`). Numbering: `CB1xx` network, `CB3xx` CDC
//! prerequisites.

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

pub const RULES: &[Rule] = &[
    Rule {
        id: "CB101",
        severity: Severity::Error,
        summary: "Subnet outside its VPC",
        explanation: "A subnet's block must lie inside its VPC's: AWS refuses it half-way through an apply.",
    },
    Rule {
        id: "CB102",
        severity: Severity::Error,
        summary: "Overlapping subnets",
        explanation: "Two subnets of one VPC cannot share addresses: AWS refuses the second half-way through an apply.",
    },
    Rule {
        id: "CB301",
        severity: Severity::Error,
        summary: "CDC source without change capture",
        explanation: "A database read by DMS or Debezium needs a row-based binlog (MySQL) or logical replication (PostgreSQL), set by a parameter group of the stack: otherwise the connector fails at its first read, hours after the apply.",
    },
    Rule {
        id: "CB302",
        severity: Severity::Error,
        summary: "Invalid value",
        explanation: "A binlog or replication parameter with a value no CDC reader accepts (`binlog_format: MIXED`, `binlog_row_image: MINIMAL`).",
    },
    Rule {
        id: "CB303",
        severity: Severity::Error,
        summary: "Binlog without backups",
        explanation: "RDS for MySQL and MariaDB write no binlog when automated backups are off (`backup_retention_period: 0`), so DMS and Debezium have nothing to read.",
    },
    Rule {
        id: "CB304",
        severity: Severity::Warning,
        summary: "Binlog retention not set",
        explanation: "RDS purges binlogs as soon as it can; a reader that stops for a while loses its position. Retention is set by a stored procedure after the database exists (`CALL mysql.rds_set_configuration('binlog retention hours', N)`), which no API call can do.",
    },
    Rule {
        id: "CB305",
        severity: Severity::Error,
        summary: "Too few replication slots",
        explanation: "Each CDC reader of a PostgreSQL database (a DMS task, a Debezium connector) holds a logical replication slot and a WAL sender; a parameter group that allows fewer than there are readers leaves one unable to start.",
    },
];

/// The rule with this ID.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
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
    let items: Vec<Value> = findings
        .iter()
        .map(|d| {
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
        })
        .collect();
    let out = json!({
        "format_version": "1",
        "errors": count(Severity::Error),
        "warnings": count(Severity::Warning),
        "findings": items,
    });
    serde_json::to_string_pretty(&out).unwrap_or_default()
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
