//! [`HttpClient`]: one per VU. `execute` runs one `http.request()`: builds each hop's headers
//! (k6/Go defaults, cookies from the request and the jar, auth), sends it on a pooled or new
//! connection under the request's deadline, measures it (see `hop.rs`), follows redirects and
//! Digest challenges, and assembles the [`Exchange`].

use std::rc::Rc;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use tokio::time::Instant;
use url::Url;

use super::auth;
use super::body;
use super::conn::{ConnectOptions, Pool, PoolKey};
use super::cookies::{CookieJar, ResponseCookie, parse_set_cookie};
use super::error_code::HttpError;
use super::headers::{
    BaseHeaders, build_cookie_header, credentials, host_header, is_payload_header, joined_headers,
    make_record, request_target, same_host, status_error_code,
};
use super::hop::{self, HopOutcome, HopRequest};
use super::redirect::{self, clean_url};
use super::types::{
    Auth, ClientConfig, Exchange, Hop, JarChoice, Request, RequestRecord, Response, ResponseType,
    Timings,
};

/// A VU's HTTP client: its connection pool, its cookie jar and its settings. `!Send`; requests
/// may run concurrently (`http.batch`) since no interior borrow is held across an await.
pub struct HttpClient {
    config: ClientConfig,
    /// The test's own TLS configuration (`config.tls`) offering `h2` too, when HTTP/2 is on.
    tls_h2: Option<std::sync::Arc<tokio_rustls::rustls::ClientConfig>>,
    pool: Pool,
    jar: Rc<CookieJar>,
}

impl HttpClient {
    /// A client with an empty pool and jar.
    pub fn new(config: ClientConfig) -> Self {
        let idle = if config.no_connection_reuse {
            0
        } else {
            config.max_idle_per_host
        };
        let pool = Pool::new(idle);
        let tls_h2 = match (&config.tls, config.http2) {
            (Some(c), true) => Some(super::tls::offering_h2(c)),
            _ => None,
        };
        HttpClient {
            tls_h2,
            config,
            pool,
            jar: Rc::new(CookieJar::new()),
        }
    }

    /// The settings this client was made with.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The VU's cookie jar (`http.cookieJar()`); reset it at the start of every iteration.
    pub fn jar(&self) -> &Rc<CookieJar> {
        &self.jar
    }

    /// Closes idle keep-alive connections (`noVUConnectionReuse` between iterations).
    pub fn close_idle_connections(&self) {
        self.pool.clear();
    }

    #[cfg(test)]
    pub(crate) fn idle_connections(&self) -> usize {
        self.pool.idle_count()
    }

