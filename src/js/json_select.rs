//! `res.json(selector)`: gjson paths over a response body, as k6 evaluates them (tidwall/gjson),
//! with the modifiers of tidwall/gjson v1.18 the gjson crate lacks (`@keys`, `@values`, `@tostr`,
//! `@fromstr`, `@group`, `@dig`).
//!
//! The gjson crate validates and walks JSON recursively, one Rust frame per nesting level. A VU's
//! stack is small (see `coroutine::VU_STACK_SIZE`), so a body of 20,000 nested `[` used to
//! overflow it and kill the process. Here the nesting is measured first without recursion
//! ([`max_depth`]): beyond [`MAX_DEPTH`] the selector fails with a clear error, and below it the
//! walk runs on the worker thread's own (larger) stack, never on the VU's.

/// The deepest nesting a selector walks. k6 (Go, growable stacks) has no limit; real JSON APIs
/// stay far below this.
pub const MAX_DEPTH: usize = 1000;

/// A selector that cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    #[error(
        "res.json(selector): the body nests {depth} levels deep, more than the {max} loadgate walks"
    )]
    TooDeep { depth: usize, max: usize },
}

/// The deepest nesting of `[`/`{` in `json` (outside strings), measured without recursion, and
/// whether the brackets balance (unbalanced text is not JSON). Stops once past `limit`.
pub fn max_depth(json: &[u8], limit: usize) -> (usize, bool) {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut in_string = false;
    let mut escaped = false;
    for &b in json {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    max = depth;
                }
                if depth > limit.saturating_mul(64) {
                    // Far past any limit: no need to read the rest of a huge body.
                    return (max, true);
                }
            }
            b']' | b'}' => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return (max, false),
            },
            _ => {}
        }
    }
    (max, depth == 0 && !in_string)
}

/// Checks that `json` can be walked safely; call before [`select`]. `Ok(false)`: the text cannot
/// be JSON (unbalanced brackets), so the selector finds nothing, as in k6, without a walk.
pub fn check_depth(json: &str) -> Result<bool, SelectError> {
    let (depth, balanced) = max_depth(json.as_bytes(), MAX_DEPTH);
    if !balanced {
        return Ok(false);
    }
    if depth > MAX_DEPTH {
        return Err(SelectError::TooDeep {
            depth,
            max: MAX_DEPTH,
        });
    }
    Ok(true)
}

/// The JSON text `path` selects in `json`, `None` when the body is not valid JSON or nothing
/// matches (k6 then returns `undefined`). Recursive in the nesting of `json`: check it with
/// [`check_depth`] and run it on a large stack.
pub fn select(json: &str, path: &str) -> Option<String> {
    if !gjson::valid(json) {
        return None;
    }
    let mut current: Option<String> = None;
    let mut rest = path;
    loop {
        let doc = current.as_deref().unwrap_or(json);
        let Some(split) = split_at_modifier(rest) else {
            let v = gjson::get(doc, rest);
            return v.exists().then(|| v.json().to_string());
        };
        // As tidwall/gjson: a modifier after a path that matches nothing still runs, on "".
        let base = if split.before.is_empty() {
            doc.to_string()
        } else {
            gjson::get(doc, split.before).json().to_string()
        };
        let out = split.modifier.apply(&base, split.arg);
        // An empty or non-JSON result (`@fromstr` of a plain string) is nothing, as gjson's.
        if out.is_empty() || !gjson::valid(&out) {
            return None;
        }
        if split.after.is_empty() {
            return Some(out);
        }
        current = Some(out);
        rest = split.after;
    }
}

/// The modifiers of tidwall/gjson v1.18 (k6 v1.1's) that the gjson crate lacks; the others
/// (`@this`, `@reverse`, `@ugly`, `@pretty`, `@valid`, `@flatten`, `@join`) are the crate's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Modifier {
    Keys,
    Values,
    ToStr,
    FromStr,
    Group,
    Dig,
}

