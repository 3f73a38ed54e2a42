//! Native half of `k6/html`: parses documents with html5ever (through `scraper`) and answers
//! node-level questions for the shim (`shims/html.js`), which builds k6's `Selection` and
//! `Element` API on top. Nodes are named by small integer keys (their index in the document's
//! arena), so the shim can do set logic (dedup, membership) on plain numbers; everything that
//! walks a subtree (selector matching, text, serialisation) runs here, iteratively.

mod render;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use ego_tree::{NodeId, NodeRef};
use rquickjs::class::Trace;
use rquickjs::prelude::Opt;
use rquickjs::{Class, Ctx, Function, JsLifetime, Object};
use scraper::{ElementRef, Html, Node, Selector};

use super::natives::Natives;
use crate::js::convert::throw;
use crate::js::state::VuState;

/// Deepest `(`/`[` nesting a selector may have: the selector parser recurses on it.
const MAX_SELECTOR_NESTING: usize = 32;

/// A parsed document and the key <-> node maps.
struct Document {
    html: Html,
    ids: Vec<NodeId>,
    keys: HashMap<NodeId, u32>,
    selectors: RefCell<HashMap<String, Option<Rc<Selector>>>>,
}

impl Document {
    fn new(html: Html) -> Self {
        let ids: Vec<NodeId> = html.tree.nodes().map(|n| n.id()).collect();
        let keys = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i as u32))
            .collect();
        Document {
            html,
            ids,
            keys,
            selectors: RefCell::new(HashMap::new()),
        }
    }

    fn node(&self, key: u32) -> Option<NodeRef<'_, Node>> {
        let id = *self.ids.get(key as usize)?;
        self.html.tree.get(id)
    }

    fn key(&self, node: NodeRef<'_, Node>) -> u32 {
        self.keys.get(&node.id()).copied().unwrap_or(0)
    }

    /// The compiled selector; `None` (matches nothing, as in k6) when it does not parse.
    fn selector(&self, text: &str) -> Option<Rc<Selector>> {
        if let Some(cached) = self.selectors.borrow().get(text) {
            return cached.clone();
        }
        let compiled = match nesting(text) <= MAX_SELECTOR_NESTING {
            true => Selector::parse(text).ok().map(Rc::new),
            false => None,
        };
        if compiled.is_none() {
            tracing::warn!(
                selector = text,
                "k6/html: invalid CSS selector, it matches nothing"
            );
        }
        self.selectors
            .borrow_mut()
            .insert(text.to_string(), compiled.clone());
        compiled
    }
}

