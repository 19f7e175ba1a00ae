//! cloudbridge: declarative YAML stacks → dependency graph → plan → apply against AWS.
//!
//! The stages, in order: [`yaml`] and [`config`] (parse and check), [`graph`] (dependency
//! graph), [`plan`] (diff against state), [`engine`] (refresh, apply). Only [`provider`]
//! and [`state`] talk to AWS.

pub mod addr;
pub mod archive;
pub mod budget;
pub mod cidr;
pub mod cli;
pub mod commands;
pub mod concurrency;
pub mod config;
pub mod cost;
pub mod data;
pub mod diag;
pub mod draw;
pub mod engine;
pub mod explain;
pub mod expr;
pub mod files;
pub mod fmt;
pub mod functions;
pub mod fuzz;
pub mod graph;
pub mod iam;
pub mod json;
pub mod lang;
pub mod live;
pub mod measure;
pub mod ownership;
pub mod plan;
pub mod provider;
pub mod rules;
pub mod schema;
pub mod sdk;
pub mod sql;
pub mod state;
pub mod unknown;
pub mod workspace;
pub mod yaml;

#[cfg(test)]
mod testutil;

/// Invariants of the architecture that the compiler does not check.
#[cfg(test)]
mod architecture {
    use std::path::Path;

    fn sources(rel: &str) -> Vec<(String, String)> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(rel);
        if path.is_file() {
            return vec![(rel.to_string(), std::fs::read_to_string(&path).expect("read source"))];
        }
        let mut out = Vec::new();
        for e in std::fs::read_dir(&path).expect("read dir") {
            let name = e.expect("entry").file_name().to_string_lossy().into_owned();
            out.extend(sources(&format!("{rel}/{name}")));
        }
        out
    }

    #[test]
    fn pure_stages_and_state_never_import_the_aws_provider() {
        let mut checked = 0;
        for part in [
            "schema.rs",
            "config",
            "plan",
            "engine",
            "workspace.rs",
            "state",
            "ownership.rs",
            "graph.rs",
            "lang.rs",
            "functions.rs",
            "explain.rs",
            "data.rs",
            "fmt.rs",
            "unknown.rs",
            "cidr.rs",
            "measure.rs",
            "draw.rs",
        ] {
            for (file, text) in sources(part) {
                checked += 1;
                assert!(
                    !text.contains("provider::aws"),
                    "src/{file} imports the AWS provider: hand it the catalog instead"
                );
            }
        }
        assert!(checked >= 10, "the sources were found ({checked})");
        // The lifecycle is cloud-agnostic: no SDK, no AWS provider.
        for file in ["provider/lifecycle.rs", "provider/faulty.rs", "provider/memory.rs", "provider/mod.rs"] {
            let text = &sources(file)[0].1;
            assert!(
                !text.contains("aws_sdk") && !text.contains("provider::aws") && !text.contains("use aws"),
                "{file}"
            );
        }
    }

    /// Every file a stack names is opened by `files` (confined, regular, capped): the
    /// places that read what a stack names hold no other way to open a file.
    #[test]
    fn files_a_stack_names_are_opened_only_by_the_file_access_layer() {
        const OPENERS: [&str; 6] =
            ["fs::read(", "fs::read_to_string(", "File::open(", "OpenOptions", "fs::metadata(", "fs::canonicalize("];
        let mut checked = 0;
        for part in ["workspace.rs", "archive.rs", "config", "functions.rs", "provider/aws"] {
            for (file, text) in sources(part) {
                checked += 1;
                // Test modules (at the end of a file) write fixtures; the code above them may not.
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                for opener in OPENERS {
                    assert!(
                        !code.contains(opener),
                        "src/{file} opens a file itself (`{opener}`): read it through `files`"
                    );
                }
            }
        }
        assert!(checked >= 20, "the sources were found ({checked})");
    }
}
