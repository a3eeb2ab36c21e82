//! SQS kinds.

kinds![queue];
