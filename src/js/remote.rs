//! Remote modules: `import x from 'https://...'` as k6 v1.1 loads them (`internal/loader`).
//!
//! - Only `https` is fetched; `http://` is refused with k6's message (k6 refuses it too).
//! - Each URL is fetched once per test (the first VU to import it; the others get the same bytes),
//!   first with `?_k6=1` appended and, if that fails, without, as k6 does; bounded by a timeout
//!   (k6's one minute; `LOADGATE_MODULE_TIMEOUT`) and a size cap (32 MiB).
//! - A fetched module is written to the module cache on disk (`--module-cache DIR`,
//!   `LOADGATE_MODULE_CACHE`, else `$XDG_CACHE_HOME/loadgate/modules`, else
//!   `~/.cache/loadgate/modules`). In offline mode (`--offline`, `LOADGATE_OFFLINE`) nothing is
//!   fetched: the cache and the built-in modules only.
//! - jslib's `k6-summary` and `k6-utils` have built-in copies: used for their URLs when offline
//!   and not cached, or when the fetch fails (with a warning).
//!
//! Relative imports inside a remote module resolve against its URL ([`join`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

/// k6 gives up on a module after a minute.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest module loadgate takes (jslib's biggest bundles are a few MiB).
pub const MAX_MODULE_BYTES: usize = 32 * 1024 * 1024;

/// How remote modules are obtained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteConfig {
    /// Where fetched modules are kept (`None`: no disk cache).
    pub cache_dir: Option<PathBuf>,
    /// Never fetch: the cache and built-in copies only.
    pub offline: bool,
    pub timeout: Duration,
    pub max_bytes: usize,
}

impl Default for RemoteConfig {
    /// From the process's environment (see [`RemoteConfig::from_vars`]).
    fn default() -> Self {
        RemoteConfig::from_vars(&|k| std::env::var(k).ok())
    }
}

impl RemoteConfig {
    /// `LOADGATE_OFFLINE` (anything but empty, `0`, `false`, `no`, `off`), `LOADGATE_MODULE_CACHE`,
    /// `XDG_CACHE_HOME`, `HOME`, `LOADGATE_MODULE_TIMEOUT` (a Go duration, default 60s).
    pub fn from_vars(var: &dyn Fn(&str) -> Option<String>) -> Self {
        let offline = var("LOADGATE_OFFLINE").is_some_and(|v| truthy(&v));
        let cache_dir = var("LOADGATE_MODULE_CACHE")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                var("XDG_CACHE_HOME")
                    .filter(|d| Path::new(d).is_absolute())
                    .map(|d| PathBuf::from(d).join("loadgate/modules"))
            })
            .or_else(|| {
                var("HOME")
                    .filter(|d| !d.is_empty())
                    .map(|h| PathBuf::from(h).join(".cache/loadgate/modules"))
            });
        let timeout = match var("LOADGATE_MODULE_TIMEOUT").filter(|t| !t.is_empty()) {
            None => FETCH_TIMEOUT,
            Some(t) => match crate::engine::duration::GoDuration::parse(&t) {
                Ok(d) if d.0 > 0 => d.to_std(),
                _ => {
                    tracing::warn!(
                        value = %t,
                        "LOADGATE_MODULE_TIMEOUT is not a positive duration (e.g. 30s); using 60s"
                    );
                    FETCH_TIMEOUT
                }
            },
        };
        RemoteConfig {
            cache_dir,
            offline,
            timeout,
            max_bytes: MAX_MODULE_BYTES,
        }
    }
}

/// Whether an environment value switches a flag on (clap's falsey values switch it off).
fn truthy(v: &str) -> bool {
    !matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "" | "0" | "false" | "no" | "off" | "n" | "f"
    )
}

/// What a remote module's source is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemoteSource {
    /// Fetched now or earlier (the cache).
    Fetched(Arc<[u8]>),
    /// A built-in module standing in for the URL (`jslib:k6-summary`).
    Builtin(&'static str),
}

/// The remote modules of one test: fetched once, shared by every VU.
pub struct RemoteModules {
    config: RemoteConfig,
    loaded: Mutex<HashMap<String, RemoteSource>>,
    /// Held while fetching, so VUs initialising at once fetch a URL once.
    fetching: Mutex<()>,
}

impl RemoteModules {
    pub fn new(config: RemoteConfig) -> Self {
        RemoteModules {
            config,
            loaded: Mutex::new(HashMap::new()),
            fetching: Mutex::new(()),
        }
    }

    pub fn config(&self) -> &RemoteConfig {
        &self.config
    }

