//! HTML serialisation as Go's `golang.org/x/net/html.Render` writes it (what k6's `html()` returns):
//! `&#39;`/`&#34;` escapes, `<br/>` for void elements, raw text inside `<script>`, `<style>` and
//! their kin, the newline kept after `<pre>`/`<textarea>`/`<listing>`. Iterative: the walk uses
//! ego_tree's edge traversal, so a deep document does not grow the VU's stack.

use ego_tree::NodeRef;
use ego_tree::iter::Edge;
use scraper::Node;

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track", "wbr",
];

const RAW_TEXT: &[&str] = &[
    "iframe",
    "noembed",
    "noframes",
    "noscript",
    "plaintext",
    "script",
    "style",
    "xmp",
];

/// Appends `text` with Go's HTML escapes.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

fn element_name(node: NodeRef<'_, Node>) -> Option<&str> {
    node.value().as_element().map(|e| e.name())
}

/// The HTML of `node` (`include_self`) or of its children only.
pub fn render(node: NodeRef<'_, Node>, include_self: bool) -> String {
    let mut out = String::new();
    for edge in node.traverse() {
        match edge {
            Edge::Open(n) => {
                if n == node && !include_self {
                    continue;
                }
                // goquery renders the children of a node one by one: a text child of the
                // starting node is escaped even inside <script>.
                let raw_parent = include_self || n.parent() != Some(node);
                open(&mut out, n, raw_parent);
            }
            Edge::Close(n) => {
                if n == node && !include_self {
                    continue;
                }
                if let Some(name) = element_name(n)
                    && !VOID.contains(&name)
                {
                    out.push_str("</");
                    out.push_str(name);
                    out.push('>');
                }
            }
        }
    }
    out
}

fn open(out: &mut String, n: NodeRef<'_, Node>, raw_parent: bool) {
    match n.value() {
        Node::Text(text) => {
            let raw = raw_parent
                && n.parent()
                    .and_then(element_name)
                    .is_some_and(|p| RAW_TEXT.contains(&p));
            if raw {
                out.push_str(text);
            } else {
                escape_into(out, text);
            }
        }
        Node::Comment(c) => {
            out.push_str("<!--");
            out.push_str(c);
            out.push_str("-->");
        }
        Node::Doctype(d) => {
            out.push_str("<!DOCTYPE ");
            out.push_str(d.name());
            if !d.public_id().is_empty() {
                out.push_str(" PUBLIC \"");
                escape_into(out, d.public_id());
                out.push('"');
                if !d.system_id().is_empty() {
                    out.push_str(" \"");
                    escape_into(out, d.system_id());
                    out.push('"');
                }
            } else if !d.system_id().is_empty() {
                out.push_str(" SYSTEM \"");
                escape_into(out, d.system_id());
                out.push('"');
            }
            out.push('>');
        }
        Node::Element(e) => {
            out.push('<');
            out.push_str(e.name());
            for (name, value) in e.attrs.iter() {
                out.push(' ');
                if let Some(prefix) = &name.prefix {
                    out.push_str(prefix);
                    out.push(':');
                }
                out.push_str(&name.local);
                out.push_str("=\"");
                escape_into(out, value);
                out.push('"');
            }
            if VOID.contains(&e.name()) {
                out.push_str("/>");
                return;
            }
            out.push('>');
            if matches!(e.name(), "pre" | "listing" | "textarea")
                && n.first_child()
                    .and_then(|c| c.value().as_text().map(|t| t.starts_with('\n')))
                    .unwrap_or(false)
            {
                out.push('\n');
            }
        }
        _ => {}
    }
}

/// The text of every text node under `node` (script and style contents included, as goquery's
/// `Text()`).
pub fn text_into(out: &mut String, node: NodeRef<'_, Node>) {
    for n in node.descendants() {
        if let Node::Text(t) = n.value() {
            out.push_str(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Html;

    #[test]
    fn renders_as_go_does() {
        let doc = Html::parse_document(
            "<!DOCTYPE html><p class=\"a\" title='x\"y'>it's <br> &amp; <b>b</b></p><script>if (a<b) {}</script><pre>\n\nx</pre>",
        );
        let html = render(doc.tree.root(), false);
        assert_eq!(
            html,
            "<!DOCTYPE html><html><head></head><body><p class=\"a\" title=\"x&#34;y\">it&#39;s <br/> &amp; <b>b</b></p><script>if (a<b) {}</script><pre>\n\nx</pre></body></html>"
        );
    }

    #[test]
    fn deep_documents_do_not_recurse() {
        let depth = 20_000;
        let src = "<div>".repeat(depth) + "x" + &"</div>".repeat(depth);
        let doc = Html::parse_document(&src);
        let html = render(doc.tree.root(), false);
        assert!(html.len() > depth * 11);
        let mut text = String::new();
        text_into(&mut text, doc.tree.root());
        assert_eq!(text, "x");
    }
}
