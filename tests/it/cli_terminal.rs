//! What `loadgate run` prints while a test runs, compared with the real k6: the execution header and
//! the progress frames on stdout when it is not a terminal (CI logs, `kubectl logs`), logfmt log
//! lines on stderr; under a pseudo-terminal, colors, bars redrawn in place and log lines written
//! above the bars; `--quiet`, `NO_COLOR`, `--log-format json` and `--console-output`.

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test-data/conformance/70_terminal_output.js")
}

fn loadgate() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_loadgate"));
    c.env_remove("NO_COLOR")
        .env_remove("K6_NO_COLOR")
        .env("K6_NO_USAGE_REPORT", "true");
    c
}

/// Output of a command with a deadline.
fn output(mut cmd: Command) -> std::process::Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the run did not end within 60 s")
        .unwrap()
}

/// The header: from `execution:` to the blank line after the scenarios.
fn header(stdout: &str) -> String {
    let start = stdout.find("     execution:").expect("no execution header");
    let rest = &stdout[start..];
    let end = rest.find("\n\n\n").map_or(rest.len(), |e| e + 1);
    rest[..end].to_string()
}

/// The frames: blocks starting with `running (`.
fn frames(stdout: &str) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in stdout.lines() {
        if line.starts_with("running") {
            if let Some(f) = current.take() {
                out.push(f);
            }
            current = Some(vec![line.to_string()]);
        } else if let Some(f) = current.as_mut() {
            if line.trim().is_empty() || line.contains("TOTAL RESULTS") {
                out.push(current.take().unwrap_or_default());
            } else {
                f.push(line.to_string());
            }
        }
    }
    if let Some(f) = current {
        out.push(f);
    }
    out
}

fn digits_zeroed(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            l.chars()
                .map(|c| if c.is_ascii_digit() { '0' } else { c })
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect()
}

#[test]
fn header_and_frames_match_k6_when_not_a_terminal() {
    let k6 = crate::support::k6();
    let dir = script().parent().unwrap().to_path_buf();
    let run = |mut c: Command| {
        c.current_dir(&dir)
            .args(["run", "--no-summary", "70_terminal_output.js"]);
        output(c)
    };
    let mut k6cmd = Command::new(&k6);
    // No REST API port (other k6 runs on this machine may hold 6565).
    k6cmd
        .env("K6_NO_USAGE_REPORT", "true")
        .env("K6_ADDRESS", "");
    let theirs = run(k6cmd);
    let ours = run(loadgate());
    assert_eq!(ours.status.code(), theirs.status.code());
    let (k6_out, lg_out) = (
        String::from_utf8_lossy(&theirs.stdout).into_owned(),
        String::from_utf8_lossy(&ours.stdout).into_owned(),
    );
    assert_eq!(
        header(&lg_out),
        header(&k6_out),
        "k6:\n{k6_out}\nloadgate:\n{lg_out}"
    );
    assert!(
        !lg_out.contains('\x1b'),
        "escape codes on a pipe:\n{lg_out:?}"
    );

    let (kf, lf) = (frames(&k6_out), frames(&lg_out));
    // One frame a second: the test takes ~2 s, each tool prints 2-4 frames (plus the last).
    assert!(
        (2..=6).contains(&lf.len()),
        "{} frames:\n{lg_out}",
        lf.len()
    );
    assert!(
        (lf.len() as i64 - kf.len() as i64).abs() <= 2,
        "k6 {} frames, loadgate {}",
        kf.len(),
        lf.len()
    );
    let last_k6 = kf.last().expect("k6 printed no frame");
    let last = lf.last().expect("loadgate printed no frame");
    assert_eq!(
        digits_zeroed(last),
        digits_zeroed(last_k6),
        "last frames:\n{last:#?}\n{last_k6:#?}"
    );
    assert!(last.iter().skip(1).all(|l| l.contains('✓')), "{last:#?}");
    assert!(last[0].starts_with("running ("), "{last:#?}");
    // The first frame shows the late scenario waiting, as k6's does.
    assert!(
        lf[0]
            .iter()
            .any(|l| l.starts_with("late") && l.contains("• [   0% ] waiting")),
        "{:#?}",
        lf[0]
    );

    // Logs on stderr: logfmt lines, never mixed into stdout.
    let stderr = String::from_utf8_lossy(&ours.stderr);
    let console: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("source=console"))
        .collect();
    assert!(!console.is_empty(), "{stderr}");
    for l in &console {
        assert!(
            l.starts_with("time=\"") && l.contains(" level=info msg=\"iteration "),
            "{l}"
        );
    }
    assert!(!lg_out.contains("source=console"));
}

#[test]
fn quiet_prints_no_banner_header_or_frames() {
    let mut c = loadgate();
    c.args(["run", "-q", "--no-summary"]).arg(script());
    let out = output(c);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("execution:") && !stdout.contains("running ("),
        "{stdout}"
    );
}

