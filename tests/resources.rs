//! The per-kind user resources (`resources/kinds/<example>.yml` and
//! `<example>.blueprint.json`, where `<example>` is the kind's `Fixture.example`): every
//! registered kind has both, the mapping holds one resource of that kind targeting that
//! blueprint, and the real binary's `validate` finds nothing wrong with it.

mod support;

use std::path::{Path, PathBuf};

use aws_catalog_sync::aws::kinds;
use serde_json::Value;
use support::run_binary;

fn kinds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("resources/kinds")
}

/// The blueprint identifier a mapping's constant `blueprint` expression names (`'"x"'`).
fn constant(expr: &str) -> Option<&str> {
    expr.trim().strip_prefix('"')?.strip_suffix('"')
}

#[tokio::test]
async fn every_kind_has_a_mapping_and_blueprint_that_validate_clean() {
    let dir = kinds_dir();
    let mut problems = Vec::new();
    let mut expected_files = std::collections::BTreeSet::new();
    for kind in kinds::all() {
        let example = kind.fixture.example;
        let mapping = dir.join(format!("{example}.yml"));
        let blueprint = dir.join(format!("{example}.blueprint.json"));
        expected_files.insert(format!("{example}.yml"));
        expected_files.insert(format!("{example}.blueprint.json"));
        let (Ok(mapping_text), Ok(blueprint_text)) = (
            std::fs::read_to_string(&mapping),
            std::fs::read_to_string(&blueprint),
        ) else {
            problems.push(format!(
                "{}: {} and {} must both exist",
                kind.name,
                mapping.display(),
                blueprint.display()
            ));
            continue;
        };
        let config: Value = serde_yaml::from_str(&mapping_text).unwrap();
        let resources = config["resources"].as_array().cloned().unwrap_or_default();
        let [resource] = resources.as_slice() else {
            problems.push(format!(
                "{}: {example}.yml must hold ONE resource",
                kind.name
            ));
            continue;
        };
        if resource["kind"] != kind.name {
            problems.push(format!(
                "{}: {example}.yml's resource is of kind {}",
                kind.name, resource["kind"]
            ));
        }
        let bp: Value = serde_json::from_str(&blueprint_text).unwrap();
        let target = resource["port"]["entity"]["mappings"]["blueprint"]
            .as_str()
            .and_then(constant);
        if target.is_none() || target != bp["identifier"].as_str() {
            problems.push(format!(
                "{}: {example}.yml targets {target:?}, {example}.blueprint.json is {}",
                kind.name, bp["identifier"]
            ));
        }
        let run = run_binary(
            &[
                "validate",
                "--mapping",
                &mapping.to_string_lossy(),
                "--blueprints",
                &blueprint.to_string_lossy(),
            ],
            &[],
        )
        .await;
        if run.code != 0 || !run.stdout.contains("0 error(s), 0 warning(s)") {
            problems.push(format!(
                "{}: validate exited {}:\n{}{}",
                kind.name, run.code, run.stdout, run.stderr
            ));
        }
    }
    // No file for a kind that is not registered (a renamed example, a removed kind).
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !expected_files.contains(&name) {
            problems.push(format!(
                "resources/kinds/{name} belongs to no registered kind"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `--blueprints` adds a blueprint to the default ones (the organizations one is not a
/// default blueprint) and replaces a default one of the same identifier (the S3 example's
/// `s3Bucket` has `encryption`, the default one does not).
#[tokio::test]
async fn validate_checks_against_the_blueprints_file_added_to_the_defaults() {
    let dir = kinds_dir();
    for example in ["organizations-account", "s3-bucket"] {
        let mapping = dir.join(format!("{example}.yml"));
        let blueprint = dir.join(format!("{example}.blueprint.json"));
        let without = run_binary(&["validate", "--mapping", &mapping.to_string_lossy()], &[]).await;
        assert_eq!(without.code, 2, "{example}: {}", without.stdout);
        let with = run_binary(
            &[
                "validate",
                "--mapping",
                &mapping.to_string_lossy(),
                "--blueprints",
                &blueprint.to_string_lossy(),
            ],
            &[],
        )
        .await;
        assert_eq!(with.code, 0, "{example}: {}{}", with.stdout, with.stderr);
        assert!(
            with.stdout.contains(&format!(
                "(against the default blueprints and {})",
                blueprint.display()
            )),
            "{}",
            with.stdout
        );
    }
    // A file that is not a blueprint is an error, not an empty set of blueprints.
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, r#"{"title": "no identifier"}"#).unwrap();
    let run = run_binary(
        &[
            "validate",
            "--mapping",
            &dir.join("account-info.yml").to_string_lossy(),
            "--blueprints",
            &bad.to_string_lossy(),
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("string \"identifier\""),
        "{}",
        run.stdout
    );
}
