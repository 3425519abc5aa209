//! The front doors. Each translates its wire format into a domain call and the outcome back; none
//! holds a business rule.

pub mod basic;
pub mod cam;
pub mod console;
pub mod deadline;
pub mod feedbot;
pub mod inbound;
pub mod json;
pub mod landing;
pub mod live;
pub mod oauth;
pub mod operating;
pub mod plain;
pub mod refused;
pub mod soap;
mod state;
pub mod views;
pub mod webchat;
pub mod wire;

#[cfg(test)]
mod generated_inputs;

pub use state::{AppState, PagesState};
