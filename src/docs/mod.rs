//! The OpenAPI 3.1 document (utoipa) and Swagger UI at `/docs/`, served from the binary. The checked-in
//! copy is `openapi/openapi.json`; a test fails when it and the served document differ.

use actix_web::{HttpResponse, web};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme,
};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

mod cam;
mod exact;
mod feedbot;
mod webhooks;

use crate::doors::json::schema::*;
use crate::doors::oauth;

/// One documented JSON-door path per method: `POST /api/json/{class}/{method}` (class `chat` unless named).
macro_rules! json_method {
    ($fn:ident, $method:literal, $scope:literal, $req:ty, $res:ty, $summary:literal) => {
        json_method!($fn, "chat", $method, $scope, $req, $res, $summary);
    };
    ($fn:ident, $class:literal, $method:literal, $scope:literal, $req:ty, $res:ty, $summary:literal) => {
        #[utoipa::path(post, path = concat!("/api/json/", $class, "/", $method), tag = "json", summary = $summary,
            request_body = $req,
            security(("oauth2" = [$scope])),
            responses(
                (status = 200, description = "Success", body = $res),
                (status = 400, description = "MISSING_COMPULSORY_PARAM, INCORRECT_PARAM, INCORRECT_FILETYPE, INCORRECT_FILEURL, INCORRECT_THUMBURL, INCORRECT_URL, MALFORMED_REQUEST", body = ErrorEnvelope),
                (status = 401, description = "INVALID_TOKEN: missing, invalid, expired or revoked token (WWW-Authenticate: Bearer error=\"invalid_token\")", body = ErrorEnvelope),
                (status = 403, description = "ACCESS_DENIED (insufficient_scope) or IP_NOT_ALLOWED", body = ErrorEnvelope),
                (status = 404, description = "CHANNEL_NOT_FOUND, CHAT_NOT_FOUND, MESSAGE_NOT_FOUND, WEBHOOK_NOT_FOUND, DELIVERY_NOT_FOUND, INCORRECT_METHOD", body = ErrorEnvelope),
                (status = 413, description = "REQUEST_TOO_LARGE", body = ErrorEnvelope),
                (status = 415, description = "The body is not JSON", body = ErrorEnvelope),
                (status = 429, description = "TOO_MANY_REQUESTS (Retry-After; with RateLimit and RateLimit-Policy when a request limit refused it)", body = ErrorEnvelope),
                (status = 500, description = "INTERNAL_ERROR, with a requestid", body = ErrorEnvelope)))]
        #[allow(dead_code)]
        fn $fn() {}
    };
}

json_method!(
    getchatchannels,
    "getchatchannels",
    "chat:read",
    GetChatChannelsRequest,
    Envelope<ChannelList>,
    "List the account's chat channels"
);
json_method!(
    sendmessage,
    "sendmessage",
    "chat:write",
    SendMessageRequest,
    Envelope<MessageId>,
    "Send a text message (starts the chat if new)"
);
json_method!(
    sendfile,
    "sendfile",
    "chat:write",
    SendFileRequest,
    Envelope<MessageId>,
    "Send a file to an existing chat"
);
json_method!(
    getchats,
    "getchats",
    "chat:read",
    GetChatsRequest,
    Envelope<MessageList>,
    "The last message of each chat of a channel, newest first; limit (default 1000) and before page them"
);
json_method!(
    getmessages,
    "getmessages",
    "chat:read",
    GetMessagesRequest,
    Envelope<MessageList>,
    "A chat's messages, newest first"
);
json_method!(
    getunreadmessages,
    "getunreadmessages",
    "chat:read",
    GetUnreadMessagesRequest,
    Envelope<MessageList>,
    "The oldest unread received messages (limit, default 1000), oldest first; marks them read unless markread=false"
);
json_method!(
    sendmessages,
    "sendmessages",
    "chat:write",
    SendMessagesRequest,
    Envelope<BulkList>,
    "Bulk send: one result per item, in order"
);
json_method!(
    getmessagestatus,
    "getmessagestatus",
    "chat:read",
    GetMessageStatusRequest,
    Envelope<MessageStatus>,
    "The status of one message"
);
json_method!(
    sendtemplate,
    "sendtemplate",
    "chat:write",
    SendTemplateRequest,
    Envelope<MessageId>,
    "Send an approved WhatsApp template, checked against the channel's templates before anything is sent"
);
json_method!(
    gettemplates,
    "gettemplates",
    "chat:read",
    GetTemplatesRequest,
    Envelope<TemplateList>,
    "A WhatsApp channel's templates; refresh asks WhatsApp first"
);
json_method!(
    getchatinfo,
    "getchatinfo",
    "chat:read",
    GetChatInfoRequest,
    Envelope<ChatInfo>,
    "What chatgate knows of a chat: contact, custom data, state, assignee, WhatsApp's window"
);
json_method!(
    endchat,
    "endchat",
    "chat:write",
    EndChatRequest,
    Envelope<Empty>,
    "End the conversation (conversation.ended); its next message opens it again"
);
json_method!(
    assignchat,
    "assignchat",
    "chat:write",
    AssignChatRequest,
    Envelope<Empty>,
    "Assign a chat to an operator or a group (chat_session.forward)"
);
json_method!(
    setcontact,
    "setcontact",
    "chat:write",
    SetContactRequest,
    Envelope<ContactResult>,
    "Set a chat's contact and custom data (contact.updated when a value changed)"
);
json_method!(
    markread,
    "markread",
    "chat:write",
    MarkReadRequest,
    Envelope<Empty>,
    "Mark received messages up to messageid as read"
);

