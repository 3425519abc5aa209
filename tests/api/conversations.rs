//! Contacts and conversations (Userlike's catalogue): `setcontact`, `assignchat`, `endchat` and
//! `getchatinfo` through the doors, and the events they fire — exactly once per real change, signed,
//! with the contact, custom data and assignee in every chat event and `_event` beside `event`.

use std::time::Duration;

use chatgate::admin::AccessSpec;
use serde_json::{Value, json};

use crate::delivery::app_with_fakes;
use crate::helpers::{LOGIN, TestApp, err, ok};
use crate::receiver::{Receiver, assert_signed, events};

const WAIT: Duration = Duration::from_secs(10);

impl TestApp {
    /// A chat method on the webchat chat `v` of `channel`, through the plain door.
    pub(crate) async fn on_chat(&self, method: &str, channel: &str, extra: &[(&str, &str)]) -> Value {
        let mut params = vec![("platform", "webchat"), ("platformid", channel), ("destination", "v")];
        params.extend_from_slice(extra);
        self.call(method, &params).await
    }

    /// An access of the account in the operators' group `support` (scopes: the account's).
    async fn support_operator(&self, login: &str, secret: &str) {
        let spec = AccessSpec {
            account_login: LOGIN.into(),
            login: login.into(),
            secret: Some(secret.into()),
            token: false,
            channel: None,
            group: Some("support".into()),
            name: None,
            scopes: None,
            allow_ip: vec![],
        };
        self.admin().create_access(&spec).await.unwrap();
    }
}

fn count(names: &[String], name: &str) -> usize {
    names.iter().filter(|n| *n == name).count()
}

