//! What the platforms really send and accept (SPEC §5.2–5.3): contacts and uploads as Telegram takes
//! them, WhatsApp's contacts, voice notes, button and list replies, locations, orders, two numbers on
//! one app, `wa_id` identities and early statuses; Telegram's authors, edits, venues and stickers.
//! Payloads are the platforms' own examples where they publish one (each names its source).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::delivery::{BOT, app_with_fakes};
use crate::doors::{ALL_DOORS, door_call};
use crate::fakes::{self, WA_TOKEN};
use crate::helpers::{LOGIN, PASSWORD, err, list, ok};
use crate::inbound::{APP_SECRET, SECRET, update};

const WAIT: Duration = Duration::from_secs(5);

const VCARD: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Nelson;Sheena;;;\r\nFN:Sheena Nelson\r\n\
                     TEL;TYPE=CELL:+16505551234\r\nEMAIL:sheena@example.com\r\nEND:VCARD\r\n";

/// A WhatsApp notification with one change `value`, as Meta posts it.
fn notification(value: Value) -> String {
    json!({"object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]})
    .to_string()
}

fn wa_settings(number: &str) -> Vec<String> {
    vec![
        format!("phone_number_id={number}"),
        format!("access_token={WA_TOKEN}"),
        format!("app_secret={APP_SECRET}"),
        "verify_token=meta-verify".into(),
    ]
}

async fn wa_channel(app: &crate::helpers::TestApp, number: &str) -> String {
    let settings = wa_settings(number);
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    app.channel("whatsapp", &settings).await
}

fn sendfile<'a>(
    platform: &'a str,
    channel: &'a str,
    to: &'a str,
    kind: &'a str,
    url: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("platform", platform),
        ("platformid", channel),
        ("destination", to),
        ("type", kind),
        ("fileurl", url),
    ]
}

#[tokio::test]
async fn telegram_contacts_go_as_send_contact_and_documents_it_will_not_fetch_are_uploaded() {
    let (app, p) = app_with_fakes(|s| s.connectors.upload_max_bytes = 4096).await;
    let files = fakes::files(vec![
        ("sheena.vcf", "text/vcard", VCARD.as_bytes().to_vec()),
        ("huge.vcf", "text/vcard", format!("{VCARD}NOTE:{}\r\n", "x".repeat(2100)).into_bytes()),
        ("Angebot März.docx", "application/octet-stream", b"PK\x03\x04 a word file".to_vec()),
        ("big.docx", "application/octet-stream", vec![b'x'; 5000]),
    ])
    .await;
    let tg = app.channel("telegram", &[&format!("bot_token={BOT}")]).await;
    app.send("telegram", &tg, "4242", "hello").await;
    let send_file = |kind: &'static str, name: &'static str, caption: Option<&'static str>| {
        let url = format!("{files}/files/{name}");
        let app = &app;
        let tg = tg.clone();
        async move {
            let mut params = sendfile("telegram", &tg, "4242", kind, &url);
            params.extend(caption.map(|c| ("message", c)));
            app.call("sendfile", &params).await
        }
    };
    let contact = send_file("contact", "sheena.vcf", None).await;
    let docx = send_file("document", "Angebot%20M%C3%A4rz.docx", Some("the offer")).await;
    let pdf = send_file("document", "terms.PDF", None).await;
    let big = send_file("document", "big.docx", None).await;
    let huge_card = send_file("contact", "huge.vcf", None).await;
    // A contact card shows no caption: refused at once rather than dropped.
    err(&send_file("contact", "sheena.vcf", Some("call her")).await, "INCORRECT_PARAM", Some("message"));
    let id = |body: &Value| ok(body)["messageid"].as_str().unwrap().to_string();

    app.wait_status(&id(&contact), "sent", WAIT).await;
    app.wait_status(&id(&docx), "sent", WAIT).await;
    app.wait_status(&id(&pdf), "sent", WAIT).await;
    let s = app.wait_status(&id(&big), "failed", WAIT).await;
    assert_eq!(s["reason"], "telegram: the file at fileurl is over 4096 bytes");
    let s = app.wait_status(&id(&huge_card), "failed", WAIT).await;
    assert_eq!(s["reason"], "telegram: the file at fileurl is over 2048 bytes");

    let got = p.telegram.accepted_to("4242");
    let by = |method: &str| {
        got.iter().find(|r| r.method == method).unwrap_or_else(|| panic!("{method}: {got:#?}"))
    };
    let c = &by("sendContact").body;
    assert_eq!(
        (&c["chat_id"], &c["phone_number"], &c["first_name"], &c["last_name"]),
        (&json!(4242), &json!("+16505551234"), &json!("Sheena"), &json!("Nelson"))
    );
    assert_eq!(c["vcard"], VCARD);
    let documents: Vec<&Value> = got.iter().filter(|r| r.method == "sendDocument").map(|r| &r.body).collect();
    assert_eq!(documents.len(), 2, "{documents:#?}");
    // Uploaded as multipart/form-data, with the file's own name and bytes.
    let upload = documents.iter().find(|d| d["document"].is_object()).unwrap();
    assert_eq!(upload["document"]["filename"], "Angebot März.docx");
    assert_eq!(upload["document"]["text"], "PK\u{3}\u{4} a word file");
    assert_eq!((&upload["chat_id"], &upload["caption"]), (&json!(4242), &json!("the offer")));
    // A PDF Telegram fetches itself, by URL.
    let by_url = documents.iter().find(|d| d["document"].is_string()).unwrap();
    assert_eq!(by_url["document"], format!("{files}/files/terms.PDF"));
}

