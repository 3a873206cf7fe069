//! The verifier's answer: one line per check, each with its outcome, and the overall verdict.

use alloc::string::String;
use alloc::vec::Vec;

use crate::crypto::Hash32;

/// The checks, in the order they are reported.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum CheckId {
    /// The kind of proof is the one the desk expects (only when it states one).
    Kind,
    /// The bytes decode as a presentation (or receipt).
    Encoding,
    /// The header is for the trusted chain.
    Chain,
    /// The validator-set changes lead from the trust anchor to the header's signing set.
    ValidatorSet,
    /// A quorum of that set signed the header's commit certificate.
    Quorum,
    /// The record is in the certified state (state proof to the header's state root).
    StateProof,
    /// The document's hash equals the recorded one.
    DocumentHash,
    /// The person at the desk opens the licence's holder commitment (only when their id and salt
    /// are given).
    Holder,
    /// The issuer was authorised for the licence type when it issued.
    IssuerAuthorised,
    /// The licence's status.
    Status,
    /// "Now" lies in the validity window.
    ValidityWindow,
    /// The certified header is recent enough.
    Freshness,
}

impl CheckId {
    /// Every check, in report order.
    pub const ALL: [CheckId; 12] = [
        CheckId::Kind,
        CheckId::Encoding,
        CheckId::Chain,
        CheckId::ValidatorSet,
        CheckId::Quorum,
        CheckId::StateProof,
        CheckId::DocumentHash,
        CheckId::Holder,
        CheckId::IssuerAuthorised,
        CheckId::Status,
        CheckId::ValidityWindow,
        CheckId::Freshness,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CheckId::Kind => "kind",
            CheckId::Encoding => "encoding",
            CheckId::Chain => "chain",
            CheckId::ValidatorSet => "validator_set",
            CheckId::Quorum => "quorum",
            CheckId::StateProof => "state_proof",
            CheckId::DocumentHash => "document_hash",
            CheckId::Holder => "holder",
            CheckId::IssuerAuthorised => "issuer_authorised",
            CheckId::Status => "status",
            CheckId::ValidityWindow => "validity_window",
            CheckId::Freshness => "freshness",
        }
    }

    /// The check's name for people: (中文, English).
    pub fn title(self) -> (&'static str, &'static str) {
        match self {
            CheckId::Kind => ("证明类型", "Kind of proof"),
            CheckId::Encoding => ("编码", "Encoding"),
            CheckId::Chain => ("链", "Chain"),
            CheckId::ValidatorSet => ("验证者集合", "Validator set"),
            CheckId::Quorum => ("法定签名", "Quorum"),
            CheckId::StateProof => ("状态证明", "State proof"),
            CheckId::DocumentHash => ("文件哈希", "Document hash"),
            CheckId::Holder => ("持有人", "Holder"),
            CheckId::IssuerAuthorised => ("签发机关", "Issuer authorised"),
            CheckId::Status => ("状态", "Status"),
            CheckId::ValidityWindow => ("有效期", "Validity window"),
            CheckId::Freshness => ("时效", "Freshness"),
        }
    }

    /// What `outcome` of this check means, in Chinese, for the person at the desk. The English
    /// [`Check::detail`] beside it carries the specifics (hashes, heights, times); this says the
    /// same in general terms, so that every line of a report reads in both languages.
    pub fn summary_zh(self, outcome: Outcome) -> &'static str {
        use CheckId as C;
        use Outcome as O;
        match (self, outcome) {
            (C::Kind, O::Pass) => "证明类型与本窗口要求一致",
            (C::Kind, O::Fail) => "证明类型不符：本窗口不接受此类证明（如以存证回执冒充证照）",
            (C::Encoding, O::Pass) => "数据格式完整",
            (C::Encoding, O::Fail) => "数据无法解析：已损坏或被篡改",
            (C::Chain, O::Pass) => "属于所信任的链（链标识与创世哈希一致）",
            (C::Chain, O::Fail) => "不属于所信任的链",
            (C::ValidatorSet, O::Pass) => "验证者集合可由信任锚逐步推得",
            (C::ValidatorSet, O::Fail) => "验证者集合无法由信任锚推得",
            (C::Quorum, O::Pass) => "法定数量的验证者对该区块签了名",
            (C::Quorum, O::Fail) => "验证者签名不足或无效",
            (C::StateProof, O::Pass) => "记录确在验证者签名的链上状态中",
            (C::StateProof, O::Fail) => "记录与链上状态不符：已被篡改",
            (C::DocumentHash, O::Pass) => "文件哈希与链上记录一致",
            (C::DocumentHash, O::Fail) => {
                "文件哈希与链上记录不一致：文件已被改动或不是该证照的文件"
            }
            (C::DocumentHash, O::Skipped) => "未提供文件，仅核对了链上记录",
            (C::Holder, O::Pass) => "出示人即持有人（证件号与盐值与链上承诺一致）",
            (C::Holder, O::Fail) => "出示人不是持有人，或证件号、盐值有误",
            (C::Holder, O::Skipped) => "未核对持有人",
            (C::IssuerAuthorised, O::Pass) => "签发机关有权签发该类证照",
            (C::IssuerAuthorised, O::Fail) => "签发机关无权签发该类证照",
            (C::Status, O::Pass) => "证照状态为有效",
            (C::Status, O::Fail) => "证照已被吊销、暂停或替换",
            (C::ValidityWindow, O::Pass) => "当前在有效期内",
            (C::ValidityWindow, O::Fail) => "当前不在有效期内（尚未生效或已过期）",
            (C::Freshness, O::Pass) => "状态证明足够新",
            (C::Freshness, O::Fail) => "状态证明过旧，请取得最新证明",
            (C::Kind, O::Skipped) => "未指定证明类型",
            (_, O::Skipped) => "未检查：前面的检查未通过",
        }
    }
}

