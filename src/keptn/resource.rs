//! A client for Keptn's resource service: fetches a file of a service's configuration
//! (`GET {api}/v1/project/{p}/stage/{s}/service/{svc}/resource/{uri}?gitCommitID=...`), looking
//! at the service, then the stage, then the project. The URI is one path segment (`/` as `%2F`)
//! and the content comes back base64-encoded. The API token goes in `x-token` and is never logged.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986 unreserved characters is encoded, `/` included.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A secret string: `Debug` and `Display` print `***`.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The value, for the one header that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Why a resource could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    /// Not at the service, the stage nor the project level.
    #[error("resource '{uri}' not found for service {service} (stage {stage}, project {project})")]
    NotFound {
        uri: String,
        project: String,
        stage: String,
        service: String,
    },
    /// The resource service failed or could not be reached.
    #[error("resource service request for '{uri}' failed: {reason}")]
    Request { uri: String, reason: String },
    /// The answer was not the expected JSON with base64 content.
    #[error("resource '{uri}' has an invalid body: {reason}")]
    Body { uri: String, reason: String },
}

/// The resource-service client.
#[derive(Clone, Debug)]
pub struct ResourceClient {
    base: String,
    token: Option<Secret>,
    http: reqwest::Client,
}

impl ResourceClient {
    /// A client for the Keptn API at `api` (e.g. `http://api-gateway-nginx/api`; the
    /// resource service's own URL works too).
    pub fn new(api: &str, token: Option<Secret>) -> Self {
        let http = crate::tls::reqwest_builder()
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap_or_default();
        ResourceClient {
            base: api.trim_end_matches('/').to_string(),
            token,
            http,
        }
    }

    /// The base URL requests go under (`{base}/v1/project/...`).
    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, project: &str, stage: Option<&str>, service: Option<&str>, uri: &str) -> String {
        let enc = |s: &str| utf8_percent_encode(s, SEGMENT).to_string();
        let mut u = format!("{}/v1/project/{}", self.base, enc(project));
        if let Some(s) = stage {
            u.push_str(&format!("/stage/{}", enc(s)));
            if let Some(svc) = service {
                u.push_str(&format!("/service/{}", enc(svc)));
            }
        }
        u.push_str(&format!("/resource/{}", enc(uri)));
        u
    }

    async fn get(
        &self,
        url: &str,
        uri: &str,
        git: Option<&str>,
    ) -> Result<Option<Vec<u8>>, ResourceError> {
        let mut req = self.http.get(url);
        if let Some(g) = git {
            req = req.query(&[("gitCommitID", g)]);
        }
        if let Some(t) = &self.token {
            req = req.header("x-token", t.expose());
        }
        let request_err = |reason: String| ResourceError::Request {
            uri: uri.to_string(),
            reason,
        };
        let resp = req
            .send()
            .await
            .map_err(|e| request_err(e.without_url().to_string()))?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(request_err(format!("HTTP {status}")));
        }
        let body: serde_json::Value = resp.json().await.map_err(|e| ResourceError::Body {
            uri: uri.to_string(),
            reason: e.without_url().to_string(),
        })?;
        let content = body
            .get("resourceContent")
            .and_then(|c| c.as_str())
            .ok_or_else(|| ResourceError::Body {
                uri: uri.to_string(),
                reason: "no resourceContent".into(),
            })?;
        base64::engine::general_purpose::STANDARD
            .decode(content.trim())
            .map(Some)
            .map_err(|e| ResourceError::Body {
                uri: uri.to_string(),
                reason: format!("resourceContent is not base64: {e}"),
            })
    }

    /// Fetches `uri`: the service's file, else the stage's, else the project's.
    pub async fn fetch(
        &self,
        project: &str,
        stage: &str,
        service: &str,
        uri: &str,
        git_commit: Option<&str>,
    ) -> Result<Vec<u8>, ResourceError> {
        let levels = [
            self.url(project, Some(stage), Some(service), uri),
            self.url(project, Some(stage), None, uri),
            self.url(project, None, None, uri),
        ];
        for url in &levels {
            if let Some(body) = self.get(url, uri, git_commit).await? {
                return Ok(body);
            }
        }
        Err(ResourceError::NotFound {
            uri: uri.to_string(),
            project: project.to_string(),
            stage: stage.to_string(),
            service: service.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_uri_as_one_segment() {
        let c = ResourceClient::new("http://api/", None);
        assert_eq!(
            c.url("p", Some("s"), Some("svc"), "loadgate/load.js"),
            "http://api/v1/project/p/stage/s/service/svc/resource/loadgate%2Fload.js"
        );
        assert_eq!(
            c.url("p", None, None, "a"),
            "http://api/v1/project/p/resource/a"
        );
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret::new("tok")), "***");
    }
}
