//! The command layer's rules against an in-memory store (`fake_store`): the order in which a request's
//! parameters are judged, other accounts' and other chats' ids, and a bulk send whose items fail
//! one by one — no HTTP, no database.

use super::template_book::{NoTemplateSource, TemplateBook};
use std::sync::Arc;

use super::command::Command;
use super::context::Context;
use super::directory::ChannelDirectory;
use super::error::{DomainError, DomainResult, ErrorCode};
use super::fake_store::FakeStore;
use super::model::{Platform, Principal, Scopes};
use super::operation::Operation;
use super::params::Params;
use super::reply::Reply;
use super::webhook_ports::UrlGuard;

const NOW: i64 = 1_795_000_000_000;
const ME: i64 = 1;
const SOMEONE_ELSE: i64 = 2;

struct AnyUrl;

#[async_trait::async_trait]
impl UrlGuard for AnyUrl {
    async fn check(&self, _url: &str) -> Result<(), String> {
        Ok(())
    }
}

/// Account 1 owns webchat channel 10 and WhatsApp channel 11; account 2 owns webchat channel 20.
fn store() -> Arc<FakeStore> {
    FakeStore::with_channels(&[
        (10, ME, Platform::Webchat),
        (11, ME, Platform::Whatsapp),
        (20, SOMEONE_ELSE, Platform::Webchat),
    ])
}

fn params(pairs: &[(&str, &str)]) -> Params {
    pairs.iter().copied().collect()
}

/// Parses and applies `op` as account 1 against `store`.
async fn run(store: &Arc<FakeStore>, op: Operation, pairs: &[(&str, &str)]) -> DomainResult<Reply> {
    let command = Command::parse(op, &params(pairs), NOW)?;
    let channels = ChannelDirectory::new(store.clone());
    let templates = TemplateBook::new(store.clone(), Arc::new(NoTemplateSource));
    let ctx = Context {
        store: store.as_ref(),
        channels: &channels,
        templates: &templates,
        urls: &AnyUrl,
        principal: Principal { account_id: ME, credential_id: 1, scopes: Scopes::ALL, channel: None },
        now: NOW,
    };
    command.apply(&ctx).await
}

fn code(result: &DomainResult<Reply>) -> Option<(ErrorCode, Option<&'static str>)> {
    result.as_ref().err().map(|e| (e.code, e.param))
}

#[tokio::test]
async fn the_first_missing_parameter_is_named_then_values_are_judged_in_order() {
    let s = store();
    let send = |pairs: &'static [(&'static str, &'static str)]| {
        let s = s.clone();
        async move { run(&s, Operation::SendMessage, pairs).await }
    };
    assert_eq!(
        code(&send(&[("message", "hi")]).await),
        Some((ErrorCode::MissingCompulsoryParam, Some("platform")))
    );
    assert_eq!(
        code(&send(&[("platform", "webchat"), ("platformid", "10"), ("message", "")]).await),
        Some((ErrorCode::MissingCompulsoryParam, Some("destination"))),
        "an empty value counts as missing, and destination comes before message"
    );
    let bad_everything = &[("platform", "sms"), ("platformid", "x"), ("destination", "v"), ("message", "hi")];
    assert_eq!(code(&send(bad_everything).await), Some((ErrorCode::IncorrectParam, Some("platform"))));
    let bad_number =
        &[("platform", "whatsapp"), ("platformid", "11"), ("destination", "12ab"), ("message", "hi")];
    assert_eq!(code(&send(bad_number).await), Some((ErrorCode::IncorrectParam, Some("destination"))));
    assert!(s.stored().is_empty(), "nothing stored");
}

#[tokio::test]
async fn another_accounts_channel_and_another_chats_message_are_not_found() {
    let s = store();
    let theirs = [("platform", "webchat"), ("platformid", "20"), ("destination", "v"), ("message", "hi")];
    assert_eq!(
        code(&run(&s, Operation::SendMessage, &theirs).await),
        Some((ErrorCode::ChannelNotFound, Some("platformid")))
    );
    let wrong_platform =
        [("platform", "telegram"), ("platformid", "10"), ("destination", "1"), ("message", "hi")];
    assert_eq!(
        code(&run(&s, Operation::SendMessage, &wrong_platform).await),
        Some((ErrorCode::ChannelNotFound, Some("platformid")))
    );

    let to = |d: &'static str| {
        [("platform", "webchat"), ("platformid", "10"), ("destination", d), ("message", "hi")]
    };
    let Ok(Reply::MessageId(first)) = run(&s, Operation::SendMessage, &to("a")).await else { panic!("sent") };
    run(&s, Operation::SendMessage, &to("b")).await.unwrap();
    let first = first.to_string();
    let other_chat =
        [("platform", "webchat"), ("platformid", "10"), ("destination", "b"), ("before", first.as_str())];
    assert_eq!(
        code(&run(&s, Operation::GetMessages, &other_chat).await),
        Some((ErrorCode::MessageNotFound, Some("before")))
    );
    let nobody = [("platform", "webchat"), ("platformid", "10"), ("destination", "c")];
    assert_eq!(
        code(&run(&s, Operation::GetMessages, &nobody).await),
        Some((ErrorCode::ChatNotFound, Some("destination")))
    );

    // Account 2's message is not found by account 1, whatever its id.
    let theirs =
        FakeStore::with_channels(&[(20, SOMEONE_ELSE, Platform::Webchat), (10, ME, Platform::Webchat)]);
    let stored = theirs.store_for_test(20, "v");
    let status = [("messageid", stored.to_string())];
    let status: Vec<(&str, &str)> = status.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        code(&run(&theirs, Operation::GetMessageStatus, &status).await),
        Some((ErrorCode::MessageNotFound, Some("messageid")))
    );
}

