//! What the catalog says about itself, for people and editors: `cloudbridge types`,
//! `cloudbridge explain TYPE`, the README's resource table (a test keeps it current), and
//! `cloudbridge schema`, a JSON Schema of stack and env files for yaml-language-server.
//! Pure: the catalog is handed in.

use crate::schema::{Catalog, Identity, Prop, PropKind, TypeSchema, Update};
use serde_json::{json, Map, Value};
use std::fmt::Write;

/// One line per type: its name and what it is; then the data sources.
pub fn types(catalog: &Catalog) -> String {
    let width = catalog.types().iter().map(|t| t.name.len()).max().unwrap_or(0);
    let mut out: String = catalog.types().iter().map(|t| format!("{:<width$}  {}\n", t.name, t.doc)).collect();
    out.push_str("\nData sources (under `data:`):\n");
    for k in crate::data::KINDS {
        let filter: Vec<&str> = k.filter.iter().map(|p| p.name).collect();
        let _ = writeln!(
            out,
            "{:<width$}  {} Filter: {}. Attributes: {}.",
            k.name,
            k.doc,
            if filter.is_empty() { "none".to_string() } else { filter.join(", ") },
            k.attrs.join(", ")
        );
    }
    out
}

fn range_text(p: &Prop) -> Option<String> {
    let (lo, hi) = p.range?;
    Some(match p.kind {
        PropKind::Int => format!("{lo} to {hi}"),
        _ => format!("{lo} to {hi} characters"),
    })
}

fn kind_text(k: &PropKind) -> String {
    match k {
        PropKind::Object(_) => "a map of the keys below".into(),
        PropKind::List(PropKind::Object(_)) | PropKind::Set(PropKind::Object(_)) => {
            "a list of maps of the keys below".into()
        }
        other => other.describe(),
    }
}

fn nested(k: &PropKind) -> Option<&'static [Prop]> {
    match k {
        PropKind::Object(fields) => Some(fields),
        PropKind::List(inner) | PropKind::Set(inner) | PropKind::Map(inner) => nested(inner),
        _ => None,
    }
}

fn explain_props(out: &mut String, props: &[Prop], indent: usize) {
    let pad = " ".repeat(indent);
    for p in props {
        let mut flags = Vec::new();
        if p.required {
            flags.push("required".to_string());
        }
        match p.update {
            Update::Replace => flags.push("forces replacement".into()),
            Update::Grow => flags.push("lowering it forces replacement".into()),
            Update::InPlace => {}
        }
        if p.sensitive {
            flags.push("sensitive".into());
        }
        if let Some(d) = p.default {
            flags.push(format!("default {d}"));
        }
        if let Some(r) = range_text(p) {
            flags.push(r);
        }
        let flags = if flags.is_empty() { String::new() } else { format!(" ({})", flags.join("; ")) };
        let _ = writeln!(out, "{pad}{}: {}{flags}", p.name, kind_text(&p.kind));
        if let Some(fields) = nested(&p.kind) {
            explain_props(out, fields, indent + 4);
        }
    }
}

/// Everything about one type, as `cloudbridge explain` prints it.
pub fn explain(ty: &TypeSchema) -> String {
    let mut out = format!("{}\n  {}\n\nProperties:\n", ty.name, ty.doc);
    explain_props(&mut out, ty.props, 2);
    let _ = writeln!(out, "\nAttributes (known after apply; any property can be referenced too):");
    let _ = writeln!(out, "  {}", ty.attrs.join(", "));
    let identity = match ty.identity {
        Identity::Generated => {
            "AWS makes up its ID; cloudbridge finds an earlier attempt by its ownership tags".to_string()
        }
        Identity::Name(p) => format!("named by `{p}`, which is its ID: the name is looked up before it is created"),
        Identity::Named(ps) => format!(
            "named by {}: the name is looked up before it is created",
            ps.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(" and ")
        ),
        Identity::Encoded(ps) => format!(
            "no ID in AWS: named by {}, looked up by them before it is created; it cannot be imported",
            ps.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
        ),
    };
    let _ = writeln!(out, "\nIdentity: {identity}.");
    let _ = writeln!(
        out,
        "Tags: {}.",
        if ty.taggable { "takes tags; gets the env's default tags and the ownership tags" } else { "takes none" }
    );
    let t = ty.timeouts;
    let _ = writeln!(out, "Timeouts: create {}, update {}, delete {}.", secs(t.create), secs(t.update), secs(t.delete));
    if ty.stateful {
        let _ = writeln!(out, "Stateful: replacing or destroying it loses the data it holds; plans say so.");
    }
    out
}

