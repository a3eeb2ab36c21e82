//! EC2 kinds, and the conversions they share.

use serde_json::{Value, json};

kinds![instance, volume];

/// EC2's `[{Key, Value}]` tags.
fn tag(t: &aws_sdk_ec2::types::Tag) -> Value {
    json!({"Key": t.key(), "Value": t.value()})
}