    /// Runs one request to completion (all redirect hops). Never fails: transport errors are in
    /// the hops and the response. Dropping the future abandons the request cleanly.
    pub async fn execute(&self, req: Request) -> Exchange {
        if let Some(limit) = &self.config.rps {
            limit.acquire().await;
        }
        let now = Instant::now();
        let deadline = now
            .checked_add(req.timeout)
            .unwrap_or(now + crate::engine::duration::FOREVER);
        let (mut state, base) = match self.begin(&req) {
            Ok(v) => v,
            Err(e) => return error_exchange(&req, e),
        };
        let jar: Option<Rc<CookieJar>> = match &req.jar {
            JarChoice::Vu => Some(self.jar.clone()),
            JarChoice::Custom(j) => Some(j.clone()),
            JarChoice::Disabled => None,
        };
        let mut hops: Vec<Hop> = Vec::new();
        let mut record = RequestRecord::default();
        let keep_body = req.response_type != ResponseType::None;
        let opts = ConnectOptions {
            net: &self.config.net,
            local_ip: self.config.local_ip,
            resolver: self.config.resolver.as_deref(),
            insecure_skip_tls_verify: self.config.insecure_skip_tls_verify,
            tls: self.tls_h2.as_ref().or(self.config.tls.as_ref()),
            http2: self.config.http2,
        };

        loop {
            let first_hop = hops.is_empty();
            let target = request_target(&state.url);
            // Cookie header: the script's own Cookie header only on the first hop (k6 rebuilds
            // it on redirects), then per-request cookies, then the jar's minus replaced ones.
            let own_cookie = base.cookie.as_deref().filter(|_| first_hop);
            let cookie = build_cookie_header(own_cookie, &req, jar.as_deref(), &state.url);
            let headers =
                match self.hop_headers(&req, &base, &mut state, first_hop, cookie.as_deref()) {
                    Ok(h) => h,
                    Err(e) => return error_exchange(&req, e),
                };
            let send_body = state.send_body();
            if first_hop {
                record = make_record(&req, &base, cookie.as_deref(), &send_body);
            }
            let hop_req = HopRequest {
                method: &state.method,
                target: &target,
                headers,
                body: send_body,
                keep_body,
            };
            let outcome =
                hop::send(&self.pool, &pool_key(&state.url), &opts, hop_req, deadline).await;
            let hop_url = if first_hop {
                clean_url(&req.url)
            } else {
                clean_url(state.url.as_str())
            };
            let HopOutcome {
                timings,
                bytes,
                tls_version,
                tls_suite,
                remote,
                result,
            } = outcome;
            let mut hop = Hop {
                method: state.method.clone(),
                url: hop_url,
                status: 0,
                proto: "",
                timings,
                error_code: 0,
                error: None,
                tls_version,
                bytes_sent: bytes.written,
                bytes_received: bytes.read,
                remote_ip: remote.map(|a| a.ip()),
            };
            let raw = match result {
                Ok(raw) => raw,
                Err(e) => {
                    hop.error_code = e.code();
                    hop.error = Some(e.clone());
                    hops.push(hop);
                    return failed_exchange(hops, &req, &state.url, e, timings, record);
                }
            };
            hop.status = raw.status;
            hop.proto = raw.proto;
            hop.error_code = status_error_code(raw.status);
            hops.push(hop);
            let set_cookies = response_cookies(&raw.headers);
            if let Some(j) = &jar
                && !set_cookies.is_empty()
            {
                j.store_response(&state.url, &set_cookies);
            }
            if req.auth == Some(Auth::Digest) && !base.authorization && hops.len() == 1 {
                let answer = digest_answer(&raw, &state, &target);
                if answer.is_some() {
                    state.digest_header = answer;
                    continue;
                }
            }
            let location = raw
                .headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok());
            let next = redirect::next_hop(raw.status, location, &state.url, &state.method);
            match next {
                Some(next) if hops.len() <= req.max_redirects as usize => state.follow(next),
                next => {
                    let conn = (timings, tls_version, tls_suite, remote);
                    let mut exchange =
                        final_exchange(hops, &req, &state.url, raw, set_cookies, record, conn);
                    exchange.redirect_limit_reached = next.is_some();
                    return exchange;
                }
            }
        }
    }

    /// The headers of the next hop, in the order Go writes them: Host and User-Agent, then
    /// Content-Length, then the rest sorted by name (the script's headers minus payload headers
    /// after a body-dropping redirect and credentials to another host, Content-Encoding, Cookie,
    /// Referer, Authorization from a Digest answer or the URL's user info).
    fn hop_headers(
        &self,
        req: &Request,
        base: &BaseHeaders,
        state: &mut HopState,
        first_hop: bool,
        cookie: Option<&str>,
    ) -> Result<HeaderMap, HttpError> {
        let url = &state.url;
        let mut headers = HeaderMap::with_capacity(base.other.len() + 6);
        let host_value = match (&base.host, first_hop || same_host(&state.initial_url, url)) {
            (Some(h), true) => h.clone(),
            _ => host_header(url)?,
        };
        headers.insert(header::HOST, host_value);
        if let Some(ua) = &base.user_agent {
            headers.insert(header::USER_AGENT, ua.clone());
        }
        let body_len = if state.payload_headers {
            state.body.len()
        } else {
            0
        };
        if body_len > 0 || matches!(state.method.as_str(), "POST" | "PUT" | "PATCH") {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body_len));
        }
        let mut sorted: Vec<(HeaderName, HeaderValue)> = base
            .other
            .iter()
            .filter(|(n, _)| state.payload_headers || !is_payload_header(n))
            .filter(|(n, _)| {
                *n != header::AUTHORIZATION
                    || redirect::may_forward_credentials(&state.initial_url, url)
            })
            .cloned()
            .collect();
        if let (Some(enc), true) = (&state.content_encoding, state.payload_headers)
            && let Ok(v) = HeaderValue::from_str(enc)
        {
            sorted.push((header::CONTENT_ENCODING, v));
        }
        if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(c).ok()) {
            sorted.push((header::COOKIE, c));
        }
        if let Some(r) = state
            .referer
            .as_deref()
            .and_then(|r| HeaderValue::from_str(r).ok())
        {
            sorted.push((header::REFERER, r));
        }
        if !base.authorization {
            if let Some(d) = state.digest_header.take() {
                if let Ok(v) = HeaderValue::from_str(&d) {
                    sorted.push((header::AUTHORIZATION, v));
                }
            } else if req.auth != Some(Auth::Digest) && !state.url.username().is_empty() {
                let (user, pass) = credentials(&state.url);
                if let Ok(v) = HeaderValue::from_str(&auth::basic(&user, &pass)) {
                    sorted.push((header::AUTHORIZATION, v));
                }
            }
        }
        // Go writes these sorted by canonical name; for header names that is the same order
        // as their lowercase form.
        sorted.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        for (n, v) in sorted {
            headers.append(n, v);
        }
        if self.config.no_connection_reuse {
            // Go's Transport with DisableKeepAlives asks the server to close, too.
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        Ok(headers)
    }

    /// The first hop's state (URL, method, the body compressed as `compression` asks) and the
    /// script's headers.
    fn begin(&self, req: &Request) -> Result<(HopState, BaseHeaders), HttpError> {
        let (url, base) = self.prepare(req)?;
        let (body, content_encoding) = if req.compression.is_empty() {
            (req.body.clone(), None)
        } else {
            let (b, enc) = body::compress(&req.body, &req.compression)?;
            (b, Some(enc))
        };
        let state = HopState {
            initial_url: url.clone(),
            url,
            method: req.method.clone(),
            body,
            content_encoding,
            payload_headers: true,
            referer: None,
            digest_header: None,
        };
        Ok((state, base))
    }

    /// Parses the URL and sorts the script's headers.
    fn prepare(&self, req: &Request) -> Result<(Url, BaseHeaders), HttpError> {
        let url = Url::parse(&req.url).map_err(|_| HttpError::InvalidUrl(req.url.clone()))?;
        match url.scheme() {
            "http" | "https" => {}
            other => return Err(HttpError::UnsupportedScheme(other.to_string())),
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(HttpError::InvalidUrl(req.url.clone()));
        }
        let mut base = BaseHeaders {
            other: Vec::with_capacity(req.headers.len()),
            host: None,
            user_agent: self
                .config
                .user_agent
                .as_deref()
                .filter(|s| !s.is_empty())
                .and_then(|s| HeaderValue::from_str(s).ok()),
            cookie: None,
            authorization: false,
        };
        for (name, value) in &req.headers {
            let n = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| HttpError::Other(format!("invalid header field name {name:?}")))?;
            let v = HeaderValue::from_str(value).map_err(|_| {
                HttpError::Other(format!("invalid header field value for {name:?}"))
            })?;
            match n {
                header::HOST => base.host = Some(v),
                header::USER_AGENT => base.user_agent = Some(v),
                header::CONTENT_LENGTH => {}
                header::COOKIE => {
                    base.cookie = Some(match base.cookie.take() {
                        Some(c) => format!("{c}; {value}"),
                        None => value.clone(),
                    })
                }
                _ => {
                    if n == header::AUTHORIZATION {
                        base.authorization = true;
                    }
                    base.other.push((n, v));
                }
            }
        }
        Ok((url, base))
    }
}

