//! Where settings come from, and how each source is normalised into one tree.
//!
//! Ocean (pydantic v1 `BaseSettings`) reads, highest priority first: environment variables,
//! the `.env` file (real env beats `.env`), then `./config.yaml`. Keys are case-insensitive,
//! `__` nests, and object/array fields may be given as one JSON value
//! (`OCEAN__EVENT_LISTENER='{"type":"ONCE"}'`). YAML and JSON keys are camelCase.
//!
//! Every source here is turned into a JSON tree with `snake_case` keys, so that
//! `OCEAN__EVENT_LISTENER__RESYNC_ON_START`, `{"resyncOnStart": …}` in a JSON value and
//! `resyncOnStart:` in `config.yaml` all land on `event_listener.resync_on_start`.
//! figment layers the trees (deep merge, later providers win).

use figment::Figment;
use figment::providers::Serialized;
use serde_json::{Map, Value};

use super::ConfigError;

/// Prefix of every Ocean setting in the environment.
pub(crate) const PREFIX: &str = "OCEAN__";

/// The inputs settings are built from, gathered up front so that loading is a pure function
/// (tests pass their own environment instead of mutating the process's).
#[derive(Default)]
pub struct Sources {
    /// `(name, value)` pairs of the process environment.
    pub env: Vec<(String, String)>,
    /// Contents of `.env`, when present.
    pub dotenv: Vec<(String, String)>,
    /// Contents of `config.yaml`, when present.
    pub yaml: Option<String>,
}

impl Sources {
    /// Reads the real process environment, `./.env` and `./config.yaml`.
    pub(crate) fn from_process() -> Result<Sources, ConfigError> {
        let dotenv = match std::fs::read(".env") {
            Ok(bytes) => parse_dotenv(&bytes)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(ConfigError::Source {
                    source_name: ".env".into(),
                    reason: e.to_string(),
                });
            }
        };
        let yaml = match std::fs::read_to_string("config.yaml") {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(ConfigError::Source {
                    source_name: "config.yaml".into(),
                    reason: e.to_string(),
                });
            }
        };
        Ok(Sources {
            // A variable that is not UTF-8 cannot be a setting (`vars()` would panic on it).
            env: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
            dotenv,
            yaml,
        })
    }

    /// Looks a plain (non-`OCEAN__`) variable up: the process env first, then `.env`.
    pub(crate) fn var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .chain(self.dotenv.iter())
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Merges all sources into one snake_case tree: YAML < `.env` < environment.
    pub(crate) fn merged(&self) -> Result<Value, ConfigError> {
        let mut figment = Figment::new();
        if let Some(text) = &self.yaml {
            figment = figment.merge(Serialized::defaults(yaml_tree(text, self)?));
        }
        figment = figment.merge(Serialized::defaults(env_tree(&self.dotenv)?));
        figment = figment.merge(Serialized::defaults(env_tree(&self.env)?));
        figment.extract::<Value>().map_err(|e| ConfigError::Source {
            source_name: "settings".into(),
            reason: e.to_string(),
        })
    }
}

/// Parses the contents of a `.env` file.
///
/// dotenvy's parse errors carry the offending line — and, for a quote that is never
/// closed, every line after it — so they are never shown: the error names the file, the
/// line number and the variable only (the value is usually a secret).
fn parse_dotenv(bytes: &[u8]) -> Result<Vec<(String, String)>, ConfigError> {
    let error = |reason: String| ConfigError::Source {
        source_name: ".env".into(),
        reason,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        error(format!("line {line} is not valid UTF-8"))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut vars = Vec::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok(pair) => vars.push(pair),
            Err(dotenvy::Error::LineParse(entry, index)) => {
                return Err(error(describe_bad_entry(text, &entry, index)));
            }
            // Io or EnvVar errors: neither carries the file's contents.
            Err(e) => return Err(error(e.to_string())),
        }
    }
    Ok(vars)
}

/// "line N, variable NAME: …" for an entry of `.env` that does not parse, without any of
/// its value. dotenvy reports either the whole entry (from its first line on; for a quote
/// that is never closed, up to the end of the file) or only the value after `NAME=`, with
/// `index` where parsing stopped in it.
fn describe_bad_entry(text: &str, entry: &str, index: usize) -> String {
    // An entry starts at the start of a line; the first line that holds it is the one that
    // failed (an identical earlier one would have failed first).
    let found = line_starts(text).enumerate().find(|(_, start)| {
        let line = &text[*start..];
        !entry.is_empty()
            && (line.starts_with(entry)
                || split_name(line).is_some_and(|(_, value)| value.starts_with(entry)))
    });
    let Some((number, start)) = found else {
        return "an entry cannot be parsed (it is not shown)".into();
    };
    let unclosed = &text[start..] == entry && index >= entry.len();
    let what = if unclosed {
        "a quote opened there is never closed"
    } else {
        "it cannot be parsed (a value with spaces or backslashes needs quotes; names are letters, digits, '_' and '.')"
    };
    match split_name(&text[start..]) {
        Some((name, _)) => format!(
            "line {}, variable {name}: {what}; the value is not shown",
            number + 1
        ),
        None => format!("line {}: {what}; the line is not shown", number + 1),
    }
}

