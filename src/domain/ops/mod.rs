//! One file per operation: each parses its parameters (compulsory ones first, then values) and applies.

pub mod assign_chat;
pub mod delete_webhook;
pub mod end_chat;
pub mod get_chat_channels;
pub mod get_chat_info;
pub mod get_chats;
pub mod get_deliveries;
pub mod get_message_status;
pub mod get_messages;
pub mod get_templates;
pub mod get_unread_messages;
pub mod get_webhooks;
pub mod mark_read;
pub mod redeliver;
pub mod send_file;
pub mod send_message;
pub mod send_messages;
pub mod send_template;
pub mod set_contact;
pub mod set_webhook;
