//! The remote-write HTTP client: protobuf `WriteRequest`, snappy block compression, POSTed with
//! k6's headers plus the configured auth and custom headers. Receives encoded write requests;
//! answers whether a push may be retried (5xx, network errors) or not (4xx, and the 500 Prometheus
//! answers when native histograms are disabled, which no retry can fix).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{
    AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HOST, HeaderMap, HeaderName, HeaderValue,
    USER_AGENT,
};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use prost::Message;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::config::RwConfig;
use super::proto::WriteRequest;

/// k6's `User-Agent` for remote write.
pub const USER_AGENT_VALUE: &str = "k6-prometheus-rw-output";

/// The protocol version header of remote write 1.0.
pub const VERSION_HEADER: &str = "X-Prometheus-Remote-Write-Version";

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid remote-write header name `{0}`")]
    HeaderName(String),
    #[error("invalid value for remote-write header `{0}`")]
    HeaderValue(String),
    #[error("invalid remote-write url `{0}`: no host")]
    Url(String),
}

/// Why a push failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PushError {
    /// Do not retry: the server refused the data (4xx) or cannot take it (native histograms off).
    #[error("{0}")]
    Permanent(String),
    /// Worth retrying: 5xx, timeout, connection refused.
    #[error("{0}")]
    Retryable(String),
}

impl PushError {
    /// True for errors a retry may fix.
    pub fn is_retryable(&self) -> bool {
        matches!(self, PushError::Retryable(_))
    }
}

/// Encodes and snappy-compresses (block format) a write request.
pub fn encode(req: &WriteRequest) -> Result<Vec<u8>, snap::Error> {
    snap::raw::Encoder::new().compress_vec(&req.encode_to_vec())
}

type Sender = SendRequest<Full<Bytes>>;

/// Sends write requests to one endpoint over one kept-alive HTTP/1.1 connection (hyper; rustls
/// trusting the process's roots, [`crate::tls`], for https).
#[derive(Clone)]
pub struct RwClient {
    url: url::Url,
    /// The URL as logs and errors show it (credentials redacted).
    shown: String,
    host: String,
    port: u16,
    authority: String,
    path: String,
    headers: HeaderMap,
    timeout: Duration,
    insecure: bool,
    conn: Arc<tokio::sync::Mutex<Option<Sender>>>,
}

impl std::fmt::Debug for RwClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RwClient")
            .field("url", &self.shown)
            .finish_non_exhaustive()
    }
}

fn header_value(name: &str, v: &str) -> Result<HeaderValue, ClientError> {
    let mut hv =
        HeaderValue::from_str(v).map_err(|_| ClientError::HeaderValue(name.to_string()))?;
    hv.set_sensitive(true);
    Ok(hv)
}

async fn handshake<S>(io: S) -> Result<Sender, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "remote-write connection ended with an error");
        }
    });
    Ok(sender)
}

impl RwClient {
    /// A client for `config`'s URL, headers, auth and TLS settings.
    pub fn new(config: &RwConfig) -> Result<Self, ClientError> {
        let url = config.server_url.clone();
        let host = url
            .host_str()
            .ok_or_else(|| ClientError::Url(crate::redact::url(url.as_str())))?
            .to_string();
        let port = url
            .port_or_known_default()
            .ok_or_else(|| ClientError::Url(crate::redact::url(url.as_str())))?;
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("snappy"));
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-protobuf"),
        );
        headers.insert(VERSION_HEADER, HeaderValue::from_static("0.1.0"));
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        // A user in the URL is basic auth, as Go's client sends it, unless K6_PROMETHEUS_RW_USERNAME
        // says otherwise.
        let url_user = (!url.username().is_empty()).then(|| {
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(url.username()), url.password().map(decode))
        });
        let user_pw = match &config.username {
            Some(user) => Some((user.clone(), config.password.clone())),
            None => url_user,
        };
        if let Some((user, pw)) = &user_pw {
            use base64::Engine;
            let pw = pw.as_deref().unwrap_or("");
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"));
            headers.insert(
                AUTHORIZATION,
                header_value("Authorization", &format!("Basic {token}"))?,
            );
        }
        if let Some(token) = &config.bearer_token {
            headers.insert(
                AUTHORIZATION,
                header_value("Authorization", &format!("Bearer {token}"))?,
            );
        }
        for (k, v) in &config.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| ClientError::HeaderName(k.clone()))?;
            headers.insert(name, header_value(k, v)?);
        }
        Ok(RwClient {
            shown: crate::redact::url(url.as_str()),
            url,
            host,
            port,
            authority,
            path,
            headers,
            timeout: config.request_timeout,
            insecure: config.insecure_skip_tls_verify,
            conn: Arc::new(tokio::sync::Mutex::new(None)),
        })
    }

    /// The endpoint.
    pub fn url(&self) -> &url::Url {
        &self.url
    }

    async fn connect(&self) -> Result<Sender, String> {
        let bare = self.host.trim_start_matches('[').trim_end_matches(']');
        let tcp = TcpStream::connect((bare, self.port))
            .await
            .map_err(|e| e.to_string())?;
        let _ = tcp.set_nodelay(true);
        if self.url.scheme() == "https" {
            let cfg = crate::tls::shared_config(self.insecure)?;
            let name = crate::tls::server_name(&self.host)
                .ok_or_else(|| format!("invalid tls server name {:?}", self.host))?;
            let tls = tokio_rustls::TlsConnector::from(cfg)
                .connect(name, tcp)
                .await
                .map_err(|e| e.to_string())?;
            handshake(tls).await
        } else {
            handshake(tcp).await
        }
    }

    async fn exchange(&self, body: Bytes) -> Result<(http::StatusCode, String), String> {
        let mut slot = self.conn.lock().await;
        let mut sender = match slot.take() {
            Some(s) if !s.is_closed() => s,
            _ => self.connect().await?,
        };
        if sender.ready().await.is_err() {
            sender = self.connect().await?;
            sender.ready().await.map_err(|e| e.to_string())?;
        }
        let mut req = http::Request::post(self.path.as_str())
            .header(HOST, self.authority.as_str())
            .body(Full::new(body))
            .map_err(|e| e.to_string())?;
        req.headers_mut().extend(self.headers.clone());
        let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        *slot = Some(sender);
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// POSTs one compressed write request.
    pub async fn push(&self, body: Bytes) -> Result<(), PushError> {
        let (status, text) = match tokio::time::timeout(self.timeout, self.exchange(body)).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                return Err(PushError::Retryable(format!(
                    "cannot reach {}: {e}",
                    self.shown
                )));
            }
            Err(_) => {
                *self.conn.lock().await = None;
                return Err(PushError::Retryable(format!(
                    "{} did not answer within {:?}",
                    self.shown, self.timeout
                )));
            }
        };
        if status.is_success() {
            return Ok(());
        }
        let text: String = text.trim().chars().take(300).collect();
        let msg = format!("{} answered HTTP {}: {text}", self.shown, status.as_u16());
        if status.is_server_error() && !text.contains("native histograms are disabled") {
            Err(PushError::Retryable(msg))
        } else {
            Err(PushError::Permanent(msg))
        }
    }
}
