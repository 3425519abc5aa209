//! WhatsApp templates and the 24-hour window (SPEC §5.2): the listing read page by page, sends checked
//! before anything goes to Meta and written as Graph takes them, through every door; Meta's template
//! errors; free text to a closed window; the fallback template; Meta's template status notices.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::delivery::app_with_fakes;
use crate::doors::{ALL_DOORS, Door, door_call};
use crate::fakes::{Reply, WA_TOKEN};
use crate::helpers::{LOGIN, PASSWORD, TestApp, err, list, ok};
use crate::inbound::APP_SECRET;

const WAIT: Duration = Duration::from_secs(5);
const WABA: &str = "102290129340398";

/// The business account's templates, shaped as Meta's listing writes them (Cloud API OpenAPI v23.0,
/// `/{WABA-ID}/message_templates`; names and texts are this test's).
fn listing() -> Vec<Value> {
    vec![
        json!({"name": "order_update", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
            "parameter_format": "POSITIONAL", "id": "1", "components": [
                {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["https://x"]}},
                {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is on its way."},
                {"type": "FOOTER", "text": "Reply STOP to opt out"},
                {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Stop"},
                    {"type": "URL", "text": "Track", "url": "https://track.example/{{1}}"}]}]}),
        json!({"name": "order_update", "language": "es", "status": "APPROVED", "category": "UTILITY",
            "parameter_format": "POSITIONAL", "id": "2", "components": [
                {"type": "BODY", "text": "Hola {{1}}, tu pedido {{2}} va en camino."}]}),
        json!({"name": "welcome", "language": "en", "status": "APPROVED", "category": "MARKETING",
            "parameter_format": "NAMED", "id": "3", "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Welcome, {{first_name}}"},
                {"type": "BODY", "text": "Hi {{first_name}}, use {{code}} for 10% off."}]}),
        json!({"name": "summer_sale", "language": "en", "status": "PAUSED", "category": "MARKETING",
            "parameter_format": "POSITIONAL", "id": "4", "components": [{"type": "BODY", "text": "Sale!"}]}),
        json!({"name": "reminder", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
            "parameter_format": "POSITIONAL", "id": "5", "components": [{"type": "BODY", "text": "A message for you: {{1}}"}]}),
    ]
}

/// The listing is asked for only when a test asks (no timer racing the counts).
fn no_timer(s: &mut chatgate::config::Settings) {
    s.connectors.templates_refresh_secs = 0;
}

async fn whatsapp(app: &TestApp, extra: &[&str]) -> String {
    let mut settings = vec![
        "phone_number_id=106540352242922".to_string(),
        format!("access_token={WA_TOKEN}"),
        format!("app_secret={APP_SECRET}"),
        format!("waba_id={WABA}"),
    ];
    settings.extend(extra.iter().map(|s| s.to_string()));
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    app.channel("whatsapp", &settings).await
}

fn template_params<'a>(
    channel: &'a str,
    to: &'a str,
    name: &'a str,
    language: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("platform", "whatsapp"),
        ("platformid", channel),
        ("destination", to),
        ("template", name),
        ("language", language),
    ]
}

/// A person's message `hours_ago`, by WhatsApp's own timestamp.
async fn person_wrote(app: &TestApp, channel: &str, from: &str, hours_ago: i64) {
    let at = (chrono::Utc::now().timestamp() - hours_ago * 3600).to_string();
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": WABA, "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Ann"}, "wa_id": from}],
            "messages": [{"from": from, "id": format!("wamid.in-{from}-{hours_ago}"), "timestamp": at, "type": "text", "text": {"body": "hi"}}]}}]}]});
    assert_eq!(app.post_whatsapp(channel, APP_SECRET, &body.to_string()).await, StatusCode::OK);
}