/// How one check came out.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Outcome {
    Pass,
    Fail,
    /// Not run: an earlier check failed, or its input (e.g. the document) was not given.
    Skipped,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Skipped => "skipped",
        }
    }
}

/// One line of a verification report.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Check {
    pub id: CheckId,
    pub outcome: Outcome,
    pub detail: String,
}

/// The overall answer, most serious first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Verdict {
    /// The record or the document does not match what the chain certified.
    Tampered,
    /// Not certified by the trusted chain's validators.
    UnknownIssuer,
    /// Not the kind of proof the desk asked for (an evidence receipt at a licence desk, or a
    /// licence at an evidence desk), whatever it proves.
    WrongKind,
    /// The licence is genuine, but the person presenting it is not its holder.
    HolderMismatch,
    Revoked,
    Superseded,
    Suspended,
    Expired,
    NotYetValid,
    /// Everything else holds, but the proof is older than the policy allows.
    StaleProof,
    Valid,
    /// Evidence receipts: the hash was anchored at the stated time.
    Anchored,
}

impl Verdict {
    /// Every verdict, most serious first.
    pub const ALL: [Verdict; 12] = [
        Verdict::Tampered,
        Verdict::UnknownIssuer,
        Verdict::WrongKind,
        Verdict::HolderMismatch,
        Verdict::Revoked,
        Verdict::Superseded,
        Verdict::Suspended,
        Verdict::Expired,
        Verdict::NotYetValid,
        Verdict::StaleProof,
        Verdict::Valid,
        Verdict::Anchored,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Verdict::Tampered => "TAMPERED",
            Verdict::UnknownIssuer => "UNKNOWN ISSUER",
            Verdict::WrongKind => "WRONG KIND",
            Verdict::HolderMismatch => "HOLDER MISMATCH",
            Verdict::Revoked => "REVOKED",
            Verdict::Superseded => "SUPERSEDED",
            Verdict::Suspended => "SUSPENDED",
            Verdict::Expired => "EXPIRED",
            Verdict::NotYetValid => "NOT YET VALID",
            Verdict::StaleProof => "STALE PROOF",
            Verdict::Valid => "VALID",
            Verdict::Anchored => "ANCHORED",
        }
    }
}

/// The trust package a verification used ("trust as of" its checkpoint).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PackageUsed {
    pub checkpoint_height: u64,
    pub checkpoint_time_ms: u64,
    pub package_hash: Hash32,
}

/// The verifier's answer: the verdict, every check on its own line, and the time the status is
/// certified as of.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Report {
    pub verdict: Verdict,
    pub checks: Vec<Check>,
    /// When the reported status was certified: the header's time, or the trust package's
    /// checkpoint time when the package decided the status.
    pub status_as_of_ms: Option<u64>,
    /// The height of the certified header (of the checkpoint, for a compact presentation).
    pub height: Option<u64>,
    /// The trust package used, if any.
    pub trust_package: Option<PackageUsed>,
}

impl Report {
    pub fn check(&self, id: CheckId) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of a report reads in both languages: each check has its own titles, and a
    /// Chinese summary for each outcome that differs between passing and failing.
    #[test]
    fn every_check_and_outcome_has_its_own_words() {
        let mut zh = alloc::collections::BTreeSet::new();
        let mut en = alloc::collections::BTreeSet::new();
        for id in CheckId::ALL {
            let (title_zh, title_en) = id.title();
            assert!(zh.insert(title_zh) && en.insert(title_en), "{id:?}");
            let [pass, fail, skipped] =
                [Outcome::Pass, Outcome::Fail, Outcome::Skipped].map(|o| id.summary_zh(o));
            assert!(!pass.is_empty() && !fail.is_empty() && !skipped.is_empty());
            assert!(pass != fail && fail != skipped && pass != skipped, "{id:?}");
        }
    }
}
