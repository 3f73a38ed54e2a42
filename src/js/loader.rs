//! Script files and module loading: the main script, relative imports, `open()`, and the built-in
//! `k6/*` modules (JS shims over the native `__k6` object, see `modules/`).
//!
//! Files are read once per test and shared by all VUs. Every path a script reaches (imports and
//! `open()`) must stay inside the test's root folder; anything else is refused with an error that
//! names the path.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use rquickjs::loader::{ImportAttributes, Loader, Resolver};
use rquickjs::{Ctx, Error as JsError, Module, module::Declared};

use super::modules;

/// Why a file could not be used.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum FileError {
    #[error("{path}: outside the test folder {root} (open() and imports may not leave it)")]
    OutsideRoot { path: String, root: String },
    #[error("{path}: {reason}")]
    Unreadable { path: String, reason: String },
}

/// The script and the files it may read, with a cache shared by all VUs.
pub struct ScriptFiles {
    main: PathBuf,
    main_dir: PathBuf,
    root: PathBuf,
    cache: Mutex<HashMap<PathBuf, Arc<[u8]>>>,
}

impl ScriptFiles {
    /// Files of the test whose main script is `main`. `root` limits what the script may read; by
    /// default the main script's folder's parent (so the common `scripts/` + `data/` layout works).
    pub fn new(main: &Path, root: Option<&Path>) -> Result<Self, FileError> {
        Self::with_source(main, None, root)
    }

    /// As [`ScriptFiles::new`], with the main script's text given (`k6 run -`, read from stdin)
    /// instead of read from `main`, which then only names it and places its folder.
    pub fn with_source(
        main: &Path,
        source: Option<Vec<u8>>,
        root: Option<&Path>,
    ) -> Result<Self, FileError> {
        let cwd = std::env::current_dir().map_err(|e| FileError::Unreadable {
            path: main.display().to_string(),
            reason: e.to_string(),
        })?;
        let main = normalize(&cwd.join(main));
        let main_dir = main
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| cwd.clone());
        let root = match root {
            Some(r) => normalize(&cwd.join(r)),
            None => main_dir
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| main_dir.clone()),
        };
        let root = std::fs::canonicalize(&root).unwrap_or(root);
        let files = ScriptFiles {
            main,
            main_dir,
            root,
            cache: Mutex::new(HashMap::new()),
        };
        match source {
            Some(text) => {
                files
                    .cache
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(files.main.clone(), Arc::from(text));
            }
            None => {
                files.read_path(&files.main.clone())?;
            }
        }
        Ok(files)
    }

    /// The main script's absolute path.
    pub fn main(&self) -> &Path {
        &self.main
    }

    /// The module name of the main script (its file name).
    pub fn main_name(&self) -> String {
        self.display_name(&self.main)
    }

    /// Resolves `name` relative to the module or file `base` (a display name) to an absolute path.
    pub fn resolve(&self, base: &str, name: &str) -> PathBuf {
        let base_path = normalize(&self.main_dir.join(base));
        let dir = base_path.parent().unwrap_or(&self.main_dir);
        let target = Path::new(name);
        if target.is_absolute() {
            normalize(target)
        } else {
            normalize(&dir.join(target))
        }
    }

    /// The absolute path of a module or file named by its display name.
    pub fn path_of(&self, display_name: &str) -> PathBuf {
        normalize(&self.main_dir.join(display_name))
    }

    /// How a path is shown in module names and error positions: relative to the main script's
    /// folder when possible.
    pub fn display_name(&self, path: &Path) -> String {
        match relative_to(path, &self.main_dir) {
            Some(rel) => rel,
            None => path.display().to_string(),
        }
    }

    /// Reads a file, once per test; refused outside the root.
    pub fn read_path(&self, path: &Path) -> Result<Arc<[u8]>, FileError> {
        if let Some(data) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
        {
            return Ok(data.clone());
        }
        let shown = self.display_name(path);
        let real = match std::fs::canonicalize(path) {
            Ok(real) => real,
            // A missing file outside the root is refused as an existing one is: the error must
            // not tell whether a file out there exists.
            Err(_) if !self.within_root(path) => {
                return Err(FileError::OutsideRoot {
                    path: shown,
                    root: self.root.display().to_string(),
                });
            }
            Err(e) => {
                return Err(FileError::Unreadable {
                    path: shown,
                    reason: io_reason(&e),
                });
            }
        };
        if !real.starts_with(&self.root) {
            return Err(FileError::OutsideRoot {
                path: shown,
                root: self.root.display().to_string(),
            });
        }
        let data: Arc<[u8]> = std::fs::read(&real)
            .map_err(|e| FileError::Unreadable {
                path: shown,
                reason: io_reason(&e),
            })?
            .into();
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_path_buf(), data.clone());
        Ok(data)
    }
}

