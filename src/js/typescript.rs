//! TypeScript scripts and modules (`.ts`), run as k6 v1 runs them: types stripped and TypeScript
//! constructs (enums, namespaces, parameter properties) lowered to JavaScript, type-only imports
//! (`import type { Options } from 'k6/options'`) and imports used only as types dropped, by oxc
//! (k6 uses esbuild to the same end). The rest of the syntax is left as written (QuickJS runs
//! ES2023).
//!
//! Transpiled once per file per test: the loader declares the result once and the other VUs load
//! its bytecode. Error positions point into the `.ts` source: a TypeScript syntax error names
//! `file.ts:line:column` from oxc's diagnostic, and runtime errors are translated back through the
//! source map ([`remap`]) when they are shown.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock, RwLock};

use oxc::allocator::Allocator;
use oxc::codegen::{Codegen, CodegenOptions};
use oxc::parser::Parser;
use oxc::semantic::SemanticBuilder;
use oxc::span::SourceType;
use oxc::transformer::{TransformOptions, Transformer};

/// Whether a module is TypeScript (by its name, as k6 decides).
pub fn is_typescript(name: &str) -> bool {
    name.ends_with(".ts") || name.ends_with(".mts")
}

/// Generated position -> source position, 0-based, sorted by generated position.
#[derive(Debug, Default)]
pub struct PositionMap {
    points: Vec<(u32, u32, u32, u32)>,
}

impl PositionMap {
    /// The source position (1-based line and column) of a generated one (1-based).
    pub fn source_of(&self, line: u32, column: u32) -> Option<(u32, u32)> {
        let key = (line.checked_sub(1)?, column.saturating_sub(1));
        let i = self.points.partition_point(|p| (p.0, p.1) <= key);
        let p = self.points.get(i.checked_sub(1)?)?;
        Some((p.2 + 1, p.3 + 1))
    }
}

/// The position maps of the TypeScript modules loaded in this process, by module name.
static MAPS: LazyLock<RwLock<HashMap<String, Arc<PositionMap>>>> = LazyLock::new(Default::default);

/// The JavaScript for module `name`: TypeScript transpiled (and its map kept for [`remap`]), any
/// other module unchanged. Errors name `name:line:column` in the `.ts` source.
pub fn source_for(name: &str, source: Vec<u8>) -> Result<Vec<u8>, String> {
    if !is_typescript(name) {
        return Ok(source);
    }
    let text = String::from_utf8_lossy(&source);
    let (code, map) = transpile(name, &text)?;
    MAPS.write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(name.to_owned(), Arc::new(map));
    Ok(code.into_bytes())
}

/// Strips the types of `source` (module `name`).
pub fn transpile(name: &str, source: &str) -> Result<(String, PositionMap), String> {
    let allocator = Allocator::default();
    let source_type = SourceType::ts().with_module(true);
    let parsed = Parser::new(&allocator, source, source_type).parse();
    if let Some(e) = parsed
        .diagnostics
        .iter()
        .find(|d| d.severity == oxc::diagnostics::Severity::Error)
    {
        return Err(diagnostic_text(name, source, e));
    }
    if parsed.panicked {
        return Err(format!("{name}: the TypeScript parser gave up"));
    }
    let mut program = parsed.program;
    let scoping = SemanticBuilder::new()
        .with_enum_eval(true)
        .build(&program)
        .semantic
        .into_scoping();
    let options = TransformOptions::default();
    let transformed = Transformer::new(&allocator, Path::new(name), &options)
        .build_with_scoping(scoping, &mut program);
    if let Some(e) = transformed
        .diagnostics
        .iter()
        .find(|d| d.severity == oxc::diagnostics::Severity::Error)
    {
        return Err(diagnostic_text(name, source, e));
    }
    let generated = Codegen::new()
        .with_options(CodegenOptions {
            source_map_path: Some(Path::new(name).to_path_buf()),
            ..CodegenOptions::default()
        })
        .build(&program);
    let mut points: Vec<(u32, u32, u32, u32)> = generated
        .map
        .iter()
        .flat_map(|m| m.get_tokens().collect::<Vec<_>>())
        .map(|t| {
            (
                t.get_dst_line(),
                t.get_dst_col(),
                t.get_src_line(),
                t.get_src_col(),
            )
        })
        .collect();
    points.sort_unstable();
    Ok((generated.code, PositionMap { points }))
}

