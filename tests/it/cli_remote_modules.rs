//! Remote modules (`import x from 'https://...'`) compared with the real k6: a loopback https
//! server (a CA made at test time, trusted through `SSL_CERT_FILE` by both engines) serves the
//! modules of `test-data/remote/www`; the scripts of `test-data/remote/` name it through
//! `{{MODULES}}`, filled in at test time. Exit codes, the error each engine names and the
//! requests each makes per path are compared; then the module cache and offline mode, the timeout
//! and the size cap, which k6 does not have.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::support::*;
use crate::tls_trust::{pki, serve_tls};

const LIMIT: Duration = Duration::from_secs(90);

/// Requests seen, by path and query.
type Seen = Arc<Mutex<BTreeMap<String, usize>>>;

#[derive(Clone)]
struct Modules {
    www: PathBuf,
    seen: Seen,
}

async fn serve_module(State(m): State<Modules>, req: Request) -> Response {
    let uri = req.uri().clone();
    let key = match uri.query() {
        Some(q) => format!("{}?{q}", uri.path()),
        None => uri.path().to_owned(),
    };
    *m.seen
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_default() += 1;
    match uri.path() {
        "/big.js" => return "//".repeat(17 * 1024 * 1024).into_response(),
        "/slow.js" => {
            std::future::pending::<()>().await;
        }
        "/broken.js" => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        _ => {}
    }
    let rel = uri.path().trim_start_matches('/');
    if rel.split('/').any(|c| c == ".." || c.is_empty()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match std::fs::read(m.www.join(rel)) {
        Ok(body) => ([("content-type", "application/javascript")], body).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

struct Setup {
    _rt: tokio::runtime::Runtime,
    _pki_dir: tempfile::TempDir,
    ca_file: PathBuf,
    empty: tempfile::TempDir,
    modules: String,
    seen: Seen,
    scripts: tempfile::TempDir,
}

fn setup() -> Setup {
    let pki = pki();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let seen: Seen = Arc::default();
    let state = Modules {
        www: repo_path("test-data/remote/www"),
        seen: seen.clone(),
    };
    let router = axum::Router::new().fallback(serve_module).with_state(state);
    let modules = serve_tls(&rt, pki.server.clone(), router);
    let scripts = tempfile::tempdir().unwrap();
    let unreachable = format!("https://127.0.0.1:{}", free_port());
    let plain = modules.replace("https://", "http://");
    for entry in std::fs::read_dir(repo_path("test-data/remote")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "js") {
            let text = std::fs::read_to_string(&path)
                .unwrap()
                .replace("{{MODULES}}", &modules)
                .replace("{{PLAIN}}", &plain)
                .replace("{{UNREACHABLE}}", &unreachable);
            std::fs::write(scripts.path().join(path.file_name().unwrap()), text).unwrap();
        }
    }
    let ca_file = pki.ca_file.clone();
    Setup {
        _rt: rt,
        _pki_dir: pki.into_dir(),
        ca_file,
        empty: tempfile::tempdir().unwrap(),
        modules,
        seen,
        scripts,
    }
}

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

impl Setup {
    /// Runs `program run -q --no-summary script` trusting only the test CA; returns the output and
    /// the requests it made.
    fn run(
        &self,
        program: &str,
        script: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> (Output, BTreeMap<String, usize>) {
        self.seen.lock().unwrap().clear();
        let child = Command::new(program)
            .args(["run", "-q", "--no-summary", "--address", ""])
            .args(extra)
            .arg(self.scripts.path().join(script))
            .current_dir(self.scripts.path())
            .env("SSL_CERT_FILE", &self.ca_file)
            .env("SSL_CERT_DIR", self.empty.path())
            .env("K6_NO_USAGE_REPORT", "true")
            .env("XDG_CACHE_HOME", self.empty.path().join("cache"))
            .env_remove("LOADGATE_OFFLINE")
            .env_remove("LOADGATE_MODULE_CACHE")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = wait_bounded(child, &format!("{program} {script}"), LIMIT);
        let seen = self.seen.lock().unwrap().clone();
        (out, seen)
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn remote_modules_load_as_in_k6() {
    let s = setup();
    let k6 = k6();
    let ours = env!("CARGO_BIN_EXE_loadgate");
    // script, exit code k6 gives, text both name in the error
    let cases = [
        ("imports.js", 0, ""),
        ("not_found.js", 107, "not found: "),
        (
            "plain_http.js",
            107,
            "only supported schemes for imports are file and https",
        ),
        ("syntax_error.js", 107, "/syntax_error.js"),
        ("throws.js", 107, "the remote module refuses to load"),
        (
            "unreachable.js",
            107,
            "couldn't be retrieved from the resolved url",
        ),
    ];
    let mut diffs = Vec::new();
    for (script, want, text) in cases {
        let (theirs, their_requests) = s.run(&k6, script, &[], &[]);
        let (mine, my_requests) = s.run(ours, script, &[], &[]);
        let (tc, mc) = (theirs.status.code(), mine.status.code());
        if tc != Some(want) {
            diffs.push(format!(
                "{script}: k6 exited {tc:?}, expected {want}: {}",
                stderr(&theirs)
            ));
        }
        if mc != tc {
            diffs.push(format!(
                "{script}: loadgate exited {mc:?}, k6 {tc:?}: {}",
                stderr(&mine)
            ));
        }
        for (who, out) in [("k6", &theirs), ("loadgate", &mine)] {
            if !stderr(out).contains(text) {
                diffs.push(format!(
                    "{script}: {who} does not say {text:?}: {}",
                    stderr(out)
                ));
            }
        }
        // k6 says `URL: Line 4:23`; loadgate's positions are `URL:4:23`.
        let position = format!("{}/syntax_error.js:4:23", s.modules);
        if script == "syntax_error.js" && !stderr(&mine).contains(&position) {
            diffs.push(format!(
                "{script}: loadgate's position is not {position}: {}",
                stderr(&mine)
            ));
        }
        // Fetched once per test, not per VU: the same requests, path by path (k6 loads a module
        // that fails twice, once for the options and once for the run, and so does loadgate).
        if their_requests != my_requests {
            diffs.push(format!(
                "{script}: requests differ: k6 {their_requests:?}, loadgate {my_requests:?}"
            ));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

#[test]
fn fetched_modules_are_cached_on_disk_and_offline_mode_uses_only_the_cache() {
    let s = setup();
    let ours = env!("CARGO_BIN_EXE_loadgate");
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().to_str().unwrap();
    let offline = [("LOADGATE_OFFLINE", "1")];

    let (out, _) = s.run(
        ours,
        "imports.js",
        &["--offline", "--module-cache", dir],
        &[],
    );
    assert_eq!(out.status.code(), Some(107), "{}", stderr(&out));
    assert!(stderr(&out).contains("runs offline"), "{}", stderr(&out));

    let (out, seen) = s.run(ours, "imports.js", &["--module-cache", dir], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");
    let files = std::fs::read_dir(cache.path()).unwrap().count();
    assert_eq!(files, 4, "one cache file per module");

    for (flags, env) in [
        (vec!["--offline", "--module-cache", dir], &[][..]),
        (
            vec![],
            &[("LOADGATE_OFFLINE", "true"), ("LOADGATE_MODULE_CACHE", dir)][..],
        ),
    ] {
        let (out, seen) = s.run(ours, "imports.js", &flags, env);
        assert_eq!(out.status.code(), Some(0), "{flags:?}: {}", stderr(&out));
        assert!(seen.is_empty(), "offline fetched {seen:?}");
    }
    // $XDG_CACHE_HOME/loadgate/modules by default.
    let (out, _) = s.run(ours, "imports.js", &[], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let default_dir = s.empty.path().join("cache/loadgate/modules");
    assert_eq!(std::fs::read_dir(&default_dir).unwrap().count(), 4);
    let (out, seen) = s.run(ours, "imports.js", &[], &offline);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(seen.is_empty(), "{seen:?}");
}

#[test]
fn slow_oversized_and_failing_modules_fail_clearly() {
    let s = setup();
    let ours = env!("CARGO_BIN_EXE_loadgate");
    for (module, env, want) in [
        (
            "slow.js",
            &[("LOADGATE_MODULE_TIMEOUT", "1s")][..],
            "(timeout)",
        ),
        ("big.js", &[][..], "larger than loadgate's limit of"),
        ("broken.js", &[][..], "wrong status code (500) for: "),
    ] {
        let script = format!("import_{module}");
        std::fs::write(
            s.scripts.path().join(&script),
            format!(
                "import x from '{}/{module}';\nexport default function () {{}}\n",
                s.modules
            ),
        )
        .unwrap();
        let (out, _) = s.run(ours, &script, &[], env);
        assert_eq!(out.status.code(), Some(107), "{module}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{module}: {}", stderr(&out));
    }
}
