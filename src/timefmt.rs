//! UTC timestamps as RFC 3339 text, for every part that writes one (Keptn events, the job
//! list, `-o json`/`-o csv`, log lines). No time-zone database: always `Z`.

use std::time::SystemTime;

/// UTC RFC 3339 with milliseconds: `2025-03-04T10:14:58.412Z` (Keptn's quality-gate window,
/// k6's JSON output).
pub fn rfc3339_ms(t: SystemTime) -> String {
    rfc3339(t, true)
}

/// UTC RFC 3339 with seconds (`2026-12-02T18:45:41Z`) or milliseconds (`...41.123Z`).
pub fn rfc3339(t: SystemTime, millis: bool) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, day) = civil_from_days(days);
    let (h, min, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    if millis {
        let ms = d.subsec_millis();
        format!("{y:04}-{m:02}-{day:02}T{h:02}:{min:02}:{s:02}.{ms:03}Z")
    } else {
        format!("{y:04}-{m:02}-{day:02}T{h:02}:{min:02}:{s:02}Z")
    }
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_millis_in_utc() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_741_083_298_412);
        assert_eq!(rfc3339_ms(t), "2025-03-04T10:14:58.412Z");
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_764_701_141_123);
        assert_eq!(rfc3339(t, false), "2025-12-02T18:45:41Z");
        assert_eq!(rfc3339(t, true), "2025-12-02T18:45:41.123Z");
        assert_eq!(
            rfc3339(SystemTime::UNIX_EPOCH, false),
            "1970-01-01T00:00:00Z"
        );
    }
}
