//! CodeBuild kinds, and what they share.
//!
//! `AWS::CodeBuild::Project` and `AWS::CodeBuild::BuildRun` page through a listing of names
//! or ids (`ListProjects`, `ListBuilds`) and describe them one call per batch of at most
//! [`BATCH`] (`BatchGetProjects`, `BatchGetBuilds`), as aws-v3 does. CodeBuild is a JSON
//! service, so both kinds read the batch answer's own JSON ([`RawJson`](super::RawJson)):
//! aws-v3 declares the nested values `dict[str, Any]` and passes them through as botocore
//! parses them (camelCase, `null` members dropped, timestamps as datetimes); only the
//! timestamps, epoch seconds on the wire, are rewritten as aws-v3's JSON dump writes them
//! ([`stamp`]).

use serde_json::Value;

use super::{batch_objects as objects, epoch_time};

kinds![project, build_run];

/// The most names or ids `BatchGetProjects` and `BatchGetBuilds` take, and aws-v3's batch
/// size for both kinds: a listing page (≤100 on AWS) is described in chunks of this size.
const BATCH: usize = 100;

/// Epoch seconds at `path` of `value` (`[]` stands for every element of a list) become an
/// RFC 3339 string as aws-v3 writes datetimes; anything else is left as it is. For the
/// nested timestamps botocore parses (`Phases[].startTime`, `Webhook.lastModifiedSecret`).
fn stamp(value: &mut Value, path: &[&str]) {
    match path {
        [] => {
            if let Some(secs) = value.as_f64() {
                *value = epoch_time(secs);
            }
        }
        ["[]", rest @ ..] => {
            if let Some(items) = value.as_array_mut() {
                items.iter_mut().for_each(|item| stamp(item, rest));
            }
        }
        [key, rest @ ..] => {
            if let Some(inner) = value.get_mut(*key) {
                stamp(inner, rest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn epoch_seconds_at_a_path_become_rfc3339_and_the_rest_is_left_alone() {
        let mut v = json!({
            "Phases": [{"startTime": 1700000000.5, "phaseType": "BUILD"}, {"phaseType": "QUEUED"}],
            "Webhook": {"lastModifiedSecret": 1700000001},
            "Other": "text",
        });
        stamp(&mut v, &["Phases", "[]", "startTime"]);
        stamp(&mut v, &["Webhook", "lastModifiedSecret"]);
        stamp(&mut v, &["Other"]);
        stamp(&mut v, &["Missing", "[]", "x"]);
        assert_eq!(
            v,
            json!({
                "Phases": [{"startTime": "2023-11-14T22:13:20.500000Z", "phaseType": "BUILD"},
                    {"phaseType": "QUEUED"}],
                "Webhook": {"lastModifiedSecret": "2023-11-14T22:13:21Z"},
                "Other": "text",
            })
        );
    }

    #[test]
    fn a_batch_answer_without_its_list_is_an_error_not_an_empty_batch() {
        let ok = objects(
            Some(json!({"projects": [{"name": "a"}]})),
            "projects",
            "x:Y",
        )
        .unwrap();
        assert_eq!(ok.len(), 1);
        assert!(
            objects(Some(json!({"projects": []})), "projects", "x:Y")
                .unwrap()
                .is_empty()
        );
        assert!(objects(Some(json!({})), "projects", "x:Y").is_err());
        assert!(objects(None, "projects", "x:Y").is_err());
    }
}
