//! `map --mapping FILE --kind KIND [--input FILE|-]`: the entities a mapping makes of raw
//! items, and why items yield none.

use std::path::Path;

use serde_json::Value;

use crate::mapping::Mapping;
use crate::tools::map::{map_items, parse_items};

use super::{exit, read_mapping};

/// `map --mapping FILE --kind KIND --input FILE|-`.
pub(super) fn run(mapping_file: &Path, kind: &str, input: &str) -> u8 {
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