#[tokio::test]
async fn whatsapp_contacts_voice_notes_audio_and_numbers_go_as_the_cloud_api_takes_them() {
    let (app, p) = app_with_fakes(|_| {}).await;
    let files = fakes::files(vec![("sheena.vcf", "text/vcard", VCARD.as_bytes().to_vec())]).await;
    let wa = wa_channel(&app, "106540352242922").await;
    // `00`, spaces and dashes: the international digits WhatsApp names a user by.
    let first = app.send("whatsapp", &wa, "0034 600-111-222", "hola").await;
    app.wait_status(&first, "sent", WAIT).await;
    let card = format!("{files}/files/sheena.vcf");
    let voice = "https://example.com/note.ogg";
    let files_to_send =
        [("contact", card.as_str()), ("voice", voice), ("document", "https://example.com/a/Q3%20report.pdf")];
    for (kind, url) in files_to_send {
        let body = app.call("sendfile", &sendfile("whatsapp", &wa, "+34 600 111 222", kind, url)).await;
        app.wait_status(ok(&body)["messageid"].as_str().unwrap(), "sent", WAIT).await;
    }
    // Audio shows no caption on WhatsApp: refused at once, not dropped while the message reads `sent`.
    let captioned =
        [sendfile("whatsapp", &wa, "34600111222", "audio", voice), vec![("message", "listen")]].concat();
    err(&app.call("sendfile", &captioned).await, "INCORRECT_PARAM", Some("message"));

    let got = p.whatsapp.accepted_to("34600111222");
    assert_eq!(got.len(), 4, "every send went to the normalized number: {:#?}", p.whatsapp.received());
    assert_eq!(got[0].body["text"]["body"], "hola");
    // Meta's `contacts` message (Cloud API OpenAPI v23.0, `ContactObject`).
    assert_eq!(got[1].body["type"], "contacts");
    assert_eq!(
        got[1].body["contacts"],
        json!([{"name": {"formatted_name": "Sheena Nelson", "first_name": "Sheena", "last_name": "Nelson"},
            "phones": [{"phone": "+16505551234", "type": "CELL"}],
            "emails": [{"email": "sheena@example.com", "type": "WORK"}]}])
    );
    assert_eq!(got[2].body["audio"], json!({"link": voice, "voice": true}));
    assert_eq!(
        got[3].body["document"],
        json!({"link": "https://example.com/a/Q3%20report.pdf", "filename": "Q3 report.pdf"})
    );
    // One chat for every spelling of the number.
    let chats = app.call("getchats", &[("platform", "whatsapp"), ("platformid", &wa)]).await;
    assert_eq!(list(ok(&chats)).len(), 1, "{chats}");
}

