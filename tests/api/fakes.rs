//! Fake Telegram and WhatsApp servers on loopback, with the real platforms' request paths, envelopes
//! and error bodies (platforms.md): what chatgate's connectors talk to in the tests. Each records what
//! it was sent and answers from a per-chat script (default: accept).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

/// How a fake answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    Accept,
    /// Telegram: `{"ok":false,"error_code":status,"description":…}` (+ `retry_after` on 429).
    /// WhatsApp: HTTP `status` with `{"error":{"code":code,"message":…}}`.
    Error {
        status: u16,
        code: i64,
        description: &'static str,
        retry_after: Option<u64>,
    },
    /// Never answers (until the client gives up).
    Hang,
}

impl Reply {
    pub fn telegram(status: u16, description: &'static str) -> Self {
        Reply::Error { status, code: status.into(), description, retry_after: None }
    }

    pub fn whatsapp(status: u16, code: i64, description: &'static str) -> Self {
        Reply::Error { status, code, description, retry_after: None }
    }
}

/// One request a fake received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The bot token (Telegram) or bearer token (WhatsApp).
    pub token: String,
    /// Telegram method, or the WhatsApp phone-number id.
    pub method: String,
    /// `chat_id` (Telegram) or `to` (WhatsApp), as text.
    pub chat: String,
    pub body: Value,
    pub accepted: bool,
    pub at: Instant,
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    /// Per chat: replies to give, in order; then `default` (or accept).
    scripts: HashMap<String, VecDeque<Reply>>,
    default: HashMap<String, Reply>,
    next_id: u64,
    webhooks: Vec<Value>,
    /// How long an accepted send takes to answer.
    delay: Duration,
    /// Accepted sends per token in any sliding second, as Telegram counts a bot's: beyond, 429.
    per_token_per_sec: Option<usize>,
    /// WhatsApp: the `wa_id` a send to this `to` is answered with (default: `to` without `+`).
    wa_ids: HashMap<String, String>,
    /// WhatsApp: the business account's template listing, and how often it was asked for.
    templates: Vec<Value>,
    listings: usize,
}

#[derive(Clone)]
pub struct Fake {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Fake {
    /// Replies to give `chat`, in order, before falling back to its default.
    pub fn script(&self, chat: &str, replies: impl IntoIterator<Item = Reply>) {
        self.state.lock().unwrap().scripts.entry(chat.into()).or_default().extend(replies);
    }

    /// What `chat` gets once its script is used up.
    pub fn always(&self, chat: &str, reply: Reply) {
        self.state.lock().unwrap().default.insert(chat.into(), reply);
    }

    /// Accepted sends answer only after `delay` (so that some are in flight at any moment).
    pub fn set_delay(&self, delay: Duration) {
        self.state.lock().unwrap().delay = delay;
    }

    /// Accepts at most `n` sends per token in any sliding second, measured as they arrive; beyond that
    /// answers Telegram's 429 (`retry_after` 1).
    pub fn limit_per_token_per_sec(&self, n: usize) {
        self.state.lock().unwrap().per_token_per_sec = Some(n);
    }

    /// WhatsApp: answer sends to `to` with `wa_id` (as Meta does for numbers it knows another way).
    pub fn wa_id(&self, to: &str, wa_id: &str) {
        self.state.lock().unwrap().wa_ids.insert(to.into(), wa_id.into());
    }

    /// WhatsApp: what `GET /{waba_id}/message_templates` lists (two to a page, as Meta pages it).
    pub fn set_templates(&self, templates: Vec<Value>) {
        self.state.lock().unwrap().templates = templates;
    }

    /// WhatsApp: pages of the template listing asked for so far.
    pub fn listings(&self) -> usize {
        self.state.lock().unwrap().listings
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Accepted sends to `chat`, oldest first.
    pub fn accepted_to(&self, chat: &str) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.chat == chat && r.accepted).collect()
    }

    pub fn webhooks(&self) -> Vec<Value> {
        self.state.lock().unwrap().webhooks.clone()
    }

