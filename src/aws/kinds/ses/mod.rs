//! SES kinds (the SES v2 API, as aws-v3's `sesv2` client), and what they share: aws-v3's
//! region allow-list ([`REGIONS`]) and the way an item is made of a listed entry and its
//! `Get*` answer ([`properties`]).
//!
//! Both kinds list a page (`NextToken` loop, no page size: SES's default), then call the
//! kind's `Get*` once per entry of the page, at most
//! [`ENRICH_CONCURRENCY`](super::ENRICH_CONCURRENCY) at once per (account, service), and
//! emit the page. A failed `Get*` keeps the entry with what the listing gave, as aws-v3
//! does (its `List*Action` result is merged with an empty `Get*` one), logged and counted
//! ([`ListCtx::enrichment_failed`](super::ListCtx::enrichment_failed)). A failed listing
//! call fails the unit.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{Map, Value};

use super::{Action, ListCtx, RawJson, drop_nulls, epoch_time};
use crate::aws::AwsError;

kinds![email_identity, configuration_set];

/// The JSON object of one `Get*` answer (`sent`, read by `raw`); `None`, logged and counted
/// against `kind`'s `action` for the entry `name`, when the call failed.
fn answer<T, E, R>(
    ctx: &ListCtx,
    (kind, action, operation): (&'static str, &Action, &'static str),
    name: &str,
    sent: Result<T, SdkError<E, R>>,
    raw: &RawJson,
) -> Option<Map<String, Value>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let error = match (sent, raw.take()) {
        (Ok(_), Some(Value::Object(answer))) => return Some(answer),
        (Ok(_), _) => AwsError::other(operation, "the answer has no JSON object"),
        (Err(e), _) => AwsError::from_sdk(operation, e),
    };
    ctx.enrichment_failed(kind, action, name, &error);
    None
}

/// aws-v3's `SES_SUPPORTED_REGIONS`: the only regions it lists SES kinds in.
const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ca-central-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "us-gov-east-1",
    "us-gov-west-1",
];

/// aws-v3's `Properties` of one SES resource: the `Get*` answer (`got`, when the call
/// succeeded) merged over the listed entry (`listed`), as aws-v3 merges its two actions'
/// results (the later one's keys win); then only its model's `declared` keys (its `ignore`
/// policy), in the model's order; members sent as `null` absent at any depth (botocore
/// drops them); and the nested timestamps `stamps` names (`(key, member)`), epoch seconds
/// in SES's JSON, as aws-v3 writes datetimes.
fn properties(
    mut listed: Map<String, Value>,
    got: Option<Map<String, Value>>,
    declared: &[&str],
    stamps: &[(&str, &str)],
) -> Map<String, Value> {
    listed.extend(got.unwrap_or_default());
    declared
        .iter()
        .filter_map(|key| {
            let mut v = listed.remove(*key)?;
            drop_nulls(&mut v);
            if v.is_null() {
                return None;
            }
            for (_, member) in stamps.iter().filter(|(k, _)| k == key) {
                if let Some(t) = v.get_mut(*member)
                    && let Some(secs) = t.as_f64()
                {
                    *t = epoch_time(secs);
                }
            }
            Some((key.to_string(), v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::aws::kinds::{Regions, Scope};

    #[test]
    fn get_answer_wins_declared_keys_only_in_model_order_nulls_absent_epochs_rfc3339() {
        let listed = json!({"Name": "n", "Status": "LISTED", "Listed": 1});
        let got = json!({"Status": "GOT", "Opts": {"At": 1700000000.5, "Gone": null, "X": 1},
            "Undeclared": true, "Nothing": null});
        let p = properties(
            listed.as_object().unwrap().clone(),
            got.as_object().cloned(),
            &["Name", "Opts", "Status", "Nothing", "Absent"],
            &[("Opts", "At")],
        );
        assert_eq!(
            Value::Object(p.clone()),
            json!({"Name": "n", "Opts": {"At": "2023-11-14T22:13:20.500000Z", "X": 1}, "Status": "GOT"})
        );
        let order: Vec<_> = p.keys().map(String::as_str).collect();
        assert_eq!(order, ["Name", "Opts", "Status"]);
        // A failed `Get*`: what the listing gave.
        let p = properties(
            listed.as_object().unwrap().clone(),
            None,
            &["Name", "Status"],
            &[],
        );
        assert_eq!(Value::Object(p), json!({"Name": "n", "Status": "LISTED"}));
    }

    #[test]
    fn listed_only_in_aws_v3_s_ses_regions() {
        assert_eq!(REGIONS.len(), 27);
        for kind in KINDS {
            let Scope::Regional(regions) = kind.scope else {
                panic!("{} is regional", kind.name);
            };
            assert_eq!(regions, Regions::Only(REGIONS), "{}", kind.name);
            for r in ["eu-west-1", "us-east-1", "il-central-1", "us-gov-west-1"] {
                assert!(regions.includes(r), "{r}");
            }
            for r in [
                "ap-east-1",
                "eu-south-2",
                "ca-west-1",
                "ap-southeast-4",
                "cn-north-1",
            ] {
                assert!(!regions.includes(r), "{r}");
            }
        }
    }
}
