//! The `validate` and `map` commands: reading files and Port, printing results.

use std::path::Path;

use serde_json::Value;

use aws_catalog_sync::config::{Settings, Sources, sources::PREFIX};
use aws_catalog_sync::mapping::{CompileOptions, Mapping};
use aws_catalog_sync::port::{self, defaults, integration};
use aws_catalog_sync::tools::map::{map_items, parse_items};
use aws_catalog_sync::tools::validate::{self, Finding, Level};

use crate::exit;

/// A mapping file: a port app config, or an integration object holding one in `config`.
fn read_mapping(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let v: Value = serde_yaml::from_str(&text)
        .map_err(|e| format!("{} is not YAML or JSON: {e}", path.display()))?;
    Ok(match v.get("config") {
        Some(config) if v.get("resources").is_none() => config.clone(),
        _ => v,
    })
}

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
pub async fn validate(mapping_file: Option<std::path::PathBuf>) -> u8 {
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

/// `map --mapping FILE --kind KIND --input FILE|-`.
pub fn map(mapping_file: &Path, kind: &str, input: &str) -> u8 {
    let run = || -> Result<Value, String> {
        let config = read_mapping(mapping_file)?;
        let mapping = Mapping::from_json(&config).map_err(|e| e.to_string())?;
        if !mapping.resources.iter().any(|r| r.kind == kind) {
            return Err(format!("the mapping has no resource of kind {kind}"));
        }
        let text = if input == "-" {
            std::io::read_to_string(std::io::stdin())
                .map_err(|e| format!("cannot read stdin: {e}"))?
        } else {
            std::fs::read_to_string(input).map_err(|e| format!("cannot read {input}: {e}"))?
        };
        Ok(map_items(&mapping, kind, &parse_items(&text)?))
    };
    match run() {
        Ok(out) => {
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            exit::COMPLETE
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::INVALID_INPUT
        }
    }
}