    /// Waits until `check` holds for what was received, failing after `limit`.
    pub async fn wait_for(&self, limit: Duration, check: impl Fn(&[Received]) -> bool) {
        let started = Instant::now();
        while !check(&self.received()) {
            assert!(started.elapsed() < limit, "fake platform: not within {limit:?}: {:#?}", self.received());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Records a request to `chat` and picks its reply.
    fn take(&self, token: &str, method: &str, chat: String, body: Value) -> (Reply, u64) {
        let mut s = self.state.lock().unwrap();
        let mut reply = match s.scripts.get_mut(&chat).and_then(VecDeque::pop_front) {
            Some(r) => r,
            None => s.default.get(&chat).cloned().unwrap_or(Reply::Accept),
        };
        let now = Instant::now();
        if let (Some(limit), Reply::Accept) = (s.per_token_per_sec, &reply) {
            let second_ago = now - Duration::from_secs(1);
            let within = s
                .received
                .iter()
                .rev()
                .take_while(|r| r.at > second_ago)
                .filter(|r| r.accepted && r.token == token);
            if within.count() >= limit {
                reply = Reply::Error {
                    status: 429,
                    code: 429,
                    description: "Too Many Requests: retry after 1",
                    retry_after: Some(1),
                };
            }
        }
        s.next_id += 1;
        let id = s.next_id;
        let accepted = matches!(reply, Reply::Accept);
        s.received.push(Received {
            token: token.into(),
            method: method.into(),
            chat,
            body,
            accepted,
            at: now,
        });
        (reply, id)
    }
}

fn spawn(fake: &Fake, listener: std::net::TcpListener, routes: fn(&mut web::ServiceConfig)) {
    let data = web::Data::new(fake.clone());
    let server = HttpServer::new(move || App::new().app_data(data.clone()).configure(routes))
        .workers(1)
        .listen(listener)
        .expect("fake listens")
        .run();
    tokio::spawn(server);
}

fn bind() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    (listener, url)
}

// --- Telegram ------------------------------------------------------------------------------------

pub async fn telegram() -> Fake {
    let (listener, url) = bind();
    let fake = Fake { url, state: Arc::default() };
    spawn(&fake, listener, |cfg| {
        cfg.route("/bot{token}/{method}", web::post().to(telegram_method))
            .route("/file/bot{token}/{path:.*}", web::get().to(telegram_file));
    });
    fake
}

/// A Bot API call's parameters: a JSON body, or a `multipart/form-data` upload (its file part as
/// `{"filename", "size", "text"}`), as the real server reads both.
async fn telegram_method(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    raw: web::Bytes,
    fake: web::Data<Fake>,
) -> HttpResponse {
    let (token, method) = path.into_inner();
    let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    let body = if let Some(boundary) = content_type.split("boundary=").nth(1) {
        multipart_fields(&raw, boundary.trim_matches('"'))
    } else {
        match serde_json::from_slice::<Value>(&raw) {
            Ok(v) => v,
            Err(_) => {
                return HttpResponse::BadRequest().json(
                    json!({"ok": false, "error_code": 400, "description": "Bad Request: invalid JSON"}),
                );
            }
        }
    };
    match method.as_str() {
        "setWebhook" => {
            fake.state.lock().unwrap().webhooks.push(json!({"token": token, "body": body}));
            return HttpResponse::Ok()
                .json(json!({"ok": true, "result": true, "description": "Webhook was set"}));
        }
        "getFile" => {
            let id = body["file_id"].as_str().unwrap_or("");
            return HttpResponse::Ok().json(json!({"ok": true, "result": {"file_id": id, "file_unique_id": "u", "file_path": format!("photos/{id}.jpg")}}));
        }
        _ => {}
    }
    let chat = match &body["chat_id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let (reply, id) = fake.take(&token, &method, chat.clone(), body.clone());
    let delay = fake.state.lock().unwrap().delay;
    match reply {
        Reply::Accept => {
            tokio::time::sleep(delay).await;
            HttpResponse::Ok().json(json!({"ok": true, "result": {
            "message_id": id, "chat": {"id": body["chat_id"], "type": "private"}, "date": 1_700_000_000, "text": body["text"]}}))
        }
        Reply::Error { status, description, retry_after, .. } => {
            let mut err = json!({"ok": false, "error_code": status, "description": description});
            let mut res = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
            if let Some(after) = retry_after {
                err["parameters"] = json!({"retry_after": after});
                res.insert_header(("Retry-After", after.to_string()));
            }
            res.json(err)
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            HttpResponse::Ok().finish()
        }
    }
}

/// The fields of a `multipart/form-data` body: text fields as strings, files as
/// `{"filename", "size", "text"}`. Numbers (`chat_id`) are read back as numbers.
fn multipart_fields(raw: &[u8], boundary: &str) -> Value {
    let text = String::from_utf8_lossy(raw);
    let mut fields = serde_json::Map::new();
    for part in text.split(&format!("--{boundary}")).skip(1) {
        let Some((head, content)) = part.split_once("\r\n\r\n") else { continue };
        let content = content.strip_suffix("\r\n").unwrap_or(content);
        let attr = |name: &str| {
            head.split(&format!("{name}=\"")).nth(1).and_then(|r| r.split('"').next()).map(str::to_string)
        };
        let Some(name) = attr("name") else { continue };
        let value = match attr("filename") {
            Some(filename) => json!({"filename": filename, "size": content.len(), "text": content}),
            None => content.parse::<i64>().map_or_else(|_| json!(content), |n| json!(n)),
        };
        fields.insert(name, value);
    }
    Value::Object(fields)
}

/// A file's bytes. Files whose id starts with `slow` arrive in five parts 400 ms apart; `stalled` ones
/// send a first part and then nothing.
async fn telegram_file(path: web::Path<(String, String)>) -> HttpResponse {
    let (token, file) = path.into_inner();
    if token.is_empty() {
        return HttpResponse::NotFound().finish();
    }
    let id = file.trim_start_matches("photos/");
    let (parts, gap) = match id {
        id if id.starts_with("slow") => (5, Duration::from_millis(400)),
        id if id.starts_with("stalled") => (2, Duration::from_secs(3600)),
        _ => return HttpResponse::Ok().content_type("image/jpeg").body(format!("bytes of {file}")),
    };
    let stream = futures_util::stream::unfold(0, move |part| async move {
        if part == parts {
            return None;
        }
        if part > 0 {
            tokio::time::sleep(gap).await;
        }
        Some((Ok::<_, actix_web::Error>(web::Bytes::from(format!("part {part};"))), part + 1))
    });
    HttpResponse::Ok().content_type("image/jpeg").streaming(stream)
}

// --- WhatsApp ------------------------------------------------------------------------------------

pub const WA_TOKEN: &str = "EAAG-test-access-token";

pub async fn whatsapp() -> Fake {
    let (listener, url) = bind();
    let fake = Fake { url, state: Arc::default() };
    spawn(&fake, listener, |cfg| {
        cfg.route("/{number}/messages", web::post().to(whatsapp_send))
            .route("/{waba}/message_templates", web::get().to(whatsapp_templates))
            .route("/download/{media}", web::get().to(whatsapp_download))
            .route("/{media}", web::get().to(whatsapp_media));
    });
    fake
}

fn bearer(req: &HttpRequest) -> String {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_string()
}

fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized().json(
        json!({"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}}),
    )
}

async fn whatsapp_send(
    req: HttpRequest,
    number: web::Path<String>,
    body: web::Json<Value>,
    fake: web::Data<Fake>,
) -> HttpResponse {
    let token = bearer(&req);
    if token != WA_TOKEN {
        return unauthorized();
    }
    let body = body.into_inner();
    let to = body["to"].as_str().unwrap_or("").to_string();
    let (reply, id) = fake.take(&token, &number, to.clone(), body);
    let delay = fake.state.lock().unwrap().delay;
    let wa_id = fake.state.lock().unwrap().wa_ids.get(&to).cloned();
    let wa_id = wa_id.unwrap_or_else(|| to.trim_start_matches('+').to_string());
    match reply {
        Reply::Accept => {
            tokio::time::sleep(delay).await;
            HttpResponse::Ok().json(json!({"messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": wa_id}], "messages": [{"id": format!("wamid.{id}")}]}))
        }
        Reply::Error { status, code, description, .. } => HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
            .json(json!({"error": {"message": format!("({code}) {description}"), "type": "OAuthException", "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": description}, "fbtrace_id": "Atest"}})),
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            HttpResponse::Ok().finish()
        }
    }
}

