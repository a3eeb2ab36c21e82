//! The cursors of one paged listing (an AWS continuation token, Port's listing cursor), so
//! that a listing that loops is noticed.
//!
//! A cursor that comes back — on the next page or many pages later — means the listing
//! would go round forever; the AWS SDK's paginators do not loop on a cursor repeated right
//! away but *stop*, as if the listing were complete. Either way what was listed is not
//! everything, and deleting on its basis would lose data: every listing records each
//! cursor it is handed here and fails on a repeat.

use std::collections::HashSet;

/// The cursors one listing was handed so far.
#[derive(Debug, Default)]
pub(crate) struct Cursors {
    seen: HashSet<String>,
}

/// A cursor that an earlier page of the same listing already returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the listing's cursor {0:?} repeats an earlier one, so the listing loops and is not complete"
)]
pub(crate) struct RepeatedCursor(pub String);

impl Cursors {
    /// Takes the cursor a page returned: `None` when the listing is over (no cursor, or an
    /// empty one), the cursor to ask the next page with otherwise, and an error when an
    /// earlier page returned it already.
    pub(crate) fn next(&mut self, cursor: Option<&str>) -> Result<Option<String>, RepeatedCursor> {
        match cursor {
            Some(c) if !c.is_empty() => {
                if self.seen.insert(c.to_string()) {
                    Ok(Some(c.to_string()))
                } else {
                    Err(RepeatedCursor(c.to_string()))
                }
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_ends_on_no_cursor_or_an_empty_one() {
        let mut c = Cursors::default();
        assert_eq!(c.next(Some("a")), Ok(Some("a".into())));
        assert_eq!(c.next(Some("")), Ok(None));
        assert_eq!(c.next(None), Ok(None));
    }

    #[test]
    fn a_cursor_repeated_at_once_or_later_is_an_error() {
        let mut c = Cursors::default();
        assert_eq!(c.next(Some("a")), Ok(Some("a".into())));
        assert_eq!(c.next(Some("a")), Err(RepeatedCursor("a".into())));
        let mut c = Cursors::default();
        for cursor in ["a", "b", "c"] {
            assert!(c.next(Some(cursor)).is_ok());
        }
        assert_eq!(c.next(Some("a")), Err(RepeatedCursor("a".into())));
    }
}
