//! Ledger rules (placeholder while the modules are written).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    #[error("placeholder")]
    Placeholder,
}
