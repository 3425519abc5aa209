//! The person at the other end of a chat and the state of the conversation (SPEC §1): contact fields,
//! the page's custom data, open or ended, the assignee. What changed is worked out here, so that
//! `contact.updated` fires only for a value that really changed and names its previous and current.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::{DomainError, DomainResult};

/// Custom data is a JSON object of at most this many bytes (serialized).
pub const MAX_CUSTOM_BYTES: usize = 8 * 1024;
/// A contact field's longest value, in characters.
pub const MAX_FIELD_CHARS: usize = 256;

/// The contact fields, in the order the API lists them.
pub const FIELDS: [&str; 5] = ["name", "email", "phone_number", "company", "external_customer_id"];

/// A chat's contact: the fields known (absent = never given) and the custom data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// `FIELDS` → value; a field not given is absent.
    pub fields: Map<String, Value>,
    /// A JSON object (`{}` when none).
    pub custom: Map<String, Value>,
}

/// What a caller gives: fields to set (an empty text clears one) and, optionally, new custom data
/// (replacing the old as a whole, as Userlike's `setCustomData` does).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactChange {
    pub fields: Vec<(&'static str, String)>,
    pub custom: Option<Map<String, Value>>,
}

impl ContactChange {
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.custom.is_none()
    }

    /// The platform's name for the person (WhatsApp profile name, Telegram first/last name).
    pub fn name(name: &str) -> Self {
        Self { fields: vec![("name", name.trim().to_string())], custom: None }
    }
}

/// `{field: {previous, current}}` for every value that changed (`custom` as one field).
pub type Changed = Map<String, Value>;

impl Contact {
    /// Reads what the store keeps (`contact` and `custom` as JSON texts); anything unreadable is empty.
    pub fn from_stored(contact: &str, custom: &str) -> Self {
        let object = |text: &str| match serde_json::from_str(text) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        Self { fields: object(contact), custom: object(custom) }
    }

    pub fn fields_json(&self) -> String {
        Value::Object(self.fields.clone()).to_string()
    }

    pub fn custom_json(&self) -> String {
        Value::Object(self.custom.clone()).to_string()
    }

    /// The contact after `change`, and what changed; nothing changed = an empty map.
    pub fn apply(&self, change: &ContactChange) -> (Contact, Changed) {
        let mut next = self.clone();
        let mut changed = Changed::new();
        for (field, value) in &change.fields {
            let previous = self.fields.get(*field).cloned().unwrap_or(Value::Null);
            let current = if value.is_empty() { Value::Null } else { Value::String(value.clone()) };
            if previous != current {
                changed
                    .insert(field.to_string(), serde_json::json!({"previous": previous, "current": current}));
                match &current {
                    Value::Null => next.fields.remove(*field),
                    v => next.fields.insert(field.to_string(), v.clone()),
                };
            }
        }
        if let Some(custom) = &change.custom
            && *custom != self.custom
        {
            changed.insert(
                "custom".into(),
                serde_json::json!({"previous": Value::Object(self.custom.clone()), "current": Value::Object(custom.clone())}),
            );
            next.custom = custom.clone();
        }
        (next, changed)
    }

    /// The contact as the API and the events show it: every field, `""` when not given.
    pub fn view(&self) -> Value {
        let mut out = Map::new();
        for f in FIELDS {
            out.insert(f.into(), self.fields.get(f).cloned().unwrap_or(Value::String(String::new())));
        }
        Value::Object(out)
    }
}

/// A contact field's value: one line of at most `MAX_FIELD_CHARS` characters.
pub fn check_field(field: &'static str, value: &str) -> DomainResult<String> {
    if value.chars().count() > MAX_FIELD_CHARS || value.chars().any(char::is_control) {
        return Err(DomainError::incorrect(field)
            .because(format!("{field} is one line of at most {MAX_FIELD_CHARS} characters")));
    }
    Ok(value.trim().to_string())
}

/// Custom data: a JSON object of at most 8 KiB.
pub fn check_custom(text: &str) -> DomainResult<Map<String, Value>> {
    let refuse = |why: &str| DomainError::incorrect("custom").because(why.to_string());
    if text.len() > MAX_CUSTOM_BYTES {
        return Err(refuse("custom data is at most 8 KiB"));
    }
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(refuse("custom data is a JSON object")),
    }
}