json_method!(
    setwebhook,
    "webhook",
    "setwebhook",
    "webhook:manage",
    SetWebhookRequest,
    Envelope<WebhookCreated>,
    "Set a callback URL for events; answers its signing secret once"
);
json_method!(
    getwebhooks,
    "webhook",
    "getwebhooks",
    "webhook:manage",
    GetWebhooksRequest,
    Envelope<WebhookList>,
    "The account's webhooks"
);
json_method!(
    deletewebhook,
    "webhook",
    "deletewebhook",
    "webhook:manage",
    DeleteWebhookRequest,
    Envelope<Empty>,
    "Delete a webhook and its deliveries"
);
json_method!(
    getdeliveries,
    "webhook",
    "getdeliveries",
    "webhook:manage",
    GetDeliveriesRequest,
    Envelope<DeliveryList>,
    "Webhook deliveries, newest first"
);
json_method!(
    redeliver,
    "webhook",
    "redeliver",
    "webhook:manage",
    RedeliverRequest,
    Envelope<Empty>,
    "Send a delivery's event again (same webhook-id) from a fresh attempt count"
);

/// The parameters of the plain and Basic doors (all of every method; each method uses its own).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct DoorQuery {
    /// `chat` or `webhook` (every outcome, a missing class or method included, is in the envelope)
    class: Option<String>,
    /// e.g. `getchatchannels`, `sendmessage`, … (the JSON door's paths list them all)
    method: Option<String>,
    /// The method's parameters, as in the JSON door's request bodies (`platform`, `platformid`,
    /// `destination`, `message`, …); `messages` of `sendmessages` is a JSON array as text.
    #[param(style = Form, explode, value_type = Object)]
    parameters: Option<String>,
}

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct PlainCredentials {
    /// Account or access login.
    user: Option<String>,
    /// Its password or secret.
    password: Option<String>,
}

#[utoipa::path(get, path = "/api/http/", tag = "plain", summary = "The plain door (Afilnet-compatible)",
    description = "Everything in the query string, or in an application/x-www-form-urlencoded POST body (body values win). Every command outcome is HTTP 200 with the SUCCESS/ERROR envelope; a body over the limit is 413.",
    params(DoorQuery, PlainCredentials),
    security(()),
    responses((status = 200, description = "`{\"status\":\"SUCCESS\",\"result\":…}` or `{\"status\":\"ERROR\",\"error\":…,\"param\":…}`; TOO_MANY_REQUESTS (request limits, when configured) comes with Retry-After and RateLimit headers", body = ErrorEnvelope),
              (status = 413, description = "REQUEST_TOO_LARGE", body = ErrorEnvelope)))]
#[allow(dead_code)]
fn plain_door() {}

/// A plain-door call as an `application/x-www-form-urlencoded` body.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct DoorForm {
    /// `chat` or `webhook`
    class: Option<String>,
    /// e.g. `getchatchannels`
    method: Option<String>,
    /// Plain door only: the account or access login.
    user: Option<String>,
    /// Plain door only: its password or secret.
    password: Option<String>,
    /// The method's parameters, each a form field (`platform`, `platformid`, `destination`, …).
    #[schema(value_type = Option<Object>)]
    parameters: Option<String>,
}

#[utoipa::path(post, path = "/api/http/", tag = "plain", summary = "The plain door, with a form body",
    description = "The same call as GET with the parameters in an application/x-www-form-urlencoded body (body values win over the query string).",
    request_body(content = DoorForm, content_type = "application/x-www-form-urlencoded"),
    security(()),
    responses((status = 200, description = "The SUCCESS/ERROR envelope", body = ErrorEnvelope),
              (status = 413, description = "REQUEST_TOO_LARGE", body = ErrorEnvelope)))]
#[allow(dead_code)]
fn plain_door_post() {}

#[utoipa::path(post, path = "/api/basic/", tag = "basic", summary = "The Basic door, with a form body",
    description = "As GET, with the parameters in an application/x-www-form-urlencoded body; credentials only in Authorization: Basic.",
    request_body(content = DoorForm, content_type = "application/x-www-form-urlencoded"),
    security(("basic" = [])),
    responses((status = 200, description = "The SUCCESS/ERROR envelope", body = ErrorEnvelope),
              (status = 401, description = "MISSING_USER, MISSING_PASSWORD, INCORRECT_USER_PASSWORD", body = ErrorEnvelope),
              (status = 413, description = "REQUEST_TOO_LARGE", body = ErrorEnvelope),
              (status = 429, description = "TOO_MANY_REQUESTS (Retry-After, RateLimit, RateLimit-Policy)", body = ErrorEnvelope)))]
