//! Credentials never reach a log line, an error or an answer: URLs are shown with their user
//! information redacted, as Go's `URL.Redacted()` does (`user:xxxxx@`), and a user name alone
//! (NATS's `nats://TOKEN@host`, a token passed as the user) is redacted entirely.

/// `text` with the user information of every URL in it redacted (`scheme://user:xxxxx@host`).
pub fn url(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                match authority[..at].split_once(':') {
                    Some((user, _)) => {
                        out.push_str(user);
                        out.push_str(":xxxxx");
                    }
                    None => out.push_str("xxxxx"),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::url;

    #[test]
    fn passwords_and_tokens_in_urls_are_redacted() {
        assert_eq!(
            url("http://user:s3cret@prom:9090/api/v1/write"),
            "http://user:xxxxx@prom:9090/api/v1/write"
        );
        assert_eq!(url("nats://t0ken@nats:4222"), "nats://xxxxx@nats:4222");
        assert_eq!(
            url("cannot reach https://a:b@x/y?q=1 and http://c:d@z"),
            "cannot reach https://a:xxxxx@x/y?q=1 and http://c:xxxxx@z"
        );
        assert_eq!(url("http://host/path@x"), "http://host/path@x");
        assert_eq!(url("no url here"), "no url here");
        assert_eq!(url("http://a:b:c@h"), "http://a:xxxxx@h");
        assert_eq!(url("http://u:p@"), "http://u:xxxxx@");
    }
}