#[test]
fn json_logs_and_console_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let console = dir.path().join("console.log");
    let mut c = loadgate();
    c.args([
        "run",
        "-q",
        "--no-summary",
        "--log-format",
        "json",
        "--console-output",
    ])
    .arg(&console)
    .arg(script());
    let out = output(c);
    assert_eq!(out.status.code(), Some(0));
    // console.* went to the file, in the log format (JSON), without source=console.
    let text = std::fs::read_to_string(&console).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 7, "{text}");
    assert!(
        lines
            .iter()
            .all(|l| l["level"] == "info" && l.get("source").is_none()),
        "{text}"
    );
    assert!(lines[0]["msg"].as_str().unwrap().starts_with("iteration "));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("iteration "));

    // A console file in a missing folder: k6's exit code (255) and a clear line.
    let mut c = loadgate();
    c.args(["run", "-q", "--console-output"])
        .arg(dir.path().join("no/such/c.log"))
        .arg(script());
    let out = output(c);
    assert_eq!(out.status.code(), Some(255));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot open the console output file"),
        "{stderr}"
    );
}

/// Runs loadgate with stdout and stderr on a new pseudo-terminal; returns what it wrote.
fn in_pty(args: &[&str], env: &[(&str, &str)]) -> String {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two fds into the provided ints; the other arguments may be null.
    let r = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(r, 0, "openpty failed");
    // SAFETY: both fds were just opened by openpty and are owned here.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut c = loadgate();
    c.args(args)
        .stdin(Stdio::null())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave.try_clone().unwrap());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap();
    // The reader sees EOF only once no slave fd is left open here (the Command holds two).
    drop(c);
    drop(slave);
    let mut reader = std::fs::File::from(master);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        // EIO once the last slave fd closes (the child exited).
        while let Ok(n) = reader.read(&mut chunk) {
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let _ = tx.send(buf);
    });
    let bytes = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("no end within 60 s");
    assert_eq!(child.wait().unwrap().code(), Some(0));
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn terminal_gets_colors_bars_in_place_and_logs_above_them() {
    let script = script();
    let s = script.to_str().unwrap();
    let out = in_pty(&["run", "--no-summary", s], &[]);
    // Bars redrawn in place: each frame ends by going back to its first line (4 bars + 1).
    assert!(out.contains("\r\x1b[J\x1b[5A"), "{out:?}");
    assert!(
        out.contains("[=") && out.contains("\x1b[2m-"),
        "no drawn bars: {out:?}"
    );
    // Colored level, and a log line written where the frame was, the frame drawn again after it.
    assert!(out.contains("\x1b[36mINFO\x1b[0m["), "{out:?}");
    assert!(
        out.contains("\x1b[5A\x1b[36mINFO"),
        "log line not written over the frame: {out:?}"
    );
    // The last frame: green ticks, and it stays (no go-back after it).
    let tail = &out[out.rfind("running (").unwrap()..];
    assert_eq!(tail.matches("\x1b[32m✓\x1b[0m").count(), 3, "{tail:?}");
    assert!(!tail.contains("\x1b[5A"), "{tail:?}");

    // NO_COLOR (even empty): no colors anywhere, logs in logfmt; bars still drawn in place.
    let out = in_pty(&["run", "--no-summary", s], &[("NO_COLOR", "")]);
    assert!(
        !out.contains("\x1b[3") && !out.contains("\x1b[2m"),
        "{out:?}"
    );
    assert!(out.contains("\x1b[5A"), "{out:?}");
    assert!(out.contains("level=info msg=\"iteration "), "{out:?}");
    // --no-color does the same.
    let out = in_pty(&["run", "--no-summary", "--no-color", s], &[]);
    assert!(!out.contains("\x1b[36m"), "{out:?}");
}

#[test]
fn quiet_on_a_terminal_keeps_colored_logs_but_no_banner_or_bars() {
    // k6 v1.1 `run -q` on a terminal: no banner, header or bars; log lines still colored.
    let script = script();
    let out = in_pty(
        &["run", "-q", "--no-summary", script.to_str().unwrap()],
        &[],
    );
    assert!(
        !out.contains("execution:") && !out.contains("running (") && !out.contains("\x1b[5A"),
        "{out:?}"
    );
    assert!(out.contains("\x1b[36mINFO\x1b[0m["), "{out:?}");
}

/// `console.*` renders every kind of value as the real k6 does (the file's lines compared).
#[test]
fn console_values_print_as_k6() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-data/console/values.js");
    let dir = tempfile::tempdir().unwrap();
    let lines = |cmd: Command, name: &str| {
        let mut cmd = cmd;
        let file = dir.path().join(name);
        cmd.args([
            "run",
            "-q",
            "--no-summary",
            "--log-format",
            "raw",
            "--console-output",
        ])
        .arg(&file)
        .arg(&script);
        let out = output(cmd);
        assert_eq!(out.status.code(), Some(0), "{name}: {out:?}");
        std::fs::read_to_string(&file).unwrap()
    };
    let mut k6 = Command::new(crate::support::k6());
    // No REST API port for either (other runs on this machine may hold 6565).
    k6.env("K6_NO_USAGE_REPORT", "true").env("K6_ADDRESS", "");
    let theirs = lines(k6, "k6.log");
    let mut lg = loadgate();
    lg.env("K6_ADDRESS", "");
    let ours = lines(lg, "loadgate.log");
    assert_eq!(theirs.lines().count(), 10, "{theirs}");
    assert_eq!(ours, theirs);
}
