//! Where workloads come from: a local folder (`--tests-dir`, e.g. a mounted ConfigMap), the
//! default embedded in the binary, or the Keptn resource service (service, then stage, then
//! project, at the event's `gitcommitid`).
//!
//! Receives the triggered event; emits a [`Resolved`] workload whose script is a file on disk
//! (fetched and embedded files are written to a temporary folder that lives as long as the
//! [`Resolved`]).

use std::path::{Component, Path, PathBuf};

use super::{FILE_NAME, Workload, WorkloadError, WorkloadFile};
use crate::keptn::{ResourceClient, Triggered};

/// The embedded default `loadgate.yaml`.
pub const EMBEDDED_YAML: &str = include_str!("../../test-data/service/loadgate.yaml");
/// The embedded default scripts, by name.
pub const EMBEDDED_SCRIPTS: &[(&str, &str)] = &[
    (
        "performance.js",
        include_str!("../../test-data/service/performance.js"),
    ),
    (
        "functional.js",
        include_str!("../../test-data/service/functional.js"),
    ),
];

/// A source of workloads.
#[derive(Clone, Debug)]
pub enum WorkloadSource {
    /// A folder with `loadgate.yaml` and the scripts.
    Dir(PathBuf),
    /// The default compiled into the binary.
    Embedded,
    /// The Keptn resource service.
    Resource(ResourceClient),
}

/// A workload ready to run.
#[derive(Debug)]
pub struct Resolved {
    pub workload: Workload,
    /// The script file.
    pub script: PathBuf,
    /// The folder the script may `open()` and import from.
    pub root: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

/// Checks that a relative path stays inside its folder.
fn relative(script: &str) -> Result<PathBuf, WorkloadError> {
    let p = Path::new(script);
    if p.components().all(|c| matches!(c, Component::Normal(_))) {
        Ok(p.to_path_buf())
    } else {
        Err(WorkloadError::Invalid(format!(
            "script '{script}' must be a relative path inside the workload folder"
        )))
    }
}

fn temp_dir() -> Result<tempfile::TempDir, WorkloadError> {
    tempfile::Builder::new()
        .prefix("loadgate-workload-")
        .tempdir()
        .map_err(|e| WorkloadError::Missing(format!("cannot create a temporary folder: {e}")))
}

fn write(dir: &Path, rel: &Path, content: &[u8]) -> Result<PathBuf, WorkloadError> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| WorkloadError::Missing(format!("cannot write the script: {e}")))?;
    }
    std::fs::write(&path, content)
        .map_err(|e| WorkloadError::Missing(format!("cannot write the script: {e}")))?;
    Ok(path)
}

impl WorkloadSource {
    /// A short description for messages.
    pub fn describe(&self) -> String {
        match self {
            WorkloadSource::Dir(d) => format!("folder {}", d.display()),
            WorkloadSource::Embedded => "embedded default".into(),
            WorkloadSource::Resource(c) => format!("keptn resource service {}", c.base()),
        }
    }

    /// Finds the workload for the event's strategy and puts its script on disk.
    pub async fn resolve(&self, t: &Triggered) -> Result<Resolved, WorkloadError> {
        let strategy = t.teststrategy.as_deref();
        match self {
            WorkloadSource::Dir(dir) => {
                let yaml_path = dir.join(FILE_NAME);
                let text = tokio::fs::read_to_string(&yaml_path).await.map_err(|e| {
                    WorkloadError::Missing(format!("cannot read {}: {e}", yaml_path.display()))
                })?;
                let workload = WorkloadFile::parse(&text)?.select(strategy)?.clone();
                let script = dir.join(relative(&workload.script)?);
                if !script.is_file() {
                    return Err(WorkloadError::Missing(format!(
                        "script '{}' not found in {}",
                        workload.script,
                        dir.display()
                    )));
                }
                Ok(Resolved {
                    workload,
                    script,
                    root: dir.clone(),
                    _temp: None,
                })
            }
            WorkloadSource::Embedded => {
                let workload = WorkloadFile::parse(EMBEDDED_YAML)?
                    .select(strategy)?
                    .clone();
                let rel = relative(&workload.script)?;
                let content = EMBEDDED_SCRIPTS
                    .iter()
                    .find(|(n, _)| Path::new(n) == rel)
                    .map(|(_, c)| *c)
                    .ok_or_else(|| {
                        WorkloadError::Missing(format!(
                            "script '{}' not in the embedded default",
                            workload.script
                        ))
                    })?;
                let temp = temp_dir()?;
                let script = write(temp.path(), &rel, content.as_bytes())?;
                Ok(Resolved {
                    workload,
                    script,
                    root: temp.path().to_path_buf(),
                    _temp: Some(temp),
                })
            }
            WorkloadSource::Resource(client) => {
                let git = t.gitcommitid.as_deref();
                let fetch = |uri: String| async move {
                    client
                        .fetch(&t.project, &t.stage, &t.service, &uri, git)
                        .await
                        .map_err(|e| WorkloadError::Missing(e.to_string()))
                };
                let yaml = fetch(FILE_NAME.to_string()).await?;
                let text = String::from_utf8(yaml)
                    .map_err(|_| WorkloadError::Invalid("not UTF-8".into()))?;
                let workload = WorkloadFile::parse(&text)?.select(strategy)?.clone();
                let rel = relative(&workload.script)?;
                let content = fetch(workload.script.clone()).await?;
                let temp = temp_dir()?;
                let script = write(temp.path(), &rel, &content)?;
                Ok(Resolved {
                    workload,
                    script,
                    root: temp.path().to_path_buf(),
                    _temp: Some(temp),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_stay_inside() {
        assert!(relative("a/b.js").is_ok());
        assert!(relative("../b.js").is_err());
        assert!(relative("/etc/passwd").is_err());
    }
}
