//! SOAP-specific behaviour: versions and prefix styles, WS-Security, hostile and broken XML, the WSDL
//! (served address, operations in step with the code, schema validity of everything the door sends).

use std::collections::BTreeSet;
use std::io::Write;
use std::process::Command;

use chatgate::domain::operation::Operation;
use reqwest::StatusCode;

use crate::doors::{ALL_DOORS, Door, door_call};
use crate::helpers::{LOGIN, PASSWORD, TestApp, ok, spawn_app, spawn_app_with};
use crate::soap_client::{SOAP11, SOAP12, as_envelope, envelope, escape, operation_xml, username_token};

async fn post_soap(
    app: &TestApp,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, String) {
    let res = app
        .client
        .post(format!("{}/api/soap/", app.address))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

const XML11: &str = "text/xml; charset=utf-8";
const XML12: &str = "application/soap+xml; charset=utf-8";

fn creds() -> String {
    format!("<user>{}</user><password>{}</password>", escape(LOGIN), escape(PASSWORD))
}

#[tokio::test]
async fn any_prefix_style_works_in_both_versions() {
    let app = spawn_app().await;
    app.seed().await;
    let c = creds();
    let docs = [
        format!(
            r#"<soap:Envelope xmlns:soap="{SOAP11}"><soap:Body><tns:getchatchannels xmlns:tns="urn:chatgate:chat:1">{c}</tns:getchatchannels></soap:Body></soap:Envelope>"#
        ),
        format!(
            r#"<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="{SOAP11}" xmlns:urn="urn:chatgate:chat:1"><soapenv:Header/><soapenv:Body><urn:getchatchannels>{c}</urn:getchatchannels></soapenv:Body></soapenv:Envelope>"#
        ),
        format!(
            r#"<s:Envelope xmlns:s="{SOAP12}"><s:Body><getchatchannels xmlns="urn:chatgate:chat:1">{c}</getchatchannels></s:Body></s:Envelope>"#
        ),
        format!(
            r#"<Envelope xmlns="{SOAP12}"><Body><x:getchatchannels xmlns:x="urn:chatgate:chat:1">{c}</x:getchatchannels></Body></Envelope>"#
        ),
        // A prefix bound again inside the header, on an empty element and on one with content: the
        // envelope's binding is back for the body.
        format!(
            r#"<p:Envelope xmlns:p="{SOAP11}"><p:Header><p:x xmlns:p="urn:elsewhere"/><p:y xmlns:p="urn:elsewhere"><p:z/></p:y></p:Header><p:Body><q:getchatchannels xmlns:q="urn:chatgate:chat:1">{c}</q:getchatchannels></p:Body></p:Envelope>"#
        ),
        // Namespaces declared on an outer element and whitespace everywhere.
        format!(
            "<e:Envelope xmlns:e=\"{SOAP11}\" xmlns:q=\"urn:chatgate:chat:1\">\n  <e:Body>\n    <q:getchatchannels>\n      {c}\n    </q:getchatchannels>\n  </e:Body>\n</e:Envelope>"
        ),
    ];
    for (i, doc) in docs.iter().enumerate() {
        let ct = if doc.contains(SOAP12) { XML12 } else { XML11 };
        let (status, body) = post_soap(&app, ct, doc.clone()).await;
        assert_eq!(status, StatusCode::OK, "style {i}: {body}");
        let env = as_envelope(&body);
        assert_eq!(ok(&env)["list"].as_array().unwrap().len(), 4, "style {i}");
        let want_ns = if doc.contains(SOAP12) { SOAP12 } else { SOAP11 };
        assert!(body.contains(want_ns), "answered in the request's version: {body}");
    }
}

#[tokio::test]
async fn ws_security_username_token_carries_the_credentials() {
    let app = spawn_app().await;
    app.seed().await;
    for (ns, ct) in [(SOAP11, XML11), (SOAP12, XML12)] {
        let doc = envelope(
            ns,
            &username_token(LOGIN, PASSWORD),
            &operation_xml("getchatchannels", None, None, &[]),
        );
        let (status, body) = post_soap(&app, ct, doc).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        ok(&as_envelope(&body));
        let doc =
            envelope(ns, &username_token(LOGIN, "nope"), &operation_xml("getchatchannels", None, None, &[]));
        let (_, body) = post_soap(&app, ct, doc).await;
        assert_eq!(as_envelope(&body)["error"], "INCORRECT_USER_PASSWORD");
        // A digest cannot be checked against an argon2 hash: refused by name, not taken as the password.
        let digest = username_token(LOGIN, PASSWORD).replace("#PasswordText", "#PasswordDigest");
        let doc = envelope(ns, &digest, &operation_xml("getchatchannels", None, None, &[]));
        let (_, body) = post_soap(&app, ct, doc).await;
        let env = as_envelope(&body);
        assert_eq!(
            (env["error"].as_str(), env["param"].as_str()),
            (Some("INCORRECT_PARAM"), Some("Password")),
            "{body}"
        );
    }
}

async fn expect_fault(
    app: &TestApp,
    content_type: &str,
    doc: impl Into<reqwest::Body>,
    code: &str,
    status: StatusCode,
) {
    let (got_status, body) = post_soap(app, content_type, doc).await;
    assert_eq!(got_status, status, "{body}");
    let env = as_envelope(&body);
    assert_eq!(env["error"], code, "{body}");
}

#[tokio::test]
async fn hostile_and_broken_documents_get_faults_and_the_server_keeps_answering() {
    let app = spawn_app().await;
    app.seed().await;
    let op = operation_xml("getchatchannels", Some(LOGIN), Some(PASSWORD), &[]);
    let laughs = format!(
        r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]><soap:Envelope xmlns:soap="{SOAP11}"><soap:Body><c:getchatchannels xmlns:c="urn:chatgate:chat:1"><user>&lol9;</user></c:getchatchannels></soap:Body></soap:Envelope>"#
    );
    let xxe = format!(
        r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><soap:Envelope xmlns:soap="{SOAP11}"><soap:Body><c:getchatchannels xmlns:c="urn:chatgate:chat:1"><user>&xxe;</user></c:getchatchannels></soap:Body></soap:Envelope>"#
    );
    let valid = envelope(SOAP11, "", &op);
    let truncated = valid[..valid.len() - 30].to_string();
    let deep = format!(
        "<soap:Envelope xmlns:soap=\"{SOAP11}\"><soap:Body><c:getchatchannels xmlns:c=\"urn:chatgate:chat:1\">{}{}</c:getchatchannels></soap:Body></soap:Envelope>",
        "<a>".repeat(200),
        "</a>".repeat(200)
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("billion laughs", laughs.into_bytes()),
        ("external entity", xxe.into_bytes()),
        ("truncated", truncated.into_bytes()),
        ("mismatched tags", envelope(SOAP11, "", "<c:getchatchannels></c:other>").into_bytes()),
        ("not xml", b"user=alice&password=x".to_vec()),
        ("empty", Vec::new()),
        ("not an envelope", b"<getchatchannels xmlns=\"urn:chatgate:chat:1\"/>".to_vec()),
        ("envelope without a body", format!("<s:Envelope xmlns:s=\"{SOAP11}\"/>").into_bytes()),
        ("empty body", envelope(SOAP11, "", "").into_bytes()),
        ("undeclared prefix", envelope(SOAP11, "", "<zz:getchatchannels/>").into_bytes()),
        (
            "prefix used after its element closed",
            format!("<s:Envelope xmlns:s=\"{SOAP11}\"><s:Header><h xmlns:z=\"urn:z\"/></s:Header><s:Body><z:getchatchannels/></s:Body></s:Envelope>").into_bytes(),
        ),
        (
            "prefix bound to the xml namespace",
            format!(
                "<s:Envelope xmlns:s=\"{SOAP11}\" xmlns:x=\"http://www.w3.org/XML/1998/namespace\"><s:Body><c:getchatchannels xmlns:c=\"urn:chatgate:chat:1\">{}</c:getchatchannels></s:Body></s:Envelope>",
                creds()
            )
            .into_bytes(),
        ),
        (
            "unknown entity",
            envelope(SOAP11, "", "<c:getchatchannels><user>&nbsp;</user></c:getchatchannels>").into_bytes(),
        ),
        (
            "not UTF-8",
            envelope(SOAP11, "", "<c:getchatchannels><user>\u{0}</user></c:getchatchannels>")
                .replace('\u{0}', "\u{FFFD}")
                .into_bytes()
                .into_iter()
                .map(|b| if b == 0xBD { 0xFF } else { b })
                .collect(),
        ),
        ("too deep", deep.into_bytes()),
    ];
    for (what, doc) in cases {
        let (status, body) = post_soap(&app, XML11, doc).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{what}: {body}");
        let env = as_envelope(&body);
        assert_eq!(env["error"], "MALFORMED_REQUEST", "{what}: {body}");
        assert!(body.contains("<faultcode>soap:Client</faultcode>"), "{what}: {body}");
    }
    // SOAP 1.2 Sender faults are HTTP 400.
    expect_fault(&app, XML12, "<oops", "MALFORMED_REQUEST", StatusCode::BAD_REQUEST).await;
    // Unknown operations, also in a foreign namespace.
    expect_fault(
        &app,
        XML11,
        envelope(SOAP11, "", &operation_xml("sendsms", Some(LOGIN), Some(PASSWORD), &[])),
        "INCORRECT_METHOD",
        StatusCode::INTERNAL_SERVER_ERROR,
    )
    .await;
    let foreign = format!("<x:getchatchannels xmlns:x=\"urn:other\">{}</x:getchatchannels>", creds());
    expect_fault(&app, XML12, envelope(SOAP12, "", &foreign), "INCORRECT_METHOD", StatusCode::BAD_REQUEST)
        .await;
    // Too large.
    let big = envelope(
        SOAP11,
        "",
        &operation_xml("getchatchannels", Some(LOGIN), Some(&"p".repeat(1_100_000)), &[]),
    );
    expect_fault(&app, XML11, big, "REQUEST_TOO_LARGE", StatusCode::INTERNAL_SERVER_ERROR).await;
    // Still answering.
    let (status, body) = post_soap(&app, XML11, valid).await;
    assert_eq!(status, StatusCode::OK);
    ok(&as_envelope(&body));
}

