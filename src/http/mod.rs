//! TEMPORARY stub of the HTTP client (replaced by the hyper-based client from the `http` branch).

use std::time::{Duration, Instant};

/// What to do with the response body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ResponseType {
    #[default]
    Text,
    Binary,
    None,
}

#[derive(Clone, Debug, Default)]
pub struct Timings {
    pub blocked: f64,
    pub looking_up: f64,
    pub connecting: f64,
    pub tls_handshaking: f64,
    pub sending: f64,
    pub waiting: f64,
    pub receiving: f64,
    pub duration: f64,
}

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: bytes::Bytes,
    pub timeout: Duration,
    pub max_redirects: u32,
    pub response_type: ResponseType,
}

#[derive(Clone, Debug, Default)]
pub struct Hop {
    pub method: String,
    pub url: String,
    pub status: u16,
    pub proto: String,
    pub timings: Timings,
    pub error: String,
    pub error_code: u32,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

#[derive(Clone, Debug, Default)]
pub struct Response {
    pub status: u16,
    pub status_text: String,
    pub proto: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<bytes::Bytes>,
    pub timings: Timings,
    pub error: String,
    pub error_code: u32,
}

#[derive(Clone, Debug, Default)]
pub struct Exchange {
    pub hops: Vec<Hop>,
    pub response: Response,
}

#[derive(Clone, Debug, Default)]
pub struct ClientConfig {
    pub user_agent: String,
}

pub struct HttpClient {
    client: reqwest::Client,
    config: ClientConfig,
}

impl HttpClient {
    pub fn new(config: ClientConfig) -> Self {
        HttpClient {
            client: reqwest::Client::new(),
            config,
        }
    }

    pub fn reset_cookies(&self) {}

    pub async fn execute(&self, req: Request) -> Exchange {
        let start = Instant::now();
        let method =
            reqwest::Method::from_bytes(req.method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut rb = self
            .client
            .request(method, &req.url)
            .timeout(req.timeout)
            .header("User-Agent", &self.config.user_agent)
            .body(req.body.clone());
        for (k, v) in &req.headers {
            rb = rb.header(k, v);
        }
        let mut hop = Hop {
            method: req.method.clone(),
            url: req.url.clone(),
            proto: "HTTP/1.1".into(),
            ..Default::default()
        };
        let mut response = Response {
            url: req.url.clone(),
            proto: "HTTP/1.1".into(),
            ..Default::default()
        };
        match rb.send().await {
            Ok(r) => {
                let waited = start.elapsed();
                response.status = r.status().as_u16();
                response.status_text = r.status().to_string();
                response.headers = r
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
                    .collect();
                let body = r.bytes().await.unwrap_or_default();
                hop.bytes_received = body.len() as u64 + 100;
                response.body = match req.response_type {
                    ResponseType::None => None,
                    _ => Some(body),
                };
                let total = start.elapsed();
                response.timings.waiting = waited.as_secs_f64() * 1000.0;
                response.timings.receiving = (total - waited).as_secs_f64() * 1000.0;
                response.timings.duration = total.as_secs_f64() * 1000.0;
            }
            Err(e) => {
                response.error = e.to_string();
                response.error_code = if e.is_timeout() { 1050 } else { 1212 };
            }
        }
        hop.status = response.status;
        hop.timings = response.timings.clone();
        hop.error = response.error.clone();
        hop.error_code = response.error_code;
        Exchange {
            hops: vec![hop],
            response,
        }
    }
}