#[tokio::test]
async fn whatsapp_replies_locations_orders_and_shared_contacts_reach_every_door() {
    let (app, _p) = app_with_fakes(|_| {}).await;
    let wa = wa_channel(&app, "106540352242922").await;
    let from = "16505551234";
    let value = |messages: Value| {
        notification(json!({"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": from}], "messages": messages}))
    };
    // Each from Meta's Cloud API OpenAPI document v23.0 (`/whatsapp/webhooks` examples), ids shortened.
    let messages = json!([
        {"from": from, "id": "wamid.BTN", "timestamp": "1749416383", "type": "button",
         "context": {"from": "15550783881", "id": "wamid.TPL"},
         "button": {"payload": "STOP_PROMOTIONS", "text": "Stop promotions"}},
        {"from": from, "id": "wamid.IBR", "timestamp": "1749416384", "type": "interactive",
         "interactive": {"type": "button_reply", "button_reply": {"id": "order-yes", "title": "Yes, order"}}},
        {"from": from, "id": "wamid.ILR", "timestamp": "1749416385", "type": "interactive",
         "interactive": {"type": "list_reply", "list_reply": {"id": "slot-3", "title": "Friday 10:00", "description": "Morning"}}},
        {"from": from, "id": "wamid.LOC", "timestamp": "1749416386", "type": "location",
         "location": {"latitude": 37.483307, "longitude": -122.148981, "name": "Philz Coffee", "address": "101 Forest Ave, Palo Alto, CA 94301"}},
        {"from": from, "id": "wamid.ORD", "timestamp": "1749416387", "type": "order",
         "order": {"catalog_id": "194836987003835", "text": "Gift wrap, please",
            "product_items": [{"product_retailer_id": "di9ozbzfi4", "quantity": 2, "item_price": 30, "currency": "USD"}]}},
        {"from": from, "id": "wamid.CON", "timestamp": "1749416388", "type": "contacts", "contacts": [
            {"name": {"formatted_name": "Barbara Johnson", "first_name": "Barbara"}, "phones": [{"phone": "+1 (940) 555-1234", "type": "HOME"}]},
            {"name": {"formatted_name": "Kai Lee"}, "phones": [{"phone": "+1 650 555 0000", "wa_id": "16505550000"}]}]},
        {"from": from, "id": "wamid.DOC", "timestamp": "1749416389", "type": "document",
         "document": {"filename": "Invoice 42.pdf", "mime_type": "application/pdf", "sha256": "x", "id": "3902367823357226"}},
        {"from": from, "id": "wamid.RCT", "timestamp": "1749416390", "type": "reaction",
         "reaction": {"message_id": "wamid.TPL", "emoji": "👍"}}
    ]);
    let body = value(messages);
    assert_eq!(app.post_whatsapp(&wa, APP_SECRET, &body).await, StatusCode::OK);
    assert_eq!(app.post_whatsapp(&wa, APP_SECRET, &body).await, StatusCode::OK, "Meta retries: stored once");

    for door in ALL_DOORS {
        let params =
            [("platform", "whatsapp"), ("platformid", wa.as_str()), ("destination", from), ("limit", "50")];
        let got = door_call(&app, door, Some(LOGIN), Some(PASSWORD), "getmessages", &params).await;
        let mut got = list(ok(&got)).clone();
        got.reverse();
        assert_eq!(got.len(), 8, "{door:?}: a reaction is not stored, each shared contact is: {got:#?}");
        let text = |i: usize| got[i]["message"].as_str().unwrap_or_default().to_string();
        let field =
            |i: usize, f: &str| got[i].pointer(f).map(|v| v.to_string().trim_matches('"').to_string());
        assert_eq!(
            (text(0), field(0, "/reply")),
            ("Stop promotions".into(), Some("STOP_PROMOTIONS".into())),
            "{door:?}"
        );
        assert_eq!((text(1), field(1, "/reply")), ("Yes, order".into(), Some("order-yes".into())));
        assert_eq!((text(2), field(2, "/reply")), ("Friday 10:00".into(), Some("slot-3".into())));
        assert_eq!(field(3, "/type").as_deref(), Some("location"));
        assert_eq!(
            text(3),
            "Location: Philz Coffee, 101 Forest Ave, Palo Alto, CA 94301 (37.483307, -122.148981)"
        );
        assert_eq!(field(3, "/location/latitude").as_deref(), Some("37.483307"));
        assert_eq!(field(3, "/location/name").as_deref(), Some("Philz Coffee"));
        assert_eq!(
            text(4),
            "Order from catalog 194836987003835:\n2 × di9ozbzfi4 at 30 USD\nGift wrap, please"
        );
        assert_eq!(
            (field(5, "/type").as_deref(), field(6, "/type").as_deref()),
            (Some("contact"), Some("contact"))
        );
        assert_eq!(field(7, "/filename").as_deref(), Some("Invoice 42.pdf"));
        for m in &got {
            assert_eq!(
                m.pointer("/author/name").and_then(Value::as_str),
                Some("Sheena Nelson"),
                "{door:?}: {m}"
            );
            assert_eq!(m.pointer("/author/id").and_then(Value::as_str), Some(from));
        }
        // The platform's own time of each message, not the time it reached chatgate.
        assert_eq!(got[0]["datetime"], "2025-06-08 20:59:43", "{door:?}");
    }
    let list_now = app
        .call("getmessages", &[("platform", "whatsapp"), ("platformid", &wa), ("destination", from)])
        .await;
    let cards: Vec<String> = list(ok(&list_now))
        .iter()
        .filter(|m| m["type"] == "contact")
        .map(|m| m["fileurl"].as_str().unwrap().to_string())
        .collect();
    let mut texts = Vec::new();
    for url in cards {
        texts.push(app.client.get(url).send().await.unwrap().text().await.unwrap());
    }
    assert!(texts.iter().any(|c| c.contains("FN:Kai Lee") && c.contains("TEL:+1 650 555 0000")), "{texts:?}");
    assert!(texts.iter().any(|c| c.contains("FN:Barbara Johnson")), "{texts:?}");
    // The document's own name comes with it.
    let doc = list(ok(&list_now)).iter().find(|m| m["type"] == "document").unwrap()["fileurl"]
        .as_str()
        .unwrap()
        .to_string();
    let file = app.client.get(doc).send().await.unwrap();
    assert_eq!(
        file.headers()["content-disposition"].to_str().unwrap(),
        "attachment; filename=\"Invoice 42.pdf\""
    );
}

