//! Request and response bodies: decoding `Content-Encoding` (gzip, deflate) of responses,
//! compressing request bodies (`compression` param), and the body builders the JS binding needs:
//! `application/x-www-form-urlencoded` (Go's `url.Values.Encode`) and `multipart/form-data` (for
//! `http.file`).

use std::io::{Read, Write};

use bytes::Bytes;
use flate2::Compression as Level;
use flate2::read::{DeflateDecoder, GzDecoder, ZlibDecoder};
use flate2::write::{GzEncoder, ZlibEncoder};

use super::error_code::HttpError;
use super::types::Compression;

/// Decodes `body` per the `Content-Encoding` header value (a comma list, applied in order).
/// Unknown encodings leave the body as it is. A decoded body larger than
/// [`super::limits::max_response_body`] fails (a decompression bomb).
pub(crate) fn decode(encoding: &str, body: Bytes) -> Result<Bytes, HttpError> {
    decode_capped(encoding, body, super::limits::max_response_body())
}

/// [`decode`] with the cap given.
pub(crate) fn decode_capped(encoding: &str, body: Bytes, cap: usize) -> Result<Bytes, HttpError> {
    let mut body = body;
    for enc in encoding.rsplit(',') {
        let enc = enc.trim().to_ascii_lowercase();
        body = match enc.as_str() {
            "gzip" | "x-gzip" => read_all(GzDecoder::new(&body[..]), "gzip", cap)?,
            "deflate" => match read_all(ZlibDecoder::new(&body[..]), "zlib", cap) {
                Ok(b) => b,
                Err(e @ HttpError::Decompression(_)) if is_cap(&e) => return Err(e),
                Err(_) => read_all(DeflateDecoder::new(&body[..]), "flate", cap)?,
            },
            _ => body,
        };
    }
    Ok(body)
}

const OVER_CAP: &str = "decompressed body larger than the limit of";

fn is_cap(e: &HttpError) -> bool {
    matches!(e, HttpError::Decompression(m) if m.contains(OVER_CAP))
}

/// Reads at most `cap` bytes of decoded output; one byte more is an error.
fn read_all(r: impl Read, what: &str, cap: usize) -> Result<Bytes, HttpError> {
    let mut out = Vec::new();
    r.take(cap as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| HttpError::Decompression(format!("{what}: {e}")))?;
    if out.len() > cap {
        return Err(HttpError::Decompression(format!(
            "{what}: {OVER_CAP} {cap} bytes ({})",
            super::limits::MAX_RESPONSE_BODY_ENV
        )));
    }
    Ok(Bytes::from(out))
}

/// Compresses a request body with each algorithm in turn; returns the body and the
/// `Content-Encoding` value to send.
pub(crate) fn compress(body: &Bytes, algos: &[Compression]) -> Result<(Bytes, String), HttpError> {
    let mut data = body.clone();
    let mut names = Vec::with_capacity(algos.len());
    for algo in algos {
        let res = match algo {
            Compression::Gzip => {
                names.push("gzip");
                let mut w = GzEncoder::new(Vec::new(), Level::default());
                w.write_all(&data).and_then(|_| w.finish())
            }
            Compression::Deflate => {
                names.push("deflate");
                let mut w = ZlibEncoder::new(Vec::new(), Level::default());
                w.write_all(&data).and_then(|_| w.finish())
            }
        };
        data = Bytes::from(res.map_err(|e| HttpError::Other(format!("compressing body: {e}")))?);
    }
    Ok((data, names.join(", ")))
}

/// `application/x-www-form-urlencoded` like Go's `url.Values.Encode`: keys sorted (stable, so
/// repeated keys keep their order), `+` for spaces, `~` kept.
pub fn form_urlencode(fields: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = fields.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::new();
    for (i, (k, v)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        query_escape(k, &mut out);
        out.push('=');
        query_escape(v, &mut out);
    }
    out
}

/// Go's `url.QueryEscape`.
fn query_escape(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
}

