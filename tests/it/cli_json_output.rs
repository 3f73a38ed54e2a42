//! `-o json=FILE`: every sample as a JSON line in k6's format, a `Metric` line before a metric's
//! first `Point`.

use std::process::Command;

#[test]
fn json_output_writes_metric_and_point_lines() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.js");
    std::fs::write(
        &script,
        "import { Counter } from 'k6/metrics';\nconst c = new Counter('my_count');\n\
         export const options = { iterations: 3 };\nexport default function () { c.add(2, { k: 'v' }); }\n",
    )
    .unwrap();
    let file = dir.path().join("out.json");
    let out = Command::new(env!("CARGO_BIN_EXE_loadgate"))
        .args(["run", "-q", "--no-summary", "-o"])
        .arg(format!("json={}", file.display()))
        .arg(&script)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let points: Vec<_> = lines
        .iter()
        .filter(|l| l["type"] == "Point" && l["metric"] == "my_count")
        .collect();
    assert_eq!(points.len(), 3);
    assert!(
        points
            .iter()
            .all(|p| p["data"]["value"] == 2 && p["data"]["tags"]["k"] == "v")
    );
    let first_metric = lines
        .iter()
        .position(|l| l["type"] == "Metric" && l["metric"] == "my_count");
    let first_point = lines
        .iter()
        .position(|l| l["type"] == "Point" && l["metric"] == "my_count");
    assert!(first_metric < first_point);
    assert_eq!(lines[first_metric.unwrap()]["data"]["type"], "counter");
    assert!(
        lines
            .iter()
            .any(|l| l["metric"] == "iterations" && l["type"] == "Point")
    );
}

/// (metric, check, metadata) of the script's own samples in a `-o json` file, sorted.
fn metadata_points(program: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.json");
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-data/json/vu_metadata.js");
    let out = Command::new(program)
        .args(["run", "-q", "--no-summary", "-o"])
        .arg(format!("json={}", file.display()))
        .arg(&script)
        .env("K6_NO_USAGE_REPORT", "true")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut points: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l["type"] == "Point")
        .filter(|l| {
            ["my_counter", "checks", "iterations", "iteration_duration"]
                .iter()
                .any(|m| l["metric"] == *m)
        })
        .map(|l| {
            let mut meta: Vec<String> = l["data"]["metadata"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("?")))
                        .collect()
                })
                .unwrap_or_default();
            meta.sort();
            format!(
                "{} {} [{}]",
                l["metric"],
                l["data"]["tags"]["check"],
                meta.join(",")
            )
        })
        .collect();
    points.sort();
    points
}

/// `exec.vu.metrics.metadata` goes with every sample the VU emits after it is set (not as a tag),
/// `delete` takes an entry off again: the same points as k6 writes.
#[test]
fn vu_metadata_on_samples_as_k6() {
    let k6 = std::env::var("K6").unwrap_or_else(|_| "k6".to_owned());
    let theirs = metadata_points(&k6);
    let ours = metadata_points(env!("CARGO_BIN_EXE_loadgate"));
    assert_eq!(ours, theirs);
    assert!(
        theirs.iter().any(|p| p.contains("[n=5,trace_id=abc]")),
        "{theirs:?}"
    );
}
