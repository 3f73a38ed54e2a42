//! `http.batch` on one VU's client (k6 `MakeBatchRequests`): at most `batch` requests in flight,
//! and at most `batch_per_host` to one host (the URL's `host[:port]`; `0` = no per-host limit).
//! Requests start in order; answers come back in request order.

use std::collections::HashMap;
use std::rc::Rc;

use futures_util::StreamExt;
use tokio::sync::Semaphore;

use super::client::HttpClient;
use super::types::{Exchange, Request};

/// k6's per-host key: the URL's host with its port when the URL has one.
fn host_key(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => String::new(),
        },
        Err(_) => String::new(),
    }
}

impl HttpClient {
    /// Runs `requests` with k6's batch limits; see the module docs.
    pub async fn execute_batch(
        &self,
        requests: Vec<Request>,
        batch: usize,
        batch_per_host: usize,
    ) -> Vec<Exchange> {
        let mut slots: HashMap<String, Rc<Semaphore>> = HashMap::new();
        let jobs: Vec<(Request, Option<Rc<Semaphore>>)> = requests
            .into_iter()
            .map(|r| {
                let slot = (batch_per_host > 0).then(|| {
                    slots
                        .entry(host_key(&r.url))
                        .or_insert_with(|| Rc::new(Semaphore::new(batch_per_host)))
                        .clone()
                });
                (r, slot)
            })
            .collect();
        futures_util::stream::iter(jobs.into_iter().map(|(r, slot)| async move {
            let _permit = match &slot {
                Some(s) => s.acquire().await.ok(),
                None => None,
            };
            self.execute(r).await
        }))
        .buffered(batch.max(1))
        .collect()
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::host_key;

    #[test]
    fn host_keys_as_go_url_host() {
        assert_eq!(host_key("http://a.test/x"), "a.test");
        assert_eq!(host_key("http://a.test:8080/x"), "a.test:8080");
        assert_eq!(host_key("http://127.0.0.1:80/"), "127.0.0.1");
        assert_eq!(host_key("nope"), "");
    }
}
