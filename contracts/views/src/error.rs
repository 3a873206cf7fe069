//! Where and why a JSON document was refused.

/// Why a JSON document was refused: where (`genesis.agencies[2].keys[0]`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct JsonError {
    /// The path of the offending value from the document's root, e.g. `genesis.validators[1].key`.
    pub path: String,
    pub reason: String,
}

impl JsonError {
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        JsonError {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

pub(crate) fn err<T>(path: &str, reason: impl Into<String>) -> Result<T, JsonError> {
    Err(JsonError::new(path, reason))
}

pub(crate) fn child(path: &str, field: &str) -> String {
    format!("{path}.{field}")
}

pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}
