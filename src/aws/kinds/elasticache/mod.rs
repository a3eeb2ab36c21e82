//! ElastiCache kinds.

kinds![cluster];
