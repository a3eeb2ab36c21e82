//! SNS kinds.

kinds![topic];
