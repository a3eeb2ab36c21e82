//! S3 kinds.

kinds![bucket];
