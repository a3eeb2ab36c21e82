//! ECS kinds, and what they share.
//!
//! `AWS::ECS::Service`, `AWS::ECS::TaskDefinition` and `AWS::ECS::Cluster` pass ECS's
//! nested values through as botocore returns them (aws-v3 declares them `dict[str, Any]`): container definitions,
//! deployments, network configurations and the like have dozens of nested members that the
//! SDK types would have to be converted back from one by one, and any member this SDK does
//! not know yet would be lost. So those kinds read the response's own JSON ([`RawJson`](super::RawJson))
//! and keep the declared keys of it; only timestamps, epoch seconds on the wire, become
//! RFC 3339 ([`stamp`]) as aws-v3's JSON dump writes them.

use serde_json::{Map, Value};

pub(super) use super::RawJson;
use super::epoch_time;

kinds![cluster, service, task_definition];

/// aws-v3's `Properties` of a raw ECS object: each `(camelCase, PascalCase)` declared key
/// that AWS returned, renamed, in the declared order; undeclared keys are dropped (aws-v3's
/// `ignore` policy).
fn declared(raw: &Map<String, Value>, keys: &[(&str, &str)]) -> Map<String, Value> {
    keys.iter()
        .filter_map(|(from, to)| raw.get(*from).map(|v| (to.to_string(), v.clone())))
        .collect()
}

/// Turns `key` of `object`, epoch seconds as ECS's JSON has it, into an RFC 3339 string
/// (`Z` for UTC) as aws-v3 writes datetimes; anything else is left as it is.
fn stamp(object: &mut Value, key: &str) {
    if let Some(v) = object.get_mut(key)
        && let Some(secs) = v.as_f64()
    {
        *v = epoch_time(secs);
    }
}

/// [`stamp`] for `keys` of every object of the list under `list` in `object`.
fn stamp_each(object: &mut Value, list: &str, keys: &[&str]) {
    if let Some(items) = object.get_mut(list).and_then(Value::as_array_mut) {
        for item in items {
            for key in keys {
                stamp(item, key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn declared_keys_are_renamed_and_the_rest_dropped_and_epochs_become_rfc3339() {
        let raw = json!({"serviceArn": "a", "other": 1, "createdAt": 1700000000.5,
            "events": [{"createdAt": 1700000001, "message": "m"}, {"message": "no time"}]});
        let mut p = Value::Object(declared(
            raw.as_object().unwrap(),
            &[
                ("serviceArn", "ServiceArn"),
                ("createdAt", "CreatedAt"),
                ("events", "Events"),
                ("absent", "Absent"),
            ],
        ));
        stamp(&mut p, "CreatedAt");
        stamp_each(&mut p, "Events", &["createdAt"]);
        assert_eq!(
            p,
            json!({"ServiceArn": "a", "CreatedAt": "2023-11-14T22:13:20.500000Z",
                "Events": [{"createdAt": "2023-11-14T22:13:21Z", "message": "m"}, {"message": "no time"}]})
        );
    }
}
