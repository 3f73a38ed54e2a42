//! Comparison of one script's outcome under k6 and under loadgate. Receives the script's header
//! (parsed from its leading `//` comments) and both runs' outcomes (exit, summary export, stdout,
//! the file the script writes); emits one line per difference. k6's outcome is the reference.

use serde_json::Value;

/// What a conformance script's header comments declare.
#[derive(Debug, Default, PartialEq)]
pub struct Header {
    /// `// exact: a b{k:v}`: metrics whose values must match k6 exactly.
    pub exact: Vec<String>,
    /// `// k6 exit: N`: the exit code k6 1.1 gave when the script was written.
    pub k6_exit: Option<i32>,
    /// `// writes: FILE`: a file (relative to the script) the script writes, e.g. from handleSummary.
    pub writes: Option<String>,
    /// `// stdout: TEXT`: text that k6 prints to stdout and so must loadgate.
    pub stdout: Option<String>,
}

impl Header {
    /// Parses the leading comment block of a script.
    pub fn parse(script: &str) -> Header {
        let mut h = Header::default();
        for line in script.lines() {
            let Some(comment) = line.trim().strip_prefix("//") else {
                break;
            };
            let comment = comment.trim();
            if let Some(v) = comment.strip_prefix("exact:") {
                h.exact = v.split_whitespace().map(str::to_owned).collect();
            } else if let Some(v) = comment.strip_prefix("k6 exit:") {
                h.k6_exit = v.trim().parse().ok();
            } else if let Some(v) = comment.strip_prefix("writes:") {
                h.writes = Some(v.trim().to_owned());
            } else if let Some(v) = comment.strip_prefix("stdout:") {
                h.stdout = Some(v.trim().to_owned());
            }
        }
        h
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Exit {
    /// The process exited with this code.
    Code(i32),
    /// The process was killed by a signal.
    Signal,
    /// The process ran past the timeout and was killed.
    Timeout,
    /// The process could not be started.
    NotStarted(String),
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "{c}"),
            Exit::Signal => f.write_str("killed by a signal"),
            Exit::Timeout => f.write_str("timeout"),
            Exit::NotStarted(e) => write!(f, "not started ({e})"),
        }
    }
}

/// One run's outcome.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub exit: Exit,
    /// The `--summary-export` JSON, when the run wrote a valid one.
    pub summary: Option<Value>,
    /// Standard output.
    pub stdout: String,
    /// Contents of the header's `writes:` file after the run, when it exists.
    pub written: Option<String>,
}

/// Keys compared for `exact:` metrics (Counter count; Rate passes/fails; Gauge value/min/max; Trend
/// min/max/avg/med).
const EXACT_KEYS: [&str; 8] = [
    "count", "passes", "fails", "value", "min", "max", "avg", "med",
];

fn close(a: &Value, b: Option<&Value>) -> bool {
    match (a.as_f64(), b.and_then(Value::as_f64)) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-6 * x.abs().max(1.0),
        _ => Some(a) == b,
    }
}

/// `path -> (passes, fails)` for every check in a summary export's group tree.
pub fn checks_by_path(group: &Value, acc: &mut Vec<(String, (i64, i64))>) {
    let items = |v: Option<&Value>| -> Vec<Value> {
        match v {
            Some(Value::Object(m)) => m.values().cloned().collect(),
            Some(Value::Array(a)) => a.clone(),
            _ => Vec::new(),
        }
    };
    for c in items(group.get("checks")) {
        let path = c
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let n = |k: &str| c.get(k).and_then(Value::as_i64).unwrap_or(-1);
        acc.push((path, (n("passes"), n("fails"))));
    }
    for g in items(group.get("groups")) {
        checks_by_path(&g, acc);
    }
}

