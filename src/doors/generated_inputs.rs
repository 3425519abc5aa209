//! Generated-input tests (proptest) for everything that reads what a caller or a platform sends: the
//! SOAP envelope reader, the form/query parser, the Basic header, the JSON door's body, the inbound
//! Telegram and WhatsApp payloads and the webhook settings. For each: no panic, bounded time, and only
//! the error codes the spec gives for that input (and, where the input is well formed, the right
//! result). Hand-made hostile inputs (entity bombs, deep nesting, …) are in `tests/corpus/`, sent to
//! the running server by `tests/api/hostile.rs`.

use std::time::{Duration, Instant};

use actix_web::test::TestRequest;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;
use serde_json::Value;

use crate::domain::ops::set_webhook::SetWebhook;
use crate::domain::{ErrorCode, Params};
use crate::doors::basic::basic_header;
use crate::doors::inbound::telegram::{Update, parse_update};
use crate::doors::inbound::whatsapp_payload::parse_notification;
use crate::doors::json::json_params;
use crate::doors::soap::envelope::{self, SoapVersion};
use crate::doors::wire::decode_form;

/// Cases per property (`PROPTEST_CASES` overrides it).
const CASES: u32 = 1000;
/// No single input may take longer than this to read (inputs here are at most a few KiB).
const BOUND: Duration = Duration::from_millis(250);

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(CASES);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