#[tokio::test]
async fn a_bulk_send_reports_each_items_refusal_in_place_and_stores_the_rest() {
    let s = store();
    let items = r#"[
        {"platform":"webchat","platformid":"10","destination":"a","message":"one"},
        {"platform":"whatsapp","platformid":"11","destination":"not-a-number","message":"two"},
        {"platform":"webchat","platformid":"20","destination":"a","message":"three"},
        {"platform":"webchat","platformid":"10","destination":"b"},
        {"platform":"webchat","platformid":"10","destination":"a","message":"five"}
    ]"#;
    let Ok(Reply::Bulk(outcomes)) = run(&s, Operation::SendMessages, &[("messages", items)]).await else {
        panic!("a bulk answer")
    };
    let codes: Vec<Option<(ErrorCode, Option<&str>)>> =
        outcomes.iter().map(|o| o.as_ref().err().map(|e: &DomainError| (e.code, e.param))).collect();
    assert_eq!(
        codes,
        [
            None,
            Some((ErrorCode::IncorrectParam, Some("destination"))),
            Some((ErrorCode::ChannelNotFound, Some("platformid"))),
            Some((ErrorCode::MissingCompulsoryParam, Some("message"))),
            None,
        ]
    );
    let texts: Vec<Option<String>> = s.stored().into_iter().map(|m| m.text).collect();
    assert_eq!(texts, [Some("one".to_string()), Some("five".to_string())], "in the list's order");
    assert_eq!(outcomes[0].as_ref().ok(), Some(&1));
    assert_eq!(outcomes[4].as_ref().ok(), Some(&2));

    // The database failing is not an item's fault: the whole call fails.
    s.fail_sends_to("broken");
    let failing = r#"[{"platform":"webchat","platformid":"10","destination":"broken","message":"x"}]"#;
    assert_eq!(
        code(&run(&s, Operation::SendMessages, &[("messages", failing)]).await).map(|c| c.0),
        Some(ErrorCode::InternalError)
    );
}

#[tokio::test]
async fn conversation_commands_check_their_values_and_the_chat() {
    let s = store();
    let chat = [("platform", "webchat"), ("platformid", "10"), ("destination", "v")];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut all = chat.to_vec();
        all.extend_from_slice(extra);
        all
    };
    // No chat yet: nothing to end, assign or describe.
    assert_eq!(
        code(&run(&s, Operation::EndChat, &chat).await),
        Some((ErrorCode::ChatNotFound, Some("destination")))
    );
    run(&s, Operation::SendMessage, &with(&[("message", "hi")])).await.unwrap();
    let big: &'static str = Box::leak(format!(r#"{{"a":"{}"}}"#, "x".repeat(9000)).into_boxed_str());
    let too_big = with(&[("custom", big)]);
    assert_eq!(
        code(&run(&s, Operation::SetContact, &too_big).await),
        Some((ErrorCode::IncorrectParam, Some("custom")))
    );
    let not_object = with(&[("custom", "[1,2]")]);
    assert_eq!(
        code(&run(&s, Operation::SetContact, &not_object).await),
        Some((ErrorCode::IncorrectParam, Some("custom")))
    );
    assert_eq!(
        code(&run(&s, Operation::AssignChat, &chat).await),
        Some((ErrorCode::MissingCompulsoryParam, Some("operator")))
    );
    let nobody = with(&[("operator", "mallory")]);
    assert_eq!(
        code(&run(&s, Operation::AssignChat, &nobody).await),
        Some((ErrorCode::IncorrectParam, Some("operator")))
    );
    let no_group = with(&[("group", "sales")]);
    assert_eq!(
        code(&run(&s, Operation::AssignChat, &no_group).await),
        Some((ErrorCode::IncorrectParam, Some("group")))
    );

    let set = with(&[("name", "Ann"), ("custom", r#"{"plan":"gold"}"#)]);
    assert!(matches!(run(&s, Operation::SetContact, &set).await, Ok(Reply::Contact(_))));
    run(&s, Operation::AssignChat, &with(&[("group", "support")])).await.unwrap();
    run(&s, Operation::EndChat, &chat).await.unwrap();
    let Ok(Reply::ChatInfo(info)) = run(&s, Operation::GetChatInfo, &chat).await else { panic!("info") };
    assert_eq!(info.conversation.state(), "ended");
    assert_eq!(info.conversation.contact.view()["name"], "Ann");
    assert_eq!(info.conversation.assignee, Some(crate::domain::contacts::Assignee::Group("support".into())));
}
