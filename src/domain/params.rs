//! Request parameters as every door hands them over: names matched case-insensitively, values text.

use std::collections::HashMap;

use super::error::{DomainError, DomainResult};

/// Parameters of one call. Names are stored lower-cased; the first value of a repeated name wins
/// unless a later source (`merge_over`) overrides it, as the plain door's body does over its query.
#[derive(Debug, Default, Clone)]
pub struct Params {
    /// foldhash, not SipHash: every request hashes its parameter names (still seeded per process, so
    /// a caller cannot choose names that collide).
    values: HashMap<String, String, foldhash::fast::RandomState>,
}

impl Params {
    /// Room for a call's usual parameters, so that filling them does not grow the table.
    pub fn new() -> Self {
        Self { values: HashMap::with_capacity_and_hasher(8, Default::default()) }
    }

    /// Adds a value unless the name is already present (first one wins within one source). A name
    /// given as a `String` is lower-cased in place.
    pub fn insert_first(&mut self, name: impl Into<String>, value: String) {
        let mut name = name.into();
        name.make_ascii_lowercase();
        self.values.entry(name).or_insert(value);
    }

    /// Sets a value, replacing any earlier one.
    pub fn set(&mut self, name: &str, value: String) {
        self.values.insert(name.to_ascii_lowercase(), value);
    }

    /// Overrides these values with every value of `other`.
    pub fn merge_over(&mut self, other: Params) {
        self.values.extend(other.values);
    }

    /// The raw value, empty strings included.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// A value that counts as given: present and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.raw(name).filter(|v| !v.is_empty())
    }

    /// Removes and returns a value (used for credentials, which must not travel further).
    pub fn take(&mut self, name: &str) -> Option<String> {
        self.values.remove(name).filter(|v| !v.is_empty())
    }

    /// Fails with `MISSING_COMPULSORY_PARAM` naming the first of `names` that is not given.
    pub fn require_all(&self, names: &[&'static str]) -> DomainResult<()> {
        match names.iter().find(|n| self.get(n).is_none()) {
            Some(n) => Err(DomainError::missing(n)),
            None => Ok(()),
        }
    }

    /// A value known to be present after `require_all`.
    pub fn required(&self, name: &'static str) -> DomainResult<&str> {
        self.get(name).ok_or_else(|| DomainError::missing(name))
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl<K: AsRef<str>, V: Into<String>> FromIterator<(K, V)> for Params {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut p = Params::new();
        for (k, v) in iter {
            p.insert_first(k.as_ref(), v.into());
        }
        p
    }
}
