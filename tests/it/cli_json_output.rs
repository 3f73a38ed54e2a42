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
