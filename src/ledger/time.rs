//! Times as the ledger stores them: RFC 3339 UTC with seconds, so string
//! comparison orders them, and run ids made from them. One fixed format
//! written, and read back with bare dates and offsets: `humantime` reads no
//! bare date and `time`/`jiff` are large for this, so it is done here,
//! with property tests (round trips) in `fuzz.rs`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Normalises an RFC 3339 time (or a bare date) to the UTC form the ledger
/// stores, so string comparison orders correctly. `None` if unreadable.
pub fn normalize_rfc3339(text: &str) -> Option<String> {
    let t = text.trim();
    if !t.is_ascii() {
        return None; // also keeps the byte slicing below on char boundaries
    }
    let num = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
    };
    let (date, rest) = t.split_at(t.len().min(10));
    let mut d = date.split('-');
    let (y, mo, da) = (num(d.next()?)?, num(d.next()?)?, num(d.next()?)?);
    if d.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&da) {
        return None;
    }
    let (mut secs, mut offset) = (0i64, 0i64);
    if !rest.is_empty() {
        let rest = rest.strip_prefix(['T', 't', ' '])?;
        let (clock, zone) = match rest.find(['Z', 'z', '+', '-']) {
            Some(i) => rest.split_at(i),
            None => return None,
        };
        let clock = clock.split('.').next()?;
        let mut c = clock.split(':');
        let (h, mi, s) = (
            num(c.next()?)?,
            num(c.next()?)?,
            num(c.next().unwrap_or("0"))?,
        );
        if h > 23 || mi > 59 || s > 60 {
            return None;
        }
        secs = h * 3600 + mi * 60 + s;
        if !zone.eq_ignore_ascii_case("z") {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let mut z = zone[1..].split(':');
            offset = sign * (num(z.next()?)? * 3600 + num(z.next()?)? * 60);
        }
    }
    let days = days_from_civil(y, mo as u32, da as u32);
    let total = days * 86_400 + secs - offset;
    Some(rfc3339(
        UNIX_EPOCH + Duration::from_secs(u64::try_from(total).ok()?),
    ))
}

/// Seconds from a stored time (`YYYY-MM-DDTHH:MM:SSZ`) to now.
pub fn age_s(stored: &str) -> Option<f64> {
    let b = stored.as_bytes();
    if b.len() < 19 || !stored.is_ascii() {
        return None;
    }
    let n = |r: std::ops::Range<usize>| stored[r].parse::<i64>().ok();
    let days = days_from_civil(n(0..4)?, n(5..7)? as u32, n(8..10)? as u32);
    let at = days * 86_400 + n(11..13)? * 3600 + n(14..16)? * 60 + n(17..19)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_secs_f64();
    Some((now - at as f64).max(0.0))
}

/// Days since 1970-01-01 of a civil date (Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(year, month, day)` of a day count since 1970-01-01 (Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `time` as RFC 3339 UTC with seconds, e.g. `2026-11-27T09:15:03Z`.
pub fn rfc3339(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// A new run id: the UTC time and 16 random bits, e.g. `20261127-091503-a3f2`.
pub fn new_run_id(now: SystemTime, random: u64) -> String {
    let stamp = rfc3339(now);
    let digits: String = stamp.chars().filter(char::is_ascii_digit).collect();
    format!(
        "{}-{}-{:04x}",
        &digits[..8],
        &digits[8..14],
        random & 0xffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_of_a_stored_time() {
        let minute_ago = rfc3339(SystemTime::now() - Duration::from_secs(60));
        let age = age_s(&minute_ago).unwrap();
        assert!((59.0..62.0).contains(&age), "{age}");
        assert_eq!(age_s("yesterday"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_770_903); // 2026-11-27T09:15:03Z
        assert_eq!(rfc3339(t), "2026-11-27T09:15:03Z");
        assert_eq!(new_run_id(t, 0xa3f2), "20261127-091503-a3f2");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(&rfc3339(leap)[..10], "2000-02-29");
    }

    #[test]
    fn since_is_normalised_to_utc() {
        assert_eq!(
            normalize_rfc3339("2026-11-27").as_deref(),
            Some("2026-11-27T00:00:00Z")
        );
        assert_eq!(
            normalize_rfc3339("2026-11-27T10:15:03+01:00").as_deref(),
            Some("2026-11-27T09:15:03Z")
        );
        assert_eq!(
            normalize_rfc3339("2026-11-27T09:15:03.25Z").as_deref(),
            Some("2026-11-27T09:15:03Z")
        );
        assert_eq!(
            normalize_rfc3339("2000-03-01T00:00:00Z").as_deref(),
            Some("2000-03-01T00:00:00Z")
        );
        for bad in [
            "yesterday",
            "2026-13-01",
            "2026-11-27T25:00:00Z",
            "2026-11-27T09:00",
            "",
        ] {
            assert_eq!(normalize_rfc3339(bad), None, "{bad:?}");
        }
    }
}
