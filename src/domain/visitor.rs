//! What a webchat visitor's page gives besides messages (SPEC §5.4): the contact and custom data the
//! host page sets (`window.chatgate('setContactInfo' | 'setCustomData', …)`), and after the end of the
//! conversation a rating with feedback and the answer to the channel's survey — each taken once per end.

use serde_json::{Map, Value};

use super::contacts::{
    self, AfterEnd, Contact, ContactChange, Conversation, FIELDS, MAX_FEEDBACK_CHARS, Refusal,
};
use super::error::{DomainError, DomainResult};
use super::model::ChannelConfig;

/// The channel's survey: its question and 2–4 answers (settings `survey_question`, `survey_options`).
pub fn survey_of(c: &ChannelConfig) -> Option<(String, Vec<String>)> {
    let question = c.settings.get("survey_question").filter(|q| !q.is_empty())?;
    let options = options(c.settings.get("survey_options").unwrap_or_default());
    (options.len() >= 2).then(|| (question.to_string(), options))
}

/// `a|b|c` → its answers.
pub fn options(list: &str) -> Vec<String> {
    list.split('|').map(str::trim).filter(|o| !o.is_empty()).map(str::to_string).collect()
}

/// Whether the page asks for a rating after the end (setting `rating`, on unless `off`).
pub fn rating_on(c: &ChannelConfig) -> bool {
    c.settings.get("rating") != Some("off")
}

/// What the page sends to `POST …/api/contact`: contact fields and, optionally, custom data.
pub fn contact_change(body: &Map<String, Value>) -> DomainResult<ContactChange> {
    let mut change = ContactChange::default();
    for field in FIELDS {
        match body.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(v)) => change.fields.push((field, contacts::check_field(field, v)?)),
            Some(_) => return Err(DomainError::incorrect(field)),
        }
    }
    match body.get("custom") {
        None | Some(Value::Null) => {}
        Some(v @ Value::Object(_)) => change.custom = Some(contacts::check_custom(&v.to_string())?),
        Some(_) => {
            return Err(DomainError::incorrect("custom").because("custom data is a JSON object".into()));
        }
    }
    Ok(change)
}

/// A webchat channel's widget as `um_widget.config` tells of it: never a secret (a webchat channel has
/// none).
pub fn widget(channel_id: i64, name: &str, settings: &super::model::ChannelSettings) -> Value {
    let text = |k: &str| settings.get(k).unwrap_or_default().to_string();
    let survey = settings.get("survey_question").filter(|q| !q.is_empty()).map(|q| {
        serde_json::json!({"question": q, "options": options(settings.get("survey_options").unwrap_or_default())})
    });
    serde_json::json!({
        "platformid": channel_id.to_string(),
        "name": name,
        "title": text("title"),
        "rating": settings.get("rating") != Some("off"),
        "survey": survey,
        "goals": super::goals::parse(settings.get("goals").unwrap_or_default())
            .unwrap_or_default()
            .iter()
            .map(|g| serde_json::json!({"name": g.name, "pattern": g.pattern}))
            .collect::<Vec<_>>(),
    })
}

/// What the visitor's page is asked after the end, as it shows it: the conversation's `state`, whether
/// a `rating` is asked now, and the `survey` (question and answers) when it is asked now.
pub fn asked(c: &ChannelConfig, conversation: Option<&Conversation>) -> Value {
    let conversation = conversation.cloned().unwrap_or_default();
    let rating = AfterEnd::Rating { rate: 0, feedback: None };
    let rating = rating_on(c) && conversation.may_take(&rating).is_ok();
    let survey =
        survey_of(c).filter(|_| conversation.may_take(&AfterEnd::Survey { option: String::new() }).is_ok());
    serde_json::json!({
        "state": conversation.state(),
        "rating": rating,
        "survey": survey.map(|(question, options)| serde_json::json!({"question": question, "options": options})),
    })
}

impl super::gateway::Gateway {
    /// The visitor's conversation, if the chat exists.
    pub async fn visitor_conversation(
        &self,
        channel_id: i64,
        visitor: &str,
    ) -> DomainResult<Option<Conversation>> {
        Ok(self.store.conversation(channel_id, visitor).await?)
    }

    /// The host page's contact and custom data for the visitor's chat (kept even before a message).
    pub async fn visitor_contact(
        &self,
        c: &ChannelConfig,
        visitor: &str,
        change: &ContactChange,
        now: i64,
    ) -> DomainResult<Contact> {
        let contact = self.store.update_contact(c.channel.id, visitor, change, true, now).await?;
        contact.ok_or_else(|| DomainError::internal("a visitor's chat was not kept"))
    }

    /// A rating (1–5) with optional feedback, after the end; `Err(refusal)` when none is asked now.
    pub async fn visitor_rating(
        &self,
        c: &ChannelConfig,
        visitor: &str,
        rate: i64,
        feedback: Option<&str>,
        now: i64,
    ) -> DomainResult<Result<(), Refusal>> {
        if !(1..=5).contains(&rate) {
            return Err(DomainError::incorrect("rate").because("a rating is 1 to 5".into()));
        }
        let feedback = feedback.map(str::trim).filter(|f| !f.is_empty());
        if feedback.is_some_and(|f| f.chars().count() > MAX_FEEDBACK_CHARS || f.contains('\0')) {
            return Err(DomainError::incorrect("feedback")
                .because(format!("feedback is at most {MAX_FEEDBACK_CHARS} characters")));
        }
        if !rating_on(c) {
            return Ok(Err(Refusal::NotAsked));
        }
        let after_end = AfterEnd::Rating { rate, feedback: feedback.map(str::to_string) };
        self.take(c, visitor, &after_end, now).await
    }

    /// The chosen answer of the channel's survey, after the end.
    pub async fn visitor_survey(
        &self,
        c: &ChannelConfig,
        visitor: &str,
        option: &str,
        now: i64,
    ) -> DomainResult<Result<(), Refusal>> {
        let Some((_, options)) = survey_of(c) else { return Ok(Err(Refusal::NotAsked)) };
        if !options.iter().any(|o| o == option) {
            return Err(DomainError::incorrect("option").because("not one of the survey's answers".into()));
        }
        self.take(c, visitor, &AfterEnd::Survey { option: option.to_string() }, now).await
    }

    /// The host page shows `url`: each goal of the channel it matches is reached, once per session, if
    /// the conversation has an assignee and a message (`chat_session.goal`). No goal matching costs no
    /// store access. How many goals were reached now.
    pub async fn visitor_visit(
        &self,
        c: &ChannelConfig,
        visitor: &str,
        url: &str,
        now: i64,
    ) -> DomainResult<usize> {
        if !crate::domain::urls::is_page_url(url) {
            return Err(DomainError::incorrect("url").because("the page's absolute http(s) URL".into()));
        }
        let goals = super::goals::parse(c.settings.get("goals").unwrap_or_default()).unwrap_or_default();
        let names: Vec<String> = super::goals::reached(&goals, url).map(|g| g.name.to_string()).collect();
        if names.is_empty() {
            return Ok(0);
        }
        Ok(self.store.reach_goals(c.channel.id, visitor, &names, now).await?)
    }

    async fn take(
        &self,
        c: &ChannelConfig,
        visitor: &str,
        after_end: &AfterEnd,
        now: i64,
    ) -> DomainResult<Result<(), Refusal>> {
        Ok(self
            .store
            .take_after_end(c.channel.id, visitor, after_end, now)
            .await?
            .unwrap_or(Err(Refusal::NotEnded)))
    }
}