/// Where a request stands between hops: what the next hop sends and what carries over.
struct HopState {
    /// The URL the script asked for (credentials and Host go only to its host).
    initial_url: Url,
    url: Url,
    method: String,
    body: Bytes,
    /// `compression`'s Content-Encoding, sent with the body.
    content_encoding: Option<String>,
    /// Whether the body and its headers are still sent (301/302/303 drop them).
    payload_headers: bool,
    referer: Option<String>,
    /// The answer to a Digest challenge, sent on the next hop only.
    digest_header: Option<String>,
}

impl HopState {
    /// The body the next hop sends.
    fn send_body(&self) -> Bytes {
        if self.payload_headers {
            self.body.clone()
        } else {
            Bytes::new()
        }
    }

    /// Moves on to a redirect's next hop.
    fn follow(&mut self, next: redirect::NextHop) {
        self.referer = redirect::referer(&self.url, &next.url);
        if !next.keep_body {
            self.payload_headers = false;
            self.body = Bytes::new();
        }
        self.method = next.method;
        self.url = next.url;
    }
}

/// The pool's key for a connection to `url`'s origin.
fn pool_key(url: &Url) -> PoolKey {
    PoolKey {
        https: url.scheme() == "https",
        host: url.host_str().unwrap_or("").to_ascii_lowercase(),
        port: url.port_or_known_default().unwrap_or(80),
    }
}

