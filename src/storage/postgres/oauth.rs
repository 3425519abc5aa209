//! The OAuth part of the PostgreSQL store (shared SQL, see `storage::sql`).

use super::PgStore;
use crate::storage::rows::{REFRESH_COLUMNS, RefreshRow};
use crate::storage::{RefreshToken, RefreshUse, Revocation, SigningKey, StoreResult};

use crate::storage::engine::Engine;

crate::storage::oauth_sql::sql_oauth_store!(PgStore);
