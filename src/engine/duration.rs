//! Go-style durations as k6 parses them (`lib/types.ParseExtendedDuration`): `"1m30s"`, `"500ms"`,
//! `"2.5s"`, `"1h"`, `"1d2h"`, `"0"`; a bare number (string or JSON number) means milliseconds.
//! Receives option values (strings or JSON numbers), emits signed nanosecond [`GoDuration`]s so that
//! validation can report negative values instead of failing to parse them, and formats them back the
//! way Go's `time.Duration.String()` does (for banners and `exec.test.options`).

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A duration that could not be parsed; names the offending value as Go's `time` package does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not a Go duration.
    #[error("time: invalid duration \"{0}\"")]
    Invalid(String),
    /// A number without unit in a multi-part duration, e.g. `"1h30"`.
    #[error("time: missing unit in duration \"{0}\"")]
    MissingUnit(String),
    /// A unit Go does not know, e.g. `"3y"`.
    #[error("time: unknown unit \"{unit}\" in duration \"{value}\"")]
    UnknownUnit { unit: String, value: String },
    /// Does not fit in 64-bit nanoseconds.
    #[error("time: invalid duration \"{0}\" (overflow)")]
    Overflow(String),
}

/// A signed duration in nanoseconds (Go's `time.Duration`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoDuration(pub i64);

impl GoDuration {
    /// Zero.
    pub const ZERO: GoDuration = GoDuration(0);

    /// From whole seconds.
    pub const fn from_secs(s: i64) -> Self {
        GoDuration(s * 1_000_000_000)
    }

    /// From whole milliseconds.
    pub const fn from_millis(ms: i64) -> Self {
        GoDuration(ms * 1_000_000)
    }

    /// Nanoseconds.
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// True when below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// As a std duration; negative values become zero.
    pub fn to_std(self) -> Duration {
        Duration::from_nanos(self.0.max(0) as u64)
    }

