//! The process's two terminal streams, as k6 uses them: stdout carries the banner, the execution
//! header, the live progress display and the summary; logs go to stderr (or where `--log-output`
//! says, see [`log`]). Everything that prints goes through here, so a log line is never glued to
//! the progress display: on a terminal the display is erased, the line written, and the display
//! drawn again below it (k6's `console.Writer` with its `PersistentText`).
//!
//! Colors are on only where k6 has them: the stream is a terminal and neither `--no-color`,
//! `K6_NO_COLOR` nor `NO_COLOR` (<https://no-color.org>, even empty) is set.

use std::io::{IsTerminal, Write};
use std::sync::{Mutex, OnceLock};

pub mod log;

/// What the process knows about its streams, fixed once at start.
#[derive(Clone, Copy, Debug)]
pub struct Streams {
    pub stdout_tty: bool,
    pub stderr_tty: bool,
    /// `--no-color`, `K6_NO_COLOR` or `NO_COLOR`.
    pub no_color: bool,
}

impl Streams {
    /// The real streams and the color variables of `env`.
    pub fn detect(no_color_flag: bool, env: &dyn Fn(&str) -> Option<String>) -> Streams {
        Streams {
            stdout_tty: std::io::stdout().is_terminal(),
            stderr_tty: std::io::stderr().is_terminal(),
            no_color: no_color_flag || env_disables_color(env),
        }
    }
}

/// k6's rule: `K6_NO_COLOR` non-empty, or `NO_COLOR` present (any value).
pub fn env_disables_color(env: &dyn Fn(&str) -> Option<String>) -> bool {
    env("K6_NO_COLOR").is_some_and(|v| !v.is_empty()) || env("NO_COLOR").is_some()
}

static STREAMS: OnceLock<Streams> = OnceLock::new();

/// Fixes the stream facts (first call wins; later calls are ignored).
pub fn init(streams: Streams) {
    let _ = STREAMS.set(streams);
}

/// The stream facts (detected without flags if [`init`] was not called).
pub fn streams() -> Streams {
    *STREAMS.get_or_init(|| {
        Streams::detect(false, &|k| {
            std::env::var_os(k).map(|v| v.to_string_lossy().into())
        })
    })
}

/// True when what goes to stdout may be colored.
pub fn stdout_colors() -> bool {
    let s = streams();
    s.stdout_tty && !s.no_color
}

/// The progress display last drawn on a stdout terminal; the cursor sits at its first line, so the
/// next write lands over it and the display is drawn again after it.
static PERSISTENT: Mutex<Option<String>> = Mutex::new(None);

/// Which stream a write goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

fn write_raw(stream: Stream, bytes: &[u8]) {
    match stream {
        Stream::Stdout => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(bytes);
            let _ = out.flush();
        }
        Stream::Stderr => {
            let _ = std::io::stderr().lock().write_all(bytes);
        }
    }
}

/// Writes `text` to `stream`; on a terminal every newline first erases the rest of the line, and
/// the progress display (if one is up) is drawn again after the text.
pub fn write(stream: Stream, text: &str) {
    let s = streams();
    let tty = match stream {
        Stream::Stdout => s.stdout_tty,
        Stream::Stderr => s.stderr_tty,
    };
    let mut persistent = PERSISTENT.lock().unwrap_or_else(|e| e.into_inner());
    if tty {
        write_raw(stream, text.replace('\n', "\x1b[0K\n").as_bytes());
    } else {
        write_raw(stream, text.as_bytes());
    }
    if let Some(p) = persistent.as_mut() {
        write_raw(Stream::Stdout, p.as_bytes());
    }
}

/// Draws the progress display. With `keep`, the display stays up (drawn again after every write,
/// until [`clear_persistent`]); `render` must then end by moving the cursor back to its top.
pub fn draw_persistent(render: String, keep: bool) {
    let mut persistent = PERSISTENT.lock().unwrap_or_else(|e| e.into_inner());
    write_raw(Stream::Stdout, render.as_bytes());
    *persistent = keep.then_some(render);
}

/// Takes the progress display down (writes go on below its last frame).
pub fn clear_persistent() {
    let mut persistent = PERSISTENT.lock().unwrap_or_else(|e| e.into_inner());
    *persistent = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_variables_as_k6() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(!env_disables_color(&env(&[])));
        assert!(env_disables_color(&env(&[("NO_COLOR", "")])));
        assert!(env_disables_color(&env(&[("NO_COLOR", "1")])));
        assert!(!env_disables_color(&env(&[("K6_NO_COLOR", "")])));
        assert!(env_disables_color(&env(&[("K6_NO_COLOR", "true")])));
    }
}
