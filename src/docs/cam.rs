//! Chat&Messenger's door in the OpenAPI document (SPEC §3.6): its methods, the shapes its callers send
//! (the door's own types) and answer, the `x-cam-apiToken` token.

use crate::doors::cam::shapes::{CamChatRoom, CamListItem, CamMessage};

/// The seed's form body: `message={…}`, the JSON of a `CamMessage` (or, for `sendMessages`, a list).
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct CamMessageForm {
    message: String,
}

/// `chatRoom={…}`, the JSON of a `CamChatRoom`.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct CamChatRoomForm {
    #[serde(rename = "chatRoom")]
    chat_room: String,
}

/// The new messages' ids: one per listed user, or one for a room.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct CamMessageIds {
    #[serde(rename = "messageIds")]
    message_ids: Vec<String>,
}

/// One result per item, in order: `{"messageIds":[…]}` or `{"errors":[…]}`.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct CamResults {
    results: Vec<CamResult>,
}

#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum CamResult {
    Sent(CamMessageIds),
    Refused(CamErrors),
}

#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct CamRoom {
    id: String,
    name: String,
    #[serde(rename = "isPublic")]
    is_public: bool,
    #[serde(rename = "memberUids")]
    member_uids: Vec<String>,
    #[serde(rename = "adminUserId")]
    admin_user_id: Option<String>,
}

#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct CamRoomAnswer {
    #[serde(rename = "chatRoom")]
    chat_room: CamRoom,
}

#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct CamRooms {
    #[serde(rename = "chatRooms")]
    chat_rooms: Vec<CamRoom>,
}

/// `{"errors":[{"code","message","param"?}]}`.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct CamErrors {
    errors: Vec<CamError>,
}

#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct CamError {
    /// `INVALID_PARAMETER`, `UNAUTHORIZED`, `FORBIDDEN`, `NOT_FOUND`, `NOT_SUPPORTED`,
    /// `TOO_MANY_REQUESTS`, `REQUEST_TOO_LARGE`, `METHOD_NOT_ALLOWED`, `INTERNAL_ERROR`.
    code: String,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    param: Option<String>,
}

#[utoipa::path(post, path = "/cam/sendMessage", tag = "cam", operation_id = "cam_send_message",
    summary = "Chat&Messenger: a message to operators or to a room",
    description = "On the account's operator channel: `panelName` `messenger` sends one direct message to each listed user; any other `panelName` sends one to that room. Every door reads them.",
    request_body(content((CamMessage = "application/json"), (CamMessageForm = "application/x-www-form-urlencoded"))),
    security(("cam" = [])),
    responses((status = 200, description = "Sent", body = CamMessageIds),
              (status = 400, description = "INVALID_PARAMETER with its param", body = CamErrors),
              (status = 401, description = "UNAUTHORIZED: no token, a wrong one, a disabled access", body = CamErrors),
              (status = 403, description = "FORBIDDEN: scope, channel or address", body = CamErrors),
              (status = 404, description = "NOT_FOUND: the account has no operator channel", body = CamErrors),
              (status = 413, description = "REQUEST_TOO_LARGE", body = CamErrors),
              (status = 429, description = "TOO_MANY_REQUESTS", body = CamErrors)))]
#[allow(dead_code)]
pub(super) fn send_message() {}

#[utoipa::path(post, path = "/cam/sendMessages", tag = "cam", operation_id = "cam_send_messages",
    summary = "Chat&Messenger: a list of messages, each answered in its place",
    request_body(content((Vec<CamListItem> = "application/json"), (CamMessageForm = "application/x-www-form-urlencoded"))),
    security(("cam" = [])),
    responses((status = 200, description = "One result per item, in order", body = CamResults),
              (status = 400, description = "INVALID_PARAMETER: not a list of 1 to 1000 messages", body = CamErrors),
              (status = 401, description = "UNAUTHORIZED", body = CamErrors),
              (status = 403, description = "FORBIDDEN", body = CamErrors),
              (status = 404, description = "NOT_FOUND: the account has no operator channel", body = CamErrors),
              (status = 413, description = "REQUEST_TOO_LARGE", body = CamErrors),
              (status = 429, description = "TOO_MANY_REQUESTS", body = CamErrors)))]
