//! The OAuth part of the SQLite store (shared SQL, see `storage::sql`).

use super::SqliteStore;
use crate::storage::rows::{REFRESH_COLUMNS, RefreshRow};
use crate::storage::{RefreshToken, RefreshUse, Revocation, SigningKey, StoreResult};

use crate::storage::engine::Engine;

crate::storage::oauth_sql::sql_oauth_store!(SqliteStore);
