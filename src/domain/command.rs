//! `Command`: one parsed, validated request of any door, and the single place it is applied. It is made
//! with `Operation` from the registration table in `operation.rs`.

pub use super::operation::Command;
