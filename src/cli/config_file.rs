//! `k6 run --config FILE` / `-c` / `K6_CONFIG`: a JSON file with k6's `Config` keys. Receives the
//! path, emits the options layer that goes below the script's (k6: defaults < file < script <
//! `K6_*` < flags) and the file's `out` list (used when neither `-o` nor `K6_OUT` is given).
//! Errors are k6's texts (exit 104).

use std::path::Path;

use serde_json::Value;

use crate::engine::options::Options;

/// Keys of k6's `Config` besides the options; `out` is used, `noUsageReport` is what loadgate
/// always does (it never reports usage). The others would need features loadgate has not got.
const CONFIG_ONLY_KEYS: &[&str] = &["out", "noUsageReport"];
const REFUSED_CONFIG_KEYS: &[&str] = &["linger", "webDashboard", "noArchiveUpload", "collectors"];

/// What a config file holds.
#[derive(Debug, Default)]
pub struct ConfigFile {
    pub options: Options,
    pub out: Vec<String>,
}

fn load_error(msg: impl std::fmt::Display) -> String {
    format!("failed to load the configuration file from the local file system: {msg}")
}

/// Reads and checks the file.
pub fn read(path: &Path) -> Result<ConfigFile, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| load_error(format!("{}: {e}", path.display())))?;
    parse(&text, path)
}

/// Parses the file's text (`path` only names it in errors).
pub fn parse(text: &str, path: &Path) -> Result<ConfigFile, String> {
    let bad = |e: String| {
        load_error(format!(
            "couldn't parse the configuration from \"{}\": {e}",
            path.display()
        ))
    };
    let value: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    let Value::Object(mut obj) = value else {
        return Err(bad("the configuration must be a JSON object".to_string()));
    };
    if let Some(k) = REFUSED_CONFIG_KEYS
        .iter()
        .find(|k| obj.get(**k).is_some_and(|v| !v.is_null()))
    {
        return Err(bad(format!("`{k}` is not supported by loadgate")));
    }
    let out = match obj.remove("out") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("`out` must be a list of strings".to_string()))?,
        Some(other) => return Err(bad(format!("`out` must be a list of strings, got {other}"))),
    };
    for k in CONFIG_ONLY_KEYS {
        obj.remove(*k);
    }
    let (options, unknown) =
        Options::from_json(&Value::Object(obj)).map_err(|e| bad(e.to_string()))?;
    if !unknown.is_empty() {
        tracing::warn!(
            unknown = %unknown.join(", "),
            "There were unknown fields in the configuration file"
        );
    }
    Ok(ConfigFile { options, out })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_out() {
        let c = parse(
            r#"{"vus": 3, "rps": 7, "out": ["json=x.json"], "noUsageReport": true}"#,
            Path::new("c.json"),
        )
        .unwrap();
        assert_eq!((c.options.vus, c.options.rps), (Some(3), Some(7)));
        assert_eq!(c.out, vec!["json=x.json".to_string()]);
    }

    #[test]
    fn errors_name_the_file_and_the_option() {
        let e = parse(r#"{"vus": "x"}"#, Path::new("c.json")).unwrap_err();
        assert!(e.starts_with("failed to load the configuration file from the local file system: couldn't parse the configuration from \"c.json\""), "{e}");
        assert!(e.contains("`vus`"), "{e}");
        let e = parse(r#"{"linger": true}"#, Path::new("c.json")).unwrap_err();
        assert!(e.contains("`linger` is not supported"), "{e}");
        let e = read(Path::new("/nonexistent/c.json")).unwrap_err();
        assert!(e.contains("/nonexistent/c.json"), "{e}");
    }
}