#[tokio::test]
async fn two_numbers_on_one_meta_app_are_filed_by_their_phone_number_id() {
    let (app, p) = app_with_fakes(|_| {}).await;
    let a = wa_channel(&app, "1111111111").await;
    let b = wa_channel(&app, "2222222222").await;
    // Written just now: the window is open for the reply below.
    let now = chrono::Utc::now().timestamp().to_string();
    let for_number = |number: &str, id: &str, text: &str| {
        notification(json!({"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": number},
            "contacts": [{"profile": {"name": "Ann"}, "wa_id": "34600111222"}],
            "messages": [{"from": "34600111222", "id": id, "timestamp": now, "type": "text", "text": {"body": text}}]}))
    };
    // Meta posts every number's notifications to the one callback URL it has: here, channel A's.
    assert_eq!(
        app.post_whatsapp(&a, APP_SECRET, &for_number("2222222222", "wamid.B1", "to B")).await,
        StatusCode::OK
    );
    assert_eq!(
        app.post_whatsapp(&a, APP_SECRET, &for_number("1111111111", "wamid.A1", "to A")).await,
        StatusCode::OK
    );
    // The app-wide URL without a channel: filed the same way.
    let app_url = format!("{}/inbound/whatsapp", app.address);
    let post_app = |body: String, key: &str| {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        app.client
            .post(&app_url)
            .header("content-type", "application/json")
            .header("X-Hub-Signature-256", signature)
            .body(body)
            .send()
    };
    let res = post_app(for_number("2222222222", "wamid.B2", "to B again"), APP_SECRET).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let forged =
        post_app(for_number("2222222222", "wamid.B3", "forged"), "not-the-app-secret").await.unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    // A number no channel has: acknowledged (Meta would retry for days), nothing stored.
    let unknown = post_app(for_number("3333333333", "wamid.C1", "nobody's"), "whatever").await.unwrap();
    assert_eq!(unknown.status(), StatusCode::OK);

    let texts = |channel: &str| {
        let app = &app;
        let channel = channel.to_string();
        async move {
            let got = app
                .call(
                    "getmessages",
                    &[("platform", "whatsapp"), ("platformid", &channel), ("destination", "34600111222")],
                )
                .await;
            list(ok(&got))
                .iter()
                .rev()
                .map(|m| m["message"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(texts(&a).await, ["to A"]);
    assert_eq!(texts(&b).await, ["to B", "to B again"]);

    // B's statuses, posted to A's URL, move B's message.
    let sent = app.send("whatsapp", &b, "34600111222", "hello from B").await;
    app.wait_status(&sent, "sent", WAIT).await;
    let wamid = format!("wamid.{}", p.whatsapp.received().len());
    let read = notification(
        json!({"messaging_product": "whatsapp", "metadata": {"phone_number_id": "2222222222"},
        "statuses": [{"id": wamid, "status": "read", "timestamp": "1749416390", "recipient_id": "34600111222"}]}),
    );
    assert_eq!(app.post_whatsapp(&a, APP_SECRET, &read).await, StatusCode::OK);
    assert_eq!(app.status(&sent).await["status"], "read");

    // The app-wide URL's handshake takes any WhatsApp channel's verify_token.
    let verify = |token: &'static str| {
        app.client
            .get(&app_url)
            .query(&[("hub.mode", "subscribe"), ("hub.challenge", "1158201444"), ("hub.verify_token", token)])
            .send()
    };
    let good = verify("meta-verify").await.unwrap();
    assert_eq!((good.status(), good.text().await.unwrap()), (StatusCode::OK, "1158201444".to_string()));
    assert_eq!(verify("wrong").await.unwrap().status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_reply_from_the_wa_id_the_send_answer_named_joins_the_chat_and_early_statuses_apply() {
    let (app, p) = app_with_fakes(|_| {}).await;
    let wa = wa_channel(&app, "106540352242922").await;
    // Meta knows this Brazilian mobile without its ninth digit: the answer names that wa_id.
    p.whatsapp.wa_id("5511912345678", "551112345678");
    let sent = app.send("whatsapp", &wa, "+55 11 91234-5678", "Olá").await;
    app.wait_status(&sent, "sent", WAIT).await;
    let reply = notification(
        json!({"messaging_product": "whatsapp", "metadata": {"phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Bia"}, "wa_id": "551112345678"}],
        "messages": [{"from": "551112345678", "id": "wamid.R1", "timestamp": chrono::Utc::now().timestamp().to_string(), "type": "text", "text": {"body": "Oi!"}}]}),
    );
    assert_eq!(app.post_whatsapp(&wa, APP_SECRET, &reply).await, StatusCode::OK);
    let chat = app
        .call(
            "getmessages",
            &[("platform", "whatsapp"), ("platformid", &wa), ("destination", "5511912345678")],
        )
        .await;
    let texts: Vec<&str> = list(ok(&chat)).iter().map(|m| m["message"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Oi!", "Olá"], "the reply is in the chat the business started");
    let chats = app.call("getchats", &[("platform", "whatsapp"), ("platformid", &wa)]).await;
    assert_eq!(list(ok(&chats)).len(), 1, "{chats}");

    // A status that arrives while the send's answer is still on its way is kept and applied.
    p.whatsapp.set_delay(Duration::from_millis(700));
    let slow = app.send("whatsapp", &wa, "5511912345678", "are you there?").await;
    p.whatsapp.wait_for(WAIT, |r| r.len() == 2).await;
    let wamid = format!("wamid.{}", p.whatsapp.received().len());
    let delivered = notification(
        json!({"messaging_product": "whatsapp", "metadata": {"phone_number_id": "106540352242922"},
        "statuses": [{"id": wamid, "status": "delivered", "timestamp": "1749416390", "recipient_id": "551112345678"}]}),
    );
    assert_eq!(app.post_whatsapp(&wa, APP_SECRET, &delivered).await, StatusCode::OK);
    assert_eq!(app.status(&slow).await["status"], "pending", "the answer has not come back yet");
    app.wait_status(&slow, "delivered", WAIT).await;
}

#[tokio::test]
async fn telegram_authors_edits_places_stickers_and_file_names_are_kept() {
    let (app, _p) = app_with_fakes(|_| {}).await;
    let tg =
        app.channel("telegram", &[&format!("bot_token={BOT}"), &format!("webhook_secret={SECRET}")]).await;
    let rx = crate::receiver::Receiver::start().await;
    app.webhook(&rx.url, "chat_session.message_received", None).await;
    // Telegram publishes no example updates: the shapes are the Bot API 10.1 types (core.telegram.org/
    // bots/api: Update, Message, User, Chat, Venue, Sticker, VideoNote, Document), the values invented.
    let group = json!({"id": -1001234567890_i64, "title": "Support", "type": "supergroup"});
    let ann = json!({"id": 1111111, "is_bot": false, "first_name": "Ann", "last_name": "Lee"});
    let bo = json!({"id": 2222222, "is_bot": false, "first_name": "Bo", "username": "bo"});
    let post = |body: String| {
        let app = &app;
        let tg = tg.clone();
        async move { assert_eq!(app.post_telegram(&tg, Some(SECRET), &body).await, StatusCode::OK) }
    };
    post(update(
        1,
        json!({"message_id": 10, "from": ann, "chat": group, "date": 1_749_416_383, "text": "hello"}),
    ))
    .await;
    post(update(
        2,
        json!({"message_id": 11, "from": bo, "chat": group, "date": 1_749_416_384, "text": "hi Ann"}),
    ))
    .await;
    // Telegram restarts update ids after a week of silence: an old id with a new message is new.
    post(update(1, json!({"message_id": 12, "from": bo, "chat": group, "date": 1_749_416_385,
        "venue": {"location": {"latitude": 40.4138, "longitude": -3.6921}, "title": "Museo del Prado", "address": "Paseo del Prado"},
        "location": {"latitude": 40.4138, "longitude": -3.6921}}))).await;
    post(update(4, json!({"message_id": 13, "from": ann, "chat": group, "date": 1_749_416_386,
        "sticker": {"file_id": "CAACAgIAAxk", "file_unique_id": "s1", "width": 512, "height": 512, "is_animated": false, "is_video": false}}))).await;
    post(update(
        5,
        json!({"message_id": 14, "from": ann, "chat": group, "date": 1_749_416_387,
        "video_note": {"file_id": "DQACAgIAAxk", "file_unique_id": "v1", "length": 240, "duration": 3}}),
    ))
    .await;
    post(update(6, json!({"message_id": 15, "from": ann, "chat": group, "date": 1_749_416_388,
        "document": {"file_id": "BQACAgIAAxk", "file_unique_id": "d1", "file_name": "Relatório final.pdf", "mime_type": "application/pdf"}}))).await;
    // The same message again under another update id (a retry after a restart): stored once.
    post(update(
        7,
        json!({"message_id": 11, "from": bo, "chat": group, "date": 1_749_416_384, "text": "hi Ann"}),
    ))
    .await;
    // An edit changes the stored text and says when; an older edit arriving late changes nothing.
    let edit = |update_id: i64, at: i64, text: &str| {
        json!({"update_id": update_id, "edited_message": {"message_id": 10, "from": ann, "chat": group,
            "date": 1_749_416_383, "edit_date": at, "text": text}})
        .to_string()
    };
    post(edit(8, 1_749_416_400, "hello, everyone")).await;
    post(edit(9, 1_749_416_390, "hello all")).await;

    let chat = app
        .call(
            "getmessages",
            &[("platform", "telegram"), ("platformid", &tg), ("destination", "-1001234567890")],
        )
        .await;
    let mut got = list(ok(&chat)).clone();
    got.reverse();
    assert_eq!(got.len(), 6, "{got:#?}");
    assert_eq!(got[0]["message"], "hello, everyone");
    assert_eq!(got[0]["edited"], "2025-06-08 21:00:00");
    assert_eq!(got[0]["datetime"], "2025-06-08 20:59:43", "Telegram's own date");
    assert_eq!(got[0]["author"], json!({"name": "Ann Lee", "id": "1111111"}));
    assert_eq!(got[1]["author"], json!({"name": "Bo", "id": "2222222"}));
    assert_eq!(got[2]["type"], "location");
    assert_eq!(
        got[2]["location"],
        json!({"latitude": 40.4138, "longitude": -3.6921, "name": "Museo del Prado", "address": "Paseo del Prado"})
    );
    assert_eq!((got[3]["type"].as_str(), got[4]["type"].as_str()), (Some("image"), Some("video")));
    assert_eq!(got[5]["filename"], "Relatório final.pdf");
    let file = app.client.get(got[5]["fileurl"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(
        file.headers()["content-disposition"].to_str().unwrap(),
        "attachment; filename=\"Relat_rio final.pdf\"; filename*=UTF-8''Relat%C3%B3rio%20final.pdf"
    );
    // Webhook receivers hear who wrote each message.
    let hits = rx.wait_for(WAIT, |h| h.len() >= 6).await;
    let authors: Vec<Value> = hits.iter().map(|h| h.json()["message"]["author"].clone()).collect();
    assert!(authors.contains(&json!({"name": "Bo", "id": "2222222"})), "{authors:?}");
    assert!(authors.iter().all(|a| a.is_object()), "{authors:?}");
}

#[test]
fn the_default_graph_version_is_v23() {
    let defaults = chatgate::delivery::connectors::ConnectorSettings::default();
    assert_eq!(defaults.whatsapp.base_url, "https://graph.facebook.com/v23.0");
}
