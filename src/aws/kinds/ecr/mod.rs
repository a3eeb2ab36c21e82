//! ECR kinds.

kinds![repository];