#[tokio::test]
async fn text_round_trips_through_entities_cdata_and_any_script() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let body = format!(
        "<c:sendmessage>{}<platform>webchat</platform><platformid>{}</platformid><destination>v</destination><message>a &amp; b &lt;c&gt; &#x1F600; &#1488; <![CDATA[<raw> & ]]>Grüße</message></c:sendmessage>",
        creds(),
        f.webchat
    );
    let (status, text) = post_soap(&app, XML11, envelope(SOAP11, "", &body)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let msgs = app
        .call("getmessages", &[("platform", "webchat"), ("platformid", &f.webchat), ("destination", "v")])
        .await;
    assert_eq!(ok(&msgs)["list"][0]["message"], "a & b <c> 😀 א <raw> & Grüße");
    // And back out through SOAP, escaped.
    let read = operation_xml(
        "getmessages",
        Some(LOGIN),
        Some(PASSWORD),
        &[("platform", "webchat"), ("platformid", &f.webchat), ("destination", "v")],
    );
    let (_, xml) = post_soap(&app, XML12, envelope(SOAP12, "", &read)).await;
    assert_eq!(as_envelope(&xml)["result"]["list"][0]["message"], "a & b <c> 😀 א <raw> & Grüße");
    assert!(xml.contains("a &amp; b &lt;c&gt;"), "{xml}");
}

