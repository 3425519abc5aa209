//! The one error type of every store port: what went wrong below the command layer.

use super::error::DomainError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("database: {0}")]
    Backend(String),
    /// A transaction lost a serialization or deadlock race; it may be retried.
    #[error("transaction conflict: {0}")]
    Retry(String),
}

impl From<StoreError> for DomainError {
    fn from(e: StoreError) -> Self {
        DomainError::internal(e)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
