//! Lambda kinds.

kinds![function];