impl ScriptFiles {
    /// Whether `path` (which need not exist) lies inside the root: its deepest existing ancestor
    /// is resolved (symlinks included) and the rest appended.
    fn within_root(&self, path: &Path) -> bool {
        let mut rest = Vec::new();
        let mut at = path;
        loop {
            if let Ok(real) = std::fs::canonicalize(at) {
                let full = rest.iter().rev().fold(real, |p: PathBuf, c| p.join(c));
                return normalize(&full).starts_with(&self.root);
            }
            match (at.parent(), at.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_os_string());
                    at = parent;
                }
                _ => return false,
            }
        }
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// Lexical normalisation: removes `.` and resolves `..` without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn relative_to(path: &Path, base: &Path) -> Option<String> {
    if let Ok(rest) = path.strip_prefix(base) {
        return Some(rest.display().to_string());
    }
    let parent = base.parent()?;
    let rest = path.strip_prefix(parent).ok()?;
    Some(format!("../{}", rest.display()))
}

/// Where every VU of a test gets its modules: the script's files, remote (`https://`) modules
/// (fetched once per test, cached on disk) and the bytecode of modules a VU compiled already.
pub struct ModuleSources {
    pub files: ScriptFiles,
    pub remote: super::remote::RemoteModules,
    /// Compiled modules by name: the first VU compiles, the others load the bytecode. Saves the
    /// parser's time and the heap fragmentation it leaves behind in every VU.
    bytecode: Mutex<HashMap<String, Arc<Vec<u8>>>>,
}

impl ModuleSources {
    /// The sources of a test reading `files` and fetching remote modules with `remote`.
    pub fn new(files: ScriptFiles, remote: super::remote::RemoteModules) -> Self {
        ModuleSources {
            files,
            remote,
            bytecode: Mutex::new(HashMap::new()),
        }
    }

    /// The compiled bytecode of module `name`, if some VU stored it.
    pub fn bytecode(&self, name: &str) -> Option<Arc<Vec<u8>>> {
        self.bytecode
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    /// Stores the compiled bytecode of module `name`.
    pub fn store_bytecode(&self, name: &str, bytes: Vec<u8>) {
        self.bytecode
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(name.to_string())
            .or_insert_with(|| Arc::new(bytes));
    }
}

/// Resolves module specifiers: `k6/*` built-ins by name, files relative to the importing module.
pub struct ScriptResolver {
    pub sources: Arc<ModuleSources>,
}

impl Resolver for ScriptResolver {
    fn resolve<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        base: &str,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<String> {
        if modules::is_builtin(name) {
            return Ok(name.to_string());
        }
        if let Some(message) = modules::removed_module(name) {
            return Err(JsError::new_resolving_message(base, name, message));
        }
        if name.starts_with("k6/") || name == "k6" {
            return Err(JsError::new_resolving_message(
                base,
                name,
                format!("unknown module `{name}`: loadgate does not provide it"),
            ));
        }
        if super::remote::is_remote(base) && (name.starts_with('.') || name.starts_with('/')) {
            return super::remote::join(base, name).map_err(|e| throw_message(ctx, &e));
        }
        if name.contains("://") {
            return super::remote::check_scheme(name).map_err(|e| throw_message(ctx, &e));
        }
        let files = &self.sources.files;
        let path = files.resolve(base, name);
        Ok(files.display_name(&path))
    }
}

/// Loads built-in shims (installing their natives first) and script files.
pub struct ScriptLoader {
    pub sources: Arc<ModuleSources>,
    pub state: std::rc::Rc<super::state::VuState>,
}

impl Loader for ScriptLoader {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<Module<'js, Declared>> {
        if modules::is_builtin(name) {
            modules::install_module(ctx, name, &self.state)?;
        }
        declare_cached(ctx, &self.sources, name, || {
            if let Some(source) = modules::builtin_source(name) {
                return Ok(source.as_bytes().to_vec());
            }
            if super::remote::is_remote(name) {
                let builtin = modules::jslib_builtin(name);
                return match self.sources.remote.load(name, builtin) {
                    Ok(super::remote::RemoteSource::Fetched(data)) => {
                        super::typescript::source_for(name, data.to_vec())
                            .map_err(|e| throw_message(ctx, &e))
                    }
                    Ok(super::remote::RemoteSource::Builtin(b)) => Ok(modules::builtin_source(b)
                        .unwrap_or_default()
                        .as_bytes()
                        .to_vec()),
                    Err(e) => Err(throw_message(ctx, &e)),
                };
            }
            let files = &self.sources.files;
            let source = files
                .read_path(&files.path_of(name))
                .map_err(|e| JsError::new_loading_message(name, e.to_string()))?;
            super::typescript::source_for(name, source.to_vec()).map_err(|e| throw_message(ctx, &e))
        })
    }
}

