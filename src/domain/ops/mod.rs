//! One file per operation: each parses its parameters (compulsory ones first, then values) and applies.

pub mod get_chat_channels;
pub mod get_chats;
pub mod get_message_status;
pub mod get_messages;
pub mod get_unread_messages;
pub mod mark_read;
pub mod send_file;
pub mod send_message;
pub mod send_messages;
