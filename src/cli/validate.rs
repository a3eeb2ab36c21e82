//! `validate [--mapping FILE [--blueprints FILE]… | --from-port]`: the settings and a
//! mapping checked without writing anything.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::{Settings, Sources, sources::PREFIX};
use crate::mapping::CompileOptions;
use crate::port::{self, defaults, integration};
use crate::tools::validate::{self, Finding, Level};

use super::{exit, read_mapping};

fn settings_finding(message: String) -> Finding {
    Finding {
        level: Level::Error,
        place: "settings".into(),
        expression: None,
        message,
        hint: None,
    }
}

/// The default blueprints with those of `files` (each one blueprint object or an array of
/// them) added; a file's blueprint replaces the default one with the same identifier, so a
/// user's variant of a default blueprint is checked as the user has it.
fn blueprints_with(files: &[PathBuf]) -> Result<(Vec<Value>, String), String> {
    let mut all = defaults::blueprints();
    for path in files {
        for bp in read_blueprints(path)? {
            let id = bp.get("identifier").cloned();
            all.retain(|b| b.get("identifier") != id.as_ref());
            all.push(bp);
        }
    }
    let names = files
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>();
    let against = match names.as_slice() {
        [] => "the default blueprints".to_string(),
        some => format!("the default blueprints and {}", some.join(", ")),
    };
    Ok((all, against))
}

/// The blueprints of one file: a blueprint object or an array of them, each with a string
/// `identifier`.
fn read_blueprints(path: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let v: Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    let list = match v {
        Value::Array(list) => list,
        one => vec![one],
    };
    for bp in &list {
        if !bp.get("identifier").is_some_and(Value::is_string) {
            return Err(format!(
                "{}: a blueprint is a JSON object with a string \"identifier\"",
                path.display()
            ));
        }
    }
    Ok(list)
}

/// `validate [--mapping FILE [--blueprints FILE]… | --from-port]`.
pub(super) async fn run(mapping_file: Option<PathBuf>, blueprint_files: &[PathBuf]) -> u8 {
    let mut findings = Vec::new();
    let sources = match Sources::from_process() {
        Ok(s) => Some(s),
        Err(e) => {
            findings.push(settings_finding(e.to_string()));
            None
        }
    };
    let any_ocean_setting = sources.as_ref().is_some_and(|s| {
        s.yaml.is_some()
            || s.env
                .iter()
                .chain(s.dotenv.iter())
                .any(|(k, _)| k.to_ascii_uppercase().starts_with(PREFIX))
    });
    // Offline, with no OCEAN__ setting at all, there are no settings to check.
    let settings = match &sources {
        Some(s) if mapping_file.is_none() || any_ocean_setting => match Settings::from_sources(s) {
            Ok(settings) => {
                for key in &settings.unknown_keys {
                    findings.push(Finding {
                        level: Level::Warning,
                        place: "settings".into(),
                        expression: None,
                        message: format!("unknown setting {key}, ignored"),
                        hint: None,
                    });
                }
                Some(settings)
            }
            Err(e) => {
                findings.push(settings_finding(e.to_string()));
                None
            }
        },
        _ => None,
    };
    let options = CompileOptions {
        allow_env: settings
            .as_ref()
            .is_none_or(|s| s.allow_environment_variables_jq_access),
    };
    let (config, blueprints, source) = match &mapping_file {
        Some(path) => {
            match read_mapping(path).and_then(|c| Ok((c, blueprints_with(blueprint_files)?))) {
                Ok((c, (blueprints, against))) => (
                    Some(c),
                    blueprints,
                    format!("{} (against {against})", path.display()),
                ),
                Err(e) => {
                    findings.push(Finding {
                        level: Level::Error,
                        place: "mapping".into(),
                        expression: None,
                        message: e,
                        hint: None,
                    });
                    (None, Vec::new(), path.display().to_string())
                }
            }
        }
        None => match &settings {
            None => (None, Vec::new(), "Port (settings unusable)".into()),
            Some(settings) => match from_port(settings).await {
                Ok((config, blueprints)) => (
                    Some(config),
                    blueprints,
                    format!("integration {:?} in Port", settings.integration.identifier),
                ),
                Err(e) => {
                    eprintln!("error: cannot read the mapping from Port: {e}");
                    return exit::FAILED;
                }
            },
        },
    };
    if let Some(config) = &config {
        findings.extend(validate::mapping(config, &blueprints, options));
    }
    findings.sort_by_key(|f| f.level);
    for f in &findings {
        println!("{f}");
    }
    let errors = findings.iter().filter(|f| f.level == Level::Error).count();
    let warnings = findings.len() - errors;
    println!("{source}: {errors} error(s), {warnings} warning(s)");
    if errors > 0 {
        exit::INVALID_INPUT
    } else {
        exit::COMPLETE
    }
}

async fn from_port(settings: &Settings) -> Result<(Value, Vec<Value>), port::PortError> {
    let client = port::Client::new(settings)?;
    let existing = integration::fetch(&client).await?;
    let (config, origin) = existing.mapping_source();
    if origin == integration::MappingOrigin::Default {
        println!(
            "note: the integration does not exist yet (or has no mapping); checking the default mapping it would get"
        );
    }
    let blueprints = integration::list_blueprints(&client).await?;
    Ok((config, blueprints))
}
