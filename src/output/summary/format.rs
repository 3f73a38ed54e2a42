//! Value formatting of k6's end-of-test summary (summary.js `humanizeValue` and friends), and
//! the name ordering (`localeCompare`) the summary sorts with.
//!
//! Receives raw metric values (time in ms, data in bytes, rates in 0..1); emits the strings k6
//! prints.

use std::cmp::Ordering;

use crate::metrics::registry::{MetricType, ValueType};

/// JS `Number.prototype.toString` for the values the summary prints.
pub fn js_num(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    format!("{v}")
}

/// JS `toFixed(d)`: rounds to nearest, exact ties away from zero (Rust's formatter rounds ties
/// to even).
pub fn js_to_fixed(v: f64, d: usize) -> String {
    if !v.is_finite() {
        return js_num(v);
    }
    let scale = 10f64.powi(d as i32);
    let scaled = v.abs() * scale;
    if scaled < 1e15 && scaled.fract() == 0.5 {
        let up = (scaled.floor() + 1.0) / scale;
        let s = format!("{:.*}", d, up);
        return if v < 0.0 { format!("-{s}") } else { s };
    }
    let s = format!("{:.*}", d, v);
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        return s[1..].to_string();
    }
    s
}

/// `parseFloat(v.toFixed(prec)).toString()`.
pub fn to_fixed_no_trailing_zeros(v: f64, prec: usize) -> String {
    let fixed = js_to_fixed(v, prec);
    js_num(fixed.parse::<f64>().unwrap_or(v))
}

fn to_fixed_no_trailing_zeros_trunc(v: f64, prec: usize) -> String {
    let mult = 10f64.powi(prec as i32);
    to_fixed_no_trailing_zeros((mult * v).trunc() / mult, prec)
}

/// SI bytes, base 1000 (`17 kB`, `4.0 kB`, `3 B`).
pub fn humanize_bytes(bytes: f64) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    if bytes < 10.0 {
        return format!("{} B", js_num(bytes));
    }
    let e = (bytes.ln() / 1000f64.ln()).floor();
    let suffix = UNITS.get(e as usize).copied().unwrap_or("YB");
    let val = ((bytes / 1000f64.powf(e)) * 10.0 + 0.5).floor() / 10.0;
    format!(
        "{} {suffix}",
        js_to_fixed(val, if val < 10.0 { 1 } else { 0 })
    )
}

/// A duration given in ms, with automatic units (`0s`, `350ns`, `302.12µs`, `44.2ms`, `1.5s`,
/// `1m30s`, `2h3m4s`), truncated to 2 decimals.
pub fn humanize_generic_duration(d: f64) -> String {
    if d == 0.0 {
        return "0s".to_string();
    }
    if d < 0.001 {
        return format!("{}ns", js_num((d * 1_000_000.0).trunc()));
    }
    if d < 1.0 {
        return format!("{}µs", to_fixed_no_trailing_zeros_trunc(d * 1000.0, 2));
    }
    if d < 1000.0 {
        return format!("{}ms", to_fixed_no_trailing_zeros_trunc(d, 2));
    }
    let secs =
        to_fixed_no_trailing_zeros_trunc((d % 60000.0) / 1000.0, if d > 60000.0 { 0 } else { 2 });
    let mut out = format!("{secs}s");
    let mut rem = (d / 60000.0).trunc();
    if rem < 1.0 {
        return out;
    }
    out = format!("{}m{out}", js_num(rem % 60.0));
    rem = (rem / 60.0).trunc();
    if rem < 1.0 {
        return out;
    }
    format!("{}h{out}", js_num(rem))
}

/// A duration in ms, in the fixed `--summary-time-unit` (`s`, `ms`, `us`) when set.
pub fn humanize_duration(d: f64, time_unit: &str) -> String {
    let (coef, unit) = match time_unit {
        "s" => (0.001, "s"),
        "ms" => (1.0, "ms"),
        "us" => (1000.0, "µs"),
        _ => return humanize_generic_duration(d),
    };
    format!("{}{unit}", js_to_fixed(d * coef, 2))
}

/// summary.js `humanizeValue`: rates as truncated percentages, data as bytes, time as
/// durations, anything else with up to 6 decimals.
pub fn humanize_value(v: f64, kind: MetricType, contains: ValueType, time_unit: &str) -> String {
    if kind == MetricType::Rate {
        return format!("{}%", js_to_fixed((v * 100.0 * 100.0).trunc() / 100.0, 2));
    }
    match contains {
        ValueType::Data => humanize_bytes(v),
        ValueType::Time => humanize_duration(v, time_unit),
        ValueType::Default => to_fixed_no_trailing_zeros(v, 6),
    }
}

