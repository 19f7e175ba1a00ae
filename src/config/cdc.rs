//! Rules for what a change-data-capture source needs, checked on the stack as written:
//! a parameter group that configures the MySQL binlog must make it row-based with full
//! row images (Debezium and DMS cannot capture changes otherwise), and PostgreSQL logical
//! replication is on or off, nothing else.

use crate::diag::Diagnostic;
use crate::yaml::Node;

/// `(parameter, allowed values, why)`.
const RULES: &[(&str, &[&str], &str)] = &[
    ("binlog_format", &["ROW"], "Debezium and DMS read row-based binlogs only"),
    ("binlog_row_image", &["FULL"], "CDC needs full before/after row images"),
    ("binlog_checksum", &["NONE", "CRC32"], "these are the values MySQL accepts"),
    ("rds.logical_replication", &["0", "1"], "1 turns logical replication on, 0 off"),
];

/// Check the `parameters:` of an RDS parameter group.
pub fn check_parameters(parameters: &Node, out: &mut Vec<Diagnostic>) {
    let Some(entries) = parameters.as_map() else { return };
    for (k, v) in entries {
        let Some((_, allowed, why)) = RULES.iter().find(|(name, _, _)| *name == k.name) else { continue };
        let Some(value) = v.scalar_text() else { continue };
        if value.contains("${") || allowed.iter().any(|a| a.eq_ignore_ascii_case(&value)) {
            continue;
        }
        out.push(
            Diagnostic::error("Invalid value", format!("`{}: {value}` cannot serve a CDC source: {why}", k.name))
                .at(&v.span)
                .hint(format!("use {}", allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(" or "))),
        );
    }
}