/// `name:line:column: message` for an oxc diagnostic (its first label's start).
fn diagnostic_text(name: &str, source: &str, e: &oxc::diagnostics::OxcDiagnostic) -> String {
    let offset = e
        .labels
        .first()
        .map(|l| l.offset() as usize)
        .unwrap_or(0)
        .min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("SyntaxError: {}: {name}:{line}:{column}", e.message)
}

/// Rewrites the `module.ts:line:column` positions in an error text (QuickJS's stack frames) to
/// positions in the TypeScript source.
pub fn remap(text: &str) -> String {
    let maps = MAPS.read().unwrap_or_else(|e| e.into_inner());
    if maps.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = find_ts_position(rest) {
        let (name_start, name_end, line, column, end) = i;
        let name = &rest[name_start..name_end];
        out.push_str(&rest[..name_end]);
        match maps.get(name).and_then(|m| m.source_of(line, column)) {
            Some((l, c)) => out.push_str(&format!(":{l}:{c}")),
            None => out.push_str(&rest[name_end..end]),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The next `NAME.ts:L:C` in `s`: (name start, name end, line, column, end of the position).
fn find_ts_position(s: &str) -> Option<(usize, usize, u32, u32, usize)> {
    let mut from = 0;
    loop {
        let at = s[from..].find(".ts:").map(|i| from + i)?;
        let name_end = at + 3;
        let name_start = s[..name_end]
            .rfind(|c: char| c.is_whitespace() || c == '(')
            .map_or(0, |i| i + 1);
        let digits = |start: usize| {
            let len = s[start..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(s.len() - start);
            (len > 0)
                .then(|| s[start..start + len].parse::<u32>().ok())
                .flatten()
                .map(|v| (v, start + len))
        };
        if let Some((line, after_line)) = digits(name_end + 1)
            && s[after_line..].starts_with(':')
            && let Some((column, end)) = digits(after_line + 1)
        {
            return Some((name_start, name_end, line, column, end));
        }
        from = name_end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "import type { Options } from 'k6/options';\n\
interface User { name: string }\n\
enum Color { Red, Green = 5 }\n\
export const options: Options = { vus: 1 };\n\
export default function (u: User = { name: 'a' }): string {\n\
  throw new Error(`${u.name} ${Color.Green}`);\n\
}\n";

    #[test]
    fn types_are_stripped_and_enums_lowered() {
        let (code, _) = transpile("t.ts", SOURCE).unwrap();
        assert!(!code.contains("k6/options"), "{code}");
        assert!(!code.contains("interface"), "{code}");
        assert!(code.contains("Color[Color[\"Green\"] = 5]"), "{code}");
    }

    #[test]
    fn positions_map_back_into_the_ts_source() {
        let (code, map) = transpile("t.ts", SOURCE).unwrap();
        let (line, text) = code
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains("throw"))
            .unwrap();
        let column = text.find("throw").unwrap() as u32 + 1;
        // The line is exact; the column is that of the nearest mapped token at or before it.
        assert_eq!(map.source_of(line as u32 + 1, column).map(|p| p.0), Some(6));
    }

    #[test]
    fn syntax_errors_name_the_ts_position() {
        let err = transpile("bad.ts", "const a: number = 1;\nlet b: = 2;\n").unwrap_err();
        assert!(err.contains("bad.ts:2:"), "{err}");
        assert!(err.starts_with("SyntaxError: "), "{err}");
    }

    #[test]
    fn stack_positions_are_rewritten() {
        let text = source_for("remap_test.ts", SOURCE.as_bytes().to_vec()).unwrap();
        let code = String::from_utf8(text).unwrap();
        let (line, l) = code
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains("throw"))
            .unwrap();
        let column = l.find("throw").unwrap() + 1;
        let shown = format!(
            "Error: a 5 at default (remap_test.ts:{}:{column})\n\tat other.js:3:4",
            line + 1
        );
        let shown = remap(&shown);
        assert!(
            shown.starts_with("Error: a 5 at default (remap_test.ts:6:"),
            "{shown}"
        );
        assert!(shown.ends_with(")\n\tat other.js:3:4"), "{shown}");
    }
}