fn secs(s: u64) -> String {
    match s {
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// The README's table of resource types: properties (required **bold**, replace-forcing
/// *italic*, allowed values and nested keys in parentheses) and attributes.
pub fn readme_table(catalog: &Catalog) -> String {
    fn prop(p: &Prop) -> String {
        let mut s = p.name.to_string();
        if p.update == Update::Replace {
            s = format!("*{s}*");
        }
        if p.required {
            s = format!("**{s}**");
        }
        let extra = match &p.kind {
            PropKind::Enum(v) => Some(v.iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join("/")),
            k => nested(k).map(|f| f.iter().map(|f| format!("`{}`", f.name)).collect::<Vec<_>>().join(", ")),
        };
        match extra {
            Some(e) => format!("{s} ({e})"),
            None => s,
        }
    }
    let mut out = String::from(
        "| type | properties (required **bold**, replace-forcing *italic*) | attributes |\n| --- | --- | --- |\n",
    );
    for t in catalog.types() {
        let props: Vec<String> = t.props.iter().map(prop).collect();
        let _ = writeln!(out, "| `{}` | {} | {} |", t.name, props.join(", "), t.attrs.join(", "));
    }
    out
}

/// A `${…}` string: allowed wherever a value is.
fn reference() -> Value {
    json!({ "type": "string", "pattern": "\\$\\{" })
}

fn kind_schema(k: &PropKind) -> Value {
    let typed = match k {
        PropKind::Str | PropKind::Cidr => json!({ "type": ["string", "number", "boolean"] }),
        PropKind::Int => json!({ "type": "integer" }),
        PropKind::Bool => json!({ "type": "boolean" }),
        PropKind::Enum(v) => json!({ "enum": v }),
        PropKind::List(inner) | PropKind::Set(inner) => json!({ "type": "array", "items": kind_schema(inner) }),
        PropKind::Map(inner) => json!({ "type": "object", "additionalProperties": kind_schema(inner) }),
        PropKind::Object(fields) => object_schema(fields),
        PropKind::Json => json!({ "type": ["object", "array", "string"] }),
    };
    json!({ "anyOf": [typed, reference()] })
}

fn object_schema(fields: &[Prop]) -> Value {
    let props: Map<String, Value> = fields.iter().map(|f| (f.name.to_string(), kind_schema(&f.kind))).collect();
    let required: Vec<&str> = fields.iter().filter(|f| f.required).map(|f| f.name).collect();
    json!({ "type": "object", "properties": props, "required": required, "additionalProperties": false })
}

/// A JSON Schema (draft-07) of a stack file: every resource type with its properties.
pub fn stack_schema(catalog: &Catalog) -> Value {
    let resource_variants: Vec<Value> = catalog
        .types()
        .iter()
        .map(|t| {
            json!({
                "if": { "properties": { "type": { "const": t.name } } },
                "then": {
                    "description": t.doc,
                    "properties": { "properties": object_schema(t.props) }
                }
            })
        })
        .collect();
    let names: Vec<&str> = catalog.types().iter().map(|t| t.name).collect();
    let address = json!({ "type": "string" });
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "cloudbridge stack",
        "type": "object",
        "patternProperties": { "^x-": {} },
        "additionalProperties": false,
        "properties": {
            "name": { "type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_-]*$" },
            "description": { "type": "string" },
            "variables": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "type": { "enum": ["string", "number", "bool", "list", "map"] },
                        "default": {},
                        "description": { "type": "string" },
                        "sensitive": { "type": "boolean" },
                        "validation": {
                            "type": "object",
                            "additionalProperties": false,
                            "properties": {
                                "allowed": { "type": "array" },
                                "pattern": { "type": "string" },
                                "min": { "type": "number" },
                                "max": { "type": "number" },
                                "message": { "type": "string" }
                            }
                        }
                    }
                }
            },
            "locals": { "type": "object" },
            "modules": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["source"],
                    "properties": {
                        "source": { "type": "string" },
                        "inputs": { "type": "object" },
                        "for_each": {},
                        "description": { "type": "string" }
                    }
                }
            },
            "resources": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "required": ["type"],
                    "additionalProperties": false,
                    "properties": {
                        "type": { "enum": names },
                        "properties": { "type": "object" },
                        "for_each": {},
                        "count": { "anyOf": [{ "type": "integer", "minimum": 0 }, reference()] },
                        "depends_on": { "type": "array", "items": { "type": "string" } },
                        "timeouts": {
                            "type": "object",
                            "additionalProperties": false,
                            "properties": { "create": { "type": "string" }, "update": { "type": "string" }, "delete": { "type": "string" } }
                        },
                        "prevent_destroy": { "type": "boolean" },
                        "allow_resnapshot": { "type": "boolean" },
                        "suppress": { "type": "object", "additionalProperties": { "type": "string", "minLength": 1 } },
                        "description": { "type": "string" }
                    },
                    "allOf": resource_variants
                }
            },
            "outputs": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "required": ["value"],
                    "additionalProperties": false,
                    "properties": { "value": {}, "description": { "type": "string" }, "sensitive": { "type": "boolean" } }
                }
            },
            "data": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "required": ["type"],
                    "additionalProperties": false,
                    "properties": {
                        "type": { "enum": crate::data::KINDS.iter().map(|k| k.name).collect::<Vec<_>>() },
                        "filter": { "type": "object" },
                        "description": { "type": "string" }
                    }
                }
            },
            "moved": { "type": "array", "items": { "type": "object", "required": ["from", "to"], "additionalProperties": false, "properties": { "from": address, "to": address } } },
            "removed": { "type": "array", "items": { "type": "object", "required": ["from"], "additionalProperties": false, "properties": { "from": address } } },
            "import": { "type": "array", "items": { "type": "object", "required": ["to", "id"], "additionalProperties": false, "properties": { "to": address, "id": { "type": "string" } } } }
        }
    })
}