fn wsdl_operations(wsdl: &str) -> BTreeSet<String> {
    let port_type = &wsdl[wsdl.find("<wsdl:portType").unwrap()..wsdl.find("</wsdl:portType>").unwrap()];
    port_type
        .split("<wsdl:operation name=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

#[tokio::test]
async fn wsdl_is_served_with_this_servers_address_and_lists_every_operation() {
    let app = spawn_app().await;
    let res = app.client.get(format!("{}/api/soap/?wsdl", app.address)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/xml"));
    let wsdl = res.text().await.unwrap();
    let here = format!("{}/api/soap/", app.address);
    assert!(wsdl.contains(&format!("<soap:address location=\"{here}\"/>")), "{wsdl}");
    assert!(wsdl.contains(&format!("<soap12:address location=\"{here}\"/>")));
    assert!(!wsdl.contains("<xsd:any ") && !wsdl.contains("xsd:anyType"), "typed results, no xsd:any");

    // The snapshot test: the checked-in contract lists exactly what the code dispatches.
    let dispatched: BTreeSet<String> = Operation::ALL.iter().map(|o| o.method().to_string()).collect();
    assert_eq!(wsdl_operations(&wsdl), dispatched, "wsdl/chatgate.wsdl is out of step with Operation::ALL");
    assert_eq!(wsdl_operations(chatgate::doors::soap::wsdl::WSDL), dispatched);
    for b in ["ChatgateSoap11", "ChatgateSoap12"] {
        let start = wsdl.find(&format!("<wsdl:binding name=\"{b}\"")).unwrap();
        let binding = &wsdl[start..start + wsdl[start..].find("</wsdl:binding>").unwrap()];
        let ops: BTreeSet<String> = binding
            .split("<wsdl:operation name=\"")
            .skip(1)
            .map(|s| s[..s.find('"').unwrap()].to_string())
            .collect();
        assert_eq!(ops, dispatched, "binding {b}");
    }

    let configured = spawn_app_with(|s| s.public_url = Some("https://chat.example.com/".into())).await;
    let wsdl = configured.client.get(format!("{}/api/soap/?WSDL", configured.address)).send().await.unwrap();
    let wsdl = wsdl.text().await.unwrap();
    assert!(wsdl.contains("location=\"https://chat.example.com/api/soap/\""));
}

/// xmllint is needed to validate against the WSDL's schema (`scripts/test.sh` installs it).
fn xmllint() -> &'static str {
    let found =
        Command::new("xmllint").arg("--version").output().map(|o| o.status.success()).unwrap_or(false);
    assert!(found, "xmllint not found: install libxml2-utils (scripts/test.sh does)");
    "xmllint"
}

/// The `<xsd:schema>` of the WSDL as a standalone schema document.
fn schema_of(wsdl: &str) -> String {
    let start = wsdl.find("<xsd:schema").unwrap();
    let end = wsdl.find("</xsd:schema>").unwrap() + "</xsd:schema>".len();
    wsdl[start..end].replacen(
        "<xsd:schema ",
        "<xsd:schema xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:tns=\"urn:chatgate:chat:1\" ",
        1,
    )
}

/// The first element inside `<…Body>`, with the `tns` namespace declared on it.
fn body_element(envelope: &str) -> String {
    let body_start = envelope.find("Body>").unwrap() + "Body>".len();
    let body_end = envelope.rfind("</soap:Body>").or_else(|| envelope.rfind("</s:Body>")).unwrap();
    let inner = envelope[body_start..body_end].trim();
    let first_tag_end = inner.find([' ', '>', '/']).unwrap();
    format!(
        "{} xmlns:tns=\"urn:chatgate:chat:1\" xmlns:c=\"urn:chatgate:chat:1\"{}",
        &inner[..first_tag_end],
        &inner[first_tag_end..]
    )
}

fn fault_detail(envelope: &str) -> String {
    let start = envelope.find("<tns:error>").unwrap();
    let end = envelope.find("</tns:error>").unwrap() + "</tns:error>".len();
    envelope[start..end].replacen("<tns:error>", "<tns:error xmlns:tns=\"urn:chatgate:chat:1\">", 1)
}

#[tokio::test]
async fn every_request_response_and_fault_validates_against_the_wsdl_schema() {
    let lint = xmllint();
    let dir = tempfile::tempdir().unwrap();
    let wsdl = chatgate::doors::soap::wsdl::WSDL;
    let schema = dir.path().join("chatgate.xsd");
    std::fs::write(&schema, schema_of(wsdl)).unwrap();
    let wsdl_file = dir.path().join("chatgate.wsdl");
    std::fs::write(&wsdl_file, wsdl).unwrap();
    let out = Command::new(lint).args(["--noout"]).arg(&wsdl_file).output().unwrap();
    assert!(out.status.success(), "WSDL not well-formed: {}", String::from_utf8_lossy(&out.stderr));

    let app = spawn_app().await;
    let f = app.seed().await;
    app.receive(&f.webchat, "v", "incoming").await;
    // A received message with every detail a platform gives (author, reply, location, file name).
    let mut rich = chatgate::domain::model::InboundMessage::typed(
        f.webchat.parse().unwrap(),
        "v".into(),
        "Location: Prado".into(),
        chrono::Utc::now().timestamp_millis(),
    );
    rich.details = chatgate::domain::model::MessageDetails {
        author: Some(chatgate::domain::model::Author { name: "Ann".into(), id: "42".into() }),
        reply: Some("payload".into()),
        location: chatgate::domain::model::Location::new(40.41, -3.69, Some("Prado".into()), None),
        file_name: Some("a.pdf".into()),
        edited_at: Some(1_749_416_400_000),
        template: None,
    };
    app.gateway.receive(&rich).await.unwrap();
    let w = f.webchat.as_str();
    let chat = [("platform", "webchat"), ("platformid", w), ("destination", "v")];
    let hook = format!("{}/hook", app.address);
    let bulk = format!(
        r#"[{{"platform":"webchat","platformid":"{w}","destination":"v","message":"b"}},{{"platform":"webchat","platformid":"{w}","destination":"v","type":"image","fileurl":"https://e.com/i.png","thumburl":"https://e.com/t.png"}},{{"platform":"webchat","platformid":"0","destination":"v","message":"b"}}]"#
    );
    let calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("getchatchannels", vec![]),
        (
            "sendmessage",
            [&chat[..], &[("message", "hi"), ("invalidationtime", "4102444800000"), ("idempotencykey", "k")]]
                .concat(),
        ),
        (
            "sendfile",
            [
                &chat[..],
                &[
                    ("type", "document"),
                    ("fileurl", "https://e.com/d.pdf"),
                    ("thumburl", "https://e.com/t.png"),
                    ("message", "doc"),
                ],
            ]
            .concat(),
        ),
        ("getchats", chat[..2].to_vec()),
        ("getmessages", [&chat[..], &[("limit", "10")]].concat()),
        ("getunreadmessages", [&chat[..], &[("markread", "false")]].concat()),
        ("sendmessages", vec![("messages", bulk.as_str())]),
        ("getmessagestatus", vec![("messageid", "1")]),
        (
            "sendtemplate",
            [
                &chat[..],
                &[("template", "order_update"), ("language", "en_US"), ("header", "https://e.com/i.png")],
            ]
            .concat(),
        ),
        ("gettemplates", chat[..2].to_vec()),
        ("setcontact", [&chat[..], &[("name", "Ann Lee"), ("custom", r#"{"plan":"gold"}"#)]].concat()),
        ("assignchat", [&chat[..], &[("operator", LOGIN)]].concat()),
        ("endchat", chat.to_vec()),
        ("getchatinfo", chat.to_vec()),
        ("markread", [&chat[..], &[("messageid", "1")]].concat()),
        ("getmessages", vec![("platform", "webchat"), ("platformid", w), ("destination", "nobody")]),
        ("setwebhook", vec![("url", hook.as_str()), ("events", "*"), ("headers", r#"{"x-a":"b"}"#)]),
        ("getwebhooks", vec![]),
        ("sendmessage", [&chat[..], &[("message", "an event")]].concat()),
        ("getdeliveries", vec![("webhookid", "1"), ("limit", "5")]),
        ("redeliver", vec![("deliveryid", "1")]),
        ("deletewebhook", vec![("webhookid", "1")]),
        ("deletewebhook", vec![("webhookid", "1")]),
    ];
    let mut seen = BTreeSet::new();
    for (i, (method, params)) in calls.iter().enumerate() {
        let op = operation_xml(method, Some(LOGIN), Some(PASSWORD), params);
        let request = dir.path().join(format!("req{i}.xml"));
        std::fs::write(&request, body_element(&envelope(SOAP11, "", &op))).unwrap();
        let (_, xml) = post_soap(&app, XML11, envelope(SOAP11, "", &op)).await;
        let response = dir.path().join(format!("res{i}.xml"));
        let part = if xml.contains("Fault>") { fault_detail(&xml) } else { body_element(&xml) };
        std::fs::File::create(&response).unwrap().write_all(part.as_bytes()).unwrap();
        for doc in [&request, &response] {
            let out =
                Command::new(lint).arg("--noout").arg("--schema").arg(&schema).arg(doc).output().unwrap();
            assert!(
                out.status.success(),
                "{method}: {} does not validate: {}\n{}",
                doc.display(),
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(doc).unwrap()
            );
        }
        if *method == "getmessages" && i == 4 {
            assert!(
                xml.contains("<type>location</type>") && xml.contains("<author><name>Ann</name>"),
                "{xml}"
            );
        }
        seen.insert(*method);
    }
    assert_eq!(seen.len(), Operation::ALL.len(), "every operation was validated");
}

#[tokio::test]
async fn the_soap_door_rejects_get_without_wsdl_and_serves_docs_hint() {
    let app = spawn_app().await;
    let res = app.client.get(format!("{}/api/soap/", app.address)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("?wsdl"));
}

#[tokio::test]
async fn non_ascii_credentials_work_through_every_door() {
    let app = spawn_app().await;
    app.seed().await;
    app.admin().create_account("jürgen@example.de", "pa:ss:wörd ✓").await.unwrap();
    for door in ALL_DOORS {
        let body =
            door_call(&app, door, Some("jürgen@example.de"), Some("pa:ss:wörd ✓"), "getchatchannels", &[])
                .await;
        ok(&body);
    }
    assert!(matches!(ALL_DOORS[0], Door::Plain));
}

/// A mainstream SOAP toolkit (Python zeep) consumes the served WSDL and drives every operation.
#[tokio::test]
async fn zeep_consumes_the_wsdl_and_calls_every_operation() {
    let has_zeep = Command::new("python3").args(["-c", "import zeep"]).output().map(|o| o.status.success());
    assert!(has_zeep.unwrap_or(false), "python3 with zeep is needed (scripts/test.sh installs it)");
    let app = spawn_app().await;
    let f = app.seed().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/zeep_check.py");
    let out = tokio::process::Command::new("python3")
        .args([script, &app.address, LOGIN, PASSWORD, &f.webchat])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "zeep failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// node-soap, the usual Node.js SOAP client, consumes the served WSDL and calls the service.
#[tokio::test]
async fn node_soap_consumes_the_wsdl() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients");
    let ready = std::path::Path::new(dir).join("node_modules/soap").exists();
    assert!(ready, "needs node-soap in tests/clients (scripts/test.sh installs it)");
    let app = spawn_app().await;
    let f = app.seed().await;
    let out = tokio::process::Command::new("node")
        .current_dir(dir)
        .args(["node_soap_check.js", &app.address, LOGIN, PASSWORD, &f.webchat])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "node-soap failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// SPEC §2: `sendmessages` answers one result per `<message>`, in order — an empty or nil one too.
#[tokio::test]
async fn empty_and_nil_bulk_items_keep_their_places() {
    let app = spawn_app().await;
    let f = app.seed().await;
    let item = format!(
        "<message><platform>webchat</platform><platformid>{}</platformid><destination>v</destination><message>hi</message></message>",
        f.webchat
    );
    let body = format!(
        r#"<c:sendmessages><user>{}</user><password>{}</password>{item}<message/><message xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/>{item}</c:sendmessages>"#,
        escape(LOGIN),
        escape(PASSWORD)
    );
    let (status, text) = post_soap(&app, XML11, envelope(SOAP11, "", &body)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let env = as_envelope(&text);
    let list = ok(&env)["list"].as_array().unwrap().clone();
    assert_eq!(list.len(), 4, "{text}");
    assert!(list[0]["messageid"].is_string() && list[3]["messageid"].is_string(), "{text}");
    for empty in &list[1..3] {
        assert!(empty.get("messageid").is_none() && empty["error"].is_string(), "{text}");
    }
}

/// Section-5 clients (Perl SOAP::Lite's autotyping, Apache Axis 1) send non-ASCII strings as
/// `xsi:type="xsd:base64Binary"`: such values are decoded (a parameter, a bulk item's field, the
/// credentials), other `xsi:type`s are read as text, and base64 that is broken or not UTF-8 is
/// `INCORRECT_PARAM` naming the parameter.
#[tokio::test]
async fn xsi_typed_base64_values_are_decoded() {
    use base64::Engine;
    let app = spawn_app().await;
    let f = app.seed().await;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let text = "Grüße, 日本 👋 <&>";
    // Any prefixes; SOAP-ENC's `base64` as well as XML Schema's `base64Binary`; a line-wrapped value.
    let wrapped: String =
        b64(text).as_bytes().chunks(8).map(|c| format!("{}\n", std::str::from_utf8(c).unwrap())).collect();
    let ns = r#"xmlns:x="http://www.w3.org/2001/XMLSchema-instance" xmlns:s="http://www.w3.org/2001/XMLSchema" xmlns:enc="http://schemas.xmlsoap.org/soap/encoding/""#;
    let send = |message: String, destination: String| {
        format!(
            r#"<c:sendmessage {ns}><user x:type="s:base64Binary">{}</user><password x:type="s:string">{}</password><platform>webchat</platform><platformid x:type="s:int">{}</platformid>{destination}{message}</c:sendmessage>"#,
            b64(LOGIN),
            escape(PASSWORD),
            f.webchat
        )
    };
    for (message, destination) in [
        (
            format!(r#"<message x:type="s:base64Binary">{wrapped}</message>"#),
            r#"<destination x:type="enc:base64">djE=</destination>"#.to_string(),
        ),
        (
            format!(r#"<message x:type="s:string">{}</message>"#, escape(text)),
            "<destination>v1</destination>".to_string(),
        ),
    ] {
        let (status, xml) = post_soap(&app, XML11, envelope(SOAP11, "", &send(message, destination))).await;
        assert_eq!(status, StatusCode::OK, "{xml}");
    }
    let msgs = app
        .call("getmessages", &[("platform", "webchat"), ("platformid", &f.webchat), ("destination", "v1")])
        .await;
    let texts: Vec<&str> =
        ok(&msgs)["list"].as_array().unwrap().iter().map(|m| m["message"].as_str().unwrap()).collect();
    assert_eq!(texts, [text, text]);

    // A bulk item's fields too.
    let bulk = format!(
        r#"<c:sendmessages {ns}>{}<message><platform>webchat</platform><platformid>{}</platformid><destination>v2</destination><message x:type="s:base64Binary">{}</message></message></c:sendmessages>"#,
        creds(),
        f.webchat,
        b64(text)
    );
    let (_, xml) = post_soap(&app, XML12, envelope(SOAP12, "", &bulk)).await;
    assert!(as_envelope(&xml)["result"]["list"][0]["messageid"].is_string(), "{xml}");
    let msgs = app
        .call("getmessages", &[("platform", "webchat"), ("platformid", &f.webchat), ("destination", "v2")])
        .await;
    assert_eq!(ok(&msgs)["list"][0]["message"], text);

    for (what, value) in
        [("not base64", "@@not base64@@"), ("not UTF-8", "//79"), ("padding wrong", "R3LDvMOf=")]
    {
        let bad = send(
            format!(r#"<message x:type="s:base64Binary">{value}</message>"#),
            "<destination>v3</destination>".into(),
        );
        let (_, xml) = post_soap(&app, XML11, envelope(SOAP11, "", &bad)).await;
        let env = as_envelope(&xml);
        assert_eq!(
            (env["error"].as_str(), env["param"].as_str()),
            (Some("INCORRECT_PARAM"), Some("message")),
            "{what}: {xml}"
        );
    }
}

async fn run_client(program: &str, args: &[&str], dir: &std::path::Path) -> String {
    let out = tokio::process::Command::new(program).args(args).current_dir(dir).output().await.unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// PHP's SoapClient (ext-soap, Debian's php-soap) consumes the served WSDL and drives every operation
/// over SOAP 1.1 and SOAP 1.2 (WS-Security through `SoapHeader`), faults and their typed detail included.
#[tokio::test]
async fn php_soapclient_consumes_the_wsdl_and_calls_every_operation() {
    let has_soap = Command::new("php").args(["-r", "exit(extension_loaded('soap') ? 0 : 1);"]).status();
    assert!(has_soap.is_ok_and(|s| s.success()), "php with ext-soap is needed (scripts/test.sh installs it)");
    let app = spawn_app().await;
    let f = app.seed().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/php_soap_check.php");
    let dir = tempfile::tempdir().unwrap();
    let out = run_client("php", &[script, &app.address, LOGIN, PASSWORD, &f.webchat], dir.path()).await;
    assert!(out.contains("all operations OK over SOAP 1.1 and 1.2"), "{out}");
}

/// Java JAX-WS: `wsimport -extension` generates both ports' classes from the served WSDL (among them
/// `ErrorDetail`, and no class named `Error`), `javac` compiles them with a program that drives every
/// operation and two faults over SOAP 1.1 and 1.2.
#[tokio::test]
async fn java_wsimport_generates_compiling_clients_for_both_ports() {
    let jaxws = std::path::Path::new("/usr/share/java/jaxws-rt.jar");
    assert!(
        jaxws.exists() && Command::new("wsimport").arg("-version").output().is_ok(),
        "Debian's jaxws is needed"
    );
    let app = spawn_app().await;
    let f = app.seed().await;
    let dir = tempfile::tempdir().unwrap();
    let wsdl = format!("{}/api/soap/?wsdl", app.address);
    let out = run_client(
        "wsimport",
        &["-extension", "-keep", "-Xnocompile", "-d", ".", "-p", "chatgate.client", &wsdl],
        dir.path(),
    )
    .await;
    let generated = dir.path().join("chatgate/client");
    assert!(generated.join("ErrorDetail.java").exists(), "{out}");
    assert!(!generated.join("Error.java").exists(), "no class shadows java.lang.Error");
    let source = std::fs::read_to_string(generated.join("Chatgate.java")).unwrap();
    assert!(
        source.contains("getChatgateSoap11Port") && source.contains("getChatgateSoap12Port"),
        "both ports"
    );
    let program = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/java/ChatgateCheck.java");
    let mut sources: Vec<String> = std::fs::read_dir(&generated)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".java"))
        .collect();
    sources.push(program.to_string());
    let cp = jaxws.display().to_string();
    let mut javac = vec!["-nowarn", "-encoding", "UTF-8", "-cp", &cp, "-d", "build"];
    javac.extend(sources.iter().map(String::as_str));
    run_client("javac", &javac, dir.path()).await;
    let run_cp = format!("build:{cp}");
    let out = run_client(
        "java",
        &["-cp", &run_cp, "ChatgateCheck", &app.address, LOGIN, PASSWORD, &f.webchat],
        dir.path(),
    )
    .await;
    assert!(out.contains("all operations OK over SOAP 1.1 and 1.2"), "{out}");
}
