//! Redirect rules (Go's `net/http` client, which k6 uses): which statuses redirect, how the
//! method and body change, where a relative `Location` points, the `Referer` sent on the next hop,
//! and whether credentials may follow. Also URL cleaning for the `url`/`name` tags.

use url::Url;

/// The URL with userinfo removed, otherwise exactly as given (k6's `url` tag).
pub fn clean_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let auth_start = scheme_end + 3;
    let rest = &url[auth_start..];
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..auth_end].rfind('@') {
        Some(at) => format!("{}{}", &url[..auth_start], &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// What the next hop of a redirect looks like.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct NextHop {
    pub url: Url,
    pub method: String,
    /// 307/308 keep the body; 301/302/303 drop it (and its payload headers).
    pub keep_body: bool,
}

/// The next hop for a response with `status` and `location` to a request `method` on `current`,
/// or `None` when the response is final (not a redirect, no `Location`, or unparsable one).
pub(crate) fn next_hop(
    status: u16,
    location: Option<&str>,
    current: &Url,
    method: &str,
) -> Option<NextHop> {
    let (method, keep_body) = match status {
        301..=303 => {
            let m = if method == "GET" || method == "HEAD" {
                method
            } else {
                "GET"
            };
            (m, false)
        }
        307 | 308 => (method, true),
        _ => return None,
    };
    let location = location?;
    let url = current.join(location).ok()?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return None;
    }
    Some(NextHop {
        url,
        method: method.to_string(),
        keep_body,
    })
}

/// Go's `refererForURL`: the previous URL without userinfo and fragment; none for https -> http.
pub(crate) fn referer(prev: &Url, next: &Url) -> Option<String> {
    if prev.scheme() == "https" && next.scheme() == "http" {
        return None;
    }
    let mut r = prev.clone();
    let _ = r.set_username("");
    let _ = r.set_password(None);
    r.set_fragment(None);
    Some(r.to_string())
}

/// Go's `shouldCopyHeaderOnRedirect` for sensitive headers (Authorization, Cookie): only when the
/// new host is the same as, or a subdomain of, the initial one.
pub(crate) fn may_forward_credentials(initial: &Url, next: &Url) -> bool {
    let (Some(a), Some(b)) = (initial.host_str(), next.host_str()) else {
        return false;
    };
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    if a == b {
        return true;
    }
    b.len() > a.len() && b.ends_with(&a) && b.as_bytes()[b.len() - a.len() - 1] == b'.'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_userinfo_only() {
        assert_eq!(clean_url("http://u:p@h:1/a?b=@c"), "http://h:1/a?b=@c");
        assert_eq!(clean_url("http://h/x@y"), "http://h/x@y");
        assert_eq!(clean_url("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }

    #[test]
    fn method_and_body_rules() {
        let cur = Url::parse("http://u:p@h/a/b").unwrap();
        let n = next_hop(302, Some("c"), &cur, "POST").unwrap();
        assert_eq!(n.url.as_str(), "http://u:p@h/a/c");
        assert_eq!((n.method.as_str(), n.keep_body), ("GET", false));
        let n = next_hop(301, Some("/x"), &cur, "HEAD").unwrap();
        assert_eq!(n.method, "HEAD");
        let n = next_hop(307, Some("http://o/"), &cur, "PUT").unwrap();
        assert_eq!((n.method.as_str(), n.keep_body), ("PUT", true));
        assert!(next_hop(302, None, &cur, "GET").is_none());
        assert!(next_hop(304, Some("/"), &cur, "GET").is_none());
        assert!(next_hop(200, Some("/"), &cur, "GET").is_none());
    }

    #[test]
    fn referer_and_credentials() {
        let a = Url::parse("https://u:p@a.com/x#f").unwrap();
        let b = Url::parse("https://sub.a.com/").unwrap();
        assert_eq!(referer(&a, &b).as_deref(), Some("https://a.com/x"));
        assert!(referer(&a, &Url::parse("http://a.com/").unwrap()).is_none());
        assert!(may_forward_credentials(&a, &b));
        assert!(!may_forward_credentials(&b, &a));
        assert!(!may_forward_credentials(
            &a,
            &Url::parse("http://xa.com/").unwrap()
        ));
    }
}
