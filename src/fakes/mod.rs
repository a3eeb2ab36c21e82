//! The local stand-ins for AWS and Port that `demo` and `bench` run against: the same
//! files the integration tests use (they only need this crate's regular dependencies).

#[path = "../../tests/support/aws_proxy.rs"]
pub mod aws_proxy;
#[path = "../../tests/support/moto.rs"]
pub mod moto;
#[path = "../../tests/support/port_fake.rs"]
pub mod port_fake;
