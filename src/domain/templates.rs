//! WhatsApp message templates (SPEC §5.2, "WhatsApp's 24-hour window and templates"): what a template
//! is, as the channel's listing gives it, and the rules a send must meet before anything goes to Meta —
//! the name, the exact language, `APPROVED`, the parameters the body, header and buttons ask for. A
//! send that meets them becomes a [`TemplateCall`], which the WhatsApp connector writes as Graph's
//! `template` object, and the text a person reads (the body with its parameters filled in).

use serde::{Deserialize, Serialize};

use super::error::{DomainError, DomainResult};

/// One template in one language, as the channel's listing has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub name: String,
    /// Exactly as the listing writes it (`en`, `en_US`): Meta takes no other spelling.
    pub language: String,
    /// `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, `DISABLED`, …; only `APPROVED` can be sent.
    pub status: String,
    pub category: String,
    /// `parameter_format` `NAMED`: `{{first_name}}` placeholders, given by name.
    pub named: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<Header>,
    pub body: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
}

/// A template's header: text (with at most one placeholder) or a media kind a send must give by URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Header {
    Text(String),
    Image,
    Video,
    Document,
    /// Given with the send in Meta's own tools; chatgate does not send these.
    Location,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub kind: ButtonKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonKind {
    /// Its tap comes back as a `button` message with the payload the send gave (or the text).
    QuickReply,
    /// A URL button; `dynamic` when its URL ends in `{{1}}`, which the send fills.
    Url { dynamic: bool },
    /// Phone number, copy code, flow…: nothing to give.
    Other,
}

/// What a send gives: body parameters, a header, button parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateArgs {
    pub parameters: Parameters,
    /// The header's text, or an http(s) URL of its image, video or document.
    pub header: Option<String>,
    pub buttons: Vec<ButtonArg>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Parameters {
    #[default]
    None,
    /// `{{1}}`, `{{2}}`, … in order.
    Positional(Vec<String>),
    /// `{{first_name}}` … by name, in any order.
    Named(Vec<(String, String)>),
}

/// A button parameter: a quick reply's payload or a URL button's suffix, by the button's position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ButtonArg {
    pub index: u32,
    pub value: ButtonValue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonValue {
    Payload(String),
    Text(String),
}

