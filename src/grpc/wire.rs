//! The gRPC-over-HTTP/2 wire format: length-prefixed messages, the `grpc-timeout` header,
//! `grpc-message` percent-encoding, and the metadata headers that are not the caller's.

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Frames one message: flag 0 (not compressed), big-endian length, payload.
pub fn frame(message: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(message.len() + 5);
    out.put_u8(0);
    out.put_u32(message.len() as u32);
    out.put_slice(message);
    out.freeze()
}

/// A message that could not be read off the stream.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    /// grpc-go: `grpc: received message larger than max (N vs. M)`.
    #[error("grpc: received message larger than max ({0} vs. {1})")]
    TooLarge(usize, usize),
    #[error("grpc: compressed messages are not supported")]
    Compressed,
}

/// Reassembles messages from DATA frames.
#[derive(Default)]
pub struct Decoder {
    buf: BytesMut,
}

impl Decoder {
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete message, if one is buffered.
    pub fn next_message(&mut self, max: usize) -> Result<Option<Bytes>, FrameError> {
        if self.buf.len() < 5 {
            return Ok(None);
        }
        let compressed = self.buf[0];
        let len = u32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]) as usize;
        if len > max {
            return Err(FrameError::TooLarge(len, max));
        }
        if compressed != 0 {
            return Err(FrameError::Compressed);
        }
        if self.buf.len() < 5 + len {
            return Ok(None);
        }
        self.buf.advance(5);
        Ok(Some(self.buf.split_to(len).freeze()))
    }

    /// Bytes of an incomplete message left over.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// `grpc-timeout` for a duration (grpc-go picks the coarsest unit that keeps 8 digits).
pub fn timeout_header(d: std::time::Duration) -> String {
    let nanos = d.as_nanos();
    for (unit, per) in [
        ('n', 1u128),
        ('u', 1_000),
        ('m', 1_000_000),
        ('S', 1_000_000_000),
        ('M', 60_000_000_000),
        ('H', 3_600_000_000_000),
    ] {
        let v = nanos.div_ceil(per);
        if v < 100_000_000 {
            return format!("{v}{unit}");
        }
    }
    "99999999H".to_string()
}

/// Parses a `grpc-timeout` value.
pub fn parse_timeout(v: &str) -> Option<std::time::Duration> {
    let (digits, unit) = v.split_at(v.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok()?;
    let d = std::time::Duration::from_nanos;
    Some(match unit {
        "n" => d(n),
        "u" => std::time::Duration::from_micros(n),
        "m" => std::time::Duration::from_millis(n),
        "S" => std::time::Duration::from_secs(n),
        "M" => std::time::Duration::from_secs(n.saturating_mul(60)),
        "H" => std::time::Duration::from_secs(n.saturating_mul(3600)),
        _ => return None,
    })
}

/// Percent-encodes a `grpc-message` (the spec's unreserved set is printable ASCII but `%`).
pub fn encode_message(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes a `grpc-message`.
pub fn decode_message(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Headers grpc-go keeps out of the metadata a caller sees, plus pseudo headers (its client
/// passes `content-type` on).
pub fn is_reserved(name: &str) -> bool {
    name.starts_with(':')
        || matches!(
            name,
            "user-agent"
                | "grpc-message-type"
                | "grpc-encoding"
                | "grpc-message"
                | "grpc-status"
                | "grpc-timeout"
                | "grpc-status-details-bin"
                | "te"
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn frames_round_trip_across_chunks() {
        let a = frame(b"hello");
        let b = frame(b"");
        let mut d = Decoder::default();
        d.push(&a[..3]);
        assert_eq!(d.next_message(100), Ok(None));
        d.push(&a[3..]);
        d.push(&b);
        assert_eq!(d.next_message(100).unwrap().unwrap(), &b"hello"[..]);
        assert_eq!(d.next_message(100).unwrap().unwrap(), &b""[..]);
        assert!(d.is_empty());
        let mut d = Decoder::default();
        d.push(&frame(&[0; 10]));
        assert_eq!(d.next_message(4), Err(FrameError::TooLarge(10, 4)));
    }

    #[test]
    fn timeouts_and_messages() {
        assert_eq!(timeout_header(Duration::from_secs(120)), "120000m");
        assert_eq!(timeout_header(Duration::from_millis(1500)), "1500000u");
        assert_eq!(parse_timeout("1500m"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse_timeout("x"), None);
        assert_eq!(encode_message("a 100% é"), "a 100%25 %C3%A9");
        assert_eq!(decode_message("a 100%25 %C3%A9"), "a 100% é");
    }
}
