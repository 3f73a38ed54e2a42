//! The driver of a VU: a local task on the VU's worker that resumes the coroutine and serves
//! what it suspends for, until the coroutine returns.
//!
//! Invariants: the coroutine is resumed only from here, always to its next suspension; every
//! `Done` is answered to the command that caused it; a command's interrupt token cancels the
//! HTTP, I/O or sleep it waits on (the coroutine is resumed with `Cancelled`, never dropped);
//! a closed command channel resumes it with `Shutdown`.

use std::rc::Rc;
use std::sync::Arc;

use corosensei::CoroutineResult;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::engine::RunError;
use crate::http::HttpClient;
use crate::js::coroutine::{Command, InitInfo, Reply, Resume, Suspend, VuCoroutine};
use crate::js::shared::VuSettings;

type CommandRx = mpsc::UnboundedReceiver<(Command, oneshot::Sender<Reply>)>;

/// The driver: resumes the coroutine and serves what it suspends for, until it returns.
pub(super) async fn drive(
    mut co: VuCoroutine,
    mut rx: CommandRx,
    init_tx: oneshot::Sender<Result<InitInfo, RunError>>,
    http: Rc<HttpClient>,
    settings: Arc<VuSettings>,
) {
    let mut init_tx = Some(init_tx);
    let mut reply_to: Option<oneshot::Sender<Reply>> = None;
    let mut interrupt: Option<CancellationToken> = None;
    let mut input = Resume::Slept;
    loop {
        let out = match co.resume(input) {
            CoroutineResult::Return(()) => break,
            CoroutineResult::Yield(out) => out,
        };
        input = match out {
            Suspend::Ready(result) => {
                let ok = result.is_ok();
                if let Some(tx) = init_tx.take() {
                    let _ = tx.send(result);
                }
                if !ok {
                    Resume::Command(Command::Shutdown)
                } else {
                    next_command(&mut rx, &mut reply_to, &mut interrupt, &http, &settings).await
                }
            }
            Suspend::Done(reply) => {
                if let Some(tx) = reply_to.take() {
                    let _ = tx.send(reply);
                }
                next_command(&mut rx, &mut reply_to, &mut interrupt, &http, &settings).await
            }
            Suspend::Http(requests) => {
                // `http.batch` runs at most `batch` requests at once, answers in request order.
                let net = &settings.network;
                let all = http.execute_batch(requests, net.batch, net.batch_per_host);
                match &interrupt {
                    Some(token) => tokio::select! {
                        out = all => Resume::Http(out),
                        _ = token.cancelled() => Resume::Cancelled,
                    },
                    None => Resume::Http(all.await),
                }
            }
            Suspend::Io(fut) => match &interrupt {
                Some(token) => tokio::select! {
                    out = fut => Resume::Io(out),
                    _ = token.cancelled() => Resume::Cancelled,
                },
                None => Resume::Io(fut.await),
            },
            Suspend::Sleep(d) => match &interrupt {
                Some(token) => tokio::select! {
                    _ = tokio::time::sleep(d) => Resume::Slept,
                    _ = token.cancelled() => Resume::Cancelled,
                },
                None => {
                    tokio::time::sleep(d).await;
                    Resume::Slept
                }
            },
        };
    }
}

async fn next_command(
    rx: &mut CommandRx,
    reply_to: &mut Option<oneshot::Sender<Reply>>,
    interrupt: &mut Option<CancellationToken>,
    http: &HttpClient,
    settings: &VuSettings,
) -> Resume {
    match rx.recv().await {
        Some((cmd, tx)) => {
            *reply_to = Some(tx);
            if matches!(cmd, Command::Iterate(_)) {
                if !settings.no_cookies_reset {
                    http.jar().reset();
                }
                if settings.network.no_vu_connection_reuse {
                    // k6 closes them when an iteration ends; the next one starts afresh.
                    http.close_idle_connections();
                }
            }
            *interrupt = cmd.interrupt().cloned();
            Resume::Command(cmd)
        }
        None => Resume::Command(Command::Shutdown),
    }
}