    /// The source of the module at `url` (an `https` URL), fetched at most once per test.
    /// `builtin` is the built-in copy standing in for the URL, if there is one.
    pub fn load(&self, url: &str, builtin: Option<&'static str>) -> Result<RemoteSource, String> {
        if let Some(found) = self.cached(url) {
            return Ok(found);
        }
        let _fetching = self.fetching.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = self.cached(url) {
            return Ok(found);
        }
        let source = self.obtain(url, builtin)?;
        self.loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(url.to_owned(), source.clone());
        Ok(source)
    }

    fn cached(&self, url: &str) -> Option<RemoteSource> {
        self.loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(url)
            .cloned()
    }

    fn obtain(&self, url: &str, builtin: Option<&'static str>) -> Result<RemoteSource, String> {
        if self.config.offline {
            if let Some(data) = self.read_disk(url) {
                return Ok(RemoteSource::Fetched(data));
            }
            if let Some(name) = builtin {
                return Ok(RemoteSource::Builtin(name));
            }
            return Err(match &self.config.cache_dir {
                Some(dir) => format!(
                    "The moduleSpecifier \"{url}\" is a remote module and loadgate runs offline (--offline, LOADGATE_OFFLINE): it is not in the module cache {}; run once online, or save it next to the script and import it by relative path",
                    dir.display()
                ),
                None => format!(
                    "The moduleSpecifier \"{url}\" is a remote module and loadgate runs offline (--offline, LOADGATE_OFFLINE) without a module cache; save it next to the script and import it by relative path"
                ),
            });
        }
        match fetch_like_k6(url, &self.config) {
            Ok(data) => {
                let data: Arc<[u8]> = data.into();
                self.write_disk(url, &data);
                Ok(RemoteSource::Fetched(data))
            }
            Err(e) => match builtin {
                Some(name) => {
                    tracing::warn!(
                        url,
                        error = %e,
                        "cannot fetch the module; using loadgate's built-in copy"
                    );
                    Ok(RemoteSource::Builtin(name))
                }
                None => Err(format!(
                    "The moduleSpecifier \"{url}\" couldn't be retrieved from the resolved url \"{url}\". Error : \"{e}\""
                )),
            },
        }
    }

    /// The cache file of `url`: its SHA-256 (URLs are not file names).
    fn disk_path(&self, url: &str) -> Option<PathBuf> {
        let dir = self.config.cache_dir.as_ref()?;
        let digest = Sha256::digest(url.as_bytes());
        let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        Some(dir.join(format!("{name}.js")))
    }

    fn read_disk(&self, url: &str) -> Option<Arc<[u8]>> {
        let path = self.disk_path(url)?;
        let data = std::fs::read(&path).ok()?;
        (data.len() <= self.config.max_bytes).then(|| data.into())
    }

    /// Writes the cache file (to a temporary name first, so a reader never sees half a module).
    /// A cache that cannot be written only costs a warning.
    fn write_disk(&self, url: &str, data: &[u8]) {
        let Some(path) = self.disk_path(url) else {
            return;
        };
        let write = || -> std::io::Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            std::fs::write(&tmp, data)?;
            std::fs::rename(&tmp, &path)
        };
        if let Err(e) = write() {
            tracing::warn!(url, cache = %path.display(), error = %e, "cannot write the module cache");
        }
    }
}

/// Whether a module name is a remote module's URL.
pub fn is_remote(name: &str) -> bool {
    name.starts_with("https://")
}

/// Resolves `name` imported by the remote module `base` (a URL), as k6's `loader.Resolve` does
/// with an https base: relative to its URL.
pub fn join(base: &str, name: &str) -> Result<String, String> {
    let base = url::Url::parse(base).map_err(|e| format!("{base}: {e}"))?;
    base.join(name)
        .map(|u| u.to_string())
        .map_err(|e| format!("{name}: {e}"))
}

/// k6's check of a specifier with `://`: only file and https.
pub fn check_scheme(name: &str) -> Result<String, String> {
    let parsed = url::Url::parse(name).map_err(|e| format!("{name}: {e}"))?;
    match parsed.scheme() {
        "https" => Ok(parsed.to_string()),
        other => Err(format!(
            "only supported schemes for imports are file and https, {name} has `{other}`"
        )),
    }
}

/// k6's `loadRemoteURL`: with `_k6=1` in the query first, then as written.
fn fetch_like_k6(url: &str, config: &RemoteConfig) -> Result<Vec<u8>, String> {
    let mut marked = url::Url::parse(url).map_err(|e| e.to_string())?;
    let query = match marked.query() {
        Some(q) if !q.is_empty() => format!("{q}&_k6=1"),
        _ => "_k6=1".to_owned(),
    };
    marked.set_query(Some(&query));
    match fetch(marked.as_str(), config) {
        Ok(data) => Ok(data),
        Err(first) => {
            tracing::debug!(url, error = %first, "fetch with _k6=1 failed; trying without");
            fetch(url, config)
        }
    }
}

