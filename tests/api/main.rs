//! One integration-test binary: every test talks HTTP to its own freshly spawned server.

mod helpers;

mod auth;
mod cli;
mod errors;
mod messages;
mod plain_wire;
