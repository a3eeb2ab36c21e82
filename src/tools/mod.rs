//! Offline tools over the mapping: `validate` (find every problem before a run) and `map`
//! (show what a mapping makes of given raw items). Neither writes anywhere.

pub(crate) mod map;
pub(crate) mod validate;
