//! `k6 run --config FILE` / `-c` / `K6_CONFIG`: a JSON file with k6's `Config` keys. Receives the
//! path, emits the options layer that goes below the script's (k6: defaults < file < script <
//! `K6_*` < flags), the file's `out` list (used when neither `-o` nor `K6_OUT` is given) and
//! `linger`. Without a path, k6's default file is read when it exists ([`load`]):
//! `$XDG_CONFIG_HOME/k6/config.json` (else `~/.config/k6/config.json`), then the old
//! `.../loadimpact/k6/config.json`. Errors are k6's texts (exit 104).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::engine::options::Options;

/// Keys of k6's `Config` besides the options; `out` and `linger` are used, `noUsageReport` is
/// what loadgate always does (it never reports usage), `collectors` holds the settings of k6's
/// cloud and InfluxDB outputs (what `k6 cloud login` writes to the default file), which only
/// those outputs read and loadgate has not got (`-o cloud` / `-o influxdb` are refused). The
/// others would need features loadgate has not got.
const CONFIG_ONLY_KEYS: &[&str] = &["out", "linger", "noUsageReport", "collectors"];
const REFUSED_CONFIG_KEYS: &[&str] = &["webDashboard", "noArchiveUpload"];

/// What a config file holds.
#[derive(Debug, Default)]
pub struct ConfigFile {
    pub options: Options,
    pub out: Vec<String>,
    /// `linger` (as `--linger`).
    pub linger: bool,
}

/// Go's `os.UserConfigDir` on Unix: `$XDG_CONFIG_HOME` when set and absolute, else
/// `$HOME/.config`; k6 falls back to `.config` (relative) when neither works.
fn user_config_dir(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    match env("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        Some(d) if Path::new(&d).is_absolute() => PathBuf::from(d),
        Some(_) => PathBuf::from(".config"),
        None => match env("HOME").filter(|h| !h.is_empty()) {
            Some(h) => Path::new(&h).join(".config"),
            None => PathBuf::from(".config"),
        },
    }
}

/// k6's default config file, `<user config dir>/k6/config.json`.
pub fn default_path(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    user_config_dir(env).join("k6").join("config.json")
}

/// The config of a `run`: the file given (`--config`, `K6_CONFIG`) must exist, unless it is k6's
/// default path; without one, k6's default file when it exists, else the old default
/// (`loadimpact/k6/config.json`, with k6's warning), else nothing (k6's `loadConfigFile`).
pub fn load(
    given: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ConfigFile, ConfigFileError> {
    let default = default_path(env);
    let path = match given {
        Some(p) if p != default => return read(p),
        _ => default,
    };
    if path.exists() {
        return read(&path);
    }
    let legacy = user_config_dir(env)
        .join("loadimpact")
        .join("k6")
        .join("config.json");
    if legacy.exists() {
        let conf = read(&legacy)?;
        tracing::warn!(
            "The configuration file has been found on the old default path (\"{}\"). Please, run again `k6 cloud login` or `k6 login` commands to migrate to the new default path.\n\n",
            legacy.display()
        );
        return Ok(conf);
    }
    Ok(ConfigFile::default())
}

/// A config file that cannot be read or is not what k6 accepts (k6's text; exit 104).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to load the configuration file from the local file system: {0}")]
pub struct ConfigFileError(String);

/// Reads and checks the file.
pub fn read(path: &Path) -> Result<ConfigFile, ConfigFileError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigFileError(format!("{}: {e}", path.display())))?;
    parse(&text, path)
}

/// Parses the file's text (`path` only names it in errors).
pub fn parse(text: &str, path: &Path) -> Result<ConfigFile, ConfigFileError> {
    let bad = |e: String| {
        ConfigFileError(format!(
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
    let linger = match obj.get("linger") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(bad(format!("`linger` must be true or false, got {other}"))),
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
    Ok(ConfigFile {
        options,
        out,
        linger,
    })
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
        let e = parse(r#"{"vus": "x"}"#, Path::new("c.json"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("failed to load the configuration file from the local file system: couldn't parse the configuration from \"c.json\""), "{e}");
        assert!(e.contains("`vus`"), "{e}");
        let e = parse(r#"{"webDashboard": true}"#, Path::new("c.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`webDashboard` is not supported"), "{e}");
        let e = read(Path::new("/nonexistent/c.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/c.json"), "{e}");
    }

    #[test]
    fn linger_and_collectors_as_k6_run_reads_them() {
        let c = parse(
            r#"{"linger": true, "collectors": {"cloud": {"token": "t"}}}"#,
            Path::new("c.json"),
        )
        .unwrap();
        assert!(c.linger);
        assert!(parse(r#"{"linger": 1}"#, Path::new("c.json")).is_err());
    }

    #[test]
    fn default_path_as_go_user_config_dir() {
        let env = |xdg: Option<&'static str>, home: Option<&'static str>| {
            move |k: &str| match k {
                "XDG_CONFIG_HOME" => xdg.map(str::to_string),
                "HOME" => home.map(str::to_string),
                _ => None,
            }
        };
        let p = |xdg, home| default_path(&env(xdg, home));
        assert_eq!(p(Some("/x"), Some("/h")), Path::new("/x/k6/config.json"));
        assert_eq!(p(None, Some("/h")), Path::new("/h/.config/k6/config.json"));
        assert_eq!(
            p(Some(""), Some("/h")),
            Path::new("/h/.config/k6/config.json")
        );
        assert_eq!(
            p(Some("rel"), Some("/h")),
            Path::new(".config/k6/config.json")
        );
        assert_eq!(p(None, None), Path::new(".config/k6/config.json"));
    }

    #[test]
    fn default_file_read_when_present_legacy_as_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_str().unwrap().to_string();
        let env = move |k: &str| (k == "XDG_CONFIG_HOME").then(|| root.clone());
        // Nothing there: no error, nothing read.
        assert_eq!(load(None, &env).unwrap().options.vus, None);
        // An explicit file that does not exist is an error; the default path is not.
        assert!(load(Some(&dir.path().join("nope.json")), &env).is_err());
        assert!(load(Some(&default_path(&env)), &env).is_ok());
        let legacy = dir.path().join("loadimpact/k6");
        std::fs::create_dir_all(&legacy).unwrap();
        std::fs::write(legacy.join("config.json"), r#"{"vus": 2}"#).unwrap();
        assert_eq!(load(None, &env).unwrap().options.vus, Some(2));
        std::fs::create_dir_all(dir.path().join("k6")).unwrap();
        std::fs::write(default_path(&env), r#"{"vus": 3}"#).unwrap();
        assert_eq!(load(None, &env).unwrap().options.vus, Some(3));
        let other = dir.path().join("other.json");
        std::fs::write(&other, r#"{"vus": 4}"#).unwrap();
        assert_eq!(load(Some(&other), &env).unwrap().options.vus, Some(4));
    }
}
