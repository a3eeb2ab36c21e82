//! AWS Organizations kinds.

kinds![account];
