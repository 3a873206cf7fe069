//! `lichen verify --report report.html`: a self-contained, printable, bilingual report for a case
//! file: the verdict, every check, every hash, the block, the validators that signed, the trust
//! anchor's fingerprint, and how to check it again without Lichen's code.

use lichen_contracts::codec::Decode;
use lichen_contracts::crypto::Suite;
use lichen_contracts::presentation::{
    Certified, EvidenceReceipt, Outcome, Presentation, RECEIPT_TAG, Report, TrustAnchor, TrustState,
};
use lichen_contracts::time::rfc3339_from_ms;

/// What the report is about, besides the verifier's report.
#[derive(Debug)]
pub struct ReportInput<'a> {
    pub file_name: &'a str,
    pub bytes: &'a [u8],
    pub anchor: &'a TrustAnchor,
    pub package: Option<&'a TrustState>,
    pub report: &'a Report,
    pub checked_at_ms: u64,
    /// The command line, to show how the report was made.
    pub trust_file: &'a str,
}

/// `text` safe inside HTML (and with control characters written out).
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn verdict_zh(name: &str) -> &'static str {
    match name {
        "VALID" => "有效",
        "ANCHORED" => "已存证",
        "REVOKED" => "已吊销",
        "SUSPENDED" => "已暂停",
        "SUPERSEDED" => "已被替换",
        "EXPIRED" => "已过期",
        "NOT YET VALID" => "尚未生效",
        "TAMPERED" => "已被篡改",
        "UNKNOWN ISSUER" => "签发方不可信",
        "WRONG KIND" => "证明类型不符",
        "HOLDER MISMATCH" => "持有人不符",
        "STALE PROOF" => "证明已过时",
        _ => "",
    }
}

fn row(out: &mut String, zh: &str, en: &str, value: &str) {
    out.push_str(&format!(
        "<tr><th>{zh} <span lang=\"en\">{en}</span></th><td><code>{}</code></td></tr>\n",
        esc(value)
    ));
}

/// The certified part of the proof, if it decodes.
fn certified(bytes: &[u8]) -> Option<Certified> {
    if bytes.first() == Some(&RECEIPT_TAG) {
        EvidenceReceipt::from_bytes(bytes).ok().map(|r| r.certified)
    } else {
        Presentation::from_bytes(bytes).ok().map(|p| p.certified)
    }
}