#[tokio::test]
async fn contact_assignment_and_end_fire_once_per_real_change_with_the_contact_in_every_chat_event() {
    let (app, _p) = app_with_fakes(|_| {}).await;
    let web = app.channel("webchat", &[]).await;
    app.support_operator("night", "night-secret-1").await;
    let rx = Receiver::start().await;
    let (hook, secret) = app.webhook(&rx.url, "*", None).await;

    // No chat yet.
    let none = app.on_chat("setcontact", &web, &[("name", "Ann")]).await;
    assert_eq!(
        (none["error"].as_str(), none["param"].as_str()),
        (Some("CHAT_NOT_FOUND"), Some("destination"))
    );
    app.send("webchat", &web, "v", "Hello").await;

    // The contact: stored, answered, and `contact.updated` only for what changed.
    let set = app
        .on_chat(
            "setcontact",
            &web,
            &[("name", "Ann"), ("email", "ann@example.com"), ("custom", r#"{"plan":"gold"}"#)],
        )
        .await;
    assert_eq!(ok(&set)["contact"]["name"], "Ann");
    assert_eq!(ok(&set)["custom"], r#"{"plan":"gold"}"#);
    ok(&app.on_chat("setcontact", &web, &[("name", "Ann"), ("custom", r#"{"plan":"gold"}"#)]).await);
    ok(&app.on_chat("setcontact", &web, &[("name", "Ann Lee")]).await);
    // Bad values name their parameter and change nothing.
    let big = format!(r#"{{"notes":"{}"}}"#, "x".repeat(8 * 1024));
    for (k, v) in [("custom", big.as_str()), ("custom", "[1]"), ("custom", "{not json"), ("email", "a\u{7}b")]
    {
        let body = app.on_chat("setcontact", &web, &[(k, v)]).await;
        err(&body, "INCORRECT_PARAM", Some(k));
    }

    // Assignment: to an operator, again to the same (no change), then to a group.
    ok(&app.on_chat("assignchat", &web, &[("operator", LOGIN)]).await);
    ok(&app.on_chat("assignchat", &web, &[("operator", LOGIN)]).await);
    ok(&app.on_chat("assignchat", &web, &[("group", "support")]).await);
    for (extra, param) in [
        (vec![("operator", "mallory")], "operator"),
        (vec![("group", "sales")], "group"),
        (vec![("operator", LOGIN), ("group", "support")], "group"),
    ] {
        let body = app.on_chat("assignchat", &web, &extra).await;
        err(&body, "INCORRECT_PARAM", Some(param));
    }
    let body = app.on_chat("assignchat", &web, &[]).await;
    err(&body, "MISSING_COMPULSORY_PARAM", Some("operator"));

    // The end: once; the next message opens the conversation again.
    ok(&app.on_chat("endchat", &web, &[]).await);
    ok(&app.on_chat("endchat", &web, &[]).await);
    let info = app.on_chat("getchatinfo", &web, &[]).await;
    let info = ok(&info);
    assert_eq!(info["state"], "ended");
    assert_eq!(info["assignee"], "group:support");
    assert_eq!(info["contact"]["name"], "Ann Lee");
    assert_eq!(info["contact"]["email"], "ann@example.com");
    assert_eq!(info["contact"]["company"], "");
    assert_eq!(info["custom"], r#"{"plan":"gold"}"#);
    app.send("webchat", &web, "v", "Anything else?").await;
    assert_eq!(ok(&app.on_chat("getchatinfo", &web, &[]).await)["state"], "open");

    // Deliveries may overtake one another: wait for every event counted, and find each by its content.
    let expected = [("chat_session.message_sent", 2), ("contact.updated", 2), ("chat_session.forward", 2)];
    let hits = rx
        .wait_for(WAIT, |h| {
            let names = events(h);
            expected.iter().all(|(name, n)| count(&names, name) == *n)
                && count(&names, "conversation.ended") == 1
        })
        .await;
    let all = |name: &str| hits.iter().filter(|h| h.event() == name).map(|h| h.json()).collect::<Vec<_>>();
    let updates = all("contact.updated");
    assert!(updates.iter().all(|u| u["_type"] == "contact"), "{updates:?}");
    let changes: Vec<&Value> = updates.iter().map(|u| &u["changed"]).collect();
    let first = json!({"name": {"previous": null, "current": "Ann"}, "email": {"previous": null, "current": "ann@example.com"},
                       "custom": {"previous": {}, "current": {"plan": "gold"}}});
    assert!(changes.contains(&&first), "{changes:?}");
    assert!(changes.contains(&&json!({"name": {"previous": "Ann", "current": "Ann Lee"}})), "{changes:?}");
    let forwards: Vec<(Value, Value)> = all("chat_session.forward")
        .iter()
        .map(|f| (f["operator_previous"].clone(), f["operator_current"].clone()))
        .collect();
    let login = json!({"operator": LOGIN});
    assert!(forwards.contains(&(Value::Null, login.clone())), "{forwards:?}");
    assert!(forwards.contains(&(login, json!({"group": "support"}))), "{forwards:?}");
    let ended = &all("conversation.ended")[0];
    assert_eq!((ended["_type"].as_str(), ended["event"].as_str()), (Some("conversation"), Some("ended")));
    assert_eq!(ended["chat"], json!({"platform": "webchat", "platformid": web, "destination": "v"}));
    // Every chat event carries the contact, custom data and assignee (as they are when it is sent),
    // and `_event`; those after the changes show them.
    for h in &hits {
        let b = h.json();
        assert_eq!(b["_event"], b["event"], "{b}");
        assert!(b["contact"].is_object() && b["custom"].is_object() && b.get("assignee").is_some(), "{b}");
    }
    let sent = all("chat_session.message_sent");
    let last_sent = sent.iter().find(|m| m["message"]["message"] == "Anything else?").unwrap().clone();
    for b in [ended, &last_sent] {
        assert_eq!(b["contact"]["name"], "Ann Lee", "{b}");
        assert_eq!(b["contact"]["email"], "ann@example.com", "{b}");
        assert_eq!(b["custom"], json!({"plan": "gold"}), "{b}");
        assert_eq!(b["assignee"], json!({"group": "support"}), "{b}");
    }
    assert_signed(&hits, &secret).await;
    app.settled(&hook, hits.len()).await;
}

/// The platform's name for the person fills the contact on every received message; `contact.updated`
/// fires only when it changed.
#[tokio::test]
async fn a_telegram_name_fills_the_contact_and_changes_only_when_it_does() {
    use crate::delivery::BOT;
    use crate::inbound::{SECRET, update};
    let (app, _p) = app_with_fakes(|_| {}).await;
    let tg =
        app.channel("telegram", &[&format!("bot_token={BOT}"), &format!("webhook_secret={SECRET}")]).await;
    let rx = Receiver::start().await;
    app.webhook(&rx.url, "contact.updated", None).await;
    let chat = json!({"id": 4242, "type": "private"});
    let from = |first: &str| json!({"id": 4242, "is_bot": false, "first_name": first, "last_name": "Lee"});
    for (n, first) in [(1, "Ann"), (2, "Ann"), (3, "Annie")] {
        let text =
            update(n, json!({"message_id": n, "chat": chat, "from": from(first), "date": n, "text": "hi"}));
        assert_eq!(app.post_telegram(&tg, Some(SECRET), &text).await, 200);
    }
    let hits = rx.wait_for(WAIT, |h| h.len() >= 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let bodies: Vec<Value> = rx.hits().iter().map(|h| h.json()).collect();
    assert_eq!(bodies.len(), 2, "{hits:#?}");
    assert_eq!(bodies[0]["changed"], json!({"name": {"previous": null, "current": "Ann Lee"}}));
    assert_eq!(bodies[1]["changed"], json!({"name": {"previous": "Ann Lee", "current": "Annie Lee"}}));
    let info = app
        .call("getchatinfo", &[("platform", "telegram"), ("platformid", &tg), ("destination", "4242")])
        .await;
    assert_eq!(ok(&info)["contact"]["name"], "Annie Lee");
}

/// The visitor's page: contact and custom data (before any message too), then after the end a rating
/// with feedback and the survey's answer — once each per end, refused otherwise, each with its event.
#[tokio::test]
async fn a_visitor_rates_and_answers_the_survey_once_after_the_end() {
    let (app, _p) = app_with_fakes(|_| {}).await;
    let web = app.channel("webchat", &["survey_question=Did we help?", "survey_options=Yes|No|Partly"]).await;
    let rx = Receiver::start().await;
    let (_, secret) = app.webhook(&rx.url, "*", None).await;
    let (visitor, token) = crate::helpers::webchat_visitor(&app.client, &app.address, &web).await;
    let post = |what: &'static str, body: Value| {
        let (app, web, visitor, token) = (&app, web.clone(), visitor.clone(), token.clone());
        async move {
            let res = app
                .client
                .post(format!("{}/webchat/{web}/api/{what}", app.address))
                .header("x-visitor-id", visitor)
                .header("x-visitor-token", token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let history = || async {
        let res = app
            .client
            .get(format!("{}/webchat/{web}/api/messages", app.address))
            .header("x-visitor-id", &visitor)
            .header("x-visitor-token", &token)
            .send()
            .await
            .unwrap();
        res.json::<Value>().await.unwrap()["conversation"].clone()
    };

    // The host page's contact, before the visitor wrote anything.
    let (s, b) =
        post("contact", json!({"name": "Ann", "email": "ann@example.com", "custom": {"cart": 3}})).await;
    assert_eq!((s, &b["contact"]["name"], &b["custom"]), (200, &json!("Ann"), &json!({"cart": 3})), "{b}");
    let big = json!({"custom": {"notes": "x".repeat(8 * 1024)}});
    for (body, param) in [(big, "custom"), (json!({"custom": [1]}), "custom"), (json!({"email": 5}), "email")]
    {
        let (s, b) = post("contact", body).await;
        assert_eq!(
            (s, b["error"].as_str(), b["param"].as_str()),
            (400, Some("INCORRECT_PARAM"), Some(param))
        );
    }
    let (s, _) = post("message", json!({})).await;
    assert_eq!(s, 404, "no such path");
    let sent = app
        .client
        .post(format!("{}/webchat/{web}/api/messages", app.address))
        .header("x-visitor-id", &visitor)
        .header("x-visitor-token", &token)
        .json(&json!({"message": "Where is my order?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);

    // Open: nothing is asked; a rating is refused.
    assert_eq!(history().await, json!({"state": "open", "rating": false, "survey": null}));
    let (s, b) = post("rating", json!({"rate": 5})).await;
    assert_eq!((s, b["error"].as_str()), (409, Some("CONVERSATION_OPEN")));

    // Ended: the page is asked for both; bad values name their field; each is taken once.
    ok(&app
        .call("endchat", &[("platform", "webchat"), ("platformid", &web), ("destination", &visitor)])
        .await);
    assert_eq!(
        history().await,
        json!({"state": "ended", "rating": true, "survey": {"question": "Did we help?", "options": ["Yes", "No", "Partly"]}})
    );
    for (what, body, param) in [
        ("rating", json!({"rate": 0}), "rate"),
        ("rating", json!({"rate": 6}), "rate"),
        ("survey", json!({"option": "Maybe"}), "option"),
    ] {
        let (s, b) = post(what, body).await;
        assert_eq!((s, b["param"].as_str()), (400, Some(param)), "{what}: {b}");
    }
    assert_eq!(post("rating", json!({"rate": 4, "feedback": "Quick and kind"})).await.0, 204);
    assert_eq!(post("rating", json!({"rate": 1})).await.1["error"], "ALREADY_ANSWERED");
    assert_eq!(post("survey", json!({"option": "Yes"})).await.0, 204);
    assert_eq!(post("survey", json!({"option": "No"})).await.1["error"], "ALREADY_ANSWERED");
    assert_eq!(history().await, json!({"state": "ended", "rating": false, "survey": null}));
    let info = app
        .call("getchatinfo", &[("platform", "webchat"), ("platformid", &web), ("destination", &visitor)])
        .await;
    let info = ok(&info);
    assert_eq!(
        (info["rating"].as_str(), info["feedback"].as_str(), info["survey"].as_str()),
        (Some("4"), Some("Quick and kind"), Some("Yes"))
    );
    assert_eq!(info["contact"]["email"], "ann@example.com");

    // Deliveries may overtake one another: wait for all four.
    let wanted = ["chat_session.rating", "chat_session.feedback", "chat_session.survey", "contact.updated"];
    let hits = rx.wait_for(WAIT, |h| wanted.iter().all(|w| events(h).iter().any(|e| e == w))).await;
    let names = events(&hits);
    for name in wanted {
        assert_eq!(count(&names, name), 1, "{name}: {names:?}");
    }
    let by = |name: &str| hits.iter().find(|h| h.event() == name).unwrap().json();
    assert_eq!(by("chat_session.rating")["rate"], 4);
    assert_eq!(by("chat_session.feedback")["feedback_message"], "Quick and kind");
    assert_eq!(by("chat_session.survey")["post_survey_option"], "Yes");
    assert_eq!(by("chat_session.survey")["custom"], json!({"cart": 3}));
    assert_signed(&hits, &secret).await;
}

/// A session that ends with received messages nobody read says so (`chat_session.unread`, their count,
/// the oldest); one whose messages were read does not.
#[tokio::test]
async fn a_session_ending_with_unread_messages_says_how_many_and_which_first() {
    let (app, _p) = app_with_fakes(|s| s.chat.idle_end_secs = 1).await;
    let web = app.channel("webchat", &[]).await;
    let rx = Receiver::start().await;
    app.webhook(&rx.url, "chat_session.unread,chat_session.end,conversation.ended", None).await;
    let first = app.receive(&web, "v", "Hello?").await;
    app.receive(&web, "v", "Anyone there?").await;
    ok(&app.on_chat("endchat", &web, &[]).await);
    let hits = rx.wait_for(WAIT, |h| events(h).iter().any(|e| e == "chat_session.unread")).await;
    let unread = hits.iter().find(|h| h.event() == "chat_session.unread").unwrap().json();
    assert_eq!(unread["unread_count"], 2);
    assert_eq!(unread["message"]["messageid"], first.as_str(), "the oldest unread");

    // Another chat whose message was read: its idle end says nothing of unread messages.
    app.receive(&web, "w", "Thanks!").await;
    let read = app
        .call("getunreadmessages", &[("platform", "webchat"), ("platformid", &web), ("destination", "w")])
        .await;
    ok(&read);
    rx.wait_for(WAIT, |h| {
        h.iter().any(|h| h.event() == "chat_session.end" && h.json()["chat"]["destination"] == "w")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let unread: Vec<Value> =
        rx.hits().iter().filter(|h| h.event() == "chat_session.unread").map(|h| h.json()).collect();
    assert_eq!(unread.len(), 2, "v's end by the operator, then v's idle end; none for w: {unread:#?}");
    assert!(unread.iter().all(|u| u["chat"]["destination"] == "v"));
}

/// A webchat channel's settings changed: `um_widget.config` with the widget as the page shows it; the
/// same settings again, or another platform's channel, say nothing.
#[tokio::test]
async fn a_changed_widget_is_told_once_per_change() {
    let (app, _p) = app_with_fakes(|_| {}).await;
    let web = app.channel("webchat", &[]).await;
    let tg = app.channel("telegram", &[&format!("bot_token={}", crate::delivery::BOT)]).await;
    let rx = Receiver::start().await;
    let (_, secret) = app.webhook(&rx.url, "um_widget.config", None).await;
    let settings: Vec<String> =
        ["title=Ask us", "rating=off", "survey_question=Did we help?", "survey_options=Yes|No"]
            .map(String::from)
            .into();
    app.admin().set_channel_settings(&web, &settings).await.unwrap();
    app.admin().set_channel_settings(&web, &settings).await.unwrap();
    app.admin().set_channel_settings(&tg, &["webhook_secret=abc".to_string()]).await.unwrap();
    let refused = app.admin().set_channel_settings(&web, &["survey_options=Only one".to_string()]).await;
    assert!(refused.unwrap_err().to_string().contains("survey_options"), "2 to 4 answers");
    let hits = rx.wait_for(WAIT, |h| !h.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.hits().len(), 1, "{hits:#?}");
    let body = hits[0].json();
    assert_eq!(
        (body["_type"].as_str(), body["event"].as_str(), body["_event"].as_str()),
        (Some("um_widget"), Some("config"), Some("config"))
    );
    assert_eq!(
        body["widget"],
        json!({"platformid": web, "name": "webchat", "title": "Ask us", "rating": false,
               "survey": {"question": "Did we help?", "options": ["Yes", "No"]}, "goals": []})
    );
    assert_signed(&hits, &secret).await;
}

/// In a real browser: a shop page queues `chatgate('setContactInfo' | 'setCustomData', …)` before the
/// widget loads; the contact reaches the chat. After the end the chat page asks for a rating (radio group
/// `Rating`, text box `Feedback`, `Send feedback`) and the survey (a radio group named by its question,
/// `Send answer`); the answers reach a webhook receiver and `getchatinfo`.
#[tokio::test]
async fn the_host_page_sets_the_contact_and_the_visitor_rates_and_answers_in_the_browser() {
    let (app, _p) = app_with_fakes(|_| {}).await;
    let web = app.channel("webchat", &["survey_question=Did we help?", "survey_options=Yes|No|Partly"]).await;
    let rx = Receiver::start().await;
    let (_, secret) =
        app.webhook(&rx.url, "chat_session.rating,chat_session.feedback,chat_session.survey", None).await;
    let widget = format!("{}/webchat/{web}/widget.js", app.address);
    let html = format!(
        "<!doctype html><title>Shop</title><h1>Our shop</h1><script>\
         window.chatgate = window.chatgate || function(){{(chatgate.q=chatgate.q||[]).push(arguments)}};\
         chatgate('setContactInfo', {{name: 'Ann Lee', email: 'ann@example.com'}});\
         chatgate('setCustomData', {{cart: 3}});</script><script src=\"{widget}\" async></script>"
    );
    let site_url = crate::web::shop_site(html).await;

    let mut b = crate::web::Browser::start("webchat_check.mjs", &[&app.address, &web]).await;
    b.run(json!({"do": "widget", "host": site_url})).await;
    b.run(json!({"do": "send", "text": "Is my order on its way?"})).await;
    let chats = app.call("getchats", &[("platform", "webchat"), ("platformid", &web)]).await;
    let visitor = crate::helpers::list(ok(&chats))[0]["destination"].as_str().unwrap().to_string();
    let chat = [("platform", "webchat"), ("platformid", web.as_str()), ("destination", visitor.as_str())];
    let info = || async { ok(&app.call("getchatinfo", &chat).await).clone() };
    let started = std::time::Instant::now();
    while info().await["contact"]["name"] != "Ann Lee" {
        assert!(started.elapsed() < WAIT, "the host page's contact did not arrive: {}", info().await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        (info().await["contact"]["email"].as_str(), info().await["custom"].as_str()),
        (Some("ann@example.com"), Some(r#"{"cart":3}"#))
    );

    // A later call of the host page goes straight through.
    b.run(json!({"do": "hostcall", "command": "setContactInfo", "data": {"company": "Ann's Bakery"}})).await;

    ok(&app.call("endchat", &chat).await);
    b.run(json!({"do": "rate", "rate": 4, "feedback": "Quick and kind", "shot": "webchat-after-end"})).await;
    b.run(json!({"do": "answer", "question": "Did we help?", "option": "Yes"})).await;

    let hits = rx.wait_for(WAIT, |h| h.len() >= 3).await;
    let mut names = events(&hits);
    names.sort();
    assert_eq!(names, ["chat_session.feedback", "chat_session.rating", "chat_session.survey"]);
    assert_signed(&hits, &secret).await;
    let info = info().await;
    assert_eq!(
        (info["rating"].as_str(), info["feedback"].as_str(), info["survey"].as_str()),
        (Some("4"), Some("Quick and kind"), Some("Yes"))
    );
    assert_eq!(info["contact"]["company"], "Ann's Bakery");
}

/// In real browsers: an operator ends the conversation in the console, the visitor's page asks for a
/// rating and the survey, the answers reach a webhook receiver and the console's `Contact` panel; the
/// chat assigned to another operator shows under that operator's `Mine`, and one assigned to a group
/// under the `Mine` of each operator in the group.
#[tokio::test]
async fn the_console_ends_and_assigns_and_shows_what_the_visitor_left() {
    let (app, _p) = app_with_fakes(|_| {}).await;
    let web = app.channel("webchat", &["survey_question=Did we help?", "survey_options=Yes|No|Partly"]).await;
    app.create_access("bob@example.com", "bob-secret-1", "chat:read,chat:write", &[]).await;
    app.support_operator("carol@example.com", "carol-secret-1").await;
    let rx = Receiver::start().await;
    let (_, secret) = app.webhook(&rx.url, "*", None).await;

    let mut visitor = crate::web::Browser::start("webchat_check.mjs", &[&app.address, &web]).await;
    visitor.run(json!({"do": "open"})).await;
    visitor.run(json!({"do": "send", "text": "My parcel is late"})).await;
    let who = visitor.run(json!({"do": "visitor"})).await["visitor"].as_str().unwrap().to_string();

    let mut console = crate::web::Browser::start("console_check.mjs", &[&app.address]).await;
    console.run(json!({"do": "signin", "login": LOGIN, "password": crate::helpers::PASSWORD})).await;
    console.run(json!({"do": "open", "destination": who})).await;
    console.run(json!({"do": "end"})).await;
    visitor.run(json!({"do": "rate", "rate": 5, "feedback": "Great help"})).await;
    visitor.run(json!({"do": "answer", "question": "Did we help?", "option": "Partly"})).await;
    let panel = console.run(json!({"do": "contact", "wait": "Partly"})).await;
    let text = panel["text"].as_str().unwrap();
    assert!(
        text.contains("Rating\n5") && text.contains("Survey\nPartly") && text.contains("Conversation\nended"),
        "{text}"
    );
    console.run(json!({"do": "shot", "name": "console-contact"})).await;

    // Assigned to Bob: in Bob's Mine, not in the account's own.
    let assigned = console.run(json!({"do": "assign", "to": "bob@example.com"})).await;
    assert!(assigned["options"].as_array().unwrap().iter().any(|o| o == LOGIN), "{assigned}");
    let mine = console.run(json!({"do": "filter", "show": "Mine"})).await;
    assert!(mine["chats"].as_array().unwrap().is_empty(), "{mine}");
    console.run(json!({"do": "signout"})).await;
    console.run(json!({"do": "signin", "login": "bob@example.com", "password": "bob-secret-1"})).await;
    let mine = console.run(json!({"do": "filter", "show": "Mine"})).await;
    let chats = mine["chats"].as_array().unwrap();
    assert!(chats.len() == 1 && chats[0].as_str().unwrap().contains(&who), "{mine}");

    // Bob hands it to the group `support`: under Carol's Mine (she is in it), no longer under Bob's.
    console.run(json!({"do": "open", "destination": who})).await;
    console.run(json!({"do": "assign", "to": "Group support"})).await;
    let mine = console.run(json!({"do": "filter", "show": "Mine"})).await;
    assert!(mine["chats"].as_array().unwrap().is_empty(), "{mine}");
    console.run(json!({"do": "signout"})).await;
    console.run(json!({"do": "signin", "login": "carol@example.com", "password": "carol-secret-1"})).await;
    let mine = console.run(json!({"do": "filter", "show": "Mine"})).await;
    let chats = mine["chats"].as_array().unwrap();
    assert!(chats.len() == 1 && chats[0].as_str().unwrap().contains(&who), "{mine}");

    let once = ["conversation.ended", "chat_session.rating", "chat_session.feedback", "chat_session.survey"];
    let hits = rx
        .wait_for(WAIT, |h| {
            let names = events(h);
            count(&names, "chat_session.forward") == 2 && once.iter().all(|w| names.iter().any(|e| e == w))
        })
        .await;
    let names = events(&hits);
    for name in once {
        assert_eq!(count(&names, name), 1, "{name}: {names:?}");
    }
    let forwards: Vec<(Value, Value)> = hits
        .iter()
        .filter(|h| h.event() == "chat_session.forward")
        .map(|h| (h.json()["operator_previous"].clone(), h.json()["operator_current"].clone()))
        .collect();
    let bob = json!({"operator": "bob@example.com"});
    assert!(forwards.contains(&(Value::Null, bob.clone())), "{forwards:?}");
    assert!(forwards.contains(&(bob, json!({"group": "support"}))), "{forwards:?}");
    assert_signed(&hits, &secret).await;
}

/// Goals: a page view matching one of the channel's goals, while the conversation has an assignee and a
/// message, fires `chat_session.goal` once per goal and session; bad patterns and URLs are refused.
#[tokio::test]
async fn goals_are_reached_once_per_session_while_the_chat_is_assigned() {
    let (app, _p) = app_with_fakes(|s| s.chat.idle_end_secs = 1).await;
    let goals = "goals=checkout=https://shop.example/checkout/*;thanks=https://shop.example/thanks";
    let web = app.channel("webchat", &[goals]).await;
    let bad = app.admin().set_channel_settings(&web, &["goals=checkout=/checkout".to_string()]).await;
    assert!(bad.unwrap_err().to_string().contains("goals"), "not a URL pattern");
    let rx = Receiver::start().await;
    let (_, secret) = app.webhook(&rx.url, "chat_session.goal", None).await;
    let (visitor, token) = crate::helpers::webchat_visitor(&app.client, &app.address, &web).await;
    let visit = |url: &'static str| {
        let (app, web, visitor, token) = (&app, web.clone(), visitor.clone(), token.clone());
        async move {
            let res = app
                .client
                .post(format!("{}/webchat/{web}/api/visit", app.address))
                .header("x-visitor-id", visitor)
                .header("x-visitor-token", token)
                .json(&json!({ "url": url }))
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    // No chat, then no assignee: nothing is reached.
    assert_eq!(visit("https://shop.example/checkout/pay").await, (200, json!({"goals": 0})));
    app.receive(&web, &visitor, "Can I pay by card?").await;
    assert_eq!(visit("https://shop.example/checkout/pay").await, (200, json!({"goals": 0})));
    let chat = [("platform", "webchat"), ("platformid", web.as_str()), ("destination", visitor.as_str())];
    ok(&app.call("assignchat", &[&chat[..], &[("operator", LOGIN)]].concat()).await);
    assert_eq!(visit("https://shop.example/checkout/pay").await, (200, json!({"goals": 1})));
    assert_eq!(
        visit("https://shop.example/checkout/done").await,
        (200, json!({"goals": 0})),
        "once per session"
    );
    assert_eq!(visit("https://shop.example/cart").await, (200, json!({"goals": 0})));
    let (s, b) = visit("javascript:alert(1)").await;
    assert_eq!((s, b["param"].as_str()), (400, Some("url")));
    // A new session reaches it again.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    app.receive(&web, &visitor, "Back again").await;
    assert_eq!(visit("https://shop.example/checkout/pay").await, (200, json!({"goals": 1})));

    let hits = rx.wait_for(WAIT, |h| h.len() >= 2).await;
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].json()["goal"], json!({"name": "checkout"}));
    assert_eq!(hits[0].json()["assignee"], json!({"operator": LOGIN}));
    assert_signed(&hits, &secret).await;
}

/// `contact.created`: a chat's first message, either direction, single or in a list — once per chat,
/// never for a later message or session.
#[tokio::test]
async fn a_new_contact_is_told_once_with_its_first_message() {
    let (app, _p) = app_with_fakes(|s| s.chat.idle_end_secs = 1).await;
    let web = app.channel("webchat", &[]).await;
    let rx = Receiver::start().await;
    let (_, secret) = app.webhook(&rx.url, "contact.created", None).await;
    let first = app.send("webchat", &web, "a", "Welcome!").await;
    app.send("webchat", &web, "a", "Anything else?").await;
    let received = app.receive(&web, "b", "Hello").await;
    let list = format!(
        r#"[{{"platform":"webchat","platformid":"{web}","destination":"a","message":"x"}},{{"platform":"webchat","platformid":"{web}","destination":"c","message":"y"}},{{"platform":"webchat","platformid":"{web}","destination":"d","message":"z"}}]"#
    );
    ok(&app.call("sendmessages", &[("messages", &list)]).await);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    app.send("webchat", &web, "a", "A new session").await;
    let hits = rx.wait_for(WAIT, |h| h.len() >= 4).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut created: Vec<(String, String)> = rx
        .hits()
        .iter()
        .map(|h| h.json())
        .map(|b| {
            (
                b["chat"]["destination"].as_str().unwrap().into(),
                b["message"]["messageid"].as_str().unwrap().into(),
            )
        })
        .collect();
    created.sort();
    let destinations: Vec<&str> = created.iter().map(|(d, _)| d.as_str()).collect();
    assert_eq!(destinations, ["a", "b", "c", "d"], "{hits:#?}");
    assert_eq!(created[0].1, first, "carries the first message");
    assert_eq!(created[1].1, received);
    assert_eq!(hits[0].json()["_type"], "contact");
    assert_signed(&hits, &secret).await;
}