fn nesting(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for c in text.chars() {
        match c {
            '(' | '[' => {
                depth += 1;
                max = max.max(depth);
            }
            ')' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// A parsed document as JS holds it (opaque; the shim calls its methods with node keys).
#[derive(Trace, JsLifetime)]
#[rquickjs::class(rename = "HtmlDocument")]
pub struct HtmlDocument {
    #[qjs(skip_trace)]
    doc: Rc<Document>,
}

fn push_unique(out: &mut Vec<u32>, seen: &mut std::collections::HashSet<u32>, key: u32) {
    if seen.insert(key) {
        out.push(key);
    }
}

#[rquickjs::methods(rename_all = "camelCase")]
impl HtmlDocument {
    /// Key of the document node.
    pub fn root(&self) -> u32 {
        self.doc.key(self.doc.html.tree.root())
    }

    /// nodeType as the DOM numbers it (1 element, 3 text, 8 comment, 9 document, 10 doctype; 0
    /// for others).
    pub fn kind(&self, key: u32) -> u32 {
        match self.doc.node(key).map(|n| n.value()) {
            Some(Node::Element(_)) => 1,
            Some(Node::Text(_)) => 3,
            Some(Node::Comment(_)) => 8,
            Some(Node::Document) | Some(Node::Fragment) => 9,
            Some(Node::Doctype(_)) => 10,
            _ => 0,
        }
    }

    /// nodeName as goquery's NodeName gives it.
    pub fn name(&self, key: u32) -> String {
        match self.doc.node(key).map(|n| n.value()) {
            Some(Node::Element(e)) => e.name().to_string(),
            Some(Node::Text(_)) => "#text".to_string(),
            Some(Node::Comment(_)) => "#comment".to_string(),
            Some(Node::Document) | Some(Node::Fragment) => "#document".to_string(),
            Some(Node::Doctype(d)) => d.name().to_string(),
            _ => String::new(),
        }
    }

    /// The namespace prefix of an element (`svg`, `math`, or empty for HTML).
    pub fn namespace(&self, key: u32) -> String {
        let Some(Node::Element(e)) = self.doc.node(key).map(|n| n.value()) else {
            return String::new();
        };
        match &*e.name.ns {
            "http://www.w3.org/2000/svg" => "svg".to_string(),
            "http://www.w3.org/1998/Math/MathML" => "math".to_string(),
            _ => String::new(),
        }
    }

    pub fn parent(&self, key: u32) -> Option<u32> {
        Some(self.doc.key(self.doc.node(key)?.parent()?))
    }
    pub fn first_child(&self, key: u32) -> Option<u32> {
        Some(self.doc.key(self.doc.node(key)?.first_child()?))
    }
    pub fn last_child(&self, key: u32) -> Option<u32> {
        Some(self.doc.key(self.doc.node(key)?.last_child()?))
    }
    pub fn next(&self, key: u32) -> Option<u32> {
        Some(self.doc.key(self.doc.node(key)?.next_sibling()?))
    }
    pub fn prev(&self, key: u32) -> Option<u32> {
        Some(self.doc.key(self.doc.node(key)?.prev_sibling()?))
    }

    /// The element ancestors of a node, nearest first.
    pub fn ancestors(&self, key: u32) -> Vec<u32> {
        match self.doc.node(key) {
            Some(n) => n
                .ancestors()
                .filter(|a| a.value().is_element())
                .map(|a| self.doc.key(a))
                .collect(),
            None => Vec::new(),
        }
    }

    /// All child nodes (elements, text, comments).
    pub fn children(&self, key: u32) -> Vec<u32> {
        match self.doc.node(key) {
            Some(n) => n.children().map(|c| self.doc.key(c)).collect(),
            None => Vec::new(),
        }
    }

    /// The attribute `name` of an element.
    pub fn attr(&self, key: u32, name: String) -> Option<String> {
        let Some(Node::Element(e)) = self.doc.node(key).map(|n| n.value()) else {
            return None;
        };
        e.attrs()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    }

    /// The attributes of an element in source order, as `[name, value, prefix]` triples.
    pub fn attrs(&self, key: u32) -> Vec<Vec<String>> {
        let Some(Node::Element(e)) = self.doc.node(key).map(|n| n.value()) else {
            return Vec::new();
        };
        e.attrs
            .iter()
            .map(|(n, v)| {
                vec![
                    n.local.to_string(),
                    v.to_string(),
                    n.prefix.as_ref().map(|p| p.to_string()).unwrap_or_default(),
                ]
            })
            .collect()
    }

    /// The text of every node in `keys`, concatenated.
    pub fn text(&self, keys: Vec<u32>) -> String {
        let mut out = String::new();
        for key in keys {
            if let Some(n) = self.doc.node(key) {
                render::text_into(&mut out, n);
            }
        }
        out
    }

    /// The HTML of a node's children (`innerHTML`).
    pub fn inner(&self, key: u32) -> String {
        self.doc
            .node(key)
            .map(|n| render::render(n, false))
            .unwrap_or_default()
    }

    /// The HTML of a node with itself (`outerHTML`).
    pub fn outer(&self, key: u32) -> String {
        self.doc
            .node(key)
            .map(|n| render::render(n, true))
            .unwrap_or_default()
    }

    /// Descendant elements of each of `keys` matching `selector`, without duplicates, in the
    /// order goquery's Find gives.
    pub fn select(&self, keys: Vec<u32>, selector: String) -> Vec<u32> {
        let Some(sel) = self.doc.selector(&selector) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for key in keys {
            let Some(node) = self.doc.node(key) else {
                continue;
            };
            for d in node.descendants().skip(1) {
                if let Some(el) = ElementRef::wrap(d)
                    && sel.matches(&el)
                {
                    push_unique(&mut out, &mut seen, self.doc.key(d));
                }
            }
        }
        out
    }

    /// The elements of `keys` that match `selector`, in order.
    pub fn matching(&self, keys: Vec<u32>, selector: String) -> Vec<u32> {
        let Some(sel) = self.doc.selector(&selector) else {
            return Vec::new();
        };
        keys.into_iter()
            .filter(|k| {
                self.doc
                    .node(*k)
                    .and_then(ElementRef::wrap)
                    .is_some_and(|el| sel.matches(&el))
            })
            .collect()
    }

    /// Whether `ancestor` is a proper ancestor of `key`.
    pub fn contains(&self, ancestor: u32, key: u32) -> bool {
        let Some(node) = self.doc.node(key) else {
            return false;
        };
        node.ancestors().any(|a| self.doc.key(a) == ancestor)
    }
}

/// Installs `__k6.htmlApi()`: the first call adds the natives and evaluates the shim (a script
/// returning the API object), later calls return the same object. Both `k6/html` and
/// `Response.html()` of `k6/http` reach the module through it.
pub fn install_hook<'js>(
    ctx: &Ctx<'js>,
    native: &Object<'js>,
    state: &Rc<VuState>,
) -> rquickjs::Result<()> {
    if native.contains_key("htmlApi")? {
        return Ok(());
    }
    let st = state.clone();
    native.set(
        "htmlApi",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>| {
            let native: Object = ctx.globals().get("__k6")?;
            if let Ok(api) = native.get::<_, Object>("__htmlApi") {
                return Ok::<_, rquickjs::Error>(api);
            }
            install_parse(&ctx, &native, &st)?;
            let api: Object = ctx.eval(include_str!("../../shims/html.js"))?;
            native.set("__htmlApi", api.clone())?;
            Ok(api)
        })?,
    )
}

fn install_parse<'js>(
    ctx: &Ctx<'js>,
    native: &Object<'js>,
    state: &Rc<VuState>,
) -> rquickjs::Result<()> {
    let n = Natives::new(ctx, native, state);
    n.with_state("htmlParse", |st| {
        move |ctx: Ctx<'js>, src: Opt<String>| {
            let src = src.0.unwrap_or_default();
            // html5ever's tree builder keeps its own stack of open elements; its frames are
            // still deep enough to want the worker's stack rather than the VU's.
            let html = st.suspender.on_parent_stack(|| Html::parse_document(&src));
            Class::instance(
                ctx.clone(),
                HtmlDocument {
                    doc: Rc::new(Document::new(html)),
                },
            )
            .map_err(|e| throw(&ctx, &format!("parseHTML: {e}")))
        }
    })?;
    n.add("htmlResolve", |base: String, reference: String| {
        url::Url::parse(&base)
            .and_then(|b| b.join(&reference))
            .ok()
            .map(String::from)
    })?;
    native.set(
        "htmlUrl",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, href: String| {
            let Ok(u) = url::Url::parse(&href) else {
                return Ok::<_, rquickjs::Error>(None);
            };
            let parts = Object::new(ctx.clone())?;
            parts.set("scheme", u.scheme())?;
            parts.set("hostname", u.host_str().unwrap_or_default())?;
            parts.set("port", u.port().map(|p| p.to_string()).unwrap_or_default())?;
            parts.set("username", u.username())?;
            parts.set("password", u.password().unwrap_or_default())?;
            parts.set("path", u.path())?;
            parts.set("query", u.query().unwrap_or_default())?;
            parts.set("fragment", u.fragment().unwrap_or_default())?;
            Ok(Some(parts))
        })?,
    )
}