fn collation_key(c: char) -> (u8, char, u8) {
    // ICU root collation, roughly: whitespace/punctuation < digits < letters (case-insensitive,
    // lowercase first on ties).
    if c.is_alphabetic() {
        let lower = c.to_lowercase().next().unwrap_or(c);
        (2, lower, u8::from(c.is_uppercase()))
    } else if c.is_numeric() {
        (1, c, 0)
    } else {
        (0, c, 0)
    }
}

/// An approximation of JS `a.localeCompare(b)` (ICU root collation) good for metric names.
pub fn locale_cmp(a: &str, b: &str) -> Ordering {
    let primary = a
        .chars()
        .map(|c| {
            let (g, ch, _) = collation_key(c);
            (g, ch)
        })
        .cmp(b.chars().map(|c| {
            let (g, ch, _) = collation_key(c);
            (g, ch)
        }));
    primary.then_with(|| {
        a.chars()
            .map(|c| collation_key(c).2)
            .cmp(b.chars().map(|c| collation_key(c).2))
    })
}

/// summary.js `sortMetricsByName`: by parent name, then by the `{...}` suffix.
pub fn metric_name_cmp(a: &str, b: &str) -> Ordering {
    fn split(s: &str) -> (&str, &str) {
        match s.find('{') {
            Some(i) => (&s[..i], &s[i..]),
            None => (s, ""),
        }
    }
    let (pa, sa) = split(a);
    let (pb, sb) = split(b);
    locale_cmp(pa, pb).then_with(|| locale_cmp(sa, sb))
}

/// A number as Go's JSON encoder (and so k6) writes it: integral values without a fraction
/// (`7`, not `7.0`).
pub fn json_number(v: f64) -> serde_json::Value {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15 {
        serde_json::Value::from(v as i64)
    } else {
        serde_json::Value::from(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(humanize_generic_duration(0.0), "0s");
        assert_eq!(humanize_generic_duration(0.0005), "500ns");
        assert_eq!(humanize_generic_duration(0.30212345), "302.12µs");
        assert_eq!(humanize_generic_duration(0.687961), "687.96µs");
        assert_eq!(humanize_generic_duration(44.2099), "44.2ms");
        assert_eq!(humanize_generic_duration(47.789), "47.78ms");
        assert_eq!(humanize_generic_duration(3.0), "3ms");
        assert_eq!(humanize_generic_duration(1500.0), "1.5s");
        assert_eq!(humanize_generic_duration(90_000.0), "1m30s");
        assert_eq!(humanize_generic_duration(7_384_000.0), "2h3m4s");
        assert_eq!(humanize_duration(47.789, "ms"), "47.79ms");
        assert_eq!(humanize_duration(47.789, "s"), "0.05s");
        assert_eq!(humanize_duration(0.5, "us"), "500.00µs");
    }

    #[test]
    fn rates_bytes_numbers() {
        let rate = |v| humanize_value(v, MetricType::Rate, ValueType::Default, "");
        assert_eq!(rate(18.0 / 42.0), "42.85%");
        assert_eq!(rate(1.0), "100.00%");
        assert_eq!(rate(0.0), "0.00%");
        assert_eq!(rate(0.65), "65.00%");
        assert_eq!(humanize_bytes(2960.0), "3.0 kB");
        assert_eq!(humanize_bytes(16495.3), "17 kB");
        assert_eq!(humanize_bytes(4.0), "4 B");
        assert_eq!(humanize_bytes(1500.0), "1.5 kB");
        assert_eq!(humanize_bytes(16_500.0), "17 kB");
        let num = |v| humanize_value(v, MetricType::Counter, ValueType::Default, "");
        assert_eq!(num(222.90966312), "222.909663");
        assert_eq!(num(30.0), "30");
        assert_eq!(num(0.1 + 0.2), "0.3");
        assert_eq!(js_to_fixed(2.5, 0), "3");
        assert_eq!(js_to_fixed(-0.0001, 2), "0.00");
    }

    #[test]
    fn name_order() {
        let mut names = vec![
            "http_reqs",
            "http_req_duration{status:200}",
            "http_req_failed",
            "http_req_duration",
            "http_req_duration{expected_response:true}",
            "data_sent",
        ];
        names.sort_by(|a, b| metric_name_cmp(a, b));
        assert_eq!(
            names,
            vec![
                "data_sent",
                "http_req_duration",
                "http_req_duration{expected_response:true}",
                "http_req_duration{status:200}",
                "http_req_failed",
                "http_reqs",
            ]
        );
    }

    #[test]
    fn numbers_as_go_writes_them() {
        assert_eq!(json_number(7.0).to_string(), "7");
        assert_eq!(json_number(0.5).to_string(), "0.5");
        assert_eq!(json_number(-3.0).to_string(), "-3");
    }
}
