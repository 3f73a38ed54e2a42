//! The thread a file output (`json`, `csv`) writes on, so neither the VUs nor the metrics task wait
//! for the disk: batches go to it over a channel, and stopping the output waits for the thread to
//! write what it has and reports its I/O error, if any.

use std::io;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use futures_util::future::BoxFuture;

use crate::metrics::SampleBatch;

/// What the writer thread receives.
pub enum Msg {
    Samples(Arc<SampleBatch>),
    Stop,
}

/// A file output's writer thread; idle until started.
#[derive(Default)]
pub struct FileThread {
    tx: Option<Sender<Msg>>,
    handle: Option<JoinHandle<io::Result<()>>>,
}

impl FileThread {
    /// Starts `body` on a thread named after the output; a failure to start is logged and the
    /// output then drops its samples.
    pub fn start<F>(output: &'static str, body: F) -> FileThread
    where
        F: FnOnce(Receiver<Msg>) -> io::Result<()> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel::<Msg>();
        match std::thread::Builder::new()
            .name(format!("output-{output}"))
            .spawn(move || body(rx))
        {
            Ok(handle) => FileThread {
                tx: Some(tx),
                handle: Some(handle),
            },
            Err(e) => {
                tracing::error!(error = %e, "cannot start the {output} output");
                FileThread::default()
            }
        }
    }

    /// Hands a batch to the thread (a cheap `Arc` clone).
    pub fn send(&self, samples: &Arc<SampleBatch>) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Msg::Samples(samples.clone()));
        }
    }

    /// Tells the thread to stop and waits for it; `path` names the file in the error log.
    pub fn stop(self, output: &'static str, path: String) -> BoxFuture<'static, ()> {
        let FileThread { tx, handle } = self;
        Box::pin(async move {
            if let Some(tx) = tx {
                let _ = tx.send(Msg::Stop);
            }
            let Some(handle) = handle else { return };
            let joined = tokio::task::spawn_blocking(move || handle.join()).await;
            if let Ok(Ok(Err(e))) = joined {
                tracing::error!(error = %e, path = %path, "the {output} output could not write");
            }
        })
    }
}
