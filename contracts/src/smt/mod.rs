//! The authenticated state tree (filled in by the SMT work).
