//! Running one engine (k6 or loadgate) on one script: the k6-compatible command line, the script's
//! folder as working directory, a hard timeout, and collection of the [`Outcome`].

use std::fs::{self, File};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::compare::{Exit, Header, Outcome};

/// The loopback targets a script gets: `TARGET` (plain HTTP/1.1), `TLS_TARGET` (https with a
/// self-signed certificate, HTTP/2 or HTTP/1.1 by ALPN) and `MTLS_TARGET` (the same, requiring a
/// client certificate issued by `fixtures/mtls/ca.pem`).
pub struct Targets {
    pub plain: String,
    pub tls: String,
    pub mtls: String,
}

/// Runs `program [prefix...] run --quiet --no-color --summary-export F -e TARGET=URL
/// -e TLS_TARGET=URL -e MTLS_TARGET=URL script.js` from the script's folder; `work` receives the summary export and the logs (`stem.who.*`).
pub fn run_script(
    program: &str,
    script: &Path,
    header: &Header,
    target: &Targets,
    work: &Path,
    who: &str,
    timeout: Duration,
) -> Outcome {
    let stem = script
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("script");
    let dir = script.parent().unwrap_or(Path::new("."));
    let export = work.join(format!("{stem}.{who}.json"));
    let stdout_path = work.join(format!("{stem}.{who}.stdout"));
    let stderr_path = work.join(format!("{stem}.{who}.stderr"));
    let _ = fs::remove_file(&export);
    let written_path = header.writes.as_ref().map(|w| dir.join(w));
    if let Some(p) = &written_path {
        let _ = fs::remove_file(p);
    }
    let (Ok(out), Ok(err)) = (File::create(&stdout_path), File::create(&stderr_path)) else {
        return not_started("cannot create log files");
    };
    let mut parts = program.split_whitespace();
    let Some(bin) = parts.next() else {
        return not_started("empty command");
    };
    let child = Command::new(bin)
        .args(parts)
        .args(["run", "--quiet", "--no-color", "--summary-export"])
        .arg(&export)
        .args(["-e", &format!("TARGET={}", target.plain)])
        .args(["-e", &format!("TLS_TARGET={}", target.tls)])
        .args(["-e", &format!("MTLS_TARGET={}", target.mtls)])
        .arg(script.file_name().unwrap_or_default())
        .current_dir(dir)
        .env("K6_NO_USAGE_REPORT", "true")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return not_started(&format!("{bin}: {e}")),
    };
    let deadline = Instant::now() + timeout;
    let exit = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.code().map_or(Exit::Signal, Exit::Code),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break Exit::Timeout;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => break Exit::NotStarted(e.to_string()),
        }
    };
    let summary = fs::read_to_string(&export)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok());
    let written = written_path.and_then(|p| {
        let text = fs::read_to_string(&p).ok();
        let _ = fs::remove_file(&p);
        text
    });
    Outcome {
        exit,
        summary,
        stdout: fs::read_to_string(&stdout_path).unwrap_or_default(),
        written,
    }
}

fn not_started(why: &str) -> Outcome {
    Outcome {
        exit: Exit::NotStarted(why.to_owned()),
        summary: None,
        stdout: String::new(),
        written: None,
    }
}

/// The last non-empty line of a run's stderr, to hint at why it differed.
pub fn last_log_line(work: &Path, stem: &str, who: &str) -> String {
    fs::read_to_string(work.join(format!("{stem}.{who}.stderr")))
        .unwrap_or_default()
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.chars().take(300).collect())
        .unwrap_or_default()
}