fn timed<T>(f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    assert!(started.elapsed() < BOUND, "took {:?}", started.elapsed());
    out
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,12}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// XML-like text built from the pieces a SOAP envelope has, in any order and nesting, with entities,
/// character references, CDATA, comments, processing instructions, DOCTYPEs and broken tags mixed in.
fn xmlish() -> impl Strategy<Value = String> {
    let names = prop::sample::select(vec![
        "soap:Envelope",
        "soap:Body",
        "soap:Header",
        "s:Envelope",
        "Envelope",
        "Body",
        "c:sendmessage",
        "c:getchatchannels",
        "user",
        "password",
        "message",
        "wsse:Security",
        "wsse:UsernameToken",
        "wsse:Username",
        "wsse:Password",
        "x",
    ]);
    let attrs = prop::sample::select(vec![
        "",
        r#" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/""#,
        r#" xmlns:s="http://www.w3.org/2003/05/soap-envelope""#,
        r#" xmlns:c="urn:chatgate:chat:1""#,
        r#" xmlns="urn:chatgate:chat:1""#,
        r#" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd""#,
        r#" xsi:nil="true""#,
        r#" a="1" a="2""#,
        r#" xmlns:p="""#,
    ]);
    let text = prop_oneof![
        "[^<&]{0,12}",
        Just("&amp;&lt;&#65;&#x1F600;".to_string()),
        Just("&bogus;&#0;&#xD800;&#99999999;".to_string()),
        Just("<![CDATA[a<b]]>".to_string()),
        Just("<!-- c -->".to_string()),
        Just("<?pi x?>".to_string()),
        Just("<!DOCTYPE x [<!ENTITY a \"b\">]>".to_string()),
        Just("</x>".to_string()),
        Just("<".to_string()),
    ];
    let leaf =
        (names.clone(), attrs.clone(), text.clone()).prop_map(|(n, a, t)| format!("<{n}{a}>{t}</{n}>"));
    let tree = leaf.prop_recursive(6, 48, 6, move |inner| {
        (names.clone(), attrs.clone(), prop::collection::vec(prop_oneof![inner, text.clone()], 0..6))
            .prop_map(|(n, a, kids)| format!("<{n}{a}>{}</{n}>", kids.concat()))
    });
    (prop::option::of(Just(r#"<?xml version="1.0" encoding="utf-8"?>"#)), tree)
        .prop_map(|(decl, t)| format!("{}{t}", decl.unwrap_or("")))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn soap_envelope_reader(input in prop_oneof![
        xmlish().prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..2048),
    ]) {
        let read = timed(|| envelope::parse(&input, SoapVersion::V11));
        if let Err((_, e)) = read {
            prop_assert_eq!(e.code, ErrorCode::MalformedRequest);
        }
    }

    #[test]
    fn soap_envelope_nesting_is_bounded(depth in 0usize..200) {
        let body = format!(
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><c:getchatchannels xmlns:c="urn:chatgate:chat:1">{}{}</c:getchatchannels></s:Body></s:Envelope>"#,
            "<x>".repeat(depth),
            "</x>".repeat(depth)
        );
        let read = timed(|| envelope::parse(body.as_bytes(), SoapVersion::V11));
        // Envelope, Body and the operation take three levels of the 32 allowed.
        prop_assert_eq!(read.is_ok(), depth + 3 <= 32, "depth {}", depth);
    }

    #[test]
    fn form_parser_reads_what_was_encoded(
        pairs in prop::collection::vec(("[a-zA-Z_]{1,8}", ".{0,16}"), 0..12),
    ) {
        let encoded: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", k, utf8_percent_encode(v, NON_ALPHANUMERIC)))
            .collect();
        let mut params = Params::new();
        timed(|| decode_form(encoded.join("&").as_bytes(), &mut params)).unwrap();
        for (k, _) in &pairs {
            // The first value of a name wins (names are case-insensitive).
            let first = pairs.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, v)| v.as_str());
            prop_assert_eq!(params.raw(&k.to_ascii_lowercase()), first);
        }
    }

    #[test]
    fn form_parser_takes_any_bytes(input in prop::collection::vec(any::<u8>(), 0..2048)) {
        let mut params = Params::new();
        if let Err(e) = timed(|| decode_form(&input, &mut params)) {
            prop_assert_eq!(e.code, ErrorCode::MalformedRequest);
        }
    }

    #[test]
    fn basic_header_reading(
        raw in prop::collection::vec(any::<u8>(), 0..256),
        login in "[^:]{0,32}",
        secret in ".{0,32}",
        scheme in prop::sample::select(vec!["Basic", "basic", "BASIC", "Bearer", ""]),
    ) {
        use base64::Engine;
        // Arbitrary bytes as the header (those that are a valid header value at all).
        if let Ok(value) = actix_web::http::header::HeaderValue::from_bytes(&raw) {
            let req = TestRequest::default().insert_header(("authorization", value)).to_http_request();
            if let Err(e) = timed(|| basic_header(&req)) {
                prop_assert_eq!(e.code, ErrorCode::MalformedRequest);
            }
        }
        // A well-formed header gives back exactly what was encoded.
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{login}:{secret}"));
        let req = TestRequest::default()
            .insert_header(("authorization", format!("{scheme} {encoded}")))
            .to_http_request();
        let read = timed(|| basic_header(&req));
        if scheme.eq_ignore_ascii_case("basic") {
            // As sent; and the form-decoded reading exactly when it differs (RFC 6749 §2.3.1).
            let read = read.unwrap().unwrap();
            let decode = |s: &str| crate::doors::wire::decode_component(s.as_bytes()).ok();
            let other = decode(&login).zip(decode(&secret)).filter(|d| *d != (login.clone(), secret.clone()));
            prop_assert_eq!((read.id, read.secret, read.decoded), (login, secret, other));
        } else {
            prop_assert_eq!(read.unwrap_err().code, ErrorCode::MalformedRequest);
        }
    }

    #[test]
    fn json_door_body(
        bytes in prop::collection::vec(any::<u8>(), 0..1024),
        value in json_value(),
    ) {
        for body in [bytes, value.to_string().into_bytes()] {
            if let Err(e) = timed(|| json_params(&body)) {
                prop_assert!(
                    matches!(e.code, ErrorCode::MalformedRequest | ErrorCode::IncorrectParam),
                    "{:?}", e.code
                );
            }
        }
    }

    #[test]
    fn json_door_reads_string_members_as_they_are(
        members in prop::collection::btree_map("[a-z]{1,10}", ".{0,20}", 0..10),
    ) {
        let body = serde_json::to_vec(&members).unwrap();
        let params = timed(|| json_params(&body)).unwrap();
        for (k, v) in &members {
            prop_assert_eq!(params.raw(k), Some(v.as_str()));
        }
    }

    #[test]
    fn inbound_telegram_update(value in json_value(), update_id in any::<i64>(), chat in any::<i64>(), id in any::<i64>(), text in ".{0,15}[^\\s].{0,15}") {
        // Anything: stored, ignored or unreadable — never a panic.
        let _ = timed(|| parse_update(&value));
        let update = serde_json::json!({"update_id": update_id, "message": {"message_id": id, "chat": {"id": chat}, "text": text}});
        let Ok(Update::Message(got)) = timed(|| parse_update(&update)) else {
            return Err(TestCaseError::fail("a text message is stored"));
        };
        prop_assert_eq!(&got.destination, &chat.to_string());
        // Stored as sent, except a NUL, which no database text holds (U+FFFD in its place).
        prop_assert_eq!(&got.text, &Some(text.replace('\0', "\u{FFFD}")));
    }

    #[test]
    fn inbound_whatsapp_notification(value in json_value(), nested in json_value()) {
        let _ = timed(|| parse_notification(&value));
        let wrapped = serde_json::json!({"entry": [{"changes": [{"value": nested}]}]});
        prop_assert!(timed(|| parse_notification(&wrapped)).is_ok());
    }

    #[test]
    fn webhook_settings(
        url in prop_oneof![".{0,40}", "https?://[a-z]{1,10}\\.[a-z]{2,4}(/[a-z]{0,8})?"],
        events in prop_oneof![".{0,40}", Just("*".to_string()), Just("chat_session.start,operator.away".to_string())],
        headers in prop::option::of(prop_oneof![
            ".{0,40}",
            json_value().prop_map(|v| v.to_string()),
            prop::collection::btree_map(".{0,12}", ".{0,12}", 0..20).prop_map(|m| serde_json::to_string(&m).unwrap()),
        ]),
    ) {
        let mut params = Params::new();
        params.set("url", url);
        params.set("events", events);
        if let Some(h) = headers {
            params.set("headers", h);
        }
        if let Err(e) = timed(|| SetWebhook::parse(&params, 0)) {
            prop_assert!(
                matches!(e.code, ErrorCode::MissingCompulsoryParam | ErrorCode::IncorrectUrl | ErrorCode::IncorrectParam),
                "{:?}", e.code
            );
        }
    }
}
