//! Caps on what one response may hold in memory, so a huge body or a decompression bomb fails
//! its request instead of exhausting the process (the service runs many tests in one).
//!
//! `LOADGATE_MAX_RESPONSE_BODY` (bytes, default 512 MiB) caps a response body as received and
//! again after `Content-Encoding` decoding. Beyond it the request fails with an error naming the
//! limit: k6 error code 1000 for the received body, 1701 (decompression error) for the decoded
//! one. Bodies that are not kept (`discardResponseBodies`, `responseType: 'none'`) are read and
//! dropped as they arrive and are not capped.

use std::sync::OnceLock;

/// The default cap: 512 MiB.
pub const DEFAULT_MAX_RESPONSE_BODY: usize = 512 << 20;

/// The environment variable that sets the cap, in bytes.
pub const MAX_RESPONSE_BODY_ENV: &str = "LOADGATE_MAX_RESPONSE_BODY";

/// The cap in bytes (read once from the environment; an unreadable value keeps the default).
pub fn max_response_body() -> usize {
    static CAP: OnceLock<usize> = OnceLock::new();
    *CAP.get_or_init(|| parse(std::env::var(MAX_RESPONSE_BODY_ENV).ok().as_deref()))
}

fn parse(v: Option<&str>) -> usize {
    match v.map(str::trim).map(str::parse::<usize>) {
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            tracing::warn!(
                "{MAX_RESPONSE_BODY_ENV} is not a positive number of bytes; using {DEFAULT_MAX_RESPONSE_BODY}"
            );
            DEFAULT_MAX_RESPONSE_BODY
        }
        None => DEFAULT_MAX_RESPONSE_BODY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_a_positive_byte_count_or_the_default() {
        assert_eq!(parse(None), DEFAULT_MAX_RESPONSE_BODY);
        assert_eq!(parse(Some(" 1000 ")), 1000);
        assert_eq!(parse(Some("0")), DEFAULT_MAX_RESPONSE_BODY);
        assert_eq!(parse(Some("1GB")), DEFAULT_MAX_RESPONSE_BODY);
    }
}