/// Throws an `Error` with `message` (QuickJS's own resolving and loading errors cut messages at
/// 256 bytes, too short for URLs and k6's wording).
fn throw_message(ctx: &Ctx<'_>, message: &str) -> JsError {
    match rquickjs::Exception::from_message(ctx.clone(), message) {
        Ok(e) => ctx.throw(e.into_value()),
        Err(e) => e,
    }
}

/// Declares module `name`, from the test's bytecode cache when another VU compiled it already,
/// else from `source()` (and fills the cache).
pub fn declare_cached<'js>(
    ctx: &Ctx<'js>,
    sources: &ModuleSources,
    name: &str,
    source: impl FnOnce() -> rquickjs::Result<Vec<u8>>,
) -> rquickjs::Result<Module<'js, Declared>> {
    if let Some(bytes) = sources.bytecode(name) {
        // SAFETY: the bytes were written by `Module::write` of this same QuickJS build, in this
        // process, from a module declared with the same name.
        return unsafe { Module::load(ctx.clone(), &bytes) };
    }
    let module = Module::declare(ctx.clone(), name, source()?)?;
    // Without the source text: every VU would otherwise keep a copy (only Function.prototype
    // .toString needs it). Line numbers stay, for error positions.
    let options = rquickjs::module::WriteOptions {
        strip_source: true,
        ..Default::default()
    };
    if let Ok(bytes) = module.write(options) {
        sources.store_bytecode(name, bytes);
    }
    Ok(module)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_resolves_parent_dirs() {
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d.js")),
            PathBuf::from("/a/c/d.js")
        );
        assert_eq!(normalize(Path::new("/a/../../x")), PathBuf::from("/x"));
    }

    #[test]
    fn reads_inside_root_and_refuses_outside() {
        let dir = tempfile::tempdir().unwrap();
        let scripts = dir.path().join("scripts");
        std::fs::create_dir_all(&scripts).unwrap();
        std::fs::write(scripts.join("main.js"), "export default function () {}").unwrap();
        std::fs::write(dir.path().join("data.json"), "[1]").unwrap();
        let files = ScriptFiles::new(&scripts.join("main.js"), None).unwrap();
        let data = files
            .read_path(&files.resolve("main.js", "../data.json"))
            .unwrap();
        assert_eq!(&*data, b"[1]");
        let outside = files.resolve("main.js", "../../../../../../etc/hostname");
        assert!(matches!(
            files.read_path(&outside),
            Err(FileError::OutsideRoot { .. })
        ));
        let strict = ScriptFiles::new(&scripts.join("main.js"), Some(&scripts)).unwrap();
        let refused = strict.read_path(&strict.resolve("main.js", "../data.json"));
        assert!(matches!(refused, Err(FileError::OutsideRoot { .. })));
        let missing = files.read_path(&files.resolve("main.js", "nope.js"));
        assert!(matches!(missing, Err(FileError::Unreadable { .. })));
    }

    #[test]
    fn a_missing_file_outside_the_root_is_refused_like_an_existing_one() {
        let dir = tempfile::tempdir().unwrap();
        let scripts = dir.path().join("test/scripts");
        std::fs::create_dir_all(&scripts).unwrap();
        std::fs::write(scripts.join("main.js"), "export default function () {}").unwrap();
        std::fs::write(dir.path().join("exists.txt"), "x").unwrap();
        let files = ScriptFiles::new(&scripts.join("main.js"), None).unwrap();
        for name in [
            "../../exists.txt",
            "../../missing.txt",
            "../../no/such/dir.txt",
        ] {
            let got = files.read_path(&files.resolve("main.js", name));
            assert!(
                matches!(got, Err(FileError::OutsideRoot { .. })),
                "{name}: {got:?}"
            );
        }
        let inside = files.read_path(&files.resolve("main.js", "../missing.txt"));
        assert!(matches!(inside, Err(FileError::Unreadable { .. })));
    }
}
