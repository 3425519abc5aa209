//! What Chat&Messenger's callers send (SPEC §3.6), typed: a value of the wrong type is refused whole
//! (`INVALID_PARAMETER`), unknown fields are ignored as Chat&Messenger ignores them. The OpenAPI
//! document describes these same types.

use serde::Deserialize;
use utoipa::ToSchema;

/// The users a message is for: operator logins, comma-separated.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CamUsers {
    /// `alice@example.com,bob@example.com`
    pub users: Option<String>,
}

/// `sendMessage`'s argument (the form field `message`, or the JSON body).
#[derive(Debug, Deserialize, ToSchema)]
pub struct CamMessage {
    /// `messenger`: a direct message to each listed user; any other name: the room of that name
    /// (created on first use, the listed users its members).
    #[serde(rename = "panelName")]
    pub panel_name: Option<String>,
    /// The text, 1 to 4096 characters.
    #[schema(min_length = 1, max_length = 4096)]
    pub message: String,
    /// Accepted and ignored (whether Chat&Messenger's window opened).
    #[serde(rename = "isOpened")]
    pub is_opened: Option<bool>,
    #[serde(rename = "generalPurposes")]
    pub general_purposes: Option<CamUsers>,
}

/// One item of `sendMessages`: to the listed users (`property.users`) or to a room (`send`). A value
/// the command refuses (no users, an empty text) is answered in the item's place.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CamListItem {
    pub message: String,
    pub property: Option<CamUsers>,
    /// A room's name.
    pub send: Option<String>,
}

/// A room's id: Chat&Messenger's callers send it as a string or a number.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum CamId {
    Number(i64),
    Text(String),
}

/// Member logins: a JSON array, or one comma-separated string.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum CamMembers {
    List(Vec<String>),
    Text(String),
}

/// `updateChatRoom`'s argument (the form field `chatRoom`, or the JSON body): without `id` a new room;
/// with it, the fields named change and the rest stay.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CamChatRoom {
    pub id: Option<CamId>,
    /// 1 to 100 characters; needed to create a room.
    pub name: Option<String>,
    /// A public room is seen by every operator of the account.
    #[serde(rename = "isPublic")]
    pub is_public: Option<bool>,
    /// The members' logins.
    #[serde(rename = "memberUids")]
    pub member_uids: Option<CamMembers>,
    #[serde(rename = "adminUserId")]
    pub admin_user_id: Option<String>,
}

impl CamMessage {
    pub fn users(&self) -> &str {
        self.general_purposes.as_ref().and_then(|u| u.users.as_deref()).unwrap_or("")
    }

    /// The room it is for, if any (`panelName` other than `messenger`).
    pub fn room(&self) -> Option<&str> {
        self.panel_name.as_deref().filter(|p| *p != "messenger")
    }
}

impl CamListItem {
    pub fn users(&self) -> &str {
        self.property.as_ref().and_then(|u| u.users.as_deref()).unwrap_or("")
    }
}

/// The logins of a comma-separated list.
pub fn logins(list: &str) -> Vec<String> {
    list.split(',').map(str::trim).filter(|u| !u.is_empty()).map(str::to_string).collect()
}
