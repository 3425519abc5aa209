//! How the pages' APIs (the webchat visitor API and the operator console) refuse: one type for both —
//! a status and `{"error": CODE}` (with `param` when one parameter is at fault and `message` when the
//! command said why in words), the rate-limit headers
//! when a limit refused, and an internal error's cause logged, never shown.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use serde_json::json;

use crate::domain::DomainError;
use crate::domain::error::Throttled;
use crate::doors::wire::{refusal_headers, rest_status};

#[derive(Debug)]
pub struct Refused {
    status: StatusCode,
    error: &'static str,
    param: Option<&'static str>,
    /// Why, in words, when the command said.
    message: Option<String>,
    throttled: Option<Throttled>,
    /// `Retry-After` of a refusal that is no limit's (an event stream over its cap), seconds.
    retry_after_secs: Option<u64>,
}

impl Refused {
    pub fn new(status: StatusCode, error: &'static str) -> Self {
        Self { status, error, param: None, message: None, throttled: None, retry_after_secs: None }
    }

    /// `INCORRECT_PARAM` naming `param` (400).
    pub fn incorrect(param: &'static str) -> Self {
        Self { param: Some(param), ..Self::new(StatusCode::BAD_REQUEST, "INCORRECT_PARAM") }
    }

    /// A limit refused (429, with `Retry-After` and the rate-limit headers).
    pub fn too_many(throttled: Throttled) -> Self {
        Self { throttled: Some(throttled), ..Self::new(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS") }
    }

    /// Says when to come back (`Retry-After`), for a refusal that is no limit's.
    pub fn retry_after(self, secs: u64) -> Self {
        Self { retry_after_secs: Some(secs), ..self }
    }

    /// The server failed at `what`: logged with its cause, answered 500 `INTERNAL_ERROR`.
    pub fn internal(what: &str, cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "{what} failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR")
    }

    pub fn response(&self) -> HttpResponse {
        let mut body = json!({"error": self.error});
        if let Some(param) = self.param {
            body["param"] = json!(param);
        }
        if let Some(message) = &self.message {
            body["message"] = json!(message);
        }
        let mut res = HttpResponse::build(self.status).json(body);
        if let Some(secs) = self.retry_after_secs {
            res.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
        } else if self.status == StatusCode::TOO_MANY_REQUESTS {
            refusal_headers(&mut res, self.throttled.as_ref());
        }
        res
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.error)
    }
}

/// So that an extractor (the webchat door's `Caller`) can refuse before its handler runs.
impl actix_web::ResponseError for Refused {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        self.response()
    }
}

/// A command's error, with the status every REST-like door gives its code.
impl From<&DomainError> for Refused {
    fn from(e: &DomainError) -> Self {
        if let Some(cause) = &e.internal {
            tracing::error!(error = %cause, "a page's request failed");
        }
        Self {
            status: rest_status(Some(e.code)),
            error: e.code.as_str(),
            param: e.param,
            message: e.message.clone(),
            throttled: e.throttled,
            retry_after_secs: None,
        }
    }
}