#[allow(dead_code)]
fn basic_door_post() {}

#[utoipa::path(get, path = "/api/basic/", tag = "basic", summary = "The Basic door",
    description = "As the plain door, with the credentials only in Authorization: Basic. Credential errors are 401 with WWW-Authenticate: Basic realm=\"chatgate\".",
    params(DoorQuery),
    security(("basic" = [])),
    responses((status = 200, description = "The SUCCESS/ERROR envelope", body = ErrorEnvelope),
              (status = 401, description = "MISSING_USER, MISSING_PASSWORD, INCORRECT_USER_PASSWORD", body = ErrorEnvelope),
              (status = 413, description = "REQUEST_TOO_LARGE", body = ErrorEnvelope),
              (status = 429, description = "TOO_MANY_REQUESTS (Retry-After, RateLimit, RateLimit-Policy)", body = ErrorEnvelope)))]
#[allow(dead_code)]
fn basic_door() {}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scopes = Scopes::from_iter([
            ("chat:read", "get* methods"),
            ("chat:write", "send* methods and markread"),
            ("webhook:manage", "webhook methods"),
        ]);
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new("/oauth/token", scopes))],
                "Client credentials: an account's or access's login and secret.",
            )),
        );
        components.add_security_scheme(
            "feedbot",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "auth",
                "An access's API token (chatgate access create … --token --channel PLATFORMID).",
            ))),
        );
        components.add_security_scheme(
            "cam",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "x-cam-apiToken",
                "An access's API token (chatgate access create … --token).",
            ))),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "chatgate", description = "Chat messaging API: the same chat operations through a plain GET/POST door, HTTP Basic, SOAP (WSDL at /api/soap/?wsdl) and JSON with OAuth 2.0 bearer tokens."),
    paths(
        getchatchannels, sendmessage, sendfile, getchats, getmessages, getunreadmessages, sendmessages,
        getmessagestatus, sendtemplate, gettemplates, getchatinfo, endchat, assignchat, setcontact, markread, setwebhook, getwebhooks, deletewebhook, getdeliveries, redeliver,
        plain_door, plain_door_post, basic_door, basic_door_post, feedbot::add, feedbot::status,
        cam::send_message, cam::send_messages, cam::update_chat_room, cam::get_rooms, cam::post_rooms,
        cam::conf_rooms, cam::conf_rooms_post, cam::conf_master, cam::conf_master_post, cam::conf_status,
        cam::conf_status_post, cam::quick_call, cam::quick_call_post,
        oauth::token, oauth::introspect, oauth::revoke, oauth::jwks, oauth::metadata
    ),
    modifiers(&Security),
    tags(
        (name = "json", description = "JSON with an OAuth 2.0 bearer token"),
        (name = "plain", description = "Credentials in the parameters"),
        (name = "basic", description = "HTTP Basic"),
        (name = "feedbot", description = "Feedbot's WhatsApp API, with an API token in `auth`"),
        (name = "cam", description = "Chat&Messenger's API, with an API token in `x-cam-apiToken`"),
        (name = "oauth", description = "The authorization server")
    )
)]
pub struct ApiDoc;

/// The document: utoipa's, with the rules it cannot derive (`exact`) and the event webhooks. Served
/// with `servers` naming `public_url` (else `/`: this server); the checked-in copy is the served one
/// of a server without `public_url`.
pub fn openapi() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    exact::refine(&mut doc);
    webhooks::add(&mut doc);
    doc
}

/// The document as this server serves it.
pub fn served(public_url: Option<&str>) -> serde_json::Value {
    let mut doc = openapi();
    let url = public_url.map_or("/", |u| u.trim_end_matches('/'));
    let url = if url.is_empty() { "/" } else { url };
    doc["servers"] = serde_json::json!([{"url": url}]);
    doc
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    let ui = SwaggerUi::new("/{_:.*}").config(utoipa_swagger_ui::Config::from("/openapi.json"));
    // The explorer sends requests with what a visitor types in: no other site may frame it.
    let headers = actix_web::middleware::DefaultHeaders::new()
        .add(("Content-Security-Policy", "frame-ancestors 'none'"))
        .add(("X-Frame-Options", "DENY"))
        .add(("X-Content-Type-Options", "nosniff"));
    cfg.route("/openapi.json", web::get().to(serve_document))
        .route(
            "/docs",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect().insert_header(("Location", "/docs/")).finish()
            }),
        )
        .service(web::scope("/docs").wrap(headers).service(ui));
}

async fn serve_document(state: web::Data<crate::doors::AppState>) -> HttpResponse {
    HttpResponse::Ok().json(&*state.openapi)
}
