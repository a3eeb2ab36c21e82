//! Account-level kinds: one item per account the run can access, from account discovery.

kinds![info];
