//! DynamoDB kinds.

kinds![table];
