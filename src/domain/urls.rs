//! What counts as a URL a caller may give (a file, a webhook, a template's header): an absolute http(s)
//! URL of a bounded length. A leaf of the command layer, so that every rule can use it.

pub const MAX_URL_CHARS: usize = 2048;

pub fn is_absolute_http_url(s: &str) -> bool {
    s.len() <= MAX_URL_CHARS
        && url::Url::parse(s)
            .map(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()))
            .unwrap_or(false)
}

/// A page's address as the host page reports it (and a goal's pattern, where `*` is just a
/// character): `http://` or `https://`, a host, no spaces or control characters, of a bounded length.
/// No full parse: every page view sends one, and it is only compared with the goals' patterns — never
/// fetched, stored or shown.
pub fn is_page_url(s: &str) -> bool {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with(['/', '?', '#']))
        && s.len() <= MAX_URL_CHARS
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}