/// A template send as the connector writes it (Graph `template` object), kept with the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateCall {
    pub name: String,
    pub language: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<HeaderValue>,
    /// The body's parameters in placeholder order; `name` for named templates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub body: Vec<BodyValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<ButtonArg>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeaderValue {
    Text(String),
    Image(String),
    Video(String),
    Document(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyValue {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub text: String,
}

/// Meta's limit on one parameter's text.
const MAX_PARAMETER_CHARS: usize = 1024;

impl Template {
    /// The body's placeholders in the order they first appear: `1`, `2`, … or the names.
    pub fn placeholders(&self) -> Vec<String> {
        placeholders(&self.body)
    }

    /// The header's placeholder, if its text has one.
    fn header_placeholder(&self) -> Option<String> {
        match &self.header {
            Some(Header::Text(text)) => placeholders(text).into_iter().next(),
            _ => None,
        }
    }

    /// Checks a send against this template; the call to make and the text a person reads.
    pub fn fill(&self, args: &TemplateArgs) -> DomainResult<(TemplateCall, String)> {
        if self.status != "APPROVED" {
            return Err(DomainError::incorrect("template").because(format!(
                "template {} ({}) is {}: only APPROVED templates can be sent",
                self.name, self.language, self.status
            )));
        }
        let wanted = self.placeholders();
        let body = self.body_values(&args.parameters, &wanted)?;
        let header = self.header_value(args.header.as_deref())?;
        let buttons = self.button_values(&args.buttons)?;
        let text = fill_text(&self.body, &body, &wanted);
        let call =
            TemplateCall { name: self.name.clone(), language: self.language.clone(), header, body, buttons };
        Ok((call, text))
    }

    fn body_values(&self, given: &Parameters, wanted: &[String]) -> DomainResult<Vec<BodyValue>> {
        let bad = |why: String| DomainError::incorrect("parameters").because(why);
        let values: Vec<BodyValue> = match (given, self.named) {
            (Parameters::None, _) => Vec::new(),
            (Parameters::Positional(list), false) => {
                list.iter().map(|text| BodyValue { name: None, text: text.clone() }).collect()
            }
            (Parameters::Named(pairs), true) => {
                let mut values = Vec::new();
                for name in wanted {
                    let Some((_, text)) = pairs.iter().find(|(n, _)| n == name) else {
                        return Err(bad(format!("the template asks for {}", list_of(wanted))));
                    };
                    values.push(BodyValue { name: Some(name.clone()), text: text.clone() });
                }
                if let Some((extra, _)) = pairs.iter().find(|(n, _)| !wanted.contains(n)) {
                    return Err(bad(format!(
                        "{extra:?} is not a parameter of the template; it asks for {}",
                        list_of(wanted)
                    )));
                }
                values
            }
            (Parameters::Positional(_), true) => {
                return Err(bad(format!("the template takes named parameters: {}", list_of(wanted))));
            }
            (Parameters::Named(_), false) => {
                return Err(bad(format!(
                    "the template takes {} parameters in order (a JSON array)",
                    wanted.len()
                )));
            }
        };
        if values.len() != wanted.len() {
            return Err(bad(format!(
                "the template asks for {} parameter{}, {} given",
                wanted.len(),
                if wanted.len() == 1 { "" } else { "s" },
                values.len()
            )));
        }
        for v in &values {
            check_value(&v.text, "parameters")?;
        }
        Ok(values)
    }

    fn header_value(&self, given: Option<&str>) -> DomainResult<Option<HeaderValue>> {
        let bad = |why: &str| DomainError::incorrect("header").because(why.to_string());
        let is_url = |v: &str| super::urls::is_absolute_http_url(v);
        match (&self.header, given) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(bad("the template has no header")),
            (Some(Header::Text(_)), given) => match (self.header_placeholder(), given) {
                (None, None) => Ok(None),
                (None, Some(_)) => Err(bad("the template's header is fixed text with no parameter")),
                (Some(_), None) => Err(bad("the template's header asks for a text")),
                (Some(_), Some(text)) => {
                    check_value(text, "header")?;
                    Ok(Some(HeaderValue::Text(text.to_string())))
                }
            },
            (Some(Header::Location), _) => Err(bad("location headers cannot be sent through chatgate")),
            (Some(media), None) => {
                Err(bad(&format!("the template's header asks for the URL of {}", media.article())))
            }
            (Some(media), Some(url)) if is_url(url) => Ok(Some(match media {
                Header::Image => HeaderValue::Image(url.to_string()),
                Header::Video => HeaderValue::Video(url.to_string()),
                _ => HeaderValue::Document(url.to_string()),
            })),
            (Some(media), Some(_)) => Err(bad(&format!(
                "the template's header is {}: give its absolute http(s) URL",
                media.article()
            ))),
        }
    }

    fn button_values(&self, given: &[ButtonArg]) -> DomainResult<Vec<ButtonArg>> {
        let bad = |why: String| DomainError::incorrect("buttons").because(why);
        for arg in given {
            let Some(button) = self.buttons.get(arg.index as usize) else {
                return Err(bad(format!("the template has no button {}", arg.index)));
            };
            match (&button.kind, &arg.value) {
                (ButtonKind::QuickReply, ButtonValue::Payload(p)) => check_value(p, "buttons")?,
                (ButtonKind::Url { dynamic: true }, ButtonValue::Text(t)) => check_value(t, "buttons")?,
                (ButtonKind::QuickReply, _) => {
                    return Err(bad(format!("button {} is a quick reply: give its payload", arg.index)));
                }
                (ButtonKind::Url { dynamic: true }, _) => {
                    return Err(bad(format!(
                        "button {} is a URL button: give the text its URL ends with",
                        arg.index
                    )));
                }
                _ => return Err(bad(format!("button {} takes no parameter", arg.index))),
            }
        }
        // A URL that ends in a placeholder must be completed.
        let missing = self.buttons.iter().enumerate().find(|(i, b)| {
            b.kind == ButtonKind::Url { dynamic: true } && !given.iter().any(|a| a.index as usize == *i)
        });
        if let Some((i, _)) = missing {
            return Err(bad(format!("button {i} is a URL button whose URL needs its text")));
        }
        Ok(given.to_vec())
    }
}

impl Header {
    fn article(&self) -> &'static str {
        match self {
            Header::Image => "an image",
            Header::Video => "a video",
            Header::Document => "a document",
            Header::Location => "a location",
            Header::Text(_) => "a text",
        }
    }
}

/// The template of `name` in `language` among a channel's, or why there is none (naming the
/// languages that exist for the name).
pub fn find<'a>(templates: &'a [Template], name: &str, language: &str) -> DomainResult<&'a Template> {
    let same_name: Vec<&Template> = templates.iter().filter(|t| t.name == name).collect();
    if same_name.is_empty() {
        return Err(DomainError::incorrect("template")
            .because(format!("the channel has no template {name:?} (gettemplates lists them)")));
    }
    same_name.iter().find(|t| t.language == language).copied().ok_or_else(|| {
        let languages: Vec<String> = same_name.iter().map(|t| t.language.clone()).collect();
        DomainError::incorrect("language").because(format!(
            "template {name:?} has no language {language:?}; it has {}",
            list_of(&languages)
        ))
    })
}

fn check_value(v: &str, param: &'static str) -> DomainResult<()> {
    if v.trim().is_empty() {
        return Err(DomainError::incorrect(param).because("a parameter may not be empty".into()));
    }
    if v.chars().count() > MAX_PARAMETER_CHARS || v.contains('\0') {
        return Err(DomainError::incorrect(param)
            .because(format!("a parameter has at most {MAX_PARAMETER_CHARS} characters")));
    }
    Ok(())
}

