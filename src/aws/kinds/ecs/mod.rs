//! ECS kinds.

kinds![cluster];
