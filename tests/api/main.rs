//! One integration-test binary: every test talks HTTP to its own freshly spawned server.

mod helpers;
mod soap_client;

mod assignment;
mod at_rest;
mod auth;
mod basic;
mod cam;
mod cli;
mod contract;
mod conversations;
mod delivery;
mod doors;
mod errors;
mod fakes;
mod feedbot;
mod hostile;
mod inbound;
mod instances;
mod json;
mod manual;
mod messages;
mod metrics;
mod oauth;
mod operating;
mod plain_wire;
mod platforms;
mod rate_limits;
mod receiver;
mod secrets;
mod soap;
mod streams;
mod templates;
mod web;
mod webhooks;
