//! The test's folder as it travels to runners: every file under the root (the script, its
//! imports, what it `open()`s), base64 in the assignment. Bounded so an assignment fits in one
//! NATS message (default `max_payload` 1 MB).

use std::path::{Component, Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::protocol::BundleFile;

/// Largest folder (raw bytes) sent with an assignment.
pub const MAX_BUNDLE_BYTES: u64 = 640 * 1024;

/// Packs `root` and returns the files and the script's path relative to it.
pub fn pack(root: &Path, script: &Path) -> Result<(Vec<BundleFile>, String), String> {
    let script_rel = script
        .strip_prefix(root)
        .map_err(|_| format!("the script {} is outside its folder", script.display()))?;
    let mut files = Vec::new();
    let mut total = 0u64;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                let bytes = std::fs::read(&path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                total += bytes.len() as u64;
                if total > MAX_BUNDLE_BYTES {
                    return Err(format!(
                        "the test folder holds more than {} KiB; scale-out sends it to every runner and refuses larger folders",
                        MAX_BUNDLE_BYTES / 1024
                    ));
                }
                let rel = path.strip_prefix(root).unwrap_or(&path);
                files.push(BundleFile {
                    path: slash_path(rel),
                    data: STANDARD.encode(bytes),
                });
            }
        }
    }
    Ok((files, slash_path(script_rel)))
}

fn slash_path(p: &Path) -> String {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A relative path that stays inside its folder.
fn inside(rel: &str) -> Result<PathBuf, String> {
    let p = Path::new(rel);
    if !rel.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_))) {
        Ok(p.to_path_buf())
    } else {
        Err(format!("invalid path in the test bundle: {rel:?}"))
    }
}

/// Writes the files under `dir`; returns the script's full path.
pub fn unpack(files: &[BundleFile], script: &str, dir: &Path) -> Result<PathBuf, String> {
    for f in files {
        let path = dir.join(inside(&f.path)?);
        let data = STANDARD
            .decode(&f.data)
            .map_err(|e| format!("invalid file {} in the test bundle: {e}", f.path))?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot write {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, data).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(dir.join(inside(script)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_round_trips_and_paths_stay_inside() {
        let src = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(src.path().join("lib")).unwrap();
        std::fs::write(src.path().join("test.js"), "export default function () {}").unwrap();
        std::fs::write(src.path().join("lib/data.json"), "[1,2]").unwrap();
        let (files, script) = pack(src.path(), &src.path().join("test.js")).unwrap();
        assert_eq!(script, "test.js");
        let dst = tempfile::tempdir().unwrap();
        let path = unpack(&files, &script, dst.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(path).unwrap(),
            "export default function () {}"
        );
        assert_eq!(
            std::fs::read_to_string(dst.path().join("lib/data.json")).unwrap(),
            "[1,2]"
        );
        let evil = vec![BundleFile {
            path: "../x".into(),
            data: String::new(),
        }];
        assert!(unpack(&evil, "test.js", dst.path()).is_err());
    }
}
