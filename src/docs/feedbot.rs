//! Feedbot's door in the OpenAPI document (SPEC §3.5): its two paths, its shapes, the `auth` token.

/// Feedbot's `addnewmessages` body (SPEC §3.5).
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct FeedbotMessages {
    /// 1 to 1000 messages, stored all or none.
    #[schema(min_items = 1, max_items = 1000)]
    messages: Vec<FeedbotMessage>,
}

#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct FeedbotMessage {
    /// The text, or with `imagePath` the image's caption.
    message: String,
    /// The number with its country code (`+`, spaces and dashes are ignored).
    phone: String,
    /// Unix milliseconds after which the message is not sent.
    #[serde(rename = "invalidationTime")]
    invalidation_time: Option<crate::doors::json::schema::InvalidationTime>,
    /// An image URL: the message is sent as this image with `message` as its caption.
    #[serde(rename = "imagePath")]
    image_path: Option<String>,
}

/// `{"errorCode":null,"success":true,"ids":[…]}`: chatgate's message ids, in the list's order.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct FeedbotIds {
    #[serde(rename = "errorCode")]
    #[schema(value_type = Option<i64>)]
    error_code: Option<i64>,
    success: bool,
    ids: Vec<String>,
}

/// `status`: 0 pending, 1 sent (delivered, read), -1 failed or expired (`reason` says why).
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct FeedbotStatus {
    #[serde(rename = "errorCode")]
    #[schema(value_type = Option<i64>)]
    error_code: Option<i64>,
    success: bool,
    status: i64,
    reason: Option<String>,
}

/// `{"errorCode":2,"success":false,"error":"MISSING_PARAMS","param":"messages[3].phone"}`; 99 with
/// `USER_NOT_AUTHORIZED`, `IP_NOT_ALLOWED` or `ACCESS_DENIED`.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct FeedbotError {
    #[serde(rename = "errorCode")]
    error_code: i64,
    success: bool,
    error: String,
    param: Option<String>,
}

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct FeedbotStatusQuery {
    /// A message id `addnewmessages` answered.
    id: String,
}

#[utoipa::path(post, path = "/feedbot/addnewmessages", tag = "feedbot", operation_id = "addnewmessages", summary = "Feedbot: send WhatsApp messages, all or none",
    description = "Feedbot's API (SPEC §3.5) on the API token's WhatsApp channel: the messages are chatgate's, read by every door.",
    request_body = FeedbotMessages,
    security(("feedbot" = [])),
    responses((status = 200, description = "Stored, ids in order", body = FeedbotIds),
              (status = 400, description = "MISSING_PARAMS with the item's field (nothing stored)", body = FeedbotError),
              (status = 401, description = "USER_NOT_AUTHORIZED: no token, a wrong one, a disabled access", body = FeedbotError),
              (status = 403, description = "IP_NOT_ALLOWED, or ACCESS_DENIED (an access without a channel)", body = FeedbotError),
              (status = 413, description = "REQUEST_TOO_LARGE", body = FeedbotError),
              (status = 429, description = "TOO_MANY_REQUESTS", body = FeedbotError)))]
#[allow(dead_code)]
pub(super) fn add() {}

#[utoipa::path(get, path = "/feedbot/getmessagestatus", tag = "feedbot", operation_id = "feedbot_getmessagestatus", summary = "Feedbot: a message's status, 0 / 1 / -1",
    params(FeedbotStatusQuery),
    security(("feedbot" = [])),
    responses((status = 200, description = "0 pending, 1 sent, -1 failed or expired (with its reason)", body = FeedbotStatus),
              (status = 400, description = "MISSING_PARAMS: no id", body = FeedbotError),
              (status = 401, description = "USER_NOT_AUTHORIZED", body = FeedbotError),
              (status = 403, description = "IP_NOT_ALLOWED", body = FeedbotError),
              (status = 404, description = "MISSING_PARAMS (id): not a message of the token's channel", body = FeedbotError),
              (status = 429, description = "TOO_MANY_REQUESTS", body = FeedbotError)))]
#[allow(dead_code)]
pub(super) fn status() {}
