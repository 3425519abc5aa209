//! Goals (SPEC §5.1, §6 `chat_session.goal`): a webchat channel's `goals` setting names pages of the
//! business's site — `NAME=URL-PATTERN` pairs separated by `;`, `*` matching any run of characters
//! (`checkout=https://shop.example/checkout/*`). When the host page reports a visit to a matching URL
//! while the conversation has an assignee and at least one message, the goal is reached: once per goal
//! and session.

/// One goal of a channel, borrowed from its setting (every page view reads them: nothing is copied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goal<'a> {
    pub name: &'a str,
    pub pattern: &'a str,
}

/// A channel's goals; `Err` names what is wrong with the setting.
pub fn parse(setting: &str) -> Result<Vec<Goal<'_>>, String> {
    let mut goals: Vec<Goal> = Vec::new();
    for pair in setting.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, pattern)) = pair.split_once('=') else {
            return Err(format!("{pair:?} is not NAME=URL-PATTERN"));
        };
        let (name, pattern) = (name.trim(), pattern.trim());
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(format!("{name:?} is not a goal's name (1 to 64 characters)"));
        }
        if !is_url_pattern(pattern) {
            return Err(format!("{pattern:?} is not a URL pattern (http:// or https://, `*` for any text)"));
        }
        if goals.iter().any(|g| g.name == name) {
            return Err(format!("the goal {name:?} is named twice"));
        }
        goals.push(Goal { name, pattern });
    }
    if goals.len() > 20 {
        return Err("at most 20 goals".into());
    }
    Ok(goals)
}

/// An absolute http(s) URL, where `*` may stand for any text (in the host too).
fn is_url_pattern(p: &str) -> bool {
    super::urls::is_page_url(p)
}

impl Goal<'_> {
    /// Whether `url` matches the pattern: `*` is any run of characters, everything else is itself.
    pub fn matches(&self, url: &str) -> bool {
        let mut parts = self.pattern.split('*');
        let first = parts.next().unwrap_or_default();
        let Some(mut rest) = url.strip_prefix(first) else { return false };
        let parts: Vec<&str> = parts.collect();
        let Some((last, middle)) = parts.split_last() else { return rest.is_empty() };
        for part in middle {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
        rest.len() >= last.len() && rest.ends_with(last)
    }
}

/// The goals `url` reaches.
pub fn reached<'a, 'g>(goals: &'a [Goal<'g>], url: &str) -> impl Iterator<Item = &'a Goal<'g>> {
    goals.iter().filter(move |g| g.matches(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_with_wildcards_and_bad_settings_say_why() {
        let goals =
            parse("checkout=https://shop.example/checkout/*; thanks=https://*.example/thanks").unwrap();
        assert!(goals[0].matches("https://shop.example/checkout/step-2"));
        assert!(goals[0].matches("https://shop.example/checkout/"));
        assert!(!goals[0].matches("https://shop.example/cart"));
        assert!(goals[1].matches("https://www.example/thanks"));
        assert!(!goals[1].matches("https://www.example/thanks?x=1"));
        let exact = Goal { name: "a", pattern: "https://a.example/x" };
        assert!(exact.matches("https://a.example/x") && !exact.matches("https://a.example/xy"));
        for bad in
            ["checkout", "=https://a.example", "a=/checkout", "a=ftp://x", "a=https://", "a=https://x y"]
        {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse("a=https://x.example;a=https://y.example").is_err(), "a name twice");
    }
}
