//! `version`.

use crate::VERSION;

use super::exit;

/// Prints the version.
pub(super) fn run() -> u8 {
    println!("aws-catalog-sync {VERSION}");
    exit::COMPLETE
}