fn list_of(items: &[String]) -> String {
    items.iter().map(|i| format!("{i:?}")).collect::<Vec<_>>().join(", ")
}

/// `{{1}}`, `{{ name }}` … in the order they first appear.
fn placeholders(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim().to_string();
        if !name.is_empty() && !found.contains(&name) {
            found.push(name);
        }
        rest = &after[end + 2..];
    }
    found
}

/// The body with each placeholder replaced by its value (positional values by their number).
fn fill_text(body: &str, values: &[BodyValue], order: &[String]) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push_str(&rest[..start]);
        let name = after[..end].trim();
        let value = values
            .iter()
            .find(|v| v.name.as_deref() == Some(name))
            .or_else(|| {
                name.parse::<usize>()
                    .ok()
                    .and_then(|n| values.get(n.wrapping_sub(1)))
                    .filter(|v| v.name.is_none())
            })
            .or_else(|| {
                order.iter().position(|o| o == name).and_then(|i| values.get(i)).filter(|v| v.name.is_none())
            });
        match value {
            Some(v) => out.push_str(&v.text),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::error::ErrorCode;

    fn template(named: bool, body: &str) -> Template {
        Template {
            name: "order_update".into(),
            language: "en_US".into(),
            status: "APPROVED".into(),
            category: "UTILITY".into(),
            named,
            header: None,
            body: body.into(),
            buttons: Vec::new(),
        }
    }

    fn positional(values: &[&str]) -> TemplateArgs {
        TemplateArgs {
            parameters: Parameters::Positional(values.iter().map(|v| v.to_string()).collect()),
            ..TemplateArgs::default()
        }
    }

    #[test]
    fn positional_and_named_bodies_are_filled() {
        let t = template(false, "Hi {{1}}, order {{2}} ships {{3}}. Thanks, {{1}}!");
        let (call, text) = t.fill(&positional(&["Ann", "#42", "today"])).unwrap();
        assert_eq!(text, "Hi Ann, order #42 ships today. Thanks, Ann!");
        assert_eq!(call.body.len(), 3);
        let t = template(true, "Hi {{first_name}}, your code is {{ code }}");
        let args = TemplateArgs {
            parameters: Parameters::Named(vec![
                ("code".into(), "123".into()),
                ("first_name".into(), "Bo".into()),
            ]),
            ..TemplateArgs::default()
        };
        let (call, text) = t.fill(&args).unwrap();
        assert_eq!(text, "Hi Bo, your code is 123");
        assert_eq!(call.body[0], BodyValue { name: Some("first_name".into()), text: "Bo".into() });
    }

    #[test]
    fn every_mistake_names_its_parameter_and_says_why() {
        let t = template(false, "Hi {{1}}, order {{2}}");
        let e = t.fill(&positional(&["Ann"])).unwrap_err();
        assert_eq!((e.code, e.param), (ErrorCode::IncorrectParam, Some("parameters")));
        assert_eq!(e.message.as_deref(), Some("the template asks for 2 parameters, 1 given"));
        assert_eq!(t.fill(&positional(&["Ann", " "])).unwrap_err().param, Some("parameters"));
        let paused = Template { status: "PAUSED".into(), ..t.clone() };
        let e = paused.fill(&positional(&["a", "b"])).unwrap_err();
        assert_eq!(
            e.message.as_deref(),
            Some("template order_update (en_US) is PAUSED: only APPROVED templates can be sent")
        );
        let e = find(std::slice::from_ref(&t), "order_update", "en").unwrap_err();
        assert_eq!(e.param, Some("language"));
        assert_eq!(
            e.message.as_deref(),
            Some("template \"order_update\" has no language \"en\"; it has \"en_US\"")
        );
        assert_eq!(find(std::slice::from_ref(&t), "nope", "en_US").unwrap_err().param, Some("template"));
        let imaged = Template { header: Some(Header::Image), ..t.clone() };
        let args = TemplateArgs { header: Some("just text".into()), ..positional(&["a", "b"]) };
        assert_eq!(imaged.fill(&args).unwrap_err().param, Some("header"));
        let args = TemplateArgs { header: Some("https://e.com/p.png".into()), ..positional(&["a", "b"]) };
        assert_eq!(
            imaged.fill(&args).unwrap().0.header,
            Some(HeaderValue::Image("https://e.com/p.png".into()))
        );
        let buttons = Template {
            buttons: vec![
                Button { kind: ButtonKind::QuickReply, text: "Stop".into() },
                Button { kind: ButtonKind::Url { dynamic: true }, text: "Track".into() },
            ],
            ..t
        };
        let e = buttons.fill(&positional(&["a", "b"])).unwrap_err();
        assert_eq!(
            (e.param, e.message.as_deref()),
            (Some("buttons"), Some("button 1 is a URL button whose URL needs its text"))
        );
        let args = TemplateArgs {
            buttons: vec![ButtonArg { index: 1, value: ButtonValue::Text("abc".into()) }],
            ..positional(&["a", "b"])
        };
        assert!(buttons.fill(&args).is_ok());
    }
}