/// The whole report as one HTML document (no external resources).
pub fn html(input: &ReportInput<'_>) -> String {
    let r = input.report;
    let suite: Suite = input.anchor.suite;
    let verdict = r.verdict.name();
    let good = matches!(verdict, "VALID" | "ANCHORED");
    let mut body = String::new();
    body.push_str(&format!(
        "<h1>核验报告 <span lang=\"en\">Verification report</span></h1>\n<p class=\"verdict {}\">{} <span lang=\"en\">{}</span></p>\n",
        if good { "good" } else { "bad" },
        verdict_zh(verdict),
        esc(verdict)
    ));
    body.push_str("<h2>证明 <span lang=\"en\">The proof</span></h2>\n<table>\n");
    row(&mut body, "文件", "File", input.file_name);
    row(
        &mut body,
        "大小",
        "Size",
        &format!("{} bytes", input.bytes.len()),
    );
    row(
        &mut body,
        "文件摘要",
        "Digest of the file",
        &suite.digest(input.bytes).to_hex(),
    );
    row(
        &mut body,
        "核验时间",
        "Checked at",
        &rfc3339_from_ms(input.checked_at_ms),
    );
    if let Some(ms) = r.status_as_of_ms {
        row(&mut body, "状态截至", "Status as of", &rfc3339_from_ms(ms));
    }
    if let Some(c) = certified(input.bytes) {
        let h = &c.header;
        row(&mut body, "区块高度", "Block height", &h.height.to_string());
        row(
            &mut body,
            "区块时间",
            "Block time",
            &rfc3339_from_ms(h.time_ms),
        );
        row(&mut body, "区块哈希", "Block hash", &h.hash(suite).to_hex());
        row(&mut body, "状态根", "State root", &h.state_root.to_hex());
        let set = c.signing_set(input.package.map_or(input.anchor, |p| &p.anchor));
        let signers: Vec<String> = c
            .certificate
            .signatures
            .iter()
            .map(|s| match &set {
                Ok(set) => set
                    .validators
                    .get(usize::from(s.index))
                    .map_or(format!("#{}", s.index), |v| {
                        format!("#{} {} ({})", s.index, v.name, v.key)
                    }),
                Err(_) => format!("#{} (not in the trusted set)", s.index),
            })
            .collect();
        row(
            &mut body,
            "签名的验证者",
            "Validators that signed",
            &signers.join("; "),
        );
    }
    body.push_str("</table>\n<h2>每项检查 <span lang=\"en\">Every check</span></h2>\n<table>\n");
    for c in &r.checks {
        let outcome = match c.outcome {
            Outcome::Pass => "通过 pass",
            Outcome::Fail => "未通过 FAIL",
            Outcome::Skipped => "跳过 skipped",
        };
        let (title_zh, title_en) = c.id.title();
        body.push_str(&format!(
            "<tr class=\"{}\"><th>{title_zh} <span lang=\"en\">{title_en}</span></th>\
             <td>{outcome}</td><td>{}<br><span lang=\"en\">{}</span></td></tr>\n",
            c.outcome.name(),
            c.id.summary_zh(c.outcome),
            esc(&c.detail)
        ));
    }
    body.push_str("</table>\n<h2>信任 <span lang=\"en\">What was trusted</span></h2>\n<table>\n");
    row(
        &mut body,
        "链",
        "Chain",
        &format!("{} ({})", input.anchor.chain_id, suite.name()),
    );
    row(
        &mut body,
        "创世哈希",
        "Genesis hash",
        &input.anchor.genesis_hash.to_hex(),
    );
    row(
        &mut body,
        "信任锚指纹",
        "Trust anchor fingerprint",
        &input.anchor.hash().to_hex(),
    );
    if let Some(p) = input.package {
        row(
            &mut body,
            "信任包",
            "Trust package",
            &p.package_hash.to_hex(),
        );
        row(
            &mut body,
            "信任截至",
            "Trust as of",
            &format!(
                "{} (block {})",
                rfc3339_from_ms(p.checkpoint_time_ms),
                p.checkpoint_height
            ),
        );
    }
    body.push_str("</table>\n");
    body.push_str(&format!(
        "<h2>独立复核 <span lang=\"en\">Checking it again, independently</span></h2>\n<p>Compare the genesis hash and fingerprint above with the ones the chain's operators publish. Then, with Python 3 and Lichen's <code>scripts/independent_verifier.py</code> (written from PROTOCOL.md alone, the standard library only):</p>\n<pre>python3 scripts/independent_verifier.py --trust {} --presentation {} --at {}</pre>\n<p>It must print the same verdict. PROTOCOL.md specifies every byte, so any other implementation can check the file too.</p>\n",
        esc(input.trust_file),
        esc(input.file_name),
        esc(&rfc3339_from_ms(input.checked_at_ms))
    ));
    format!(
        "<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>Lichen 核验报告 · Verification report</title>\n<style>\nbody {{ font-family: \"Noto Sans CJK SC\", \"Noto Sans\", sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #111; }}\n.verdict {{ font-size: 2rem; font-weight: bold; padding: .5rem 1rem; border: 3px solid; }}\n.good {{ color: #0a5d1e; border-color: #0a5d1e; }}\n.bad {{ color: #9b1111; border-color: #9b1111; }}\ntable {{ border-collapse: collapse; width: 100%; margin-bottom: 1rem; }}\nth, td {{ border: 1px solid #999; padding: .3rem .5rem; text-align: left; vertical-align: top; }}\ncode, pre {{ word-break: break-all; white-space: pre-wrap; }}\ntr.fail td, tr.fail th {{ background: #fde8e8; }}\n@media print {{ body {{ margin: 0; }} }}\n</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )
}
