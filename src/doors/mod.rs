//! The front doors. Each translates its wire format into a domain call and the outcome back; none
//! holds a business rule.

pub mod plain;
pub mod wire;
