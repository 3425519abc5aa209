//! The SQL both engines share. sqlx binds `$N` placeholders on SQLite as on PostgreSQL, and the
//! statements use only SQL both understand, so one text serves both. It is written as crate-local
//! macros expanded once in each engine's module (`sqlite/`, `postgres/`), because sqlx's executors are
//! typed by their database; what an engine's store supplies to it is named by the `Engine` trait
//! (`engine.rs`: `reader()`, `write()`, and the parts both hold alike), besides the clause that locks
//! outbox rows for claiming and `pool_state`. One file per concern: `sql_helpers.rs` (chats, message
//! rows, the change log), `chat_sql.rs`, `outbox_sql.rs` (with health), `admin_sql.rs` (credentials,
//! secrets, administration), `oauth_sql.rs`, `console_sql.rs`, `webhook_sql.rs`, `reseal_sql.rs`, `template_sql.rs`, `room_sql.rs`, `conversation_sql.rs`.

/// `sql_store!(StoreType, sqlx database type, "outbox row lock clause", { the engine's `pool_state` })`:
/// the shared helpers and every role port's implementation but OAuth's, console's and webhooks'.
macro_rules! sql_store {
    ($store:ty, $db:ty, $outbox_lock:literal, { $($engine:tt)* }) => {
        $crate::storage::sql_helpers::sql_helpers!($db, $outbox_lock);
        $crate::storage::chat_sql::sql_chats!($store, $db);
        $crate::storage::outbox_sql::sql_outbox!($store, $db, $outbox_lock, { $($engine)* });
        $crate::storage::admin_sql::sql_admin!($store, $db);
        $crate::storage::template_sql::sql_templates!($store);
        $crate::storage::room_sql::sql_rooms!($store);
        $crate::storage::conversation_sql::sql_conversations!($store, $db);
    };
}
pub(crate) use sql_store;
