//! What all VUs of one test share: the script's files, the environment, the metric registry, the
//! sample channel, settings from the consolidated options, SharedArrays and instance counters.
//! `Send + Sync`: VUs on every worker thread hold an `Arc` of it.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::engine::options::network::NetworkOptions;
use crate::engine::state::ExecutionState;
use crate::http::RateLimiter;
use crate::metrics::{Registry, SampleSender, TagSet};
use crate::term::log::ConsoleFile;

use super::loader::{ModuleSources, ScriptFiles};

/// Settings VUs take from the consolidated options. Set once options are known; the options VU runs
/// with the defaults.
#[derive(Clone, Debug)]
pub struct VuSettings {
    pub user_agent: String,
    pub max_redirects: u32,
    pub discard_response_bodies: bool,
    pub no_cookies_reset: bool,
    /// `throw` option: failed requests throw instead of returning status 0.
    pub throw: bool,
    /// Test-wide tags (`--tag`, `options.tags`).
    pub test_tags: TagSet,
    /// Minimum iteration duration; iterations that end earlier sleep the rest.
    pub min_iteration_duration: Duration,
    /// `hosts`, `blacklistIPs`, `blockHostnames`, connection reuse, `batchPerHost`, `systemTags`.
    pub network: Arc<NetworkOptions>,
    /// The TLS configuration for `tlsVersion`/`tlsCipherSuites`, built once per test.
    pub tls: Option<Arc<tokio_rustls::rustls::ClientConfig>>,
    /// `dns`: one resolver (and cache) for the whole test.
    pub resolver: Option<Arc<crate::http::dns::Resolver>>,
    /// `rps`: one limiter for the whole test.
    pub rps: Option<Arc<RateLimiter>>,
    pub insecure_skip_tls_verify: bool,
    /// `--http-debug`: log requests and responses (`Some(true)`: with bodies).
    pub http_debug: Option<bool>,
}

impl Default for VuSettings {
    fn default() -> Self {
        VuSettings {
            user_agent: crate::http::DEFAULT_USER_AGENT.to_string(),
            max_redirects: 10,
            discard_response_bodies: false,
            no_cookies_reset: false,
            throw: false,
            test_tags: TagSet::new(),
            min_iteration_duration: Duration::ZERO,
            network: Arc::new(NetworkOptions::default()),
            tls: None,
            resolver: None,
            rps: None,
            insecure_skip_tls_verify: false,
            http_debug: None,
        }
    }
}

/// State shared by every VU of a test.
pub struct TestShared {
    /// The script's files, remote modules and compiled bytecode (what the module loader reads).
    pub modules: Arc<ModuleSources>,
    /// `__ENV` before scenario `env` is applied.
    pub env: BTreeMap<String, String>,
    pub registry: Arc<Registry>,
    pub samples: SampleSender,
    settings: RwLock<Arc<VuSettings>>,
    /// `exec.test.options`: the consolidated options as JSON, once known.
    pub options_json: RwLock<Option<String>>,
    shared_arrays: Mutex<HashMap<String, Arc<Vec<String>>>>,
    /// The scheduler's counters, behind `exec.instance` and the progress line.
    pub execution: Arc<ExecutionState>,
    /// When the test started (for `exec.instance.currentTestRunDuration`).
    pub started: Instant,
    pub started_at: SystemTime,
    /// `exec.test.fail(msg)` was called (k6 exit 110).
    failed: Mutex<Option<String>>,
    /// `consoleOutput`: where `console.*` lines go instead of the log.
    console_output: OnceLock<Arc<ConsoleFile>>,
    /// Cancelled when the test is aborted: stops init contexts still running (see
    /// [`TestShared::with_abort`]).
    pub abort: CancellationToken,
}

impl TestShared {
    /// State for a test of `script` (read through `files`), with `env` as `__ENV`.
    pub fn new(
        files: ScriptFiles,
        env: BTreeMap<String, String>,
        registry: Arc<Registry>,
        samples: SampleSender,
    ) -> Self {
        TestShared {
            modules: Arc::new(ModuleSources::new(
                files,
                super::remote::RemoteModules::new(super::remote::RemoteConfig::default()),
            )),
            env,
            registry,
            samples,
            settings: RwLock::new(Arc::new(VuSettings::default())),
            options_json: RwLock::new(None),
            shared_arrays: Mutex::new(HashMap::new()),
            execution: Arc::new(ExecutionState::new()),
            started: Instant::now(),
            started_at: SystemTime::now(),
            failed: Mutex::new(None),
            console_output: OnceLock::new(),
            abort: CancellationToken::new(),
        }
    }

    /// The `consoleOutput` file, once set.
    pub fn console_output(&self) -> Option<&Arc<ConsoleFile>> {
        self.console_output.get()
    }

    /// Sends `console.*` lines to `file` from now on (set once options are known).
    pub fn set_console_output(&self, file: Arc<ConsoleFile>) {
        let _ = self.console_output.set(file);
    }

    /// Lets `abort` (the test's abort token) interrupt VU init contexts: an endless loop in the
    /// init code then ends on a signal or the service's shutdown.
    pub fn with_abort(mut self, abort: CancellationToken) -> Self {
        self.abort = abort;
        self
    }

    /// How remote modules are obtained (default: from the environment). Takes effect while
    /// the state is being built, before anything holds its module sources.
    pub fn with_remote(mut self, config: super::remote::RemoteConfig) -> Self {
        if let Some(modules) = Arc::get_mut(&mut self.modules) {
            modules.remote = super::remote::RemoteModules::new(config);
        }
        self
    }

    /// The current settings.
    pub fn settings(&self) -> Arc<VuSettings> {
        self.settings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the settings (once options are consolidated).
    pub fn set_settings(&self, settings: VuSettings) {
        *self.settings.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(settings);
    }

    /// The main script's path.
    pub fn script_path(&self) -> &Path {
        self.modules.files.main()
    }

    /// A SharedArray's elements (JSON strings), creating them with `make` the first time.
    pub fn shared_array<E>(
        &self,
        name: &str,
        make: impl FnOnce() -> Result<Vec<String>, E>,
    ) -> Result<Arc<Vec<String>>, E> {
        let mut arrays = self.shared_arrays.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(a) = arrays.get(name) {
            return Ok(a.clone());
        }
        let a = Arc::new(make()?);
        arrays.insert(name.to_string(), a.clone());
        Ok(a)
    }

    /// Marks the test failed (`exec.test.fail`).
    pub fn mark_failed(&self, msg: String) {
        let mut f = self.failed.lock().unwrap_or_else(|e| e.into_inner());
        if f.is_none() {
            *f = Some(msg);
        }
    }

    /// The message of `exec.test.fail`, if it was called.
    pub fn failed(&self) -> Option<String> {
        self.failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Elapsed test time.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}
