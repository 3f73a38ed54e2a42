//! Cookies: a per-VU [`CookieJar`] with the RFC 6265 subset Go's `net/http/cookiejar` implements
//! (host-only vs domain cookies, path matching, expiry via Max-Age/Expires, Secure only over https,
//! replacement by domain+path+name, Go's send order), and `Set-Cookie` parsing into
//! [`ResponseCookie`] (k6's `response.cookies` entries). Interior mutability: the jar is shared
//! by concurrent requests of one VU and never borrowed across an await.

use std::cell::{Cell, RefCell};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use url::Url;

use super::error_code::HttpError;

/// What k6 reports as `expires` for a cookie without expiry: Go's zero `time.Time` through
/// `UnixNano()/1e6` (an int64 overflow, kept for compatibility).
pub const SESSION_EXPIRES_MS: i64 = -6_795_364_578_871;

/// One cookie as a response set it (`response.cookies[name][i]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseCookie {
    pub name: String,
    pub value: String,
    /// The `Domain` attribute as sent, empty when absent.
    pub domain: String,
    /// The `Path` attribute as sent (k6 shows `/` for `Path=/`), empty when absent.
    pub path: String,
    pub http_only: bool,
    pub secure: bool,
    /// Go's `MaxAge`: 0 = absent, -1 = `Max-Age=0` or negative, else seconds.
    pub max_age: i64,
    /// Unix ms of `Expires`, [`SESSION_EXPIRES_MS`] when absent.
    pub expires: i64,
}

/// Options of `jar.set(url, name, value, options)`.
#[derive(Clone, Debug, Default)]
pub struct CookieOptions {
    pub domain: Option<String>,
    pub path: Option<String>,
    pub secure: bool,
    pub http_only: bool,
    /// Seconds; `Some(n <= 0)` deletes.
    pub max_age: Option<i64>,
    /// Absolute expiry.
    pub expires: Option<SystemTime>,
}

#[derive(Clone, Debug)]
struct Entry {
    name: String,
    value: String,
    domain: String,
    host_only: bool,
    path: String,
    secure: bool,
    expires: Option<SystemTime>,
    seq: u64,
}

/// A cookie jar (the VU's, or one made with `new http.CookieJar()`).
#[derive(Debug, Default)]
pub struct CookieJar {
    entries: RefCell<Vec<Entry>>,
    seq: Cell<u64>,
}

impl CookieJar {
    /// An empty jar.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets every cookie (k6 does this to the VU jar at the start of each iteration).
    pub fn reset(&self) {
        self.entries.borrow_mut().clear();
    }

    /// Cookies to send to `url`, as (name, value) in Go's order (longer paths first, then older).
    pub fn cookies_for_url(&self, url: &str) -> Result<Vec<(String, String)>, HttpError> {
        let url = parse(url)?;
        Ok(self.cookies_for(&url))
    }

    /// Stores one cookie for `url` (`jar.set`), with Go's rules for domain, path and expiry.
    pub fn set(
        &self,
        url: &str,
        name: &str,
        value: &str,
        opts: &CookieOptions,
    ) -> Result<(), HttpError> {
        let url = parse(url)?;
        let max_age = match opts.max_age {
            Some(n) if n <= 0 => -1,
            Some(n) => n,
            None => 0,
        };
        self.store(
            &url,
            name,
            value,
            opts.domain.as_deref().unwrap_or(""),
            opts.path.as_deref().unwrap_or(""),
            opts.secure,
            max_age,
            opts.expires,
        );
        Ok(())
    }

    /// Deletes every cookie that would be sent to `url` (`jar.clear`).
    pub fn clear(&self, url: &str) -> Result<(), HttpError> {
        let url = parse(url)?;
        let (host, path) = host_path(&url);
        self.entries
            .borrow_mut()
            .retain(|e| !(domain_ok(e, &host) && path_match(&path, &e.path)));
        Ok(())
    }

    /// Deletes the cookie `name` that would be sent to `url` (`jar.delete`).
    pub fn delete(&self, url: &str, name: &str) -> Result<(), HttpError> {
        let url = parse(url)?;
        let (host, path) = host_path(&url);
        self.entries
            .borrow_mut()
            .retain(|e| !(e.name == name && domain_ok(e, &host) && path_match(&path, &e.path)));
        Ok(())
    }

