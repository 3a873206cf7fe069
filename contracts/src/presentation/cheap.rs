//! Verification on the cheap path only (`memo` feature): what the node's HTTP API may run on its
//! async worker because it checks no signature.

use super::desk::Desk;
use super::verify::{Proof, decode_proof, verify_decoded};
use super::{Document, Policy, Report, Trust};

/// [`super::verify_at_desk`], only if it verifies no signature (`memo` feature; `None`, having checked
/// nothing, otherwise): bytes that do not decode (refused at decoding), a compact presentation
/// (checked against a trust package verified already), or a presentation or receipt that carries
/// no validator-set change and whose certificate verified before in this process against the set
/// that signs for `trust`. Such a verification costs a decode and a few dozen hashes; any other
/// may cost a quorum of signature verifications.
pub fn verify_at_desk_if_cheap(
    trust: Trust<'_>,
    bytes: &[u8],
    document: Option<Document<'_>>,
    policy: &Policy,
    desk: Desk<'_>,
) -> Option<Report> {
    let proof = decode_proof(bytes);
    let certified = match &proof {
        Ok(Proof::Receipt(r)) => Some(&r.certified),
        Ok(Proof::Presentation(p)) => Some(&p.certified),
        Ok(Proof::Compact(_)) | Err(_) => None,
    };
    if let Some(certified) = certified {
        let anchor = trust.signing_anchor();
        let remembered = certified.set_changes.is_empty()
            && certified.certificate.verified_before(
                anchor.suite,
                &anchor.chain_id,
                &anchor.genesis_hash,
                &anchor.validators,
            );
        if !remembered {
            return None;
        }
    }
    Some(verify_decoded(trust, proof, bytes, document, policy, desk))
}