impl Modifier {
    const ALL: [(&'static str, Modifier); 6] = [
        ("@keys", Modifier::Keys),
        ("@values", Modifier::Values),
        ("@tostr", Modifier::ToStr),
        ("@fromstr", Modifier::FromStr),
        ("@group", Modifier::Group),
        ("@dig", Modifier::Dig),
    ];

    fn apply(self, json: &str, arg: &str) -> String {
        match self {
            Modifier::Keys => keys(json),
            Modifier::Values => values(json),
            Modifier::ToStr => serde_json::Value::String(json.to_string()).to_string(),
            Modifier::FromStr => from_str(json),
            Modifier::Group => group(json),
            Modifier::Dig => dig(json, arg),
        }
    }
}

/// A path cut at its first top-level modifier component.
#[derive(Debug, PartialEq)]
struct Split<'a> {
    before: &'a str,
    modifier: Modifier,
    arg: &'a str,
    after: &'a str,
}

/// Splits `path` at its first top-level modifier component of [`Modifier::ALL`]: (the path
/// before it, the modifier, its `:arg`, the path after it). Dots and pipes inside queries
/// (`#(...)`), multipaths and quoted values do not split; `\` escapes the next character.
fn split_at_modifier(path: &str) -> Option<Split<'_>> {
    let bytes = path.as_bytes();
    let mut nesting = 0usize;
    let mut in_quote = false;
    let mut i = 0;
    let mut component_start = 0;
    while i <= bytes.len() {
        if i == component_start
            && nesting == 0
            && !in_quote
            && let Some((modifier, len)) = modifier_at(&path[i..])
        {
            let before = if i == 0 { "" } else { &path[..i - 1] };
            let mut after = &path[i + len..];
            let mut arg = "";
            if let Some(stripped) = after.strip_prefix(':') {
                // gjson's simple argument runs to the next `|` (a `.` does not end it), skipping
                // over brackets and quotes; a JSON argument is one JSON value.
                let end = argument_end(stripped);
                arg = &stripped[..end];
                after = &stripped[end..];
            }
            let after = after.strip_prefix(['.', '|']).unwrap_or(after);
            return Some(Split {
                before,
                modifier,
                arg,
                after,
            });
        }
        if i == bytes.len() {
            break;
        }
        match bytes[i] {
            b'\\' => {
                i += 2;
                continue;
            }
            b'"' if nesting > 0 => in_quote = !in_quote,
            b'(' | b'[' | b'{' if !in_quote => nesting += 1,
            b')' | b']' | b'}' if !in_quote => nesting = nesting.saturating_sub(1),
            b'.' | b'|' if nesting == 0 && !in_quote => component_start = i + 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Where a modifier's argument ends: after one JSON value when it starts like one, else at the
/// first `|` outside brackets and quotes (tidwall/gjson's `execModifier`).
fn argument_end(arg: &str) -> usize {
    if arg.starts_with(['{', '[', '"']) {
        let v = gjson::parse(arg);
        if v.exists() {
            return v.json().len().min(arg.len());
        }
    }
    let bytes = arg.as_bytes();
    let (mut depth, mut in_quote, mut i) = (0usize, false, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_quote => i += 1,
            b'"' => in_quote = !in_quote,
            b'{' | b'[' | b'(' if !in_quote => depth += 1,
            b'}' | b']' | b')' if !in_quote => depth = depth.saturating_sub(1),
            b'|' if depth == 0 && !in_quote => return i,
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// A modifier of [`Modifier::ALL`] at the start of `s`, ending the component; with its length.
fn modifier_at(s: &str) -> Option<(Modifier, usize)> {
    for (name, m) in Modifier::ALL {
        if let Some(tail) = s.strip_prefix(name)
            && (tail.is_empty() || tail.starts_with(['.', '|', ':']))
        {
            return Some((m, name.len()));
        }
    }
    None
}

/// tidwall/gjson's `@fromstr`: the text of a JSON string (or a value's own text), to be read as
/// JSON; nothing when the input is not JSON.
fn from_str(json: &str) -> String {
    if !gjson::valid(json) {
        return String::new();
    }
    let v = gjson::parse(json);
    match v.kind() {
        gjson::Kind::String => v.str().to_string(),
        _ => v.json().to_string(),
    }
}

/// tidwall/gjson's `@group`: an object of arrays turned into an array of objects, the i-th
/// holding the i-th element of each array; nothing for a non-object.
fn group(json: &str) -> String {
    let v = gjson::parse(json);
    if v.kind() != gjson::Kind::Object {
        return String::new();
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    v.each(|key, value| {
        if value.kind() == gjson::Kind::Array {
            let mut idx = 0;
            value.each(|_, item| {
                if idx == rows.len() {
                    rows.push(Vec::new());
                }
                rows[idx].push(format!("{}:{}", key.json(), item.json()));
                idx += 1;
                true
            });
        }
        true
    });
    let objects: Vec<String> = rows
        .iter()
        .map(|r| format!("{{{}}}", r.join(",")))
        .collect();
    format!("[{}]", objects.join(","))
}

/// tidwall/gjson's `@dig:path`: every value `path` selects at any depth, in document order
/// (the value itself first, then its children). Walked with an explicit stack, not recursion.
fn dig(json: &str, path: &str) -> String {
    let mut found = Vec::new();
    let mut pending = vec![json.to_string()];
    while let Some(raw) = pending.pop() {
        let node = gjson::parse(&raw);
        let hit = node.get(path);
        if hit.exists() {
            found.push(hit.json().to_string());
        }
        if matches!(node.kind(), gjson::Kind::Object | gjson::Kind::Array) {
            let mut children = Vec::new();
            node.each(|_, child| {
                children.push(child.json().to_string());
                true
            });
            pending.extend(children.into_iter().rev());
        }
    }
    format!("[{}]", found.join(","))
}

/// tidwall/gjson's `@keys`: the keys of an object; `null` for each element of an array (and for
/// a plain value, which Go's `ForEach` visits once); `[]` when there is nothing.
fn keys(json: &str) -> String {
    let v = gjson::parse(json);
    if !v.exists() {
        return "[]".to_string();
    }
    let mut parts = Vec::new();
    match v.kind() {
        gjson::Kind::Object => v.each(|key, _| {
            parts.push(key.json().to_string());
            true
        }),
        gjson::Kind::Array => v.each(|_, _| {
            parts.push("null".to_string());
            true
        }),
        _ => parts.push("null".to_string()),
    }
    format!("[{}]", parts.join(","))
}

/// tidwall/gjson's `@values`: the values of an object; an array as it is; a plain value in an
/// array.
fn values(json: &str) -> String {
    let v = gjson::parse(json);
    if !v.exists() {
        return "[]".to_string();
    }
    match v.kind() {
        gjson::Kind::Array => json.to_string(),
        gjson::Kind::Object => {
            let mut parts = Vec::new();
            v.each(|_, value| {
                parts.push(value.json().to_string());
                true
            });
            format!("[{}]", parts.join(","))
        }
        _ => format!("[{}]", v.json()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"a":{"x":1,"y":[2,3]},"list":[{"n":"p"},{"n":"q"}],"s":"v.w"}"#;

    #[test]
    fn plain_paths_are_gjson() {
        assert_eq!(select(DOC, "a.x").as_deref(), Some("1"));
        assert_eq!(select(DOC, "list.#.n").as_deref(), Some(r#"["p","q"]"#));
        assert_eq!(select(DOC, "nope"), None);
        assert_eq!(select("[[[", "0"), None, "invalid JSON: undefined as in k6");
    }

    #[test]
    fn keys_and_values_modifiers() {
        assert_eq!(select(DOC, "a.@keys").as_deref(), Some(r#"["x","y"]"#));
        assert_eq!(select(DOC, "a.@values").as_deref(), Some(r#"[1,[2,3]]"#));
        assert_eq!(select(DOC, "@keys").as_deref(), Some(r#"["a","list","s"]"#));
        assert_eq!(select(DOC, "a.@keys.1").as_deref(), Some(r#""y""#));
        assert_eq!(select(DOC, "a.@values|1.0").as_deref(), Some("2"));
        assert_eq!(select(DOC, "a.y.@keys").as_deref(), Some("[null,null]"));
        assert_eq!(select(DOC, "a.y.@values").as_deref(), Some("[2,3]"));
        // gjson runs a modifier on "" when its path matches nothing (k6: `[]`).
        assert_eq!(select(DOC, "missing.@keys").as_deref(), Some("[]"));
        assert_eq!(select(DOC, "missing.@values.#").as_deref(), Some("0"));
        assert_eq!(
            select(DOC, r#"list.#(n=="q").@keys"#).as_deref(),
            Some(r#"["n"]"#)
        );
    }

    /// The values k6 v1.1 gave for these selectors on this document.
    #[test]
    fn tostr_fromstr_group_and_dig_as_k6() {
        const D: &str = r#"{"name":"conformance","items":[1,2,3],"nested":{"key":"value","n":42}}"#;
        let got = |p: &str| select(D, p);
        assert_eq!(
            got("nested.@tostr").as_deref(),
            Some(r#""{\"key\":\"value\",\"n\":42}""#)
        );
        assert_eq!(got("nested.@tostr.@fromstr.n").as_deref(), Some("42"));
        assert_eq!(got("name|@tostr").as_deref(), Some(r#""\"conformance\"""#));
        assert_eq!(got("name.@fromstr"), None);
        assert_eq!(got("items.@dig:1").as_deref(), Some("[2]"));
        assert_eq!(got("@dig:n").as_deref(), Some("[42]"));
        assert_eq!(got("[items,items].@group"), None);
        assert_eq!(
            select(r#"{"a":[1,2],"b":["x","y","z"]}"#, "@group").as_deref(),
            Some(r#"[{"a":1,"b":"x"},{"a":2,"b":"y"},{"b":"z"}]"#)
        );
        assert_eq!(
            select(r#"{"n":1,"c":[{"n":2},{"d":{"n":3}}]}"#, "@dig:n").as_deref(),
            Some("[1,2,3]")
        );
    }

    #[test]
    fn depth_is_measured_without_recursion() {
        let open = "[".repeat(20_000);
        assert_eq!(max_depth(open.as_bytes(), usize::MAX), (20_000, false));
        assert_eq!(
            check_depth(&open),
            Ok(false),
            "not JSON: undefined, no walk"
        );
        let deep = format!("{open}{}", "]".repeat(20_000));
        assert!(matches!(
            check_depth(&deep),
            Err(SelectError::TooDeep { depth: 20_000, .. })
        ));
        assert_eq!(max_depth(br#"{"a":"[[[[","b":[{}]}"#, 100), (3, true));
        assert_eq!(max_depth(br#""\"[""#, 100), (0, true));
        assert_eq!(max_depth(b"]]", 100), (0, false));
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(check_depth(&ok), Ok(true));
    }

    #[test]
    fn the_deepest_allowed_body_fits_a_worker_stack() {
        // Worker threads have `worker::WORKER_STACK_SIZE`; a debug build's frames are the largest.
        let n = MAX_DEPTH;
        let body = format!("{}1{}", "[".repeat(n), "]".repeat(n));
        let path = vec!["0"; n].join(".");
        let out = std::thread::Builder::new()
            .stack_size(crate::js::worker::WORKER_STACK_SIZE)
            .spawn(move || select(&body, &path))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(out.as_deref(), Some("1"));
    }
}