/// A JSON Schema (draft-07) of an environment file.
pub fn env_schema() -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "cloudbridge environment",
        "type": "object",
        "additionalProperties": false,
        "required": ["stack"],
        "properties": {
            "stack": { "type": "string" },
            "region": { "type": "string", "pattern": "^[a-z]{2}(-[a-z]+)+-\\d$" },
            "endpoint": { "type": "string", "pattern": "^https?://" },
            "file_roots": { "type": "array", "items": { "type": "string", "minLength": 1 } },
            "variables": { "type": "object" },
            "default_tags": { "type": "object", "additionalProperties": { "type": "string" }, "propertyNames": { "not": { "pattern": "^aws:" } } },
            "cost": {
                "type": "object",
                "additionalProperties": false,
                "properties": crate::cost::ASSUMPTIONS.iter().map(|(k, _, max, what)| ((*k).to_string(), json!({ "type": "number", "minimum": 0, "maximum": max, "description": what }))).collect::<Map<String, Value>>()
            },
            "backend": {
                "type": "object",
                "required": ["type"],
                "properties": {
                    "type": { "enum": ["local", "s3"] },
                    "path": { "type": "string" },
                    "bucket": { "type": "string" },
                    "key": { "type": "string" },
                    "region": { "type": "string" },
                    "encrypt": { "type": "boolean" }
                },
                "additionalProperties": false
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_table_of_resource_types_is_generated_from_the_catalog() {
        let readme = include_str!("../README.md");
        let table = readme_table(&crate::testutil::catalog());
        assert!(
            readme.contains(&table),
            "README's resource table is not current; replace it with `cloudbridge types --markdown`:\n{table}"
        );
    }

    #[test]
    fn explain_shows_nested_keys_ranges_and_what_forces_replacement() {
        let catalog = crate::testutil::catalog();
        let text = explain(catalog.lookup("aws.dms.endpoint").unwrap());
        assert!(text.contains("  port: an integer (forces replacement; 1 to 65535)\n"), "{text}");
        // `s3_settings` is documented nowhere else: its keys, which are required, values.
        assert!(
            text.contains(
                "  s3_settings: a map of the keys below (forces replacement)\n      bucket_name: a string (required)\n"
            ),
            "{text}"
        );
        assert!(text.contains("      data_format: one of `csv`, `parquet`\n"), "{text}");
        let glue = explain(catalog.lookup("aws.glue.connection").unwrap());
        assert!(glue.contains("  properties: a map of strings (sensitive; default {})\n"), "{glue}");
        let vpc = explain(catalog.lookup("aws.ec2.vpc").unwrap());
        assert!(vpc.contains("cidr_block: an IPv4 CIDR block (required; forces replacement)"), "{vpc}");
        assert!(vpc.contains("Identity: AWS makes up its ID"), "{vpc}");
    }

    #[test]
    fn the_stack_schema_names_every_type_and_its_properties() {
        let catalog = crate::testutil::catalog();
        let s = stack_schema(&catalog);
        let names = &s["properties"]["resources"]["additionalProperties"]["properties"]["type"]["enum"];
        assert_eq!(names.as_array().map(Vec::len), Some(catalog.types().len()));
        let variants = s["properties"]["resources"]["additionalProperties"]["allOf"].as_array().unwrap();
        let vpc = variants.iter().find(|v| v["if"]["properties"]["type"]["const"] == "aws.ec2.vpc").unwrap();
        let props = &vpc["then"]["properties"]["properties"];
        assert_eq!(props["required"], json!(["cidr_block"]));
        assert_eq!(props["properties"]["enable_dns_support"]["anyOf"][0], json!({ "type": "boolean" }));
        assert_eq!(env_schema()["required"], json!(["stack"]));
    }
}
