//! Options from outside the script, compared with the real k6: the connection options as flags,
//! as `K6_*` variables and in a `--config` file; k6's layer order (file < script < env < flags);
//! `run -` (script on stdin); `--compatibility-mode`; and the bad inputs loadgate refuses with
//! exit 104 (one line naming the option). Scripts are in test-data/options/.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Command-line arguments and environment of one case.
type Args = &'static [&'static str];
type Env = &'static [(&'static str, &'static str)];

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test-data/options")
        .join(name)
}

fn k6() -> String {
    crate::support::k6()
}

/// A run's exit code and its stderr.
struct Ran {
    code: Option<i32>,
    stderr: String,
}

/// Runs `program run ARGS` with `env` and, if given, `stdin` as standard input.
fn run(program: &str, args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Ran {
    let mut cmd = Command::new(program);
    cmd.arg("run")
        .args(["--quiet", "--no-color", "--no-summary"])
        .args(args)
        .current_dir(data(""))
        .env("K6_NO_USAGE_REPORT", "true")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{program}: {e}"));
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Ran {
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs the same command with k6 and loadgate; both must give `code`. Returns both stderrs.
fn same(args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>, code: i32) -> (String, String) {
    let theirs = run(&k6(), args, env, stdin);
    let ours = run(env!("CARGO_BIN_EXE_loadgate"), args, env, stdin);
    assert_eq!(
        theirs.code,
        Some(code),
        "k6 {args:?} {env:?}: {}",
        theirs.stderr
    );
    assert_eq!(
        ours.code,
        Some(code),
        "loadgate {args:?} {env:?}: {}",
        ours.stderr
    );
    (theirs.stderr, ours.stderr)
}

/// The `layers ...` line the precedence script logs.
fn layers(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| l.find("layers ").map(|i| l[i..].to_string()))
        .map(|s| {
            s.trim_end_matches(['"', ' '])
                .replace("  source=console", "")
        })
        .map(|s| s.split(['"', ' ']).take(4).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| format!("no layers line in: {stderr}"))
}

#[test]
fn connection_options_as_flags() {
    let (_rt, url) = crate::support::target_on_runtime();
    let t = format!("TARGET={url}");
    same(
        &[
            "-e",
            &t,
            "--rps",
            "5",
            "--batch-per-host",
            "1",
            "--system-tags",
            "status,method,check",
            "--no-connection-reuse",
            "--blacklist-ip",
            "127.0.0.2/32",
            "--block-hostnames",
            "*.blocked.test",
            "guards.js",
        ],
        &[],
        None,
        0,
    );
}

#[test]
fn connection_options_as_k6_variables() {
    let (_rt, url) = crate::support::target_on_runtime();
    let t = format!("TARGET={url}");
    same(
        &["-e", &t, "guards.js"],
        &[
            ("K6_RPS", "5"),
            ("K6_BATCH_PER_HOST", "1"),
            ("K6_SYSTEM_TAGS", "status,method,check"),
            ("K6_NO_CONNECTION_REUSE", "true"),
            ("K6_BLACKLIST_IPS", "127.0.0.2/32"),
            ("K6_BLOCK_HOSTNAMES", "*.blocked.test"),
        ],
        None,
        0,
    );
}

#[test]
fn without_the_options_the_guards_script_fails_in_both() {
    let (_rt, url) = crate::support::target_on_runtime();
    let t = format!("TARGET={url}");
    same(&["-e", &t, "guards.js"], &[], None, 99);
}

#[test]
fn local_ips_bind_each_vu_to_its_address() {
    let (_rt, url) = crate::support::target_on_runtime();
    let t = format!("TARGET={url}");
    same(
        &["-e", &t, "local_ips.js"],
        &[("K6_LOCAL_IPS", "127.0.0.5-127.0.0.6")],
        None,
        0,
    );
    same(
        &[
            "-e",
            &t,
            "--local-ips",
            "127.0.0.5,127.0.0.6",
            "local_ips.js",
        ],
        &[],
        None,
        0,
    );
    same(&["-e", &t, "local_ips.js"], &[], None, 99);
}

#[test]
fn dns_policy_and_select_as_k6() {
    let (_rt, url) = crate::support::target_on_runtime();
    let t = format!("TARGET={url}");
    same(&["-e", &t, "-e", "EXPECT=ok", "dns.js"], &[], None, 0);
    same(
        &[
            "-e",
            &t,
            "-e",
            "EXPECT=none",
            "--dns",
            "policy=onlyIPv6",
            "dns.js",
        ],
        &[],
        None,
        0,
    );
    same(
        &["-e", &t, "-e", "EXPECT=none", "dns.js"],
        &[("K6_DNS", "ttl=0,policy=onlyIPv6")],
        None,
        0,
    );
    same(
        &[
            "-e",
            &t,
            "-e",
            "EXPECT=ok",
            "--dns",
            "ttl=inf,select=roundRobin,policy=onlyIPv4",
            "dns.js",
        ],
        &[],
        None,
        0,
    );
    // Without the policy the EXPECT=none checks fail in both.
    same(&["-e", &t, "-e", "EXPECT=none", "dns.js"], &[], None, 99);
}

#[test]
fn layers_file_script_env_flags_as_k6() {
    let cases: [(Args, Env); 4] = [
        (&["-c", "config.json", "precedence.js"], &[]),
        (
            &["-c", "config.json", "precedence.js"],
            &[("K6_VUS", "3"), ("K6_RPS", "6")],
        ),
        (
            &[
                "-c",
                "config.json",
                "-u",
                "2",
                "-i",
                "4",
                "--rps",
                "7",
                "precedence.js",
            ],
            &[("K6_VUS", "3"), ("K6_RPS", "6")],
        ),
        (&["precedence.js"], &[("K6_CONFIG", "config.json")]),
    ];
    for (args, env) in cases {
        let (theirs, ours) = same(args, env, None, 0);
        assert_eq!(layers(&ours), layers(&theirs), "{args:?} {env:?}");
    }
}

/// Without `--config`, k6 reads its default file: `$XDG_CONFIG_HOME/k6/config.json`, else
/// `$HOME/.config/k6/config.json`, else the old `loadimpact/k6/config.json`; a `--config` file
/// replaces it; a default file that does not parse is exit 104 like a given one.
#[test]
fn default_config_file_as_k6() {
    let config = std::fs::read_to_string(data("config.json")).unwrap();
    let put = |root: &Path, rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    let xdg = tempfile::tempdir().unwrap();
    put(xdg.path(), "k6/config.json", &config);
    let home = tempfile::tempdir().unwrap();
    put(home.path(), ".config/k6/config.json", &config);
    let legacy = tempfile::tempdir().unwrap();
    put(legacy.path(), "loadimpact/k6/config.json", &config);
    let empty = tempfile::tempdir().unwrap();
    let bad = tempfile::tempdir().unwrap();
    put(bad.path(), "k6/config.json", r#"{"vus": "x"}"#);
    let other = tempfile::tempdir().unwrap();
    put(other.path(), "other.json", r#"{"iterations": 5}"#);
    let other_file = other.path().join("other.json");
    let [xdg, home, legacy, empty, bad] =
        [&xdg, &home, &legacy, &empty, &bad].map(|d| d.path().to_string_lossy().into_owned());
    let other_file = other_file.to_string_lossy().into_owned();
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (vec!["precedence.js"], vec![("XDG_CONFIG_HOME", &xdg)]),
        (
            vec!["precedence.js"],
            vec![("XDG_CONFIG_HOME", &xdg), ("K6_VUS", "3")],
        ),
        (
            vec!["precedence.js"],
            vec![("XDG_CONFIG_HOME", ""), ("HOME", &home)],
        ),
        (vec!["precedence.js"], vec![("XDG_CONFIG_HOME", &legacy)]),
        (vec!["precedence.js"], vec![("XDG_CONFIG_HOME", &empty)]),
        (
            vec!["-c", &other_file, "precedence.js"],
            vec![("XDG_CONFIG_HOME", &xdg)],
        ),
    ];
    for (args, env) in &cases {
        let (theirs, ours) = same(args, env, None, 0);
        assert_eq!(
            layers(&ours),
            layers(&theirs),
            "{args:?} {env:?}\n{theirs}\n{ours}"
        );
    }
    let (_, ours) = same(&["precedence.js"], &[("XDG_CONFIG_HOME", &bad)], None, 104);
    assert!(ours.contains("`vus`"), "{ours}");
}

#[test]
fn script_from_stdin() {
    let script = b"import exec from 'k6/execution';\nexport const options = { iterations: 2 };\nexport default function () { console.log(`stdin iteration ${exec.scenario.iterationInTest}`); }\n";
    let (theirs, ours) = same(&["-"], &[], Some(script), 0);
    for s in [&theirs, &ours] {
        assert!(s.contains("stdin iteration 1"), "{s}");
    }
}

#[test]
fn compatibility_modes() {
    same(
        &["--compatibility-mode", "base", "precedence.js"],
        &[],
        None,
        0,
    );
    same(
        &["--compatibility-mode=extended", "precedence.js"],
        &[],
        None,
        0,
    );
    let (_, ours) = same(
        &["--compatibility-mode", "bogus", "precedence.js"],
        &[],
        None,
        255,
    );
    assert!(
        // logfmt, as k6 logs to a pipe: the quotes inside msg are escaped.
        ours.contains(r#"invalid compatibility mode \"bogus\""#),
        "{ours}"
    );
}

#[test]
fn bad_config_files_are_invalid_config() {
    let (_, ours) = same(&["-c", "missing.json", "precedence.js"], &[], None, 104);
    assert!(
        ours.contains("failed to load the configuration file"),
        "{ours}"
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"vus": "x"}"#).unwrap();
    let path = bad.to_string_lossy().into_owned();
    let (_, ours) = same(&["-c", &path, "precedence.js"], &[], None, 104);
    assert!(ours.contains("`vus`"), "{ours}");
}

/// Inputs k6 1.1 accepts but loadgate refuses on purpose (issue 8: a wrong value or an option it
/// cannot honour is one line naming it, exit 104, no request sent).
#[test]
fn refused_values_name_the_option() {
    let lg = env!("CARGO_BIN_EXE_loadgate");
    let cases: [(Args, Env, &str); 5] = [
        (&["--rps=-1", "precedence.js"], &[], "invalid rps -1"),
        (
            &["precedence.js"],
            &[("K6_LOCAL_IPS", "127.0.0.5-x")],
            "invalid localIPs \"127.0.0.5-x\": wrong IP range format",
        ),
        (
            &["--dns", "select=bogus", "precedence.js"],
            &[],
            "invalid dns: bogus does not belong to DNSSelect values",
        ),
        (
            &["precedence.js"],
            &[("K6_HOSTS", r#"{"a.test": "nope"}"#)],
            "invalid hosts entry \"a.test\"",
        ),
        (&["--batch", "0", "precedence.js"], &[], "invalid batch 0"),
    ];
    for (args, env, needle) in cases {
        let r = run(lg, args, env, None);
        assert_eq!(r.code, Some(104), "{args:?} {env:?}: {}", r.stderr);
        // logfmt error lines (k6's format on a pipe), quotes in msg unescaped for the check.
        let errors: Vec<String> = r
            .stderr
            .lines()
            .filter(|l| l.contains(" level=error "))
            .map(|l| l.replace("\\\"", "\""))
            .collect();
        assert_eq!(errors.len(), 1, "{}", r.stderr);
        assert!(errors[0].contains(needle), "{needle:?} not in {}", r.stderr);
    }
}
