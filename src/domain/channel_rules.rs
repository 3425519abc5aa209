//! What a channel's settings may be (SPEC §5.1): the keys each platform knows, the ones it needs and the
//! form of the values that have one. Checked whenever a channel is created or changed, so that a typo
//! (`bot_tokn=…`) is refused there, naming the key, instead of making every send fail later.
//!
//! Tokens and secrets are never repeated in a message; origins (public by nature) are.

use super::model::{ChannelSettings, Platform};

/// One setting a platform knows.
struct Key {
    name: &'static str,
    required: bool,
    /// What is wrong with a (non-empty) value, if anything.
    check: fn(&str) -> Result<(), String>,
}

const fn key(name: &'static str, required: bool, check: fn(&str) -> Result<(), String>) -> Key {
    Key { name, required, check }
}

const TELEGRAM: &[Key] = &[key("bot_token", true, bot_token), key("webhook_secret", false, webhook_secret)];
const WHATSAPP: &[Key] = &[
    key("phone_number_id", true, digits),
    key("access_token", true, one_line),
    key("app_secret", false, one_line),
    key("verify_token", false, one_line),
    key("waba_id", false, digits),
    key("fallback_template", false, template_and_language),
];
const WEBCHAT: &[Key] = &[
    key("allowed_origins", false, origins),
    key("title", false, one_line),
    key("rating", false, on_off),
    key("survey_question", false, one_line),
    key("survey_options", false, survey_options),
    key("goals", false, goals),
];

fn keys(platform: Platform) -> &'static [Key] {
    match platform {
        Platform::Telegram => TELEGRAM,
        Platform::Whatsapp => WHATSAPP,
        Platform::Webchat => WEBCHAT,
        Platform::Operator => &[],
    }
}

/// The settings `platform` knows, in the order the spec lists them.
pub fn known_keys(platform: Platform) -> Vec<&'static str> {
    keys(platform).iter().map(|k| k.name).collect()
}

/// Whether `settings` (complete: after any change) suit a channel of `platform`; the first problem
/// otherwise, naming the key and what is valid.
pub fn check(platform: Platform, settings: &ChannelSettings) -> Result<(), String> {
    let known = keys(platform);
    let valid = || match known_keys(platform).join(", ") {
        list if list.is_empty() => format!("{platform} channels have no settings"),
        list => format!("{platform} channels know {list}"),
    };
    for (name, value) in settings.iter() {
        let Some(k) = known.iter().find(|k| k.name == name) else {
            return Err(format!("unknown setting {name:?}: {}", valid()));
        };
        if !value.is_empty() {
            (k.check)(value).map_err(|why| format!("setting {name}: {why}"))?;
        }
    }
    match known.iter().find(|k| k.required && settings.get(k.name).is_none()) {
        Some(k) => Err(format!("{platform} channels need the setting {}", k.name)),
        None => Ok(()),
    }
}

fn one_line(v: &str) -> Result<(), String> {
    if v.trim() != v || v.chars().any(char::is_control) {
        return Err("no spaces around it and no control characters".into());
    }
    Ok(())
}

/// The characters of Telegram's tokens and secret tokens: `A-Z`, `a-z`, `0-9`, `_` and `-`.
fn telegram_chars(v: &str) -> bool {
    v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// BotFather's form: the bot's numeric id, a colon, the secret part.
fn bot_token(v: &str) -> Result<(), String> {
    let ok = v.split_once(':').is_some_and(|(id, secret)| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_digit())
            && !secret.is_empty()
            && telegram_chars(secret)
    });
    if ok { Ok(()) } else { Err("a bot token is the bot's numeric id, ':' and its secret part".into()) }
}

/// Telegram's `secret_token`: 1–256 characters `A-Z`, `a-z`, `0-9`, `_` and `-`.
fn webhook_secret(v: &str) -> Result<(), String> {
    let ok = v.len() <= 256 && telegram_chars(v);
    if ok { Ok(()) } else { Err("1 to 256 of A-Z, a-z, 0-9, '_' and '-' (Telegram's rule)".into()) }
}

/// `NAME=URL-PATTERN` pairs separated by `;` (`goals.rs`).
fn goals(v: &str) -> Result<(), String> {
    super::goals::parse(v).map(|_| ())
}

fn on_off(v: &str) -> Result<(), String> {
    if matches!(v, "on" | "off") { Ok(()) } else { Err("on or off".into()) }
}

/// 2 to 4 answers separated by `|`, each one line of at most 100 characters.
fn survey_options(v: &str) -> Result<(), String> {
    let list = super::visitor::options(v);
    let ok = (2..=4).contains(&list.len())
        && v.split('|').all(|o| !o.trim().is_empty())
        && list.iter().all(|o| o.chars().count() <= 100 && !o.chars().any(char::is_control));
    if ok { Ok(()) } else { Err("2 to 4 answers separated by '|', e.g. Yes|No|Maybe".into()) }
}

