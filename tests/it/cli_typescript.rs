//! TypeScript scripts (`test-data/typescript/*.ts`) run by loadgate and by the real k6: the same
//! exit codes, and errors that point into the `.ts` source at the same line (a syntax error, an
//! exception in the init context and one in an iteration).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::support::*;

fn run(program: &str, script: &str) -> Output {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-data/typescript");
    let child = Command::new(program)
        .args(["run", "-q", "--no-summary", "--address", "", script])
        .current_dir(&dir)
        .env("K6_NO_USAGE_REPORT", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_bounded(
        child,
        &format!("{program} {script}"),
        Duration::from_secs(60),
    )
}

#[test]
fn typescript_runs_as_in_k6_with_positions_in_the_ts_source() {
    let k6 = k6();
    let ours = env!("CARGO_BIN_EXE_loadgate");
    // script, k6's exit code, the position k6 names, the position loadgate names
    let cases = [
        ("main.ts", 0, "", ""),
        ("throws.ts", 0, "throws.ts:6:", "throws.ts:6:"),
        (
            "init_throws.ts",
            107,
            "init_throws.ts:5:",
            "init_throws.ts:5:",
        ),
        ("bad.ts", 107, "bad.ts: Line 2:", "bad.ts:2:"),
    ];
    let mut diffs = Vec::new();
    for (script, want, theirs_at, ours_at) in cases {
        let theirs = run(&k6, script);
        let mine = run(ours, script);
        let (t_err, m_err) = (
            String::from_utf8_lossy(&theirs.stderr).into_owned(),
            String::from_utf8_lossy(&mine.stderr).into_owned(),
        );
        if theirs.status.code() != Some(want) {
            diffs.push(format!(
                "{script}: k6 exited {:?}: {t_err}",
                theirs.status.code()
            ));
        }
        if mine.status.code() != theirs.status.code() {
            diffs.push(format!(
                "{script}: loadgate exited {:?}, k6 {:?}: {m_err}",
                mine.status.code(),
                theirs.status.code()
            ));
        }
        if !t_err.contains(theirs_at) {
            diffs.push(format!("{script}: k6 does not name {theirs_at:?}: {t_err}"));
        }
        if !m_err.contains(ours_at) {
            diffs.push(format!(
                "{script}: loadgate does not name {ours_at:?}: {m_err}"
            ));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
