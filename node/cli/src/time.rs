//! Times and durations as people type them on the command line.

use anyhow::{Result, anyhow, bail};
use lichen_views as views;

/// Now, in milliseconds since the Unix epoch (the default of every `--time`-like flag).
pub fn now_ms() -> u64 {
    lichen_node::runtime::now_ms()
}

/// A time given as milliseconds, `YYYY-MM-DD` (midnight UTC) or RFC 3339 UTC.
pub fn parse_time(text: &str) -> Result<u64> {
    if let Ok(ms) = text.parse::<u64>() {
        return Ok(ms);
    }
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_string()
    };
    views::parse_rfc3339_ms(&full).map_err(|e| {
        anyhow!(
            "'{text}' is not a time (use 2026-01-31, 2026-01-31T08:00:00Z or milliseconds): {e}"
        )
    })
}

/// An instant for people: the local time with its zone and offset, e.g. `2026-12-04 13:28:31
/// CST (UTC+08:00)` (the zone of `TZ` or the system's; UTC if none can be read).
pub fn local(ms: u64) -> String {
    let zoned = i64::try_from(ms)
        .ok()
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .map(|t| {
            t.to_zoned_datetime(jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC))
        });
    match zoned {
        Some(z) => z.strftime("%Y-%m-%d %H:%M:%S %Z (UTC%:z)").to_string(),
        None => format!("{ms} ms"),
    }
}

/// A time flag's value, or now when it is absent.
pub fn parse_time_or_now(text: Option<&str>) -> Result<u64> {
    text.map_or_else(|| Ok(now_ms()), parse_time)
}

/// A duration like `90s`, `15m`, `24h`, `7d` or plain milliseconds.
pub fn parse_duration_ms(text: &str) -> Result<u64> {
    let (num, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = num
        .parse()
        .map_err(|_| anyhow!("'{text}' is not a duration (e.g. 90s, 15m, 24h, 7d)"))?;
    let mult = match unit {
        "" | "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => bail!("'{text}': unknown unit '{unit}' (ms, s, m, h, d)"),
    };
    Ok(n.saturating_mul(mult))
}