/// Who a chat is assigned to: an operator login, or a group (`group:NAME` where it is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignee {
    Operator(String),
    Group(String),
}

impl Assignee {
    pub fn stored(&self) -> String {
        match self {
            Self::Operator(login) => login.clone(),
            Self::Group(name) => format!("group:{name}"),
        }
    }

    pub fn from_stored(text: &str) -> Self {
        match text.strip_prefix("group:") {
            Some(name) => Self::Group(name.to_string()),
            None => Self::Operator(text.to_string()),
        }
    }

    /// As events and `getchatinfo` show it: `{"operator": LOGIN}` or `{"group": NAME}`.
    pub fn view(&self) -> Value {
        match self {
            Self::Operator(login) => serde_json::json!({"operator": login}),
            Self::Group(name) => serde_json::json!({"group": name}),
        }
    }
}

/// What chatgate knows of a chat's person and conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conversation {
    pub contact: Contact,
    /// When it was ended (Unix ms), while it is; the next message opens it again.
    pub ended_at: Option<i64>,
    pub assignee: Option<Assignee>,
    /// What the contact left after an end (the last ones given).
    pub rating: Option<i64>,
    pub feedback: Option<String>,
    pub survey: Option<String>,
    /// When they were given (Unix ms): once per end.
    pub rated_at: Option<i64>,
    pub surveyed_at: Option<i64>,
}

impl Conversation {
    pub fn state(&self) -> &'static str {
        if self.ended_at.is_some() { "ended" } else { "open" }
    }

    /// Whether `after_end` may be taken now: the conversation is ended and it was not given since.
    pub fn may_take(&self, after_end: &AfterEnd) -> Result<(), Refusal> {
        let Some(ended) = self.ended_at else { return Err(Refusal::NotEnded) };
        let given = match after_end {
            AfterEnd::Rating { .. } => self.rated_at,
            AfterEnd::Survey { .. } => self.surveyed_at,
        };
        if given.is_some_and(|at| at >= ended) { Err(Refusal::AlreadyGiven) } else { Ok(()) }
    }
}

/// What a contact leaves after the end of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterEnd {
    /// 1–5 stars, and words if any.
    Rating { rate: i64, feedback: Option<String> },
    /// The chosen answer of the channel's survey.
    Survey { option: String },
}

/// Why a rating or survey answer is not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The conversation is open.
    NotEnded,
    /// Given already since the end.
    AlreadyGiven,
    /// The channel does not ask for it (`rating=off`, no survey).
    NotAsked,
}

impl Refusal {
    /// The code the visitor's API answers with (409).
    pub fn code(self) -> &'static str {
        match self {
            Self::NotEnded => "CONVERSATION_OPEN",
            Self::AlreadyGiven => "ALREADY_ANSWERED",
            Self::NotAsked => "NOT_ASKED",
        }
    }
}

/// Feedback's longest text, in characters.
pub const MAX_FEEDBACK_CHARS: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_real_changes_are_named_with_previous_and_current() {
        let before = Contact::from_stored(r#"{"name":"Ann"}"#, r#"{"plan":"gold"}"#);
        let same =
            ContactChange { fields: vec![("name", "Ann".into())], custom: Some(before.custom.clone()) };
        assert!(before.apply(&same).1.is_empty());
        let change =
            ContactChange { fields: vec![("name", "Ann Lee".into()), ("email", "".into())], custom: None };
        let (after, changed) = before.apply(&change);
        assert_eq!(changed.len(), 1, "an empty email that was empty is no change");
        assert_eq!(changed["name"], serde_json::json!({"previous": "Ann", "current": "Ann Lee"}));
        assert_eq!(after.view()["name"], "Ann Lee");
        let cleared = after.apply(&ContactChange { fields: vec![("name", "".into())], custom: None });
        assert_eq!(cleared.1["name"], serde_json::json!({"previous": "Ann Lee", "current": null}));
    }

    #[test]
    fn custom_data_is_an_object_of_at_most_8_kib() {
        assert!(check_custom(r#"{"a":1}"#).is_ok());
        assert_eq!(check_custom("[1]").unwrap_err().param, Some("custom"));
        let big = format!(r#"{{"a":"{}"}}"#, "x".repeat(MAX_CUSTOM_BYTES));
        assert!(check_custom(&big).is_err());
    }
}
