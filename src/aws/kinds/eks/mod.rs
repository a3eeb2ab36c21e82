//! EKS kinds.

kinds![cluster];