    /// Number of stored cookies (expired ones included until next lookup).
    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    /// True when the jar holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn cookies_for(&self, url: &Url) -> Vec<(String, String)> {
        let (host, path) = host_path(url);
        let https = url.scheme() == "https";
        let now = SystemTime::now();
        let mut entries = self.entries.borrow_mut();
        entries.retain(|e| e.expires.is_none_or(|t| t > now));
        let mut hits: Vec<&Entry> = entries
            .iter()
            .filter(|e| (!e.secure || https) && domain_ok(e, &host) && path_match(&path, &e.path))
            .collect();
        hits.sort_by(|a, b| b.path.len().cmp(&a.path.len()).then(a.seq.cmp(&b.seq)));
        hits.iter()
            .map(|e| (e.name.clone(), e.value.clone()))
            .collect()
    }

    /// Stores cookies a response to `url` set.
    pub(crate) fn store_response(&self, url: &Url, cookies: &[ResponseCookie]) {
        for c in cookies {
            let expires = (c.expires != SESSION_EXPIRES_MS)
                .then(|| system_time_from_ms(c.expires))
                .flatten();
            self.store(
                url, &c.name, &c.value, &c.domain, &c.path, c.secure, c.max_age, expires,
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn store(
        &self,
        url: &Url,
        name: &str,
        value: &str,
        domain: &str,
        path: &str,
        secure: bool,
        max_age: i64,
        expires: Option<SystemTime>,
    ) {
        let (host, req_path) = host_path(url);
        let (domain, host_only) = if domain.is_empty() {
            (host.clone(), true)
        } else {
            let d = domain.trim_start_matches('.').to_ascii_lowercase();
            let ip = host.parse::<std::net::IpAddr>().is_ok();
            if (ip && d != host) || !(host == d || host.ends_with(&format!(".{d}"))) {
                tracing::debug!(cookie = name, domain = %d, host = %host, "cookie domain rejected");
                return;
            }
            (d, false)
        };
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            default_path(&req_path)
        };
        let now = SystemTime::now();
        let (expires, delete) = if max_age < 0 {
            (None, true)
        } else if max_age > 0 {
            (
                Some(now + Duration::from_secs(max_age.unsigned_abs())),
                false,
            )
        } else {
            match expires {
                Some(t) if t <= now => (None, true),
                other => (other, false),
            }
        };
        let mut entries = self.entries.borrow_mut();
        let pos = entries
            .iter()
            .position(|e| e.name == name && e.domain == domain && e.path == path);
        if delete {
            if let Some(i) = pos {
                entries.remove(i);
            }
            return;
        }
        let seq = match pos {
            Some(i) => entries[i].seq,
            None => {
                let s = self.seq.get();
                self.seq.set(s + 1);
                s
            }
        };
        let entry = Entry {
            name: name.to_string(),
            value: value.to_string(),
            domain,
            host_only,
            path,
            secure,
            expires,
            seq,
        };
        match pos {
            Some(i) => entries[i] = entry,
            None => entries.push(entry),
        }
    }
}

fn parse(url: &str) -> Result<Url, HttpError> {
    Url::parse(url).map_err(|_| HttpError::InvalidUrl(url.to_string()))
}

fn host_path(url: &Url) -> (String, String) {
    let host = url
        .host_str()
        .unwrap_or("")
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    (host, url.path().to_string())
}

fn domain_ok(e: &Entry, host: &str) -> bool {
    if e.host_only {
        return e.domain == host;
    }
    host == e.domain
        || (host.len() > e.domain.len()
            && host.ends_with(e.domain.as_str())
            && host.as_bytes()[host.len() - e.domain.len() - 1] == b'.')
}

/// RFC 6265 §5.1.4 path-match.
fn path_match(req: &str, cookie: &str) -> bool {
    req == cookie
        || (req.starts_with(cookie)
            && (cookie.ends_with('/') || req.as_bytes().get(cookie.len()) == Some(&b'/')))
}

/// RFC 6265 §5.1.4 default-path.
fn default_path(req: &str) -> String {
    match req.rfind('/') {
        Some(0) | None => "/".to_string(),
        Some(i) => req[..i].to_string(),
    }
}

fn system_time_from_ms(ms: i64) -> Option<SystemTime> {
    if ms >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_millis(ms.unsigned_abs()))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_millis(ms.unsigned_abs()))
    }
}

