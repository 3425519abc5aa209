//! The one error type of the command layer. Every door maps it to its wire form in exactly one place.

use std::fmt;

/// Every error code of the spec (SPEC §2 "Error codes"). The wire name is the SCREAMING_SNAKE_CASE form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    MissingUser,
    MissingPassword,
    MissingClass,
    MissingMethod,
    MissingCompulsoryParam,
    IncorrectUserPassword,
    IncorrectClass,
    IncorrectMethod,
    ChannelNotFound,
    ChatNotFound,
    IncorrectFiletype,
    IncorrectFileurl,
    IncorrectThumburl,
    IncorrectParam,
    MessageNotFound,
    WebhookNotFound,
    DeliveryNotFound,
    IncorrectUrl,
    IpNotAllowed,
    AccessDenied,
    TooManyRequests,
    MalformedRequest,
    RequestTooLarge,
    InvalidToken,
    InternalError,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 25] = [
        Self::MissingUser,
        Self::MissingPassword,
        Self::MissingClass,
        Self::MissingMethod,
        Self::MissingCompulsoryParam,
        Self::IncorrectUserPassword,
        Self::IncorrectClass,
        Self::IncorrectMethod,
        Self::ChannelNotFound,
        Self::ChatNotFound,
        Self::IncorrectFiletype,
        Self::IncorrectFileurl,
        Self::IncorrectThumburl,
        Self::IncorrectParam,
        Self::MessageNotFound,
        Self::WebhookNotFound,
        Self::DeliveryNotFound,
        Self::IncorrectUrl,
        Self::IpNotAllowed,
        Self::AccessDenied,
        Self::TooManyRequests,
        Self::MalformedRequest,
        Self::RequestTooLarge,
        Self::InvalidToken,
        Self::InternalError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingUser => "MISSING_USER",
            Self::MissingPassword => "MISSING_PASSWORD",
            Self::MissingClass => "MISSING_CLASS",
            Self::MissingMethod => "MISSING_METHOD",
            Self::MissingCompulsoryParam => "MISSING_COMPULSORY_PARAM",
            Self::IncorrectUserPassword => "INCORRECT_USER_PASSWORD",
            Self::IncorrectClass => "INCORRECT_CLASS",
            Self::IncorrectMethod => "INCORRECT_METHOD",
            Self::ChannelNotFound => "CHANNEL_NOT_FOUND",
            Self::ChatNotFound => "CHAT_NOT_FOUND",
            Self::IncorrectFiletype => "INCORRECT_FILETYPE",
            Self::IncorrectFileurl => "INCORRECT_FILEURL",
            Self::IncorrectThumburl => "INCORRECT_THUMBURL",
            Self::IncorrectParam => "INCORRECT_PARAM",
            Self::MessageNotFound => "MESSAGE_NOT_FOUND",
            Self::WebhookNotFound => "WEBHOOK_NOT_FOUND",
            Self::DeliveryNotFound => "DELIVERY_NOT_FOUND",
            Self::IncorrectUrl => "INCORRECT_URL",
            Self::IpNotAllowed => "IP_NOT_ALLOWED",
            Self::AccessDenied => "ACCESS_DENIED",
            Self::TooManyRequests => "TOO_MANY_REQUESTS",
            Self::MalformedRequest => "MALFORMED_REQUEST",
            Self::RequestTooLarge => "REQUEST_TOO_LARGE",
            Self::InvalidToken => "INVALID_TOKEN",
            Self::InternalError => "INTERNAL_ERROR",
        }
    }

    /// Whether the caller caused it (SOAP `Client`/`Sender`) or we did (`Server`/`Receiver`).
    pub fn is_caller_error(self) -> bool {
        self != Self::InternalError
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error code, the parameter it concerns (if any), and for internal errors the cause, which is
/// logged but never shown to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainError {
    pub code: ErrorCode,
    pub param: Option<&'static str>,
    /// Why, in words a caller can act on, where the code and parameter alone would leave them guessing
    /// (a template's missing language names those that exist). Shown by every door.
    pub message: Option<String>,
    pub internal: Option<String>,
    /// For `TOO_MANY_REQUESTS` from a request limit: which, and until when (the doors' headers).
    pub throttled: Option<Throttled>,
}

/// A request limit that refused a request: its policy, quota and window, and the seconds until the
/// window ends (`Retry-After`, and the IETF `RateLimit`/`RateLimit-Policy` headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub policy: &'static str,
    pub retry_after_secs: u64,
    pub quota: u32,
    pub window_secs: u64,
}

impl From<Throttled> for DomainError {
    fn from(t: Throttled) -> Self {
        Self { throttled: Some(t), ..Self::new(ErrorCode::TooManyRequests) }
    }
}

impl DomainError {
    pub fn new(code: ErrorCode) -> Self {
        Self { code, param: None, message: None, internal: None, throttled: None }
    }

    pub fn param(code: ErrorCode, param: &'static str) -> Self {
        Self { param: Some(param), ..Self::new(code) }
    }

    pub fn missing(param: &'static str) -> Self {
        Self::param(ErrorCode::MissingCompulsoryParam, param)
    }

    pub fn incorrect(param: &'static str) -> Self {
        Self::param(ErrorCode::IncorrectParam, param)
    }

    /// The same error, with why in words.
    pub fn because(mut self, message: String) -> Self {
        self.message = Some(message);
        self
    }

    /// An internal failure: the cause goes to the log, the caller sees `INTERNAL_ERROR` only.
    pub fn internal(cause: impl fmt::Display) -> Self {
        Self { internal: Some(cause.to_string()), ..Self::new(ErrorCode::InternalError) }
    }
}

impl From<ErrorCode> for DomainError {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.param {
            Some(p) => write!(f, "{} ({p})", self.code),
            None => write!(f, "{}", self.code),
        }
    }
}

impl std::error::Error for DomainError {}

pub type DomainResult<T> = Result<T, DomainError>;