/// `GET /{waba_id}/message_templates`: two templates a page, `paging.next` naming the next one (Meta's
/// cursor paging; the fields asked for are ignored).
async fn whatsapp_templates(
    req: HttpRequest,
    waba: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
    fake: web::Data<Fake>,
) -> HttpResponse {
    if bearer(&req) != WA_TOKEN {
        return unauthorized();
    }
    let mut s = fake.state.lock().unwrap();
    s.listings += 1;
    let from: usize = query.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = s.templates.iter().skip(from).take(2).cloned().collect();
    let mut body = json!({"data": page, "paging": {"cursors": {"before": from.to_string(), "after": (from + 2).to_string()}}});
    if from + 2 < s.templates.len() {
        body["paging"]["next"] = json!(format!(
            "{}/{waba}/message_templates?fields=name,language&limit=2&after={}",
            fake.url,
            from + 2
        ));
    }
    HttpResponse::Ok().json(body)
}

async fn whatsapp_media(req: HttpRequest, media: web::Path<String>, fake: web::Data<Fake>) -> HttpResponse {
    if bearer(&req) != WA_TOKEN {
        return unauthorized();
    }
    HttpResponse::Ok()
        .json(json!({"messaging_product": "whatsapp", "url": format!("{}/download/{media}", fake.url),
        "mime_type": "image/jpeg", "sha256": "x", "file_size": "12", "id": *media}))
}

async fn whatsapp_download(req: HttpRequest, media: web::Path<String>) -> HttpResponse {
    if bearer(&req) != WA_TOKEN {
        return unauthorized();
    }
    HttpResponse::Ok().content_type("image/jpeg").body(format!("media {media}"))
}

// --- Files at customers' URLs -------------------------------------------------------------------

/// A web server with the files messages name by `fileurl` (`/files/{name}`), from a fixed set.
pub async fn files(files: Vec<(&'static str, &'static str, Vec<u8>)>) -> String {
    let (listener, url) = bind();
    let files = web::Data::new(files);
    let server = HttpServer::new(move || {
        App::new().app_data(files.clone()).route(
                "/files/{name}",
                web::get().to(
                    |name: web::Path<String>,
                     files: web::Data<Vec<(&'static str, &'static str, Vec<u8>)>>| async move {
                        match files.iter().find(|(n, _, _)| *n == name.as_str()) {
                            Some((_, content_type, bytes)) => {
                                HttpResponse::Ok().content_type(*content_type).body(bytes.clone())
                            }
                            None => HttpResponse::NotFound().finish(),
                        }
                    },
                ),
            )
    })
    .workers(1)
    .listen(listener)
    .expect("file server listens")
    .run();
    tokio::spawn(server);
    url
}