/// One part of a `multipart/form-data` body.
#[derive(Clone, Debug)]
pub struct MultipartPart {
    pub name: String,
    /// Set for `http.file(...)` values.
    pub filename: Option<String>,
    /// For files; default `application/octet-stream`.
    pub content_type: Option<String>,
    pub data: Bytes,
}

/// Builds a `multipart/form-data` body (Go's `mime/multipart` layout, random boundary).
/// Returns the body and the `Content-Type` header value.
pub fn multipart_form_data(parts: &[MultipartPart]) -> (Bytes, String) {
    let boundary: String = {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        (0..30)
            .map(|_| format!("{:02x}", rng.r#gen::<u8>()))
            .collect()
    };
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
        out.extend_from_slice(escape_quotes(&part.name).as_bytes());
        out.push(b'"');
        if let Some(f) = &part.filename {
            out.extend_from_slice(b"; filename=\"");
            out.extend_from_slice(escape_quotes(f).as_bytes());
            out.extend_from_slice(b"\"\r\nContent-Type: ");
            let ct = part
                .content_type
                .as_deref()
                .unwrap_or("application/octet-stream");
            out.extend_from_slice(ct.as_bytes());
        }
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(&part.data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"--\r\n");
    (
        Bytes::from(out),
        format!("multipart/form-data; boundary={boundary}"),
    )
}

fn escape_quotes(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_matches_go() {
        let f = vec![
            ("d".to_string(), "1".to_string()),
            ("a".to_string(), "b c".to_string()),
            ("d".to_string(), "2".to_string()),
            ("e".to_string(), "~*&=".to_string()),
        ];
        assert_eq!(form_urlencode(&f), "a=b+c&d=1&d=2&e=~%2A%26%3D");
    }

    #[test]
    fn a_decompression_bomb_stops_at_the_cap() {
        let zeros = Bytes::from(vec![0u8; 10 << 20]);
        for algo in [Compression::Gzip, Compression::Deflate] {
            let (bomb, enc) = compress(&zeros, &[algo]).unwrap();
            assert!(bomb.len() < 64 << 10, "{enc}: {}", bomb.len());
            let err = decode_capped(&enc, bomb.clone(), 1 << 20).unwrap_err();
            assert_eq!(err.code(), 1701, "{enc}");
            assert!(
                err.to_string()
                    .contains("decompressed body larger than the limit of 1048576 bytes"),
                "{err}"
            );
            assert_eq!(decode_capped(&enc, bomb, 10 << 20).unwrap().len(), 10 << 20);
        }
    }

    #[test]
    fn gzip_round_trip_and_errors() {
        let body = Bytes::from_static(b"hello hello hello");
        let (gz, enc) = compress(&body, &[Compression::Gzip]).unwrap();
        assert_eq!(enc, "gzip");
        assert_eq!(decode("gzip", gz).unwrap(), body);
        let (df, _) = compress(&body, &[Compression::Deflate]).unwrap();
        assert_eq!(decode("deflate", df).unwrap(), body);
        let (both, enc) = compress(&body, &[Compression::Deflate, Compression::Gzip]).unwrap();
        assert_eq!(enc, "deflate, gzip");
        assert_eq!(decode(&enc, both).unwrap(), body);
        let err = decode("gzip", Bytes::from_static(b"nope")).unwrap_err();
        assert_eq!(err.code(), 1701);
        assert_eq!(decode("identity", body.clone()).unwrap(), body);
    }

    #[test]
    fn multipart_layout() {
        let parts = vec![
            MultipartPart {
                name: "field".into(),
                filename: None,
                content_type: None,
                data: Bytes::from_static(b"v"),
            },
            MultipartPart {
                name: "file".into(),
                filename: Some("a.txt".into()),
                content_type: Some("text/plain".into()),
                data: Bytes::from_static(b"data"),
            },
        ];
        let (body, ct) = multipart_form_data(&parts);
        let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
        assert_eq!(boundary.len(), 60);
        let text = String::from_utf8(body.to_vec()).unwrap();
        let expected = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nv\r\n--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\ndata\r\n--{b}--\r\n",
            b = boundary
        );
        assert_eq!(text, expected);
    }
}
