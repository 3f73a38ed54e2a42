//! TEMPORARY: Go-style duration parsing (replaced by the engine branch).

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
#[error("invalid duration `{0}`")]
pub struct DurationError(pub String);

pub fn parse(s: &str) -> Result<Duration, DurationError> {
    let t = s.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = t;
    if rest.is_empty() {
        return Err(DurationError(s.to_string()));
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| DurationError(s.to_string()))?;
        let n: f64 = rest[..num_end]
            .parse()
            .map_err(|_| DurationError(s.to_string()))?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(DurationError(s.to_string())),
        };
        total += n * mult;
        rest = &rest[unit_end..];
    }
    Ok(Duration::from_secs_f64(total))
}