fn line_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1))
}

/// `[export ]NAME = value…` → `(NAME, "value…")` when NAME is a valid name. Otherwise
/// `None`: the text before `=` may then be anything, even a pasted secret.
fn split_name(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim_start_matches([' ', '\t']);
    let rest = rest
        .strip_prefix("export")
        .filter(|r| r.starts_with([' ', '\t']))
        .map(|r| r.trim_start_matches([' ', '\t']))
        .unwrap_or(rest);
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(rest.len());
    let name = &rest[..end];
    let value = rest[end..]
        .trim_start_matches([' ', '\t'])
        .strip_prefix('=')?;
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        .then_some((name, value.trim_start_matches([' ', '\t'])))
}

/// Builds the tree of one env-like source from its `OCEAN__` variables.
///
/// A variable whose value starts with `{` or `[` must be valid JSON (Ocean parses it as
/// such for object and list fields); anything else stays a string and is typed later by the
/// reader, which knows what each key expects. Nested variables are applied after JSON
/// values, so `OCEAN__EVENT_LISTENER='{"type":"POLLING"}'` plus
/// `OCEAN__EVENT_LISTENER__INTERVAL=30` combine.
fn env_tree(vars: &[(String, String)]) -> Result<Value, ConfigError> {
    let mut ours: Vec<(Vec<String>, &str, &str)> = vars
        .iter()
        .filter(|(k, _)| k.len() > PREFIX.len() && k[..PREFIX.len()].eq_ignore_ascii_case(PREFIX))
        .map(|(k, v)| {
            let path = k[PREFIX.len()..]
                .split("__")
                .map(|s| s.to_ascii_lowercase())
                .collect::<Vec<_>>();
            (path, k.as_str(), v.as_str())
        })
        .collect();
    // Shorter paths first: a whole-object JSON value, then the nested keys refining it.
    ours.sort_by_key(|(path, _, _)| path.len());
    let mut root = Value::Object(Map::new());
    for (path, name, raw) in ours {
        if path.iter().any(|s| s.is_empty()) {
            return Err(ConfigError::Invalid {
                key: name.to_string(),
                expected: "segments separated by a double underscore".into(),
                got: "an empty segment".into(),
            });
        }
        let trimmed = raw.trim_start();
        let value = if trimmed.starts_with('{') || trimmed.starts_with('[') {
            let parsed: Value = serde_json::from_str(raw).map_err(|e| ConfigError::Invalid {
                key: name.to_string(),
                expected: "a JSON object or array".into(),
                got: format!("invalid JSON ({e})"),
            })?;
            snake_keys(parsed)
        } else {
            Value::String(raw.to_string())
        };
        insert(&mut root, &path, value);
    }
    Ok(root)
}

/// Parses `config.yaml` (camelCase keys) and resolves `{{ from env NAME }}` references the
/// way Ocean does: a missing variable leaves the key unset.
fn yaml_tree(text: &str, sources: &Sources) -> Result<Value, ConfigError> {
    let parsed: Value = serde_yaml::from_str(text).map_err(|e| ConfigError::Source {
        source_name: "config.yaml".into(),
        reason: e.to_string(),
    })?;
    let parsed = match parsed {
        Value::Null => Value::Object(Map::new()),
        v @ Value::Object(_) => v,
        _ => {
            return Err(ConfigError::Source {
                source_name: "config.yaml".into(),
                reason: "the top level must be a mapping".into(),
            });
        }
    };
    Ok(resolve_env_refs(snake_keys(parsed), sources))
}

fn resolve_env_refs(value: Value, sources: &Sources) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter_map(|(k, v)| {
                    if let Value::String(s) = &v
                        && let Some(name) = env_reference(s)
                    {
                        return sources
                            .var(name)
                            .map(|found| (k, Value::String(found.to_string())));
                    }
                    Some((k, resolve_env_refs(v, sources)))
                })
                .collect(),
        ),
        other => other,
    }
}

/// `{{ from env NAME }}` → `NAME`.
fn env_reference(s: &str) -> Option<&str> {
    let inner = s.trim().strip_prefix("{{")?.strip_suffix("}}")?.trim();
    let rest = inner.strip_prefix("from")?.trim_start();
    let name = rest.strip_prefix("env")?.trim();
    (!name.is_empty() && !name.contains(' ')).then_some(name)
}

fn insert(root: &mut Value, path: &[String], value: Value) {
    let mut node = root;
    for segment in &path[..path.len() - 1] {
        if !node.get(segment).is_some_and(Value::is_object) {
            node[segment.as_str()] = Value::Object(Map::new());
        }
        node = node.get_mut(segment).expect("just inserted");
    }
    let last = &path[path.len() - 1];
    match (node.get_mut(last), value) {
        (Some(Value::Object(existing)), Value::Object(new)) => existing.extend(new),
        (_, value) => node[last.as_str()] = value,
    }
}