/// One GET on a thread of its own (the caller is a VU's coroutine inside a runtime), bounded by
/// the timeout and the size cap. Errors are worded as k6's (`not found: URL`).
fn fetch(url: &str, config: &RemoteConfig) -> Result<Vec<u8>, String> {
    let url = url.to_owned();
    let config = config.clone();
    let worker = std::thread::Builder::new()
        .name("module-fetch".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(fetch_async(&url, &config))
        })
        .map_err(|e| format!("cannot start the fetch: {e}"))?;
    worker
        .join()
        .unwrap_or_else(|_| Err("the fetch panicked".to_owned()))
}

async fn fetch_async(url: &str, config: &RemoteConfig) -> Result<Vec<u8>, String> {
    let client = crate::tls::reqwest_builder()
        .timeout(config.timeout)
        .user_agent(crate::http::DEFAULT_USER_AGENT)
        .build()
        .map_err(|e| e.to_string())?;
    let get_error = |e: reqwest::Error| {
        if e.is_timeout() {
            format!(
                "Get \"{url}\": no answer within {}s (timeout)",
                config.timeout.as_secs_f64()
            )
        } else {
            format!("Get \"{url}\": {}", error_chain(&e))
        }
    };
    let mut res = client.get(url).send().await.map_err(get_error)?;
    match res.status().as_u16() {
        200 => {}
        404 => return Err(format!("not found: {url}")),
        code => return Err(format!("wrong status code ({code}) for: {url}")),
    }
    let too_big = || {
        format!(
            "{url}: the module is larger than loadgate's limit of {} bytes",
            config.max_bytes
        )
    };
    if res
        .content_length()
        .is_some_and(|n| n > config.max_bytes as u64)
    {
        return Err(too_big());
    }
    let mut data = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(get_error)? {
        if data.len() + chunk.len() > config.max_bytes {
            return Err(too_big());
        }
        data.extend_from_slice(&chunk);
    }
    Ok(data)
}

/// An error with its sources (reqwest's own text is only "error sending request").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_imports_resolve_against_the_module_url() {
        let base = "https://example.com/lib/v1/index.js";
        assert_eq!(
            join(base, "./util.js").unwrap(),
            "https://example.com/lib/v1/util.js"
        );
        assert_eq!(
            join(base, "../v2/x.js").unwrap(),
            "https://example.com/lib/v2/x.js"
        );
        assert_eq!(join(base, "/top.js").unwrap(), "https://example.com/top.js");
    }

    #[test]
    fn only_https_is_fetched() {
        assert!(check_scheme("https://example.com/a.js").is_ok());
        let refused = check_scheme("http://127.0.0.1:9/mod.js").unwrap_err();
        assert_eq!(
            refused,
            "only supported schemes for imports are file and https, http://127.0.0.1:9/mod.js has `http`"
        );
    }

    #[test]
    fn the_cache_folder_follows_the_environment() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let c = RemoteConfig::from_vars(&vars(&[("XDG_CACHE_HOME", "/c"), ("HOME", "/h")]));
        assert_eq!(c.cache_dir, Some(PathBuf::from("/c/loadgate/modules")));
        assert!(!c.offline);
        let c = RemoteConfig::from_vars(&vars(&[("HOME", "/h"), ("LOADGATE_OFFLINE", "1")]));
        assert_eq!(
            c.cache_dir,
            Some(PathBuf::from("/h/.cache/loadgate/modules"))
        );
        assert!(c.offline);
        let c = RemoteConfig::from_vars(&vars(&[
            ("LOADGATE_MODULE_CACHE", "/m"),
            ("XDG_CACHE_HOME", "/c"),
            ("LOADGATE_OFFLINE", "false"),
        ]));
        assert_eq!(c.cache_dir, Some(PathBuf::from("/m")));
        assert!(!c.offline);
    }

    #[test]
    fn offline_takes_the_cache_then_the_builtin_copy() {
        let dir = tempfile::tempdir().unwrap();
        let config = RemoteConfig {
            cache_dir: Some(dir.path().to_path_buf()),
            offline: true,
            timeout: Duration::from_secs(1),
            max_bytes: 1024,
        };
        let remote = RemoteModules::new(config.clone());
        let url = "https://example.invalid/a.js";
        let err = remote.load(url, None).unwrap_err();
        assert!(err.contains("offline"), "{err}");
        assert_eq!(
            remote.load(url, Some("jslib:k6-utils")).unwrap(),
            RemoteSource::Builtin("jslib:k6-utils")
        );
        let writer = RemoteModules::new(config.clone());
        writer.write_disk(url, b"export default 1;");
        let reader = RemoteModules::new(config);
        assert_eq!(
            reader.load(url, Some("jslib:k6-utils")).unwrap(),
            RemoteSource::Fetched(Arc::from(&b"export default 1;"[..]))
        );
    }
}