fn digits(v: &str) -> Result<(), String> {
    if v.bytes().all(|b| b.is_ascii_digit()) { Ok(()) } else { Err("digits only".into()) }
}

/// `NAME:LANGUAGE` of a template (`reminder:en_US`): the name as Meta writes them (lower case, digits,
/// `_`), the language as the listing writes it.
fn template_and_language(v: &str) -> Result<(), String> {
    let ok = v.split_once(':').is_some_and(|(name, language)| {
        !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !language.is_empty()
            && language.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    });
    if ok { Ok(()) } else { Err("NAME:LANGUAGE of an approved template, e.g. reminder:en_US".into()) }
}

/// The origins a webchat channel's `allowed_origins` lists: separated by commas or spaces, a trailing
/// `/` ignored. The webchat door compares a request's `Origin` with these.
pub fn allowed_origins(value: &str) -> impl Iterator<Item = &str> {
    value.split([',', ' ']).map(|o| o.trim().trim_end_matches('/')).filter(|o| !o.is_empty())
}

/// Origins as a browser sends them in `Origin`.
fn origins(v: &str) -> Result<(), String> {
    for origin in allowed_origins(v) {
        let exact =
            url::Url::parse(origin).ok().filter(|u| matches!(u.scheme(), "http" | "https")).map(|u| {
                let serialized = u.origin().ascii_serialization();
                (serialized == origin, serialized)
            });
        match exact {
            Some((true, _)) => {}
            Some((false, as_sent)) if as_sent != "null" => {
                return Err(format!("{origin:?} is not an origin as a browser sends it ({as_sent:?})"));
            }
            _ => return Err(format!("{origin:?} is not an origin (https://shop.example, http://host:8080)")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> ChannelSettings {
        let mut s = ChannelSettings::default();
        for (k, v) in pairs {
            s.set(k, Some(v.to_string()));
        }
        s
    }

    #[test]
    fn a_typo_is_named_with_the_keys_that_exist() {
        let e = check(Platform::Telegram, &settings(&[("bot_tokn", "1:2")])).unwrap_err();
        assert_eq!(e, "unknown setting \"bot_tokn\": telegram channels know bot_token, webhook_secret");
        let e = check(Platform::Operator, &settings(&[("x", "1")])).unwrap_err();
        assert_eq!(e, "unknown setting \"x\": operator channels have no settings");
    }

    #[test]
    fn required_keys_and_forms() {
        assert!(check(Platform::Telegram, &settings(&[("bot_token", "123:AA-b_c")])).is_ok());
        assert_eq!(
            check(Platform::Telegram, &ChannelSettings::default()).unwrap_err(),
            "telegram channels need the setting bot_token"
        );
        assert!(check(Platform::Telegram, &settings(&[("bot_token", "abc")])).is_err());
        let wa = settings(&[("phone_number_id", "1065"), ("access_token", "EAAG")]);
        assert!(check(Platform::Whatsapp, &wa).is_ok());
        let e = check(Platform::Whatsapp, &settings(&[("phone_number_id", "+1065"), ("access_token", "x")]));
        assert_eq!(e.unwrap_err(), "setting phone_number_id: digits only");
        let with = |k: &str, v: &str| {
            check(
                Platform::Whatsapp,
                &settings(&[("phone_number_id", "1065"), ("access_token", "x"), (k, v)]),
            )
        };
        assert!(with("fallback_template", "reminder:en_US").is_ok());
        assert!(
            with("fallback_template", "Reminder")
                .unwrap_err()
                .starts_with("setting fallback_template: NAME:LANGUAGE")
        );
        assert_eq!(with("waba_id", "WABA-1").unwrap_err(), "setting waba_id: digits only");
    }

    #[test]
    fn origins_must_be_written_as_browsers_send_them() {
        let ok = |v: &str| check(Platform::Webchat, &settings(&[("allowed_origins", v)]));
        assert!(ok("https://shop.example, http://localhost:8080 https://a.example/").is_ok());
        for bad in
            ["shop.example", "ftp://shop.example", "https://shop.example/path", "https://shop.example:443"]
        {
            let e = ok(bad).unwrap_err();
            assert!(e.starts_with("setting allowed_origins:"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_value_is_never_repeated_in_the_message() {
        let e = check(Platform::Whatsapp, &settings(&[("access_token", " secret-token ")])).unwrap_err();
        assert!(!e.contains("secret-token"), "{e}");
    }
}
