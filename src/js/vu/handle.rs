//! The handle side of a VU: [`JsVu`] (`Send`, held by executors) and [`spawn_vu`].
//!
//! Invariants: a [`JsVu`] only sends [`Command`]s and awaits [`Reply`]s on its channel, it never
//! touches the VU's JS state; dropping it (the channel's last sender) shuts the VU down once it
//! is idle; [`spawn_vu`] returns only after the init context ran (or failed), so a returned VU
//! is ready for commands.

use std::rc::Rc;
use std::sync::Arc;

use corosensei::stack::{DefaultStack, Stack};
use corosensei::{Coroutine, Yielder};
use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use crate::engine::{IterationOutcome, IterationSpec, RunError, Vu, VuIds};
use crate::http::{ClientConfig, HttpClient};
use crate::js::coroutine::{Command, InitInfo, Reply, Resume, Suspend, VU_STACK_SIZE, VuCoroutine};
use crate::js::shared::{TestShared, VuSettings};
use crate::js::worker::Workers;

use super::body::vu_body;
use super::driver::drive;

/// Sends commands to a VU.
pub type CommandTx = mpsc::UnboundedSender<(Command, oneshot::Sender<Reply>)>;

/// The handle of one VU. Dropping it shuts the VU down once it is idle.
pub struct JsVu {
    ids: VuIds,
    tx: CommandTx,
    /// The runtime of the worker this VU lives on.
    runtime: Option<tokio::runtime::Handle>,
}

impl JsVu {
    /// Sends a command and waits for its reply.
    pub async fn call(&self, cmd: Command) -> Result<Reply, RunError> {
        Self::call_on(&self.tx, cmd).await
    }

    /// A clone of the command channel, for futures that must not borrow the VU.
    pub fn sender(&self) -> CommandTx {
        self.tx.clone()
    }

    /// Sends a command on `tx` and waits for its reply.
    pub async fn call_on(tx: &CommandTx, cmd: Command) -> Result<Reply, RunError> {
        let (reply_tx, rx) = oneshot::channel();
        tx.send((cmd, reply_tx))
            .map_err(|_| RunError::Internal("the VU has stopped".to_string()))?;
        rx.await
            .map_err(|_| RunError::Internal("the VU stopped without answering".to_string()))
    }
}

impl Vu for JsVu {
    fn ids(&self) -> VuIds {
        self.ids
    }

    fn runtime(&self) -> Option<tokio::runtime::Handle> {
        self.runtime.clone()
    }

    fn run_iteration(&mut self, spec: IterationSpec) -> BoxFuture<'_, IterationOutcome> {
        Box::pin(async move {
            match self.call(Command::Iterate(Box::new(spec))).await {
                Ok(Reply::Iteration(outcome)) => outcome,
                Ok(_) => IterationOutcome::Lost("internal error: unexpected reply".to_string()),
                Err(e) => IterationOutcome::Lost(format!("VU {}: {e}", self.ids.id_in_test)),
            }
        })
    }
}

/// Creates a VU on one of the workers and waits for its init context to finish.
/// `read_options` asks for the exported options as JSON (the options VU, `__VU` = 0).
pub async fn spawn_vu(
    workers: &Workers,
    shared: Arc<TestShared>,
    ids: VuIds,
    read_options: bool,
) -> Result<(JsVu, InitInfo), RunError> {
    let (tx, rx) = mpsc::unbounded_channel();
    let (init_tx, init_rx) = oneshot::channel();
    let spawned = workers.spawn(move || {
        tokio::task::spawn_local(async move {
            let stack = match DefaultStack::new(VU_STACK_SIZE) {
                Ok(s) => s,
                Err(e) => {
                    let _ = init_tx.send(Err(RunError::Internal(format!(
                        "cannot allocate a VU stack: {e} (too many VUs for this process?)"
                    ))));
                    return;
                }
            };
            let settings = shared.settings();
            let http = Rc::new(HttpClient::new(client_config(&settings, ids)));
            let vu_http = http.clone();
            let body_shared = shared.clone();
            let stack_range = (stack.limit().get(), stack.base().get());
            let co: VuCoroutine =
                Coroutine::with_stack(stack, move |y: &Yielder<Resume, Suspend>, _first| {
                    vu_body(y, body_shared, ids, read_options, vu_http, stack_range)
                });
            drive(co, rx, init_tx, http, settings).await;
        });
    });
    let Some(runtime) = spawned else {
        return Err(RunError::Internal(
            "the VU workers have stopped".to_string(),
        ));
    };
    let info = init_rx
        .await
        .map_err(|_| RunError::Internal("the VU stopped during init".to_string()))??;
    Ok((
        JsVu {
            ids,
            tx,
            runtime: Some(runtime),
        },
        info,
    ))
}

/// The VU's HTTP client settings from the test's.
pub(crate) fn client_config(settings: &VuSettings, ids: VuIds) -> ClientConfig {
    let net = &settings.network;
    let local_ip = net
        .local_ips
        .as_ref()
        .and_then(|p| p.for_vu(ids.id_in_instance));
    ClientConfig {
        user_agent: Some(settings.user_agent.clone()),
        insecure_skip_tls_verify: settings.insecure_skip_tls_verify,
        tls: settings.tls.clone(),
        net: net.clone(),
        no_connection_reuse: net.no_connection_reuse,
        rps: settings.rps.clone(),
        resolver: settings.resolver.clone(),
        local_ip,
        discard_response_bodies: settings.discard_response_bodies,
        // Go's MaxIdleConnsPerHost is batchPerHost; 0 means Go's default of 2.
        max_idle_per_host: if net.batch_per_host == 0 {
            2
        } else {
            net.batch_per_host
        },
        http2: crate::http::http2_enabled(),
    }
}
