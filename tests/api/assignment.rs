//! Assignment under contention (`chat.assignchat`): operators assigning one chat at once — on one
//! instance and on two instances of one database — leave one assignee and exactly one
//! `chat_session.forward` per change, and the assignment outlives the instances.

use std::time::Duration;

use serde_json::Value;

use crate::delivery::app_with_fakes;
use crate::helpers::{LOGIN, ok};
use crate::instances::{cli, plain_with, setup, start_instance_with};
use crate::receiver::{Hit, Receiver, events};

const WAIT: Duration = Duration::from_secs(10);

/// Many assignments of one chat at once (as operators clicking together): one assignee, and one
/// `chat_session.forward` per change — here exactly one.
#[tokio::test]
async fn assignments_at_once_fire_one_forward_per_change() {
    let (app, _p) = app_with_fakes(|_| {}).await;
    let web = app.channel("webchat", &[]).await;
    let rx = Receiver::start().await;
    app.webhook(&rx.url, "chat_session.forward", None).await;
    app.send("webchat", &web, "v", "Hello").await;
    let calls = (0..16).map(|_| app.on_chat("assignchat", &web, &[("operator", LOGIN)]));
    for body in futures_util::future::join_all(calls).await {
        ok(&body);
    }
    rx.wait_for(WAIT, |h| !h.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(events(&rx.hits()), ["chat_session.forward"]);
    assert_eq!(ok(&app.on_chat("getchatinfo", &web, &[]).await)["assignee"], LOGIN);
}

/// A forward as (previous operator, current operator); `None` for no assignee.
fn change(hit: &Hit) -> (Option<String>, Option<String>) {
    let login = |v: &Value| v["operator"].as_str().map(str::to_string);
    let body = hit.json();
    (login(&body["operator_previous"]), login(&body["operator_current"]))
}

/// Whether `changes` (in any order: deliveries may overtake one another) are one unbroken chain of
/// real changes from `from` to `to`: each previous is the current of the one before, none repeats its
/// previous, and two changes never start from the same assignee towards different ones (two writers
/// that both saw it would).
fn one_chain(
    changes: &[(Option<String>, Option<String>)],
    from: &Option<String>,
    to: &Option<String>,
) -> bool {
    let mut left = changes.to_vec();
    let mut at = from.clone();
    while !left.is_empty() {
        let next: Vec<usize> = (0..left.len()).filter(|&i| left[i].0 == at).collect();
        let Some(&first) = next.first() else { return false };
        let target = left[first].1.clone();
        if target == at || next.iter().any(|&i| left[i].1 != target) {
            return false;
        }
        left.remove(first);
        at = target;
    }
    at == *to
}

/// Two instances of one database, two operators each assigning the chat to themselves through their
/// own instance at the same moment, round after round: every round ends with one assignee (both
/// instances read the same) and its forwards are one chain of real changes — none lost, none twice.
/// After both instances stop, a new one reads the same assignee and fires nothing.
#[tokio::test]
async fn two_instances_assigning_at_once_leave_one_assignee_and_one_forward_per_change_across_a_restart() {
    let (_dir, db, channel) = setup().await;
    cli(
        &db,
        &["access", "create", "acme", "bob", "--secret", "bob-pw-1", "--scopes", "chat:read,chat:write"],
    )
    .await;
    let rx = Receiver::start().await;
    let env = [("CHATGATE_OUTBOUND__ALLOW_NETWORKS", "127.0.0.0/8"), ("CHATGATE_WEBHOOKS__POLL_MS", "100")];
    let (a, b) = (start_instance_with(&db, &env).await, start_instance_with(&db, &env).await);
    let client = reqwest::Client::new();
    let chat = [("platform", "webchat"), ("platformid", channel.as_str()), ("destination", "v")];
    let call = async |base: &str, who: (&str, &str), method: &str, extra: &[(&str, &str)]| {
        let mut params = chat.to_vec();
        params.extend_from_slice(extra);
        plain_with(&client, base, who.0, who.1, method, &params).await
    };
    let (acme, svc, bob) = (("acme", "acme-pw"), ("svc", "svc-pw"), ("bob", "bob-pw-1"));
    ok(&call(&a.base, acme, "setwebhook", &[("url", &rx.url), ("events", "chat_session.forward")]).await);
    ok(&call(&a.base, acme, "sendmessage", &[("message", "Where is my parcel?")]).await);

    let mut assignee: Option<String> = None;
    for round in 0..8 {
        let seen = rx.hits().len();
        // Each operator clicks twice through its instance; the instances alternate per round.
        let (x, y) = if round % 2 == 0 { (&a.base, &b.base) } else { (&b.base, &a.base) };
        let (as_svc, as_bob) = ([("operator", "svc")], [("operator", "bob")]);
        let (r1, r2, r3, r4) = tokio::join!(
            call(x, svc, "assignchat", &as_svc),
            call(y, bob, "assignchat", &as_bob),
            call(x, svc, "assignchat", &as_svc),
            call(y, bob, "assignchat", &as_bob),
        );
        [r1, r2, r3, r4].iter().for_each(|r| {
            ok(r);
        });
        let on_a = ok(&call(&a.base, svc, "getchatinfo", &[]).await)["assignee"].clone();
        let on_b = ok(&call(&b.base, bob, "getchatinfo", &[]).await)["assignee"].clone();
        assert_eq!(on_a, on_b, "round {round}: both instances read one assignee");
        let now = on_a.as_str().map(str::to_string);
        assert!(matches!(now.as_deref(), Some("svc" | "bob")), "round {round}: {on_a}");
        let complete =
            |h: &[Hit]| one_chain(&h[seen..].iter().map(change).collect::<Vec<_>>(), &assignee, &now);
        rx.wait_for(WAIT, |h| h.len() > seen && complete(h)).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let hits = rx.hits();
        let changes: Vec<_> = hits[seen..].iter().map(change).collect();
        assert!(
            one_chain(&changes, &assignee, &now),
            "round {round}: from {assignee:?} to {now:?}: {changes:?}"
        );
        assignee = now;
    }
    let total = rx.hits().len();
    assert!(total >= 8, "at least one change per round: {total}");

    drop((a, b));
    let c = start_instance_with(&db, &env).await;
    let after = ok(&call(&c.base, svc, "getchatinfo", &[]).await)["assignee"].clone();
    assert_eq!(after.as_str(), assignee.as_deref(), "the assignment survives the restart");
    // Assigning the same operator again is no change: nothing fires.
    let same = assignee.clone().unwrap_or_default();
    ok(&call(&c.base, svc, "assignchat", &[("operator", &same)]).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.hits().len(), total, "no forward after the restart");
}
