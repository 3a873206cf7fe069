//! Encrypted key files (filled in by the crypto work).
