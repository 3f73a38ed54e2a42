//! The per-VU memory limit: each VU's QuickJS runtime may allocate at most this many bytes, so a
//! script that hoards memory fails its own iteration ("out of memory" as a JS error) instead of
//! taking the whole process (the CLI, or the service with every running test) down.
//!
//! Set with `--max-vu-memory` or `LOADGATE_MAX_VU_MEMORY` (bytes, or a size such as `256MiB`,
//! `1GB`; `0` is no limit). Default 256 MiB.

use std::sync::OnceLock;

/// The default limit: 256 MiB per VU.
pub const DEFAULT_MAX_VU_MEMORY: usize = 256 << 20;

/// The environment variable behind `--max-vu-memory`.
pub const MAX_VU_MEMORY_ENV: &str = "LOADGATE_MAX_VU_MEMORY";

static LIMIT: OnceLock<usize> = OnceLock::new();

/// Sets the limit for the process (the command line's `--max-vu-memory`); the first call wins.
pub fn set_max_vu_memory(bytes: usize) {
    let _ = LIMIT.set(bytes);
}

/// The limit in bytes (0: none). Unless set, read once from the environment; an unreadable value
/// keeps the default (the command line refuses one before any VU starts).
pub fn max_vu_memory() -> usize {
    *LIMIT.get_or_init(|| match std::env::var(MAX_VU_MEMORY_ENV) {
        Ok(v) => parse_size(&v).unwrap_or(DEFAULT_MAX_VU_MEMORY),
        Err(_) => DEFAULT_MAX_VU_MEMORY,
    })
}

/// A byte count: a plain number, or a number with `KB`/`MB`/`GB` (powers of 1000) or
/// `KiB`/`MiB`/`GiB` (powers of 1024), as in `256MiB`.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad =
        || format!("{text:?} is not a size (bytes, or a number with KB, MB, GB, KiB, MiB, GiB)");
    let n: f64 = num.parse().map_err(|_| bad())?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(bad()),
    };
    let bytes = n * mult;
    if !bytes.is_finite() || bytes >= usize::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes as usize)
}

/// A readable form of a byte count, for messages (`256 MiB`).
pub fn human(bytes: usize) -> String {
    const MIB: usize = 1 << 20;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// The note added to QuickJS's "out of memory" so the user knows which limit was hit.
pub fn out_of_memory_note() -> String {
    format!(
        "the VU exceeded its memory limit of {} (--max-vu-memory, {MAX_VU_MEMORY_ENV})",
        human(max_vu_memory())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_bytes_or_numbers_with_units() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size(" 256MiB "), Ok(256 << 20));
        assert_eq!(parse_size("1GB"), Ok(1_000_000_000));
        assert_eq!(parse_size("1.5 KiB"), Ok(1536));
        assert_eq!(parse_size("0"), Ok(0));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("1e400").is_err());
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn messages_name_the_limit() {
        assert_eq!(human(256 << 20), "256 MiB");
        assert_eq!(human(1000), "1000 bytes");
    }
}