#[allow(dead_code)]
pub(super) fn send_messages() {}

#[utoipa::path(post, path = "/cam/updateChatRoom", tag = "cam", operation_id = "cam_update_chat_room",
    summary = "Chat&Messenger: create a room or change one",
    request_body(content((CamChatRoom = "application/json"), (CamChatRoomForm = "application/x-www-form-urlencoded"))),
    security(("cam" = [])),
    responses((status = 200, description = "The room as stored", body = CamRoomAnswer),
              (status = 400, description = "INVALID_PARAMETER: no name for a new room, an unknown id", body = CamErrors),
              (status = 401, description = "UNAUTHORIZED", body = CamErrors),
              (status = 403, description = "FORBIDDEN", body = CamErrors),
              (status = 413, description = "REQUEST_TOO_LARGE", body = CamErrors),
              (status = 429, description = "TOO_MANY_REQUESTS", body = CamErrors)))]
#[allow(dead_code)]
pub(super) fn update_chat_room() {}

macro_rules! cam_bodiless {
    ($get:ident, $post:ident, $method:literal, $id:literal, $summary:literal, $ok:literal, $body:ty) => {
        #[utoipa::path(get, path = concat!("/cam/", $method), tag = "cam", operation_id = concat!("cam_", $id),
            summary = $summary, security(("cam" = [])),
            responses((status = $ok, description = "The answer", body = $body),
                      (status = 401, description = "UNAUTHORIZED", body = CamErrors),
                      (status = 403, description = "FORBIDDEN", body = CamErrors),
                      (status = 429, description = "TOO_MANY_REQUESTS", body = CamErrors)))]
        #[allow(dead_code)]
        pub(super) fn $get() {}

        #[utoipa::path(post, path = concat!("/cam/", $method), tag = "cam", operation_id = concat!("cam_", $id, "_post"),
            summary = $summary, security(("cam" = [])),
            responses((status = $ok, description = "The answer", body = $body),
                      (status = 401, description = "UNAUTHORIZED", body = CamErrors),
                      (status = 403, description = "FORBIDDEN", body = CamErrors),
                      (status = 413, description = "REQUEST_TOO_LARGE", body = CamErrors),
                      (status = 429, description = "TOO_MANY_REQUESTS", body = CamErrors)))]
        #[allow(dead_code)]
        pub(super) fn $post() {}
    };
}

cam_bodiless!(
    get_rooms,
    post_rooms,
    "getChatRooms",
    "get_chat_rooms",
    "Chat&Messenger: the account's rooms",
    200,
    CamRooms
);
cam_bodiless!(
    conf_rooms,
    conf_rooms_post,
    "getConferenceRooms",
    "get_conference_rooms",
    "Not offered: conference rooms are groupware (501 NOT_SUPPORTED)",
    501,
    CamErrors
);
cam_bodiless!(
    conf_master,
    conf_master_post,
    "getConferenceMaster",
    "get_conference_master",
    "Not offered: conference rooms are groupware (501 NOT_SUPPORTED)",
    501,
    CamErrors
);
cam_bodiless!(
    conf_status,
    conf_status_post,
    "getConferenceRoomStatus",
    "get_conference_room_status",
    "Not offered: conference rooms are groupware (501 NOT_SUPPORTED)",
    501,
    CamErrors
);
cam_bodiless!(
    quick_call,
    quick_call_post,
    "createQuickCall",
    "create_quick_call",
    "Not offered: web meetings are groupware (501 NOT_SUPPORTED)",
    501,
    CamErrors
);