/// Every difference between k6's outcome (`k6`) and loadgate's (`ours`) for one script.
pub fn compare(header: &Header, k6: &Outcome, ours: &Outcome) -> Vec<String> {
    let mut diffs = Vec::new();
    if let Some(expected) = header.k6_exit
        && k6.exit != Exit::Code(expected)
    {
        diffs.push(format!(
            "k6 itself exited {} but the header records {expected} (script or target changed?)",
            k6.exit
        ));
    }
    if k6.exit != ours.exit {
        diffs.push(format!("exit code: k6 {}, loadgate {}", k6.exit, ours.exit));
    }
    if let Some(text) = &header.stdout
        && k6.stdout.contains(text.as_str())
        && !ours.stdout.contains(text.as_str())
    {
        diffs.push(format!("stdout lacks {text:?}"));
    }
    if let Some(file) = &header.writes {
        match (&k6.written, &ours.written) {
            (None, _) => diffs.push(format!("k6 did not write {file}")),
            (Some(_), None) => diffs.push(format!("loadgate did not write {file}")),
            (Some(a), Some(b)) => {
                let same = match (
                    serde_json::from_str::<Value>(a),
                    serde_json::from_str::<Value>(b),
                ) {
                    (Ok(x), Ok(y)) => x == y,
                    _ => a == b,
                };
                if !same {
                    diffs.push(format!("{file}: k6 wrote {a:?}, loadgate wrote {b:?}"));
                }
            }
        }
    }
    let Some(ref_summary) = &k6.summary else {
        return diffs;
    };
    let Some(our_summary) = &ours.summary else {
        diffs.push("loadgate wrote no (valid) summary export".into());
        return diffs;
    };
    let empty = serde_json::Map::new();
    let metrics = |s: &Value| s.get("metrics").and_then(Value::as_object).cloned();
    let rm = metrics(ref_summary).unwrap_or_else(|| empty.clone());
    let om = metrics(our_summary).unwrap_or_else(|| empty.clone());
    for (name, m) in &rm {
        let Some(theirs) = om.get(name) else {
            diffs.push(format!("metric missing: {name}"));
            continue;
        };
        let Some(ths) = m.get("thresholds").and_then(Value::as_object) else {
            continue;
        };
        for (expr, failed) in ths {
            match theirs.get("thresholds").and_then(|t| t.get(expr)) {
                None => diffs.push(format!("threshold missing: {name}: {expr}")),
                Some(v) if v.as_bool() != failed.as_bool() => diffs.push(format!(
                    "threshold verdict: {name}: {expr}: k6 failed={failed}, loadgate failed={v}"
                )),
                Some(_) => {}
            }
        }
    }
    for name in &header.exact {
        let Some(a) = rm.get(name) else {
            continue; // k6 did not report it (e.g. no samples): nothing to match
        };
        let Some(b) = om.get(name) else {
            diffs.push(format!("exact metric missing: {name}"));
            continue;
        };
        for key in EXACT_KEYS {
            let Some(av) = a.get(key) else { continue };
            let timing = name.starts_with("http_req")
                && matches!(key, "min" | "max" | "avg" | "med" | "value");
            if !timing && !close(av, b.get(key)) {
                let bv = b.get(key).map_or("nothing".to_owned(), Value::to_string);
                diffs.push(format!("{name}.{key}: k6 {av}, loadgate {bv}"));
            }
        }
        if name == "checks" {
            let (mut ra, mut oa) = (Vec::new(), Vec::new());
            checks_by_path(
                ref_summary.get("root_group").unwrap_or(&Value::Null),
                &mut ra,
            );
            checks_by_path(
                our_summary.get("root_group").unwrap_or(&Value::Null),
                &mut oa,
            );
            for (path, pf) in &ra {
                match oa.iter().find(|(p, _)| p == path) {
                    Some((_, theirs)) if theirs == pf => {}
                    Some((_, theirs)) => diffs.push(format!(
                        "check {path:?}: k6 passes/fails {pf:?}, loadgate {theirs:?}"
                    )),
                    None => diffs.push(format!("check {path:?} missing (k6 {pf:?})")),
                }
            }
        }
    }
    diffs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A summary export as written by k6 1.1 (trimmed from a real run of 14_thresholds_fail.js).
    const K6_EXPORT: &str = r#"{
      "root_group": {"name": "", "path": "", "id": "d41d8cd98f00b204e9800998ecf8427e", "groups": {},
        "checks": {"is 200": {"name": "is 200", "path": "::is 200", "id": "x", "passes": 0, "fails": 10}}},
      "metrics": {
        "http_reqs": {"count": 10, "rate": 3199.27},
        "checks": {"passes": 0, "fails": 10, "value": 0, "thresholds": {"rate>0.9": true}},
        "iterations": {"count": 10, "rate": 3199.27, "thresholds": {"count==10": false}},
        "http_req_failed": {"passes": 10, "fails": 0, "value": 1, "thresholds": {"rate<0.1": true}},
        "http_req_duration": {"avg": 0.2, "min": 0.1, "med": 0.2, "max": 0.4, "p(90)": 0.3, "p(95)": 0.35},
        "my_gauge": {"value": 7, "min": 3, "max": 7}
      }
    }"#;

    fn header() -> Header {
        Header::parse(
            "// exact: iterations http_reqs http_req_failed checks http_req_duration my_gauge\n\
             // k6 exit: 99\n// writes: out.json\n// stdout: hello\nimport x from 'k6';\n// exact: ignored",
        )
    }

    fn outcome(summary: &str) -> Outcome {
        Outcome {
            exit: Exit::Code(99),
            summary: Some(serde_json::from_str(summary).unwrap()),
            stdout: "say hello\n".into(),
            written: Some(r#"{"a": 1}"#.into()),
        }
    }

    #[test]
    fn parses_header() {
        let h = header();
        assert_eq!(h.exact.len(), 6);
        assert_eq!(h.k6_exit, Some(99));
        assert_eq!(h.writes.as_deref(), Some("out.json"));
        assert_eq!(h.stdout.as_deref(), Some("hello"));
    }

    #[test]
    fn k6_against_itself_has_no_differences() {
        let k6 = outcome(K6_EXPORT);
        assert_eq!(compare(&header(), &k6, &k6.clone()), Vec::<String>::new());
    }

    #[test]
    fn timings_and_rates_may_differ() {
        let ours = K6_EXPORT
            .replace("\"avg\": 0.2", "\"avg\": 9.9")
            .replace("3199.27", "1.0");
        assert!(compare(&header(), &outcome(K6_EXPORT), &outcome(&ours)).is_empty());
    }

    #[test]
    fn reports_every_difference() {
        let ours = K6_EXPORT
            .replace(
                "\"count\": 10, \"rate\": 3199.27}",
                "\"count\": 9, \"rate\": 1}",
            )
            .replace("\"rate<0.1\": true", "\"rate<0.1\": false")
            .replace(
                "\"passes\": 0, \"fails\": 10}}}",
                "\"passes\": 1, \"fails\": 9}}}",
            )
            .replace(
                ",\n        \"my_gauge\": {\"value\": 7, \"min\": 3, \"max\": 7}",
                "",
            );
        let mut ours = outcome(&ours);
        ours.exit = Exit::Code(0);
        ours.stdout = String::new();
        ours.written = Some(r#"{"a": 2}"#.into());
        let diffs = compare(&header(), &outcome(K6_EXPORT), &ours);
        let expect = [
            "exit code: k6 99, loadgate 0",
            "stdout lacks \"hello\"",
            "out.json: k6 wrote",
            "metric missing: my_gauge",
            "threshold verdict: http_req_failed: rate<0.1",
            "http_reqs.count: k6 10, loadgate 9",
            "exact metric missing: my_gauge",
            "check \"::is 200\": k6 passes/fails (0, 10), loadgate (1, 9)",
        ];
        for e in expect {
            assert!(
                diffs.iter().any(|d| d.starts_with(e)),
                "missing {e:?} in {diffs:#?}"
            );
        }
        assert_eq!(diffs.len(), expect.len(), "{diffs:#?}");
    }

    #[test]
    fn missing_summary_and_k6_drift_are_reported() {
        let k6 = Outcome {
            exit: Exit::Code(0),
            ..outcome(K6_EXPORT)
        };
        let ours = Outcome {
            summary: None,
            exit: Exit::Timeout,
            ..outcome(K6_EXPORT)
        };
        let diffs = compare(&header(), &k6, &ours);
        assert!(diffs[0].starts_with("k6 itself exited 0 but the header records 99"));
        assert_eq!(diffs[1], "exit code: k6 0, loadgate timeout");
        assert_eq!(
            diffs.last().unwrap(),
            "loadgate wrote no (valid) summary export"
        );
    }
}
