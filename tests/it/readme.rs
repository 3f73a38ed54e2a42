//! README.md stays true to the binary: its configuration reference is checked against the clap
//! definition (every flag and environment variable of every subcommand is listed; every flag
//! listed for an existing subcommand exists), every `K6_*`/`LOADGATE_*` variable the sources
//! read is named, the exit-code table matches `src/cli/exit.rs`, the quick start is exactly the
//! two commands, and the tutorial links resolve.

use std::path::Path;

use clap::CommandFactory;
use loadgate::cli::Cli;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).unwrap()
}

/// The text of the `### \`loadgate NAME...\`` section, up to the next heading.
fn section(readme: &str, name: &str) -> Option<String> {
    let head = format!("### `loadgate {name}");
    let start = readme.find(&head)?;
    let rest = &readme[start + head.len()..];
    let end = rest.find("\n#").unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

/// `--flag` tokens in the table rows of a section.
fn listed_flags(section: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in section.lines().filter(|l| l.starts_with('|')) {
        let first = line.split('|').nth(1).unwrap_or("");
        for tok in first.split(|c: char| c == '`' || c.is_whitespace()) {
            if tok.starts_with("--") && tok[2..].starts_with(|c: char| c.is_ascii_lowercase()) {
                out.push(tok.to_owned());
            }
        }
    }
    out
}

#[test]
fn every_flag_and_variable_of_the_cli_is_documented_and_nothing_else() {
    let readme = readme();
    let cli = Cli::command();
    let mut missing = Vec::new();
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        let options: Vec<_> = sub
            .get_arguments()
            .filter(|a| !a.is_positional() && a.get_long().is_some())
            .filter(|a| !matches!(a.get_long(), Some("help" | "version")))
            .collect();
        if options.is_empty() {
            assert!(
                readme.contains(&format!("loadgate {name}")),
                "README never mentions `loadgate {name}`"
            );
            continue;
        }
        let Some(text) = section(&readme, name) else {
            missing.push(format!("no README section \"### `loadgate {name}`\""));
            continue;
        };
        for arg in &options {
            let long = format!("--{}", arg.get_long().unwrap());
            if !listed_flags(&text).contains(&long) {
                missing.push(format!("`loadgate {name} {long}` is not in README's table"));
            }
            if let Some(env) = arg.get_env() {
                let env = env.to_string_lossy();
                if !text.contains(&*env) {
                    missing.push(format!(
                        "`loadgate {name} {long}`: variable {env} not in README"
                    ));
                }
            }
        }
        for flag in listed_flags(&text) {
            if !options.iter().any(|a| a.get_long() == Some(&flag[2..])) {
                missing.push(format!(
                    "README lists `loadgate {name} {flag}`, which does not exist"
                ));
            }
        }
    }
    // Sections for subcommands not built yet (e.g. `serve` before it is merged) are not checked
    // in reverse; say so, so nobody mistakes them for verified.
    for line in readme.lines().filter(|l| l.starts_with("### `loadgate ")) {
        let name = line["### `loadgate ".len()..]
            .split([' ', '`'])
            .next()
            .unwrap_or("");
        if cli.find_subcommand(name).is_none() {
            eprintln!("README section for `loadgate {name}`: no such subcommand yet, not checked");
        }
    }
    assert!(
        missing.is_empty(),
        "README reference is out of date:\n{}",
        missing.join("\n")
    );
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_environment_variable_the_sources_read_is_documented() {
    let readme = readme();
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut missing = std::collections::BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, _) in text.match_indices('"') {
            let rest = &text[i + 1..];
            let word: String = rest
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            let is_var = (word.starts_with("K6_") || word.starts_with("LOADGATE_"))
                && rest[word.len()..].starts_with('"')
                && !word.ends_with('_');
            if is_var && !readme.contains(&word) {
                missing.insert(word);
            }
        }
    }
    assert!(missing.is_empty(), "README does not name: {missing:?}");
}

#[test]
fn exit_codes_match_the_source() {
    let readme = readme();
    let exit = std::fs::read_to_string(root().join("src/cli/exit.rs")).unwrap();
    // The variants of `enum ExitCode`, not the rest of the file.
    let start = exit.find("pub enum ExitCode {").unwrap();
    let body = &exit[start..start + exit[start..].find("\n}").unwrap()];
    assert!(body.lines().filter(|l| l.contains(" = ")).count() >= 10);
    for line in body.lines() {
        if let Some((_, code)) = line.trim().split_once(" = ") {
            let code = code.trim_end_matches(',');
            assert!(
                readme.contains(&format!("\n| {code} |")),
                "exit code {code} is not in README's table"
            );
        }
    }
}

#[test]
fn quick_start_is_the_two_commands_and_links_resolve() {
    let readme = readme();
    assert!(!readme.contains(&["cargo", "test"].join(" ")));
    let qs = &readme[readme.find("## Quick start").unwrap()..];
    let block = &qs[qs.find("```sh\n").unwrap() + 6..];
    let block = &block[..block.find("```").unwrap()];
    assert_eq!(
        block.lines().collect::<Vec<_>>(),
        ["cargo run --release -- demo", "scripts/test.sh"]
    );
    for part in readme.split("](").skip(1) {
        let target = &part[..part.find(')').unwrap()];
        if !target.starts_with("http") {
            assert!(
                root().join(target).exists(),
                "README links to missing {target}"
            );
        }
    }
}