    /// From a std duration (saturating).
    pub fn from_std(d: Duration) -> Self {
        GoDuration(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    }

    /// From a float number of milliseconds, as k6 converts script numbers (see [`go_nanos`]).
    pub fn from_millis_f64(ms: f64) -> Self {
        GoDuration(go_nanos(ms * 1e6))
    }

    /// From a float number of seconds, as k6 converts script numbers (see [`go_nanos`]).
    pub fn from_secs_f64(secs: f64) -> Self {
        GoDuration(go_nanos(secs * 1e9))
    }

    /// Parses like k6's `ParseExtendedDuration`: a plain number is milliseconds, a `d` unit is days.
    pub fn parse(s: &str) -> Result<Self, DurationError> {
        let t = s.trim();
        if let Ok(ms) = t.parse::<f64>() {
            // k6: `time.Duration(ParseFloat(s) * time.Millisecond)`, "inf" and "NaN" included.
            return Ok(GoDuration::from_millis_f64(ms));
        }
        parse_go(t).map_err(|e| match e {
            // Report the caller's original text.
            DurationError::Invalid(_) => DurationError::Invalid(s.to_string()),
            other => other,
        })
    }

    /// From a JSON option value: a string is parsed, a number is milliseconds.
    pub fn from_json(v: &serde_json::Value) -> Result<Self, DurationError> {
        match v {
            serde_json::Value::String(s) => Self::parse(s),
            serde_json::Value::Number(n) => match n.as_f64() {
                Some(ms) => Ok(GoDuration::from_millis_f64(ms)),
                None => Err(DurationError::Invalid(n.to_string())),
            },
            other => Err(DurationError::Invalid(other.to_string())),
        }
    }
}

/// What Go's `time.Duration(f)` gives for a float number of nanoseconds on amd64, the platform k6
/// users run most: the value truncated toward zero, or `i64::MIN` when `f` is NaN or outside the
/// 64-bit range (the CPU's "integer indefinite"). That is why `sleep(1e20)`, `setTimeout(f, 1e30)`
/// and `timeout: 1e22` end at once in k6 (a negative duration): loadgate does the same instead of
/// panicking in `Duration::from_secs_f64`.
pub fn go_nanos(f: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if f.is_nan() || !(-LIMIT..LIMIT).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// A std duration from float seconds that never panics: NaN and negative values are zero, values
/// beyond [`FOREVER`] are [`FOREVER`]. For internal figures (not script numbers, which follow k6
/// through [`GoDuration::from_secs_f64`]).
pub fn saturating_secs(secs: f64) -> Duration {
    if secs.is_nan() || secs <= 0.0 {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(secs)
        .unwrap_or(FOREVER)
        .min(FOREVER)
}

/// Longer than any test: a deadline this far ahead can be added to `Instant::now()` safely.
pub const FOREVER: Duration = Duration::from_secs(100 * 365 * 86_400);

/// Go's `time.ParseDuration` extended with a `d` (24h) unit.
fn parse_go(s: &str) -> Result<GoDuration, DurationError> {
    let orig = s;
    let invalid = || DurationError::Invalid(orig.to_string());
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(GoDuration(0));
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: f64 = 0.0;
    let mut total_int: i128 = 0;
    while !rest.is_empty() {
        let num_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        if num_len == 0 {
            return Err(invalid());
        }
        let num = &rest[..num_len];
        if num == "." || num.matches('.').count() > 1 {
            return Err(invalid());
        }
        rest = &rest[num_len..];
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(rest.len(), |(i, _)| i);
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale: i128 = match unit {
            "" => return Err(DurationError::MissingUnit(orig.to_string())),
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "d" => 86_400_000_000_000,
            _ => {
                return Err(DurationError::UnknownUnit {
                    unit: unit.to_string(),
                    value: orig.to_string(),
                });
            }
        };
        match num.split_once('.') {
            None => {
                let n: i128 = num.parse().map_err(|_| invalid())?;
                total_int = n
                    .checked_mul(scale)
                    .and_then(|v| v.checked_add(total_int))
                    .ok_or_else(|| DurationError::Overflow(orig.to_string()))?;
            }
            Some((int, frac)) => {
                let int: i128 = if int.is_empty() {
                    0
                } else {
                    int.parse().map_err(|_| invalid())?
                };
                total_int = int
                    .checked_mul(scale)
                    .and_then(|v| v.checked_add(total_int))
                    .ok_or_else(|| DurationError::Overflow(orig.to_string()))?;
                if !frac.is_empty() {
                    let f: f64 = format!("0.{frac}").parse().map_err(|_| invalid())?;
                    total += f * scale as f64;
                }
            }
        }
    }
    let ns = total_int + total as i128;
    let ns = i64::try_from(ns).map_err(|_| DurationError::Overflow(orig.to_string()))?;
    Ok(GoDuration(if neg { -ns } else { ns }))
}

impl fmt::Display for GoDuration {
    /// Formats as Go's `time.Duration.String()`: `1h0m0s`, `1m30s`, `10m30.5s`, `500ms`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let u = self.0.unsigned_abs();
        let sign = if neg { "-" } else { "" };
        if u == 0 {
            return f.write_str("0s");
        }
        if u < 1_000_000_000 {
            let (unit, div) = if u < 1_000 {
                ("ns", 1)
            } else if u < 1_000_000 {
                ("µs", 1_000)
            } else {
                ("ms", 1_000_000)
            };
            return write!(f, "{sign}{}{unit}", frac(u, div));
        }
        let h = u / 3_600_000_000_000;
        let m = (u / 60_000_000_000) % 60;
        let s_ns = u % 60_000_000_000;
        let secs = frac(s_ns, 1_000_000_000);
        if h > 0 {
            write!(f, "{sign}{h}h{m}m{secs}s")
        } else if m > 0 {
            write!(f, "{sign}{m}m{secs}s")
        } else {
            write!(f, "{sign}{secs}s")
        }
    }
}

/// `v / div` with the fraction's trailing zeros trimmed.
fn frac(v: u64, div: u64) -> String {
    let int = v / div;
    let rem = v % div;
    if rem == 0 {
        return int.to_string();
    }
    let width = div.ilog10() as usize;
    let digits = format!("{rem:0width$}");
    format!("{int}.{}", digits.trim_end_matches('0'))
}

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = GoDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration string such as \"1m30s\" or a number of milliseconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<GoDuration, E> {
                GoDuration::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<GoDuration, E> {
                Ok(GoDuration(v.saturating_mul(1_000_000)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<GoDuration, E> {
                Ok(GoDuration(
                    i64::try_from(v)
                        .unwrap_or(i64::MAX)
                        .saturating_mul(1_000_000),
                ))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<GoDuration, E> {
                Ok(GoDuration::from_millis_f64(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> i64 {
        GoDuration::parse(s).unwrap().0
    }

    #[test]
    fn parses_go_durations() {
        assert_eq!(p("1m30s"), 90_000_000_000);
        assert_eq!(p("500ms"), 500_000_000);
        assert_eq!(p("1h"), 3_600_000_000_000);
        assert_eq!(p("2.5s"), 2_500_000_000);
        assert_eq!(p("0"), 0);
        assert_eq!(p("0s"), 0);
        assert_eq!(p("-1s"), -1_000_000_000);
        assert_eq!(p("1d2h"), 26 * 3_600_000_000_000);
        assert_eq!(p("1.5h"), 5_400_000_000_000);
        assert_eq!(p("10us"), 10_000);
        assert_eq!(p("250"), 250_000_000, "plain number = ms");
    }

    #[test]
    fn rejects_bad_durations_naming_them() {
        let e = GoDuration::parse("xyz").unwrap_err();
        assert_eq!(e.to_string(), "time: invalid duration \"xyz\"");
        assert!(GoDuration::parse("").is_err());
        assert!(matches!(
            GoDuration::parse("1h30"),
            Err(DurationError::MissingUnit(_))
        ));
        let e = GoDuration::parse("3y").unwrap_err();
        assert!(e.to_string().contains("\"y\""), "{e}");
    }

    #[test]
    fn json_numbers_are_milliseconds() {
        let v = serde_json::json!(1500);
        assert_eq!(GoDuration::from_json(&v).unwrap().0, 1_500_000_000);
        let d: GoDuration = serde_json::from_value(serde_json::json!("2s")).unwrap();
        assert_eq!(d, GoDuration::from_secs(2));
        let d: GoDuration = serde_json::from_value(serde_json::json!(2.5)).unwrap();
        assert_eq!(d.0, 2_500_000);
    }

    #[test]
    fn script_numbers_convert_as_k6_does() {
        assert_eq!(GoDuration::from_secs_f64(1.5).0, 1_500_000_000);
        assert_eq!(
            GoDuration::from_secs_f64(1e20).0,
            i64::MIN,
            "overflow: Go's MinInt64"
        );
        assert_eq!(GoDuration::from_millis_f64(f64::NAN).0, i64::MIN);
        assert_eq!(GoDuration::from_millis_f64(f64::INFINITY).0, i64::MIN);
        assert_eq!(GoDuration::from_millis_f64(-5.0).0, -5_000_000);
        assert_eq!(GoDuration::from_millis_f64(1e22).to_std(), Duration::ZERO);
        assert!(GoDuration::parse("inf").unwrap().is_negative());
        assert_eq!(saturating_secs(1e300), FOREVER);
        assert_eq!(saturating_secs(f64::NAN), Duration::ZERO);
        assert_eq!(saturating_secs(-1.0), Duration::ZERO);
        let _ = std::time::Instant::now() + FOREVER;
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(GoDuration(0).to_string(), "0s");
        assert_eq!(GoDuration::from_secs(90).to_string(), "1m30s");
        assert_eq!(GoDuration::from_secs(3600).to_string(), "1h0m0s");
        assert_eq!(GoDuration::from_millis(630_500).to_string(), "10m30.5s");
        assert_eq!(GoDuration::from_millis(500).to_string(), "500ms");
        assert_eq!(GoDuration(1_500).to_string(), "1.5µs");
        assert_eq!(GoDuration::from_secs(-2).to_string(), "-2s");
    }
}
