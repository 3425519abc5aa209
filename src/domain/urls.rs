//! What counts as a URL a caller may give (a file, a webhook, a template's header): an absolute http(s)
//! URL of a bounded length. A leaf of the command layer, so that every rule can use it.

pub const MAX_URL_CHARS: usize = 2048;

pub fn is_absolute_http_url(s: &str) -> bool {
    s.len() <= MAX_URL_CHARS
        && url::Url::parse(s)
            .map(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()))
            .unwrap_or(false)
}
