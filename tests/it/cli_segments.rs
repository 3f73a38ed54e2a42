//! Execution segments from the command line: three instances of one test, each given its
//! segment of the same sequence, run exactly the whole test between them, split as k6 splits it
//! (k6 v1.1 gives 7 / 4 / 12 for 23 VUs on `0,3/10,1/2,1`).

use std::process::Command;

#[test]
fn three_segments_split_the_test_as_k6() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("seg.js");
    std::fs::write(
        &script,
        "export const options = { scenarios: { s: { executor: 'per-vu-iterations', vus: 23, iterations: 1 } } };\n\
         export default function () {}\n",
    )
    .unwrap();
    let mut counts = Vec::new();
    for segment in ["0:3/10", "3/10:1/2", "1/2:1"] {
        let export = dir.path().join("summary.json");
        let out = Command::new(env!("CARGO_BIN_EXE_loadgate"))
            .args(["run", "-q", "--summary-export"])
            .arg(&export)
            .args(["--execution-segment", segment])
            .args(["--execution-segment-sequence", "0,3/10,1/2,1"])
            .arg(&script)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&export).unwrap()).unwrap();
        counts.push(summary["metrics"]["iterations"]["count"].as_u64().unwrap());
    }
    assert_eq!(counts, [7, 4, 12]);
}
