//! HTTP authentication header values: Basic (RFC 7617) and Digest (RFC 7616, MD5 and SHA-256,
//! `qop=auth`) answering a `WWW-Authenticate: Digest ...` challenge.

use base64::Engine;
use md5::Md5;
use sha2::{Digest, Sha256};

/// `Basic base64(user:pass)`.
pub(crate) fn basic(user: &str, pass: &str) -> String {
    let raw = format!("{user}:{pass}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// The `Authorization` value answering a Digest `challenge`, or `None` if it is not one.
pub(crate) fn digest(
    challenge: &str,
    method: &str,
    uri: &str,
    user: &str,
    pass: &str,
) -> Option<String> {
    let rest = challenge.trim();
    let rest = rest
        .get(..6)
        .filter(|p| p.eq_ignore_ascii_case("digest"))
        .map(|_| &rest[6..])?;
    let params = parse_params(rest);
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
    };
    let realm = get("realm").unwrap_or("");
    let nonce = get("nonce")?;
    let opaque = get("opaque");
    let algorithm = get("algorithm").unwrap_or("MD5");
    let qop = get("qop").map(|q| {
        q.split(',')
            .map(str::trim)
            .find(|q| *q == "auth")
            .unwrap_or("auth")
    });
    let h: fn(&str) -> String = if algorithm.to_ascii_uppercase().starts_with("SHA-256") {
        |s| hex(&Sha256::digest(s.as_bytes()))
    } else {
        |s| hex(&Md5::digest(s.as_bytes()))
    };
    let cnonce = {
        use rand::Rng;
        let b: [u8; 8] = rand::thread_rng().r#gen();
        hex(&b)
    };
    let nc = "00000001";
    let mut ha1 = h(&format!("{user}:{realm}:{pass}"));
    if algorithm.to_ascii_lowercase().ends_with("-sess") {
        ha1 = h(&format!("{ha1}:{nonce}:{cnonce}"));
    }
    let ha2 = h(&format!("{method}:{uri}"));
    let response = match qop {
        Some(q) => h(&format!("{ha1}:{nonce}:{nc}:{cnonce}:{q}:{ha2}")),
        None => h(&format!("{ha1}:{nonce}:{ha2}")),
    };
    let mut out = format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", algorithm={algorithm}, response=\"{response}\""
    );
    if let Some(q) = qop {
        out.push_str(&format!(", qop={q}, nc={nc}, cnonce=\"{cnonce}\""));
    }
    if let Some(o) = opaque {
        out.push_str(&format!(", opaque=\"{o}\""));
    }
    Some(out)
}

/// `k=v, k2="v, 2"` -> pairs (quotes removed, `\"` unescaped).
fn parse_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.next().is_none() {
            break;
        }
        let mut val = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            val.push(n);
                        }
                    }
                    '"' => break,
                    _ => val.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                val.push(c);
                chars.next();
            }
        }
        out.push((key.trim().to_string(), val.trim().to_string()));
    }
    out
}

fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_value() {
        assert_eq!(basic("user", "pw"), "Basic dXNlcjpwdw==");
    }

    #[test]
    fn digest_rfc2617_example_without_qop() {
        // RFC 2069-style (no qop) is deterministic; expected value computed independently
        // (md5(md5(user:realm:pass):nonce:md5(method:uri))).
        let ch = r#"Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#;
        let v = digest(ch, "GET", "/dir/index.html", "Mufasa", "Circle Of Life").unwrap();
        assert!(
            v.contains(r#"response="670fd8c2df070c60b045671b8b24ff02""#),
            "{v}"
        );
        assert!(v.contains(r#"opaque="5ccc069c403ebaf9f0171e9517f40e41""#));
        assert!(digest("Basic realm=x", "GET", "/", "a", "b").is_none());
    }

    #[test]
    fn digest_with_qop_has_cnonce() {
        let ch = r#"Digest realm="r", qop="auth,auth-int", nonce="n""#;
        let v = digest(ch, "GET", "/", "u", "p").unwrap();
        assert!(v.contains("qop=auth, nc=00000001, cnonce="), "{v}");
    }
}