/// Recursively converts object keys from camelCase to snake_case.
pub(crate) fn snake_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (to_snake(&k), snake_keys(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(snake_keys).collect()),
        other => other,
    }
}

/// `accountRoleArn` → `account_role_arn`; `ACCOUNT_ROLE_ARN` → `account_role_arn`.
pub(crate) fn to_snake(key: &str) -> String {
    if key.chars().all(|c| !c.is_ascii_lowercase()) {
        return key.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(key.len() + 4);
    for (i, c) in key.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The env var that sets a snake_case path: `port.client_id` → `OCEAN__PORT__CLIENT_ID`.
pub(crate) fn env_name(path: &str) -> String {
    format!("{PREFIX}{}", path.replace('.', "__").to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(env: &[(&str, &str)]) -> Sources {
        Sources {
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Sources::default()
        }
    }

    #[test]
    fn json_value_and_nested_keys_combine() {
        let tree = sources(&[
            ("OCEAN__EVENT_LISTENER__INTERVAL", "30"),
            (
                "OCEAN__EVENT_LISTENER",
                r#"{"type":"POLLING","resyncOnStart":false}"#,
            ),
        ])
        .merged()
        .unwrap();
        assert_eq!(tree["event_listener"]["type"], "POLLING");
        assert_eq!(tree["event_listener"]["resync_on_start"], false);
        assert_eq!(tree["event_listener"]["interval"], "30");
    }

    #[test]
    fn env_names_are_case_insensitive_and_beat_dotenv_and_yaml() {
        let mut s = sources(&[("ocean__integration__identifier", "from-env")]);
        s.dotenv = vec![
            (
                "OCEAN__INTEGRATION__IDENTIFIER".into(),
                "from-dotenv".into(),
            ),
            ("OCEAN__PORT__BASE_URL".into(), "http://dotenv".into()),
        ];
        s.yaml = Some(
            "integration:\n  identifier: from-yaml\n  type: x\nport:\n  clientId: '{{ from env MY_ID }}'\n"
                .into(),
        );
        s.env.push(("MY_ID".into(), "id-from-ref".into()));
        let tree = s.merged().unwrap();
        assert_eq!(tree["integration"]["identifier"], "from-env");
        assert_eq!(tree["integration"]["type"], "x");
        assert_eq!(tree["port"]["base_url"], "http://dotenv");
        assert_eq!(tree["port"]["client_id"], "id-from-ref");
    }

    #[test]
    fn bad_json_names_the_variable() {
        let err = sources(&[("OCEAN__EVENT_LISTENER", "{type: ONCE}")])
            .merged()
            .unwrap_err();
        assert!(err.to_string().contains("OCEAN__EVENT_LISTENER"), "{err}");
    }

    #[test]
    fn dotenv_errors_name_line_and_variable_but_never_the_value() {
        let cases: &[(&str, &str)] = &[
            // A quote never closed: dotenvy's error holds the rest of the file.
            (
                "A=1\n\n# c\nexport SECRET_X=\"s3nt1nel\nB=also-s3nt1nel\n",
                "line 4, variable SECRET_X: a quote opened there is never closed",
            ),
            // dotenvy reports only the value here.
            (
                "A=1\nSECRET_Y = s3nt1nel and more\n",
                "line 2, variable SECRET_Y:",
            ),
            (
                "A=1\nSECRET_Z=ok\\q-s3nt1nel\n",
                "line 2, variable SECRET_Z:",
            ),
            // No valid name: nothing of the line is shown.
            ("A=1\ns3nt1nel\n", "line 2: it cannot be parsed"),
            ("A=1\n9s3nt1nel=x\n", "line 2: it cannot be parsed"),
        ];
        for (text, expected) in cases {
            let err = parse_dotenv(text.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(".env"), "{err}");
            assert!(err.contains(expected), "{text:?}: {err}");
            assert!(!err.contains("s3nt1nel"), "{text:?}: {err}");
        }
        let err = parse_dotenv(b"A=1\nB=\xff\n").unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("UTF-8"), "{err}");
        let ok = parse_dotenv("\u{feff}export A=\"x y\"\n# c\nB='z'\n".as_bytes()).unwrap();
        assert_eq!(
            ok,
            vec![("A".into(), "x y".into()), ("B".into(), "z".into())]
        );
    }

    #[test]
    fn snake_case_conversion() {
        assert_eq!(to_snake("accountRoleArn"), "account_role_arn");
        assert_eq!(to_snake("ACCOUNT_ROLE_ARN"), "account_role_arn");
        assert_eq!(to_snake("aws_access_key_id"), "aws_access_key_id");
        assert_eq!(to_snake("type"), "type");
        assert_eq!(env_name("port.client_id"), "OCEAN__PORT__CLIENT_ID");
    }
}