/// Parses one `Set-Cookie` header value like Go's `readSetCookies`; `None` when malformed.
pub fn parse_set_cookie(line: &str) -> Option<ResponseCookie> {
    let mut parts = line.split(';');
    let (name, value) = parts.next()?.trim().split_once('=')?;
    let name = name.trim();
    if name.is_empty()
        || name
            .bytes()
            .any(|b| b <= b' ' || b"()<>@,;:\\\"/[]?={}".contains(&b))
    {
        return None;
    }
    let value = value.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    let mut c = ResponseCookie {
        name: name.to_string(),
        value: value.to_string(),
        domain: String::new(),
        path: String::new(),
        http_only: false,
        secure: false,
        max_age: 0,
        expires: SESSION_EXPIRES_MS,
    };
    for attr in parts {
        let attr = attr.trim();
        let (key, val) = attr.split_once('=').unwrap_or((attr, ""));
        let val = val.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            "secure" => c.secure = true,
            "httponly" => c.http_only = true,
            "domain" => c.domain = val.to_string(),
            "path" => c.path = val.to_string(),
            "max-age" => {
                if let Ok(n) = val.parse::<i64>() {
                    c.max_age = if n <= 0 { -1 } else { n };
                }
            }
            "expires" => {
                if let Some(t) = parse_cookie_date(val) {
                    c.expires = match t.duration_since(UNIX_EPOCH) {
                        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
                        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
                    };
                }
            }
            _ => {}
        }
    }
    Some(c)
}

/// `Expires` dates: RFC 1123 and the `02-Jan-2006` Netscape form.
fn parse_cookie_date(s: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(s)
        .ok()
        .or_else(|| httpdate::parse_http_date(&s.replacen('-', " ", 2)).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_set_cookie_fields() {
        let c = parse_set_cookie("a=1; Path=/").unwrap();
        assert_eq!(
            (c.name.as_str(), c.value.as_str(), c.path.as_str()),
            ("a", "1", "/")
        );
        assert_eq!(c.expires, SESSION_EXPIRES_MS);
        let c = parse_set_cookie(
            "sid=\"x y\"; Domain=.Example.com; Max-Age=0; Secure; HttpOnly; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
        )
        .unwrap();
        assert_eq!(c.value, "x y");
        assert_eq!(c.domain, ".Example.com");
        assert_eq!(c.max_age, -1);
        assert!(c.secure && c.http_only);
        assert_eq!(c.expires, 1_445_412_480_000);
        assert!(parse_set_cookie("novalue").is_none());
    }

    #[test]
    fn jar_matching_and_order() {
        let jar = CookieJar::new();
        let o = CookieOptions::default();
        jar.set("http://a.example.com/x/y", "p", "1", &o).unwrap();
        let root = CookieOptions {
            path: Some("/".into()),
            domain: Some("example.com".into()),
            ..Default::default()
        };
        jar.set("http://a.example.com/", "r", "2", &root).unwrap();
        let sec = CookieOptions {
            path: Some("/".into()),
            secure: true,
            ..Default::default()
        };
        jar.set("https://a.example.com/", "s", "3", &sec).unwrap();
        let got = jar.cookies_for_url("http://a.example.com/x/z").unwrap();
        assert_eq!(
            got,
            vec![("p".into(), "1".into()), ("r".into(), "2".into())]
        );
        let got = jar.cookies_for_url("https://b.example.com/").unwrap();
        assert_eq!(got, vec![("r".into(), "2".into())]);
        let got = jar.cookies_for_url("https://a.example.com/").unwrap();
        assert_eq!(
            got,
            vec![("r".into(), "2".into()), ("s".into(), "3".into())]
        );
        // replacement keeps one entry
        jar.set("http://a.example.com/", "r", "9", &root).unwrap();
        assert_eq!(jar.len(), 3);
        // foreign domain rejected
        let bad = CookieOptions {
            domain: Some("other.com".into()),
            ..Default::default()
        };
        jar.set("http://a.example.com/", "z", "1", &bad).unwrap();
        assert_eq!(jar.len(), 3);
        jar.delete("http://a.example.com/", "r").unwrap();
        assert_eq!(jar.len(), 2);
        jar.clear("https://a.example.com/x/q").unwrap();
        assert!(jar.is_empty());
    }

    #[test]
    fn expiry_and_reset() {
        let jar = CookieJar::new();
        let gone = CookieOptions {
            max_age: Some(-1),
            ..Default::default()
        };
        jar.set("http://h/", "a", "1", &CookieOptions::default())
            .unwrap();
        jar.set("http://h/", "a", "1", &gone).unwrap();
        assert!(jar.is_empty());
        let past = CookieOptions {
            expires: Some(UNIX_EPOCH + Duration::from_secs(10)),
            ..Default::default()
        };
        jar.set("http://h/", "b", "1", &past).unwrap();
        assert!(jar.is_empty());
        jar.set("http://h/", "c", "1", &CookieOptions::default())
            .unwrap();
        jar.reset();
        assert!(jar.is_empty());
    }
}