/// The cookies a response sets.
fn response_cookies(headers: &HeaderMap) -> Vec<ResponseCookie> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().and_then(parse_set_cookie))
        .collect()
}

/// The Authorization answer to a 401's Digest challenge, with the URL's credentials.
fn digest_answer(raw: &hop::RawResponse, state: &HopState, target: &str) -> Option<String> {
    if raw.status != 401 {
        return None;
    }
    let (user, pass) = credentials(&state.url);
    raw.headers
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| auth::digest(c, &state.method, target, &user, &pass))
}

/// The exchange of a request whose last hop failed in transport (`hops` holds that hop).
fn failed_exchange(
    hops: Vec<Hop>,
    req: &Request,
    url: &Url,
    e: HttpError,
    timings: Timings,
    record: RequestRecord,
) -> Exchange {
    let final_url = if hops.len() == 1 {
        req.url.clone()
    } else {
        url.to_string()
    };
    let response = Response {
        url: final_url,
        timings,
        error: e.to_string(),
        error_code: e.code(),
        request: record,
        ..Default::default()
    };
    Exchange {
        hops,
        response,
        redirect_limit_reached: false,
    }
}

/// Builds the final [`Exchange`] from the last hop's raw response.
fn final_exchange(
    hops: Vec<Hop>,
    req: &Request,
    url: &Url,
    raw: hop::RawResponse,
    cookies: Vec<ResponseCookie>,
    record: RequestRecord,
    conn_info: (
        Timings,
        &'static str,
        std::sync::Arc<str>,
        Option<std::net::SocketAddr>,
    ),
) -> Exchange {
    let (timings, tls_version, tls_suite, remote) = conn_info;
    let mut error = String::new();
    let mut error_code = status_error_code(raw.status);
    let body = if req.response_type == ResponseType::None {
        None
    } else {
        match raw.headers.get(header::CONTENT_ENCODING) {
            Some(enc) => match body::decode(enc.to_str().unwrap_or(""), raw.body) {
                Ok(b) => Some(b),
                Err(e) => {
                    error = e.to_string();
                    error_code = e.code();
                    None
                }
            },
            None => Some(raw.body),
        }
    };
    let final_url = if hops.len() == 1 {
        req.url.clone()
    } else {
        url.to_string()
    };
    let response = Response {
        status: raw.status,
        status_text: raw.status_text,
        proto: raw.proto,
        url: final_url,
        headers: joined_headers(&raw.headers),
        body,
        timings,
        error,
        error_code,
        remote_ip: remote.map(|a| a.ip().to_string()).unwrap_or_default(),
        remote_port: remote.map(|a| a.port()).unwrap_or(0),
        cookies,
        tls_version: tls_version.to_string(),
        tls_cipher_suite: tls_suite.to_string(),
        request: record,
    };
    Exchange {
        hops,
        response,
        redirect_limit_reached: false,
    }
}

/// An exchange for a request that could not be sent at all.
fn error_exchange(req: &Request, e: HttpError) -> Exchange {
    let hop = Hop {
        method: req.method.clone(),
        url: clean_url(&req.url),
        status: 0,
        proto: "",
        timings: Timings::default(),
        error_code: e.code(),
        error: Some(e.clone()),
        tls_version: "",
        bytes_sent: 0,
        bytes_received: 0,
        remote_ip: None,
    };
    let response = Response {
        url: req.url.clone(),
        error: e.to_string(),
        error_code: e.code(),
        request: RequestRecord {
            method: req.method.clone(),
            url: req.url.clone(),
            body: req.body.clone(),
            ..Default::default()
        },
        ..Default::default()
    };
    Exchange {
        hops: vec![hop],
        response,
        redirect_limit_reached: false,
    }
}
