//! `validate [--mapping FILE | --from-port]`: the settings and a mapping checked without
//! writing anything.

use std::path::PathBuf;

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

/// `validate [--mapping FILE | --from-port]`.
pub(super) async fn run(mapping_file: Option<PathBuf>) -> u8 {
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
        Some(path) => match read_mapping(path) {
            Ok(c) => (
                Some(c),
                defaults::blueprints(),
                format!("{} (against the default blueprints)", path.display()),
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
        },
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
