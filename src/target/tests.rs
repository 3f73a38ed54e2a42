//! Real requests against the target on 127.0.0.1:0.

use super::*;
use reqwest::{Client, Method, StatusCode, redirect::Policy};
use serde_json::Value;
use tokio::sync::oneshot;

struct Target {
    base: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Target {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, async {
            let _ = rx.await;
        }));
        Target {
            base,
            stop: Some(tx),
            task,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        (&mut self.task).await.unwrap().unwrap();
    }
}

async fn json_of(r: reqwest::Response) -> Value {
    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
}

fn client() -> Client {
    crate::tls::install_default_provider();
    Client::builder().redirect(Policy::none()).build().unwrap()
}

#[tokio::test]
async fn root_status_json_mark_and_404() {
    let t = Target::start().await;
    let c = client();
    let r = c.get(t.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "ok\n");
    let r = c.post(t.url("/mark")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    for code in [200u16, 204, 404, 418, 503] {
        let r = c
            .patch(t.url(&format!("/status/{code}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), code);
        assert_eq!(r.text().await.unwrap(), "");
    }
    let r = c.get(t.url("/status/abc")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = c.get(t.url("/json")).send().await.unwrap();
    let doc: Value = json_of(r).await;
    assert_eq!(doc["nested"]["n"], 42);
    assert_eq!(doc["items"][2], 3);
    for path in ["/nope", "/json/x", "/status", "/bytes/x"] {
        let r = c.get(t.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    t.stop().await;
}

#[tokio::test]
async fn head_has_no_body() {
    let t = Target::start().await;
    let r = client().head(t.url("/json")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().len(), 0);
    t.stop().await;
}

#[tokio::test]
async fn echo_reports_method_path_query_headers_body() {
    let t = Target::start().await;
    let r = client()
        .request(Method::PUT, t.url("/echo?x=42&name=a%20b+c"))
        .header("X-Test", "yes")
        .body("payload")
        .send()
        .await
        .unwrap();
    let doc: Value = json_of(r).await;
    assert_eq!(doc["method"], "PUT");
    assert_eq!(doc["path"], "/echo");
    assert_eq!(doc["query"]["x"], "42");
    assert_eq!(doc["query"]["name"], "a b c");
    assert_eq!(doc["headers"]["x-test"], "yes");
    assert_eq!(doc["body"], "payload");
    let r = client()
        .get(t.url("/headers"))
        .header("X-A", "1")
        .send()
        .await
        .unwrap();
    let doc: Value = json_of(r).await;
    assert_eq!(doc["headers"]["x-a"], "1");
    t.stop().await;
}

#[tokio::test]
async fn redirects_count_down() {
    let t = Target::start().await;
    let r = client().get(t.url("/redirect/2")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(r.headers()["location"], "/redirect/1");
    let r = client().get(t.url("/redirect/0")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let following = Client::new()
        .get(t.url("/redirect/3"))
        .send()
        .await
        .unwrap();
    assert_eq!(following.status(), StatusCode::OK);
    assert!(following.url().path().ends_with("/redirect/0"));
    t.stop().await;
}

#[tokio::test]
async fn cookies_set_and_read() {
    let t = Target::start().await;
    let r = client()
        .get(t.url("/cookies/set?a=1&b=two"))
        .send()
        .await
        .unwrap();
    let set: Vec<_> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(set, ["a=1; Path=/", "b=two; Path=/"]);
    let doc: Value = json_of(r).await;
    assert_eq!(doc["b"], "two");
    let r = client()
        .get(t.url("/cookies"))
        .header("Cookie", "a=1; b=two")
        .send()
        .await
        .unwrap();
    let doc: Value = json_of(r).await;
    assert_eq!(doc, serde_json::json!({"a": "1", "b": "two"}));
    t.stop().await;
}

#[tokio::test]
async fn bytes_and_delay() {
    let t = Target::start().await;
    let r = client().get(t.url("/bytes/2048")).send().await.unwrap();
    let body = r.bytes().await.unwrap();
    assert_eq!(body.len(), 2048);
    assert!(body.iter().all(|b| *b == b'x'));
    let r = client().get(t.url("/delay/10")).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "ok\n");
    t.stop().await;
}

#[tokio::test]
async fn basic_auth_checks_credentials() {
    let t = Target::start().await;
    let url = t.url("/basic-auth/user/pass");
    let r = client()
        .get(&url)
        .basic_auth("user", Some("pass"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = client()
        .get(&url)
        .basic_auth("user", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic ")
    );
    let r = client().get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    t.stop().await;
}

#[tokio::test]
async fn gzip_is_encoded_json() {
    let t = Target::start().await;
    let r = client().get(t.url("/gzip")).send().await.unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let raw = r.bytes().await.unwrap();
    assert_eq!(&raw[..2], &[0x1f, 0x8b]);
    // One stored block: 10-byte header, 5-byte block header, payload, 8-byte trailer.
    let doc: Value = serde_json::from_slice(&raw[15..raw.len() - 8]).unwrap();
    assert_eq!(doc["gzipped"], true);
    t.stop().await;
}

#[test]
fn decode_component_handles_plus_and_percent() {
    use super::handlers::decode_component;
    assert_eq!(decode_component("a+b%20c%2F"), "a b c/");
    assert_eq!(decode_component("100%"), "100%");
    assert_eq!(decode_component("%zz"), "%zz");
}

#[tokio::test]
async fn graphql_query_mutation_errors_and_auth() {
    let t = Target::start().await;
    let c = client();
    let post = |body: Value, token: bool| {
        let mut req = c.post(t.url("/graphql")).json(&body);
        if token {
            req = req.bearer_auth("t");
        }
        req.send()
    };
    let r = post(
        serde_json::json!({ "query": "query { repository(owner:\"a\", name:\"b\") { issues(first:1) { edges { node { id } } } } }" }),
        true,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc = json_of(r).await;
    let edges = doc["data"]["repository"]["issues"]["edges"]
        .as_array()
        .unwrap();
    assert_eq!(edges.len(), 1);
    let id = edges[0]["node"]["id"].as_str().unwrap().to_owned();

    let q =
        "mutation { addReaction(input:{subjectId:$s, content:ROCKET}) { reaction { content } } }";
    let doc = json_of(
        post(
            serde_json::json!({ "query": q, "variables": { "s": id } }),
            true,
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(doc["data"]["addReaction"]["reaction"]["content"], "ROCKET");
    assert_eq!(doc["data"]["addReaction"]["subject"]["id"], id.as_str());

    let doc = json_of(
        post(serde_json::json!({ "query": "mutation { addReaction(input:{subjectId:\"nope\", content:HOORAY}) }" }), true)
            .await
            .unwrap(),
    )
    .await;
    assert!(
        doc["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("global id")
    );

    let r = post(serde_json::json!({ "query": "{ x }" }), false)
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = c
        .post(t.url("/graphql"))
        .bearer_auth("t")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    t.stop().await;
}
