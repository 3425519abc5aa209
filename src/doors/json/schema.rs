//! The JSON door's request and response shapes, for the OpenAPI document. The handler reads any JSON
//! object (so that every door gives the same answer to the same parameters); these types describe what
//! it accepts and answers, and the tests check real answers against them.

#![allow(dead_code)] // Fields are read by utoipa's derive, not by code.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Webchat,
    Whatsapp,
    Telegram,
    Operator,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileType {
    Image,
    Video,
    Audio,
    Voice,
    Document,
    Contact,
}

/// A message's `type`: its file's type, or `location`.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    Image,
    Video,
    Audio,
    Voice,
    Document,
    Contact,
    Location,
}

/// Who wrote a received message: the name the platform shows and the sender's id there (WhatsApp
/// `wa_id`, Telegram user id).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Author {
    pub name: String,
    pub id: String,
}

/// A shared location.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    pub name: Option<String>,
    pub address: Option<String>,
}

/// Unix milliseconds, or `YYYY-MM-DD HH:MM:SS` UTC.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum InvalidationTime {
    UnixMillis(i64),
    Utc(String),
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct GetChatChannelsRequest {}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SendMessageRequest {
    pub platform: Platform,
    pub platformid: String,
    pub destination: String,
    /// 1 to 4096 characters.
    pub message: String,
    /// Not sent by then → `expired`.
    pub invalidationtime: Option<InvalidationTime>,
    /// A repeat within 24 h returns the first messageid and sends nothing.
    pub idempotencykey: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SendFileRequest {
    pub platform: Platform,
    pub platformid: String,
    pub destination: String,
    #[serde(rename = "type")]
    pub file_type: FileType,
    /// Absolute http(s) URL.
    pub fileurl: String,
    pub thumburl: Option<String>,
    /// A caption.
    pub message: Option<String>,
    pub invalidationtime: Option<InvalidationTime>,
    pub idempotencykey: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct GetChatsRequest {
    pub platform: Platform,
    pub platformid: String,
    /// How many chats, 1 to 1000, default 1000.
    #[schema(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// A messageid of this channel: only chats whose last message is older.
    pub before: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct GetMessagesRequest {
    pub platform: Platform,
    pub platformid: String,
    pub destination: String,
    /// 1 to 1000, default 100.
    #[schema(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// A messageid of this chat: only older messages.
    pub before: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct GetUnreadMessagesRequest {
    pub platform: Platform,
    pub platformid: String,
    pub destination: String,
    /// Mark them read (default true).
    pub markread: Option<bool>,
    /// How many of the oldest unread, 1 to 1000, default 1000.
    #[schema(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// A `sendmessage` item, or a `sendfile` item when `type` or `fileurl` is given.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BulkMessage {
    pub platform: Platform,
    pub platformid: String,
    pub destination: String,
    pub message: Option<String>,
    #[serde(rename = "type")]
    pub file_type: Option<FileType>,
    pub fileurl: Option<String>,
    pub thumburl: Option<String>,
    pub invalidationtime: Option<InvalidationTime>,
    pub idempotencykey: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SendMessagesRequest {
    /// 1 to 1000 items.
    #[schema(min_items = 1, max_items = 1000)]
    pub messages: Vec<BulkMessage>,
}

/// Templates are WhatsApp's.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WhatsappOnly {
    Whatsapp,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SendTemplateRequest {
    pub platform: WhatsappOnly,
    pub platformid: String,
    pub destination: String,
    /// The template's name, as `gettemplates` lists it.
    pub template: String,
    /// Exactly as `gettemplates` lists it (`en` and `en_US` are different translations).
    pub language: String,
    /// The body's parameters: a list of texts for `{{1}}`, `{{2}}`, … or an object of texts by name for
    /// a named template.
    pub parameters: Option<TemplateParameters>,
    /// The header's text, or the absolute URL of its image, video or document.
    pub header: Option<String>,
    /// Button parameters by the button's position: a quick reply's `payload`, or the `text` a URL
    /// button's URL ends with.
    pub buttons: Option<Vec<TemplateButton>>,
    pub invalidationtime: Option<InvalidationTime>,
    pub idempotencykey: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum TemplateParameters {
    Positional(Vec<String>),
    Named(std::collections::BTreeMap<String, String>),
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TemplateButton {
    pub index: u32,
    pub payload: Option<String>,
    pub text: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct GetTemplatesRequest {
    pub platform: WhatsappOnly,
    pub platformid: String,
    /// Ask WhatsApp for the listing now (else: as chatgate last fetched it).
    pub refresh: Option<bool>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct GetChatInfoRequest {
    pub platform: Platform,
    pub platformid: String,
    pub destination: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Template {
    pub name: String,
    pub language: String,
    /// APPROVED, PENDING, REJECTED, PAUSED, DISABLED, …; only APPROVED ones can be sent.
    pub status: String,
    pub category: String,
    /// The body's placeholders: `1`, `2`, … or names.
    pub parameters: Vec<String>,
    /// The body's text.
    pub text: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TemplateList {
    pub list: Vec<Template>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ChatInfo {
    pub platformid: String,
    pub platform: Platform,
    pub destination: String,
    pub contact: Contact,
    /// The custom data as a JSON text (`{}` when none).
    pub custom: String,
    pub state: ConversationState,
    /// An operator login, `group:NAME`, or empty.
    pub assignee: String,
    /// `1`–`5` after a rating, else empty.
    pub rating: String,
    pub feedback: String,
    /// The survey's chosen answer, else empty.
    pub survey: String,
    /// Until when WhatsApp's 24-hour window is open (`YYYY-MM-DD HH:MM:SS` UTC); empty when it is not.
    pub window: String,
}

/// The person of a chat; a field not given is empty.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Contact {
    pub name: String,
    pub email: String,
    pub phone_number: String,
    pub company: String,
    pub external_customer_id: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConversationState {
    Open,
    Ended,
}

/// `setcontact`'s answer: the contact as stored.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ContactResult {
    pub contact: Contact,
    /// The custom data as a JSON text (`{}` when none).
    pub custom: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct EndChatRequest {
    pub platform: Platform,
    pub platformid: String,
    pub destination: String,
}

/// One of `operator` (a login of the account with `chat:write`) or `group` (an access's `--group`).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AssignChatRequest {
    pub platform: Platform,
    pub platformid: String,
    pub destination: String,
    pub operator: Option<String>,
    pub group: Option<String>,
}

/// Contact fields to set (an empty text clears one; a field left out stays) and custom data (a JSON
/// object of at most 8 KiB, replacing the old as a whole).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SetContactRequest {
    pub platform: Platform,
    pub platformid: String,
    pub destination: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub company: Option<String>,
    pub external_customer_id: Option<String>,
    pub custom: Option<std::collections::BTreeMap<String, serde_json::Value>>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct GetMessageStatusRequest {
    pub messageid: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MarkReadRequest {
    pub platform: Platform,
    pub platformid: String,
    pub destination: String,
    pub messageid: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Channel {
    pub platformid: String,
    pub platform: Platform,
    pub name: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub platformid: String,
    pub platform: Platform,
    pub message: String,
    pub destination: String,
    pub messageid: String,
    /// 1 = sent by the account, 0 = received.
    pub sent: u8,
    /// `getunreadmessages` only: Afilnet's name for `sent`.
    pub issent: Option<u8>,
    /// pending, sent, delivered, read, failed, expired (outbound); unread, read (inbound).
    pub status: String,
    /// `YYYY-MM-DD HH:MM:SS` UTC; for a received message, when the platform says it was written.
    pub datetime: String,
    #[serde(rename = "type")]
    pub file_type: Option<MessageType>,
    pub fileurl: Option<String>,
    pub thumburl: Option<String>,
    pub reason: Option<String>,
    /// Received messages: who wrote it.
    pub author: Option<Author>,
    /// A button or list reply's payload or id (its title is `message`).
    pub reply: Option<String>,
    /// `type` `location`: where.
    pub location: Option<Location>,
    /// A received file's own name.
    pub filename: Option<String>,
    /// When the sender last edited the message, `YYYY-MM-DD HH:MM:SS` UTC.
    pub edited: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ChannelList {
    pub list: Vec<Channel>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MessageList {
    pub list: Vec<Message>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MessageId {
    pub messageid: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MessageStatus {
    pub messageid: String,
    pub status: String,
    /// Empty unless the message failed.
    pub reason: String,
    pub datetime: String,
}

/// `messageid`, or `error` with the `param` it concerns.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BulkItem {
    pub messageid: Option<String>,
    pub error: Option<String>,
    pub param: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct BulkList {
    pub list: Vec<BulkItem>,
}

/// `*`, or event names: `chat_session.start`, `chat_session.message_received`,
/// `chat_session.message_sent`, `chat_session.message_status`, `chat_session.end`, `operator.online`,
/// `operator.offline`, `operator.away`, `operator.back`.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Events {
    /// A JSON array of names.
    List(Vec<String>),
    /// A comma list of names, or `*`.
    Text(String),
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SetWebhookRequest {
    /// Absolute http(s) URL that resolves to a public address.
    pub url: String,
    pub events: Events,
    /// Extra headers (not `webhook-*`, `content-type` or connection headers).
    pub headers: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct GetWebhooksRequest {}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DeleteWebhookRequest {
    pub webhookid: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct GetDeliveriesRequest {
    /// Only this webhook's deliveries.
    pub webhookid: Option<String>,
    /// 1 to 1000, default 100.
    #[schema(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct RedeliverRequest {
    pub deliveryid: String,
}

/// The signing secret (`whsec_` + base64 of 32 bytes) is shown this once.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct WebhookCreated {
    pub webhookid: String,
    pub secret: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Webhook {
    pub webhookid: String,
    pub url: String,
    /// `*` or a comma list of event names.
    pub events: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct WebhookList {
    pub list: Vec<Webhook>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    pub deliveryid: String,
    pub webhookid: String,
    /// e.g. `chat_session.message_sent`.
    pub event: String,
    /// The `webhook-id` header and the body's `id`.
    pub eventid: String,
    pub messageid: Option<String>,
    /// pending, delivered or failed.
    pub status: String,
    pub attempts: i64,
    /// HTTP status of the last attempt; absent before one answered.
    pub lastcode: Option<i64>,
    /// `YYYY-MM-DD HH:MM:SS` UTC; empty once finished.
    pub nextattempt: String,
    pub datetime: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DeliveryList {
    pub list: Vec<Delivery>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Empty {}

/// `{"status":"SUCCESS","result":…}`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Envelope<T> {
    /// `SUCCESS`.
    pub status: String,
    pub result: T,
}

/// `{"status":"ERROR","error":…,"param":…}`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ErrorEnvelope {
    /// `ERROR`.
    pub status: String,
    /// An error code of the spec, e.g. `CHANNEL_NOT_FOUND`.
    pub error: String,
    /// The parameter the error concerns.
    pub param: Option<String>,
    /// Why, in words, where the code alone would leave the caller guessing (e.g. which languages a
    /// template has).
    pub message: Option<String>,
    /// For `INTERNAL_ERROR`: the id under which the cause was logged.
    pub requestid: Option<String>,
}