#[tokio::test]
async fn templates_are_listed_page_by_page_and_sent_as_graph_takes_them_through_every_door() {
    let (app, p) = app_with_fakes(no_timer).await;
    p.whatsapp.set_templates(listing());
    let wa = whatsapp(&app, &[]).await;
    let refreshed =
        app.call("gettemplates", &[("platform", "whatsapp"), ("platformid", &wa), ("refresh", "1")]).await;
    assert_eq!(p.whatsapp.listings(), 3, "five templates, two a page: every page followed");
    let got = list(ok(&refreshed)).clone();
    assert_eq!(got.len(), 5, "{got:#?}");
    let welcome = got.iter().find(|t| t["name"] == "welcome").unwrap();
    assert_eq!(
        welcome,
        &json!({"name": "welcome", "language": "en", "status": "APPROVED", "category": "MARKETING",
            "parameters": ["first_name", "code"], "text": "Hi {{first_name}}, use {{code}} for 10% off."})
    );
    // Answered from what is kept: Meta is not asked again.
    let kept = app.call("gettemplates", &[("platform", "whatsapp"), ("platformid", &wa)]).await;
    assert_eq!(list(ok(&kept)).len(), 5);
    assert_eq!(p.whatsapp.listings(), 3);

    let to = "34600111222";
    for (i, door) in ALL_DOORS.into_iter().enumerate() {
        let order = format!("#{}", 40 + i);
        let parameters = json!(["Ann", order]).to_string();
        let mut params = template_params(&wa, to, "order_update", "en_US");
        params.extend([
            ("parameters", parameters.as_str()),
            ("header", "https://shop.example/box.png"),
            ("buttons", r#"[{"index": 0, "payload": "STOP"}, {"index": 1, "text": "ord-42"}]"#),
        ]);
        let body = door_call(&app, door, Some(LOGIN), Some(PASSWORD), "sendtemplate", &params).await;
        let id = ok(&body)["messageid"].as_str().unwrap_or_else(|| panic!("{door:?}: {body}")).to_string();
        app.wait_status(&id, "sent", WAIT).await;
    }
    let sent = p.whatsapp.accepted_to(to);
    assert_eq!(sent.len(), 5);
    assert_eq!(
        sent[0].body,
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "template",
            "template": {"name": "order_update", "language": {"code": "en_US", "policy": "deterministic"}, "components": [
                {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://shop.example/box.png"}}]},
                {"type": "body", "parameters": [{"type": "text", "text": "Ann"}, {"type": "text", "text": "#40"}]},
                {"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "payload", "payload": "STOP"}]},
                {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "ord-42"}]}]}})
    );
    // The message reads as the person reads it: the body with its parameters filled in.
    let chat =
        app.call("getmessages", &[("platform", "whatsapp"), ("platformid", &wa), ("destination", to)]).await;
    assert_eq!(list(ok(&chat))[0]["message"], "Hi Ann, your order #44 is on its way.");

    // A named template with a text header, its parameters by name in any order.
    let mut params = template_params(&wa, to, "welcome", "en");
    params.extend([("parameters", r#"{"code": "SUN10", "first_name": "Bo"}"#), ("header", "Bo")]);
    let id = ok(&app.call("sendtemplate", &params).await)["messageid"].as_str().unwrap().to_string();
    app.wait_status(&id, "sent", WAIT).await;
    let named = &p.whatsapp.accepted_to(to)[5].body["template"];
    assert_eq!(
        named["components"],
        json!([{"type": "header", "parameters": [{"type": "text", "text": "Bo"}]},
               {"type": "body", "parameters": [{"type": "text", "text": "Bo", "parameter_name": "first_name"},
                                               {"type": "text", "text": "SUN10", "parameter_name": "code"}]}])
    );
}

/// A request, the parameter it must be refused for, and the words that say why.
type Mistake<'a> = (Vec<(&'a str, &'a str)>, &'a str, Option<&'a str>);

#[tokio::test]
async fn template_mistakes_are_refused_with_their_parameter_before_anything_is_sent() {
    let (app, p) = app_with_fakes(no_timer).await;
    p.whatsapp.set_templates(listing());
    let wa = whatsapp(&app, &[]).await;
    let tg = app.channel("telegram", &[&format!("bot_token={}", crate::delivery::BOT)]).await;
    let to = "34600111222";
    let two = r##"["Ann", "#42"]"##;
    let img = ("header", "https://shop.example/box.png");
    let url_button = ("buttons", r#"[{"index": 1, "text": "x"}]"#);
    let cases: Vec<Mistake> = vec![
        (template_params(&wa, to, "no_such", "en_US"), "template", None),
        (
            template_params(&wa, to, "order_update", "en"),
            "language",
            Some("template \"order_update\" has no language \"en\"; it has \"en_US\", \"es\""),
        ),
        (
            template_params(&wa, to, "summer_sale", "en"),
            "template",
            Some("template summer_sale (en) is PAUSED: only APPROVED templates can be sent"),
        ),
        (
            [
                template_params(&wa, to, "order_update", "en_US"),
                vec![("parameters", r#"["Ann"]"#), img, url_button],
            ]
            .concat(),
            "parameters",
            Some("the template asks for 2 parameters, 1 given"),
        ),
        (
            [
                template_params(&wa, to, "order_update", "en_US"),
                vec![("parameters", r#"["Ann", " "]"#), img, url_button],
            ]
            .concat(),
            "parameters",
            Some("a parameter may not be empty"),
        ),
        (
            [
                template_params(&wa, to, "welcome", "en"),
                vec![("parameters", r#"{"first_name": "Bo", "coupon": "X"}"#), ("header", "Bo")],
            ]
            .concat(),
            "parameters",
            Some("the template asks for \"first_name\", \"code\""),
        ),
        (
            [
                template_params(&wa, to, "order_update", "en_US"),
                vec![("parameters", two), ("header", "a picture"), url_button],
            ]
            .concat(),
            "header",
            Some("the template's header is an image: give its absolute http(s) URL"),
        ),
        (
            [template_params(&wa, to, "order_update", "en_US"), vec![("parameters", two), img]].concat(),
            "buttons",
            Some("button 1 is a URL button whose URL needs its text"),
        ),
        (
            vec![
                ("platform", "telegram"),
                ("platformid", &tg),
                ("destination", "42"),
                ("template", "t"),
                ("language", "en"),
            ],
            "platform",
            Some("templates are WhatsApp's"),
        ),
    ];
    for (params, param, message) in &cases {
        let body = app.call("sendtemplate", params).await;
        err(&body, "INCORRECT_PARAM", Some(param));
        if let Some(m) = message {
            assert_eq!(body["message"].as_str(), Some(*m), "{params:?}: {body}");
        }
    }
    // The SOAP door says why too, in the fault's detail.
    let soap = door_call(&app, Door::Soap11, Some(LOGIN), Some(PASSWORD), "sendtemplate", &cases[1].0).await;
    assert_eq!(soap["message"].as_str(), cases[1].2, "{soap}");
    assert!(p.whatsapp.received().is_empty(), "nothing went to Meta: {:#?}", p.whatsapp.received());
    let chats = app.call("getchats", &[("platform", "whatsapp"), ("platformid", &wa)]).await;
    assert!(list(ok(&chats)).is_empty(), "nothing stored: {chats}");
}

#[tokio::test]
async fn metas_template_errors_fail_the_message_with_their_reason_now_or_later() {
    let (app, p) = app_with_fakes(no_timer).await;
    p.whatsapp.set_templates(listing());
    let wa = whatsapp(&app, &[]).await;
    // Answers as Meta gives them (platforms.md §2.10): HTTP 400 with the code.
    p.whatsapp.script(
        "34600000001",
        [Reply::whatsapp(400, 132000, "Number of parameters does not match the expected number of params")],
    );
    p.whatsapp.script(
        "34600000002",
        [Reply::whatsapp(404, 132001, "Template name does not exist in the translation")],
    );
    let send = |to: &'static str| {
        let app = &app;
        let wa = wa.clone();
        async move {
            let mut params = template_params(&wa, to, "reminder", "en_US");
            params.push(("parameters", r#"["see you tomorrow"]"#));
            ok(&app.call("sendtemplate", &params).await)["messageid"].as_str().unwrap().to_string()
        }
    };
    let first = send("34600000001").await;
    let second = send("34600000002").await;
    let third = send("34600000003").await;
    let s = app.wait_status(&first, "failed", WAIT).await;
    assert_eq!(
        s["reason"],
        "whatsapp 132000: (132000) Number of parameters does not match the expected number of params"
    );
    let s = app.wait_status(&second, "failed", WAIT).await;
    assert!(s["reason"].as_str().unwrap().starts_with("whatsapp 132001: "), "{s}");
    app.wait_status(&third, "sent", WAIT).await;
    // 131047 arrives later, in a status callback: a permanent failure with its reason.
    let wamid = p.whatsapp.accepted_to("34600000003")[0].body.clone();
    assert_eq!(wamid["type"], "template");
    let id = format!("wamid.{}", p.whatsapp.received().len());
    let failed = json!({"object": "whatsapp_business_account", "entry": [{"id": WABA, "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "106540352242922"},
            "statuses": [{"id": id, "status": "failed", "timestamp": "1749416390", "recipient_id": "34600000003",
                "errors": [{"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message"}]}]}}]}]});
    assert_eq!(app.post_whatsapp(&wa, APP_SECRET, &failed.to_string()).await, StatusCode::OK);
    let s = app.status(&third).await;
    assert_eq!(
        (s["status"].as_str(), s["reason"].as_str()),
        (Some("failed"), Some("whatsapp 131047: Re-engagement message"))
    );
}

#[tokio::test]
async fn the_window_decides_between_free_text_the_fallback_template_and_a_failure_that_says_why() {
    let (app, p) = app_with_fakes(no_timer).await;
    p.whatsapp.set_templates(listing());
    let plain = whatsapp(&app, &[]).await;
    let (open, closed, never) = ("34600000010", "34600000011", "34600000012");
    person_wrote(&app, &plain, open, 2).await;
    person_wrote(&app, &plain, closed, 30).await;

    let info = |channel: &str, to: &str| {
        let app = &app;
        let params = [("platform", "whatsapp"), ("platformid", channel), ("destination", to)]
            .map(|(k, v)| (k, v.to_string()));
        async move {
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            ok(&app.call("getchatinfo", &params).await).clone()
        }
    };
    let window = info(&plain, open).await["window"].as_str().unwrap().to_string();
    let until = chrono::Utc::now() + chrono::Duration::hours(22);
    assert_eq!(
        &window[..13],
        &until.format("%Y-%m-%d %H").to_string()[..13],
        "open until 24 h after they wrote"
    );
    assert_eq!(info(&plain, closed).await["window"], "");

    // No fallback template: a closed window fails at once, saying why, with no call to Meta.
    let to_open = app.send("whatsapp", &plain, open, "free text").await;
    let to_closed = app.send("whatsapp", &plain, closed, "free text").await;
    let to_unknown = app.send("whatsapp", &plain, never, "free text").await;
    app.wait_status(&to_open, "sent", WAIT).await;
    let s = app.wait_status(&to_closed, "failed", WAIT).await;
    assert_eq!(s["reason"], "whatsapp: outside the 24-hour window; send a template");
    app.wait_status(&to_unknown, "sent", WAIT).await;
    assert!(p.whatsapp.accepted_to(closed).is_empty());
    assert_eq!(p.whatsapp.accepted_to(never)[0].body["type"], "text", "an unknown window is tried");

    // With a fallback template, free text outside a known-open window goes as that template.
    let with_fallback = whatsapp(&app, &["fallback_template=reminder:en_US"]).await;
    person_wrote(&app, &with_fallback, closed, 30).await;
    person_wrote(&app, &with_fallback, open, 1).await;
    let a = app.send("whatsapp", &with_fallback, closed, "Your table is ready").await;
    let b = app.send("whatsapp", &with_fallback, never, "Your table is ready").await;
    let c = app.send("whatsapp", &with_fallback, open, "Your table is ready").await;
    for id in [&a, &b, &c] {
        app.wait_status(id, "sent", WAIT).await;
    }
    let last = |to: &str| p.whatsapp.accepted_to(to).last().unwrap().body.clone();
    for to in [closed, never] {
        assert_eq!(
            last(to)["template"],
            json!({"name": "reminder", "language": {"code": "en_US", "policy": "deterministic"},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": "Your table is ready"}]}]}),
            "to {to}"
        );
    }
    assert_eq!(last(open)["text"]["body"], "Your table is ready", "an open window takes free text");

    // Meta pauses the fallback (its listing says so too): kept at once, and sends of it are refused.
    let mut now_paused = listing();
    now_paused[4]["status"] = json!("PAUSED");
    p.whatsapp.set_templates(now_paused);
    let paused = json!({"object": "whatsapp_business_account", "entry": [{"id": WABA, "time": 1749416390, "changes": [{
        "field": "message_template_status_update", "value": {"event": "PAUSED", "message_template_id": 5,
        "message_template_name": "reminder", "message_template_language": "en-US", "reason": "LOW_QUALITY"}}]}]});
    assert_eq!(app.post_whatsapp(&plain, APP_SECRET, &paused.to_string()).await, StatusCode::OK);
    let templates =
        app.call("gettemplates", &[("platform", "whatsapp"), ("platformid", &with_fallback)]).await;
    let reminder = list(ok(&templates)).iter().find(|t| t["name"] == "reminder").unwrap().clone();
    assert_eq!(reminder["status"], "PAUSED");
    let mut params = template_params(&with_fallback, open, "reminder", "en_US");
    params.push(("parameters", r#"["x"]"#));
    err(&app.call("sendtemplate", &params).await, "INCORRECT_PARAM", Some("template"));
}

#[tokio::test]
async fn every_channels_templates_are_fetched_on_a_timer() {
    let (app, p) = app_with_fakes(|s| s.connectors.templates_refresh_secs = 1).await;
    p.whatsapp.set_templates(listing());
    let wa = whatsapp(&app, &[]).await;
    let started = std::time::Instant::now();
    loop {
        let kept = app.call("gettemplates", &[("platform", "whatsapp"), ("platformid", &wa)]).await;
        if list(ok(&kept)).len() == 5 {
            break;
        }
        assert!(started.elapsed() < WAIT, "not fetched within {WAIT:?}: {kept}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(p.whatsapp.listings() >= 3);
}

/// The operator console in a browser, signed in, once it lists the chat with `destination`.
async fn console_showing(app: &TestApp, destination: &str) -> crate::web::Browser {
    let mut op = crate::web::Browser::start("console_check.mjs", &[&app.address]).await;
    let signed = op.run(json!({"do": "signin", "login": LOGIN, "password": PASSWORD})).await;
    assert_eq!(signed["signedIn"], true, "{signed}");
    op.run(json!({"do": "waitchat", "text": destination})).await;
    op
}

/// The operator console: a WhatsApp chat whose window is closed offers the approved templates, a text
/// box per parameter, instead of a reply box that can only fail.
#[tokio::test]
async fn the_console_offers_templates_when_the_window_is_closed() {
    let (app, p) = app_with_fakes(no_timer).await;
    p.whatsapp.set_templates(listing());
    let wa = whatsapp(&app, &[]).await;
    person_wrote(&app, &wa, "34600000020", 30).await;
    person_wrote(&app, &wa, "34600000021", 1).await;
    let mut op = console_showing(&app, "34600000020").await;
    op.run(json!({"do": "open", "destination": "34600000021"})).await;
    let open = op.run(json!({"do": "composer", "destination": "34600000021"})).await;
    assert_eq!((open["reply"].as_bool(), open["templates"].as_bool()), (Some(true), Some(false)), "{open}");
    op.run(json!({"do": "open", "destination": "34600000020"})).await;
    let closed = op.run(json!({"do": "composer", "destination": "34600000020"})).await;
    assert_eq!(
        (closed["reply"].as_bool(), closed["templates"].as_bool()),
        (Some(false), Some(true)),
        "{closed}"
    );
    assert_eq!(
        closed["options"],
        json!(["order_update (en_US)", "order_update (es)", "reminder (en_US)", "welcome (en)"]),
        "the approved ones"
    );
    op.run(
        json!({"do": "template", "choose": "order_update (es)", "params": {"{{1}}": "Ana", "{{2}}": "#7"}}),
    )
    .await;
    op.run(json!({"do": "wait", "text": "Hola Ana, tu pedido #7 va en camino."})).await;
    op.run(json!({"do": "shot", "name": "console-template"})).await;
    p.whatsapp.wait_for(WAIT, |r| r.iter().any(|r| r.chat == "34600000020" && r.accepted)).await;
    let sent = p.whatsapp.accepted_to("34600000020");
    assert_eq!(sent[0].body["template"]["name"], "order_update");
    assert_eq!(sent[0].body["template"]["language"]["code"], "es");
}

/// A closed window on a channel that has no approved template: the console says so, and its `Send
/// template` button is disabled rather than doing nothing.
#[tokio::test]
async fn the_console_says_when_a_channel_has_no_template_to_offer() {
    let (app, _p) = app_with_fakes(no_timer).await;
    let wa = whatsapp(&app, &[]).await;
    person_wrote(&app, &wa, "34600000030", 30).await;
    let mut op = console_showing(&app, "34600000030").await;
    op.run(json!({"do": "open", "destination": "34600000030"})).await;
    let closed = op.run(json!({"do": "composer", "destination": "34600000030"})).await;
    assert_eq!(
        (closed["reply"].as_bool(), closed["templates"].as_bool(), closed["sendable"].as_bool()),
        (Some(false), Some(true), Some(false)),
        "{closed}"
    );
    assert_eq!(closed["options"], json!([]), "{closed}");
    let said = op.run(json!({"do": "error"})).await;
    assert!(said["text"].as_str().unwrap_or_default().contains("no approved template"), "{said}");
}
