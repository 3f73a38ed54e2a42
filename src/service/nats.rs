//! The NATS transport: queue-subscribes every configured `...triggered` subject in one queue
//! group (so one replica takes each event), parses bodies as structured CloudEvents and hands them
//! to the job manager with a NATS responder (answers go on the subject named by their type). The
//! client reconnects with backoff forever; subscriptions are restored by async-nats.
//!
//! Receives NATS messages; emits [`crate::keptn::Triggered`] events to the [`JobManager`].

use std::path::PathBuf;

use futures_util::StreamExt;
use futures_util::stream::select_all;

use super::answer::Responder;
use super::jobs::{JobManager, Submitted};
use crate::keptn::event::{EventError, decode_structured, parse_triggered};
use crate::keptn::resource::Secret;

/// Why NATS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    #[error("cannot connect to nats at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("cannot subscribe to {subject}: {reason}")]
    Subscribe { subject: String, reason: String },
    #[error("invalid NATS settings: {0}")]
    Settings(String),
}

/// How loadgate authenticates to NATS and secures the connection (`--nats-*`, the names the
/// `nats` CLI reads from the environment). At most one way to authenticate; TLS is used for
/// `tls://` URLs, or whenever a CA or a client certificate is given.
#[derive(Clone, Debug, Default)]
pub struct NatsSettings {
    /// A `.creds` file (user JWT and NKey seed), as `nats --creds`.
    pub creds: Option<PathBuf>,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub token: Option<Secret>,
    /// PEM CA bundle that signs the server's certificate.
    pub ca: Option<PathBuf>,
    /// PEM client certificate and key, for servers that verify clients.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

impl NatsSettings {
    /// Checks the combination before anything connects.
    pub fn validate(&self) -> Result<(), NatsError> {
        let bad = |m: &str| Err(NatsError::Settings(m.to_string()));
        let ways = [
            self.creds.is_some(),
            self.user.is_some() || self.password.is_some(),
            self.token.is_some(),
        ];
        if ways.iter().filter(|w| **w).count() > 1 {
            return bad(
                "give one of --nats-creds, --nats-user/--nats-password or --nats-token, not several",
            );
        }
        if self.user.is_some() != self.password.is_some() {
            return bad("--nats-user and --nats-password go together");
        }
        if self.cert.is_some() != self.key.is_some() {
            return bad("--nats-cert and --nats-key go together");
        }
        for (flag, path) in [
            ("--nats-creds", &self.creds),
            ("--nats-ca", &self.ca),
            ("--nats-cert", &self.cert),
            ("--nats-key", &self.key),
        ] {
            if let Some(p) = path
                && !p.is_file()
            {
                return Err(NatsError::Settings(format!(
                    "{flag} {}: no such file",
                    p.display()
                )));
            }
        }
        Ok(())
    }

    /// A short description for the startup log (never the secrets).
    pub fn describe(&self) -> &'static str {
        match (&self.creds, &self.user, &self.token) {
            (Some(_), _, _) => "creds file",
            (_, Some(_), _) => "user and password",
            (_, _, Some(_)) => "token",
            _ => "none",
        }
    }

    async fn apply(
        &self,
        mut opts: async_nats::ConnectOptions,
    ) -> Result<async_nats::ConnectOptions, NatsError> {
        if let Some(c) = &self.creds {
            opts = opts
                .credentials_file(c)
                .await
                .map_err(|e| NatsError::Settings(format!("--nats-creds {}: {e}", c.display())))?;
        }
        if let (Some(u), Some(p)) = (&self.user, &self.password) {
            opts = opts.user_and_password(u.clone(), p.expose().to_string());
        }
        if let Some(t) = &self.token {
            opts = opts.token(t.expose().to_string());
        }
        if let Some(ca) = &self.ca {
            opts = opts.add_root_certificates(ca.clone()).require_tls(true);
        }
        if let (Some(cert), Some(key)) = (&self.cert, &self.key) {
            opts = opts
                .add_client_certificate(cert.clone(), key.clone())
                .require_tls(true);
        }
        Ok(opts)
    }
}

/// Connects (retrying in the background until the server is there).
pub async fn connect(url: &str, settings: &NatsSettings) -> Result<async_nats::Client, NatsError> {
    settings.validate()?;
    settings
        .apply(async_nats::ConnectOptions::new())
        .await?
        .name("loadgate")
        .retry_on_initial_connect()
        .max_reconnects(None)
        .event_callback(|e| async move {
            match e {
                async_nats::Event::Connected => tracing::info!("nats connected"),
                async_nats::Event::Disconnected => {
                    tracing::warn!("nats disconnected, reconnecting")
                }
                other => tracing::debug!(event = %other, "nats event"),
            }
        })
        .connect(url)
        .await
        .map_err(|e| NatsError::Connect {
            url: crate::redact::url(url),
            reason: crate::redact::url(&e.to_string()),
        })
}

/// Subscribes and feeds the job manager until the manager starts closing; then unsubscribes.
pub async fn subscribe(
    client: async_nats::Client,
    types: Vec<String>,
    group: String,
    jobs: JobManager,
) -> Result<tokio::task::JoinHandle<()>, NatsError> {
    let mut subs = Vec::new();
    for subject in &types {
        let s = client
            .queue_subscribe(subject.clone(), group.clone())
            .await
            .map_err(|e| NatsError::Subscribe {
                subject: subject.clone(),
                reason: e.to_string(),
            })?;
        subs.push(s);
    }
    // Make sure the server has the subscriptions before we report ready.
    // Bounded: with the server away, the client subscribes once it connects.
    match tokio::time::timeout(std::time::Duration::from_secs(5), client.flush()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "nats flush after subscribing failed"),
        Err(_) => tracing::warn!("nats not reachable yet; subscriptions wait for the connection"),
    }
    let closing = jobs.closing();
    Ok(tokio::spawn(async move {
        let mut all = select_all(subs);
        loop {
            let msg = tokio::select! {
                m = all.next() => match m { Some(m) => m, None => break },
                _ = closing.cancelled() => break,
            };
            handle(&client, &types, &jobs, &msg.payload);
        }
        for s in all.iter_mut() {
            let _ = s.unsubscribe().await;
        }
        tracing::info!("nats subscriptions closed");
    }))
}

fn handle(client: &async_nats::Client, types: &[String], jobs: &JobManager, body: &[u8]) {
    let m = jobs.metrics();
    m.events_received.with_label_values(&["nats"]).inc();
    let refuse = |reason: &str, e: &EventError| {
        m.events_refused.with_label_values(&["nats", reason]).inc();
        tracing::warn!(transport = "nats", reason, error = %e, "event refused");
    };
    let event = match decode_structured(body) {
        Ok(e) => e,
        Err(e) => return refuse("invalid", &e),
    };
    let t = match parse_triggered(&event, types) {
        Ok(t) => t,
        Err(e @ EventError::UnknownType(_)) => return refuse("unknown_type", &e),
        Err(e) => return refuse("invalid", &e),
    };
    let id = t.id.clone();
    match jobs.submit(t, Responder::Nats(client.clone())) {
        Submitted::Accepted => {}
        Submitted::Duplicate => {
            m.events_refused
                .with_label_values(&["nats", "duplicate"])
                .inc();
            tracing::info!(id, "duplicate delivery ignored");
        }
        Submitted::ShuttingDown => {
            m.events_refused
                .with_label_values(&["nats", "shutting_down"])
                .inc();
        }
    }
}
