//! jq errors and values as they may appear in logs: what went wrong, not the data it went
//! wrong on.
//!
//! jq errors quote the values they failed on (`cannot index "…" with "x"`,
//! `string ("…") cannot be parsed as a number`), and a value can be anything an item
//! holds. Logged errors keep their wording, but each quoted string, array or object
//! becomes its type and size (`string (16 chars)`), unless the expression itself
//! contains that string (a key such as `"x"`, a literal): it then comes from the mapping,
//! not from the data. Numbers, booleans and `null` are kept. The result is at most
//! [`MAX_MESSAGE`] characters long.

use serde_json::Value;

/// Longest error text kept, in characters.
pub const MAX_MESSAGE: usize = 300;

/// `message` (a jq error on `expression`) with the values it quotes summarised and this
/// program's secrets ([`super::env::scrub`]) removed wherever they appear.
pub fn error(message: &str, expression: &str) -> String {
    let message = super::env::scrub(message);
    // `error("…")` and many jaq errors are one JSON string: its text is the message.
    let text = match serde_json::from_str::<Value>(&message) {
        Ok(Value::String(inner)) => inner,
        _ => message,
    };
    let mut out = String::with_capacity(text.len().min(MAX_MESSAGE));
    let mut rest = text.as_str();
    while let Some(c) = rest.chars().next() {
        if matches!(c, '"' | '[' | '{') {
            let mut values = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
            if let Some(Ok(v)) = values.next() {
                out.push_str(&shown(&v, expression));
                rest = &rest[values.byte_offset()..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    truncate(out)
}

/// A value's type and size (`object (3 keys)`); numbers, booleans and `null` as they are.
pub fn value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("string ({} chars)", s.chars().count()),
        Value::Array(a) => format!("array ({} items)", a.len()),
        Value::Object(o) => format!("object ({} keys)", o.len()),
        other => truncate(other.to_string()),
    }
}

fn shown(v: &Value, expression: &str) -> String {
    match v {
        Value::String(s) if !s.is_empty() && expression.contains(s.as_str()) => v.to_string(),
        other => value(other),
    }
}

fn truncate(mut s: String) -> String {
    if let Some((cut, _)) = s.char_indices().nth(MAX_MESSAGE) {
        s.truncate(cut);
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn quoted_values_become_their_type_and_keys_from_the_expression_stay() {
        assert_eq!(
            error(r#"cannot index "secret-ext-id" with "x""#, ".a | .x"),
            r#"cannot index string (13 chars) with "x""#
        );
        assert_eq!(
            error(r#"cannot use {"a":"b","c":[1]} as iterable"#, ".[]"),
            "cannot use object (2 keys) as iterable"
        );
        assert_eq!(
            error(r#"cannot calculate [1,2] - 3"#, ". - 3"),
            "cannot calculate array (2 items) - 3"
        );
        // Our prelude's errors are JSON strings quoting the value inside.
        assert_eq!(
            error(
                r#""string (\"2024-03-15T08:30:00Z\") cannot be parsed as a number""#,
                ".d | tonumber"
            ),
            "string (string (20 chars)) cannot be parsed as a number"
        );
        assert_eq!(
            error(r#""recursion too deep""#, "def f: 1 + f; f"),
            "recursion too deep"
        );
        assert_eq!(
            error(r#"{"token":"abc"}"#, "error({token: .t})"),
            "object (1 keys)"
        );
    }

    #[test]
    fn values_are_summarised() {
        assert_eq!(value(&json!("secret")), "string (6 chars)");
        assert_eq!(value(&json!({"a": 1})), "object (1 keys)");
        assert_eq!(value(&json!([1, 2, 3])), "array (3 items)");
        assert_eq!(value(&json!(12)), "12");
        assert_eq!(value(&json!(null)), "null");
    }

    proptest! {
        #[test]
        fn any_message_is_bounded_and_never_repeats_a_quoted_string(
            secret in "[a-z0-9-]{12,40}",
            before in "[a-z][^\"]{0,40}",
            after in ".{0,40}",
        ) {
            let message = format!("{before}{}{after}", json!(secret));
            let out = error(&message, ".x");
            prop_assert!(out.chars().count() <= MAX_MESSAGE + 1);
            prop_assert!(!out.contains(&secret) || after.contains(&secret) || before.contains(&secret));
        }

        #[test]
        fn arbitrary_text_never_panics(message in any::<String>(), expression in ".{0,20}") {
            let out = error(&message, &expression);
            prop_assert!(out.chars().count() <= MAX_MESSAGE + 1);
        }
    }
}
