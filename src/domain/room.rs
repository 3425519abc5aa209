//! A room (SPEC §1, §3.6): a named chat of an account's `operator` channel — the chat `#NAME` — with
//! member operators; what a room is, whatever is done with it (`rooms.rs` does it).

use std::time::Duration;

use super::error::{DomainError, DomainResult};
use super::ttl_cache::TtlCache;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub id: i64,
    pub name: String,
    pub is_public: bool,
    pub members: Vec<String>,
    pub admin: Option<String>,
}

/// A room to create (no `id`) or change: what the caller named; the rest stays as it was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomChange {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub is_public: Option<bool>,
    pub members: Option<Vec<String>>,
    pub admin: Option<String>,
}

/// Rooms found lately, by account and name: a message to a room needs only to know that it exists, and
/// an in-house system's alerts should not each read the account's rooms. Kept 1 s (a room renamed on
/// another instance is seen within that) and dropped on this instance's own changes at once.
pub struct RoomNames(pub(super) TtlCache<(i64, String), Room>);

impl Default for RoomNames {
    fn default() -> Self {
        Self(TtlCache::new(10_000, Duration::from_secs(1)))
    }
}

/// The chat of a room: its destination on the operator channel.
pub fn chat_of(name: &str) -> String {
    format!("#{name}")
}

/// The room a chat's destination names, if it is one.
pub fn room_of(destination: &str) -> Option<&str> {
    destination.strip_prefix('#')
}

/// A room's name: a short line, not blank.
pub fn check_name(name: &str) -> DomainResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(DomainError::incorrect("name").because("a room's name has 1 to 100 characters".into()));
    }
    Ok(name.to_string())
}

impl Room {
    /// Whether `login` sees the room: a member, or anyone when it is public.
    pub fn open_to(&self, login: &str) -> bool {
        self.is_public || self.members.iter().any(|m| m == login)
    }
}
