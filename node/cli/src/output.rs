//! Human and `--json` output: every line goes through [`out!`], values print as indented
//! `key: value` lines for people or pretty JSON for scripts.

use lichen_contracts::presentation::{Outcome, Report, Verdict};
use lichen_views as views;
use lichen_views::api::FinalityReceipt;

use crate::time::local;
use serde_json::Value;

/// Prints a line to stdout; a closed pipe (`lichen ... | head -1`) ends the process quietly
/// instead of panicking.
macro_rules! out {
    ($($t:tt)*) => { $crate::output::emit(format_args!($($t)*)) };
}
pub(crate) use out;

/// `text` with every control character (escape codes, carriage returns, newlines...) written as
/// `\u{..}`: text decoded from untrusted bytes can then not redraw the terminal.
pub fn safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes one line (or a block of pretty JSON) to stdout. Control characters other than the
/// newlines and tabs of our own layout are escaped, whatever a value contains.
pub fn emit(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let text = args.to_string();
    let text: String = if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        text.split('\n').map(safe).collect::<Vec<_>>().join("\n")
    } else {
        text
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = writeln!(stdout, "{text}").and_then(|_| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("cannot write to stdout: {e}");
        std::process::exit(2);
    }
}

/// A finality receipt from `POST /v1/transactions?wait=final`; `extra` fields (a generated
/// holder salt, the anchored hash) join it in JSON output.
pub fn print_receipt(
    receipt: &FinalityReceipt,
    extra: &[(&str, String)],
    as_json: bool,
    what: &str,
) {
    if as_json {
        let mut v = views::api::to_value(receipt);
        for (field, value) in extra {
            v[*field] = Value::String(value.clone());
        }
        out!("{}", views::to_pretty_string(&v));
    } else {
        out!(
            "{what}: final in block {} at {}\ntransaction {}",
            receipt.height,
            receipt.block_time,
            receipt.id
        );
    }
}

/// The verifier's report on `bytes`: every check on its own line, or the shared JSON view.
pub fn print_report(report: &Report, bytes: &[u8], as_json: bool) {
    if as_json {
        out!(
            "{}",
            views::to_pretty_string(&views::report_to_json(report, bytes))
        );
        return;
    }
    out!("{}", report.verdict.name());
    for c in &report.checks {
        let mark = match c.outcome {
            Outcome::Pass => "pass",
            Outcome::Fail => "FAIL",
            Outcome::Skipped => "skip",
        };
        out!("  [{mark}] {:<18} {}", c.id.name(), safe(&c.detail));
    }
    let licence = !bytes.is_empty() && bytes[0] != lichen_contracts::presentation::RECEIPT_TAG;
    if licence
        && report
            .check(lichen_contracts::presentation::CheckId::Holder)
            .is_none()
    {
        out!("  holder not checked: give --holder-id and --holder-salt to check who presents it");
    }
    // The record as certified, in the reader's local time (the checks above say UTC).
    let view = views::VerifyReport::new(report, bytes);
    if let Some(l) = view.licence.as_ref().filter(|_| view.certified) {
        let until = l.valid_until_ms.map_or_else(
            || "no expiry".to_string(),
            |ms| format!("until {}", local(ms)),
        );
        out!(
            "licence {} ({}, issued by {}): valid from {}, {until}",
            safe(&l.id),
            safe(&l.licence_type),
            safe(&l.issuer),
            local(l.valid_from_ms)
        );
    }
    if let Some(e) = view.evidence.as_ref().filter(|_| view.certified) {
        out!("anchored at {} (block {})", local(e.time_ms), e.height);
    }
    if let Some(ms) = report.status_as_of_ms {
        out!(
            "status as of {} (block {})",
            local(ms),
            report.height.unwrap_or(0)
        );
    }
    if let Some(p) = report.trust_package {
        out!(
            "trust as of {} (trust package checkpoint at block {}, package {})",
            local(p.checkpoint_time_ms),
            p.checkpoint_height,
            p.package_hash
        );
    }
}

/// Exit status for a verdict: 0 when the document is good.
pub fn verdict_exit_code(v: Verdict) -> u8 {
    match v {
        Verdict::Valid | Verdict::Anchored => 0,
        _ => 1,
    }
}

pub fn print_value(v: &Value, as_json: bool) {
    if as_json {
        out!("{}", views::to_pretty_string(v));
    } else {
        print_human(v, 0);
    }
}

/// Indented `key: value` lines, for people.
fn print_human(v: &Value, indent: usize) {
    let pad = "  ".repeat(indent);
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                match val {
                    Value::Object(_) | Value::Array(_) if !is_empty(val) => {
                        out!("{pad}{k}:");
                        print_human(val, indent + 1);
                    }
                    _ => out!("{pad}{k}: {}", scalar(val)),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(_) | Value::Array(_) => {
                        out!("{pad}-");
                        print_human(item, indent + 1);
                    }
                    _ => out!("{pad}- {}", scalar(item)),
                }
            }
        }
        other => out!("{pad}{}", scalar(other)),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(safe("plain 中文 text"), "plain 中文 text");
        assert_eq!(
            safe("lichen-\u{1b}[2K\rVALID\n"),
            "lichen-\\u{1b}[2K\\u{d}VALID\\u{a}"
        );
    }
}
