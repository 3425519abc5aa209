//! A webhook receiver on loopback: records every request (headers, exact body bytes, time) and answers
//! from a script (default 200). `assert_signed` checks every recorded request twice: with our own
//! HMAC code and with the PyPI `standardwebhooks` library (tests/clients/webhook_verify.py), as a
//! customer's receiver would.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Status(u16),
    /// 429 with `Retry-After: secs`.
    TooMany(u64),
    /// Never answers (until the sender gives up).
    Hang,
    /// 200 after this many milliseconds.
    Slow(u64),
}

#[derive(Debug, Clone)]
pub struct Hit {
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub at: Instant,
    pub answered: u16,
}

impl Hit {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn id(&self) -> &str {
        &self.headers["webhook-id"]
    }

    pub fn event(&self) -> String {
        let v = self.json();
        format!("{}.{}", v["_type"].as_str().unwrap(), v["event"].as_str().unwrap())
    }
}

#[derive(Default)]
struct State {
    hits: Vec<Hit>,
    script: VecDeque<Answer>,
    default: Option<Answer>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    state: Arc<Mutex<State>>,
    most_in_flight: Arc<AtomicUsize>,
}

impl Receiver {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most_in_flight = Arc::new(AtomicUsize::new(0));
        let (s, i, m) = (state.clone(), in_flight.clone(), most_in_flight.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new((s.clone(), i.clone(), m.clone())))
                .default_service(web::to(receive))
        })
        .workers(2)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Receiver { url: format!("http://127.0.0.1:{port}/hook"), state, most_in_flight }
    }

    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state.lock().unwrap().script.extend(answers);
    }

    pub fn always(&self, answer: Answer) {
        self.state.lock().unwrap().default = Some(answer);
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.state.lock().unwrap().hits.clone()
    }

    /// The most requests that were open at once.
    pub fn most_in_flight(&self) -> usize {
        self.most_in_flight.load(Ordering::SeqCst)
    }

    /// Waits until `check` holds for the hits so far, failing after `limit`.
    pub async fn wait_for(&self, limit: Duration, check: impl Fn(&[Hit]) -> bool) -> Vec<Hit> {
        let started = Instant::now();
        loop {
            let hits = self.hits();
            if check(&hits) {
                return hits;
            }
            assert!(started.elapsed() < limit, "receiver: not within {limit:?}; got {:?}", events(&hits));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

pub fn events(hits: &[Hit]) -> Vec<String> {
    hits.iter().map(Hit::event).collect()
}

type Shared = (Arc<Mutex<State>>, Arc<AtomicUsize>, Arc<AtomicUsize>);

async fn receive(req: HttpRequest, body: web::Bytes, data: web::Data<Shared>) -> HttpResponse {
    let (state, in_flight, most) = data.get_ref();
    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    most.fetch_max(now, Ordering::SeqCst);
    let answer = {
        let mut s = state.lock().unwrap();
        let answer = s.script.pop_front().or(s.default).unwrap_or(Answer::Status(200));
        let headers = req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let answered = match answer {
            Answer::Status(c) => c,
            Answer::TooMany(_) => 429,
            Answer::Hang => 0,
            Answer::Slow(_) => 200,
        };
        s.hits.push(Hit { headers, body: body.to_vec(), at: Instant::now(), answered });
        answer
    };
    let res = match answer {
        Answer::Status(c) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(c).unwrap()).body("ok")
        }
        Answer::TooMany(secs) => {
            HttpResponse::TooManyRequests().insert_header(("Retry-After", secs.to_string())).finish()
        }
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            HttpResponse::Ok().finish()
        }
        Answer::Slow(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            HttpResponse::Ok().finish()
        }
    };
    in_flight.fetch_sub(1, Ordering::SeqCst);
    res
}

/// Checks every hit's Standard Webhooks signature with `secret`: our own HMAC, then the PyPI library.
pub async fn assert_signed(hits: &[Hit], secret: &str) {
    assert!(!hits.is_empty(), "nothing to verify");
    let key = STANDARD.decode(secret.strip_prefix("whsec_").expect("whsec_ prefix")).unwrap();
    for h in hits {
        let (id, ts) = (&h.headers["webhook-id"], &h.headers["webhook-timestamp"]);
        assert_eq!(h.headers["content-type"], "application/json");
        let ts_secs: i64 = ts.parse().unwrap();
        assert!((chrono::Utc::now().timestamp() - ts_secs).abs() < 300, "timestamp of this attempt");
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{id}.{ts}.").as_bytes());
        mac.update(&h.body);
        let want = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
        assert_eq!(h.headers["webhook-signature"], want, "signature of {id}");
    }
    let has_lib = std::process::Command::new("python3")
        .args(["-c", "import standardwebhooks"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(has_lib, "python3 with standardwebhooks is needed (scripts/test.sh installs it)");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hits.json");
    let list: Vec<Value> =
        hits.iter().map(|h| json!({"headers": h.headers, "body": STANDARD.encode(&h.body)})).collect();
    std::fs::write(&file, serde_json::to_vec(&json!({"secret": secret, "hits": list})).unwrap()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/webhook_verify.py");
    let out = tokio::process::Command::new("python3").arg(script).arg(&file).output().await.unwrap();
    assert!(
        out.status.success(),
        "standardwebhooks refused a request:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("verified {}", hits.len()));
}
