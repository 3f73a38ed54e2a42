//! Native half of `k6/ws` (legacy, blocking `ws.connect`) and `k6/websockets` (the browser-like
//! `WebSocket` class). Both dial with [`crate::http::ws`], run the socket as a task on the worker
//! and get its events through the VU's [`IoHub`]; the shims (`ws.js`, `websockets.js`) hold the
//! JS objects and their handlers in `globalThis.__lgSockets[id]`, whose `__event(kind, a, b)`
//! the tasks call. Metrics and tags as k6: `ws_sessions`, `ws_connecting`, `ws_session_duration`,
//! `ws_msgs_sent`, `ws_msgs_received`, `ws_ping`, tagged with the VU's tags, the script's tags,
//! `url` (and `name` for `k6/websockets`), `status` and `subproto`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use rquickjs::function::This;
use rquickjs::prelude::Opt;
use rquickjs::{Ctx, Function, Object, Value};
use tokio::sync::mpsc;

use super::natives::Natives;
use crate::http::ws::{self, DialError, DialOptions, Handshake, Outgoing, WsEvent};
use crate::js::convert::{array_buffer, bytes_of, tag_pairs, tag_value, throw};
use crate::js::io::{Hold, block_on};
use crate::js::state::{Phase, VuState};
use crate::metrics::{TagSet, builtin};

/// One open socket as the natives see it.
struct Socket {
    tx: mpsc::UnboundedSender<Outgoing>,
    tags: Arc<TagSet>,
    started: Instant,
    legacy: bool,
    /// `k6/ws`: the script closed it (events after that are dropped); `k6/websockets`: it is
    /// closing.
    closed: Cell<bool>,
    /// Ping payload -> when it was sent (for `ws_ping`).
    pings: RefCell<HashMap<String, Instant>>,
    ping_counter: Cell<u32>,
    counters: RefCell<Option<ws::Counters>>,
}

type Registry = Rc<RefCell<HashMap<u32, Rc<Socket>>>>;

/// What the script passed as `params`.
struct Params {
    opts: DialOptions,
    tags: TagSet,
}

pub fn install<'js>(
    ctx: &Ctx<'js>,
    native: &Object<'js>,
    state: &Rc<VuState>,
) -> rquickjs::Result<()> {
    let n = Natives::new(ctx, native, state);
    if native.contains_key("wsSend")? {
        return Ok(());
    }
    if !native.contains_key("utf8")? {
        super::http::install_utf8(ctx, native)?;
    }
    n.add("utf8Bytes", |ctx: Ctx<'js>, s: String| {
        array_buffer(&ctx, s.as_bytes())
    })?;
    let registry: Registry = Rc::default();
    if !ctx.globals().contains_key("__lgSockets")? {
        ctx.globals()
            .set("__lgSockets", Object::new(ctx.clone())?)?;
    }

    // wsConnect(url, params): k6/ws's blocking dial. Returns {id, url, status, headers, body, error}.
    let (st, reg) = (state.clone(), registry.clone());
    n.add(
        "wsConnect",
        move |ctx: Ctx<'js>, url: String, params: Opt<Value<'js>>| {
            legacy_connect(&ctx, &st, &reg, url, params.0)
        },
    )?;
    // wsOpen(url, protocols, params) -> id: k6/websockets' dial, in the background.
    let (st, reg) = (state.clone(), registry.clone());
    n.add(
        "wsOpen",
        move |ctx: Ctx<'js>, url: String, protocols: Value<'js>, params: Value<'js>| {
            open_async(&ctx, &st, &reg, url, protocols, params)
        },
    )?;
    // wsSend(id, data, binary)
    let (st, reg) = (state.clone(), registry.clone());
    n.add(
        "wsSend",
        move |ctx: Ctx<'js>, id: u32, data: Value<'js>, binary: bool| {
            let Some(sock) = reg.borrow().get(&id).cloned() else {
                return Ok(());
            };
            let out = if binary {
                let bytes = bytes_of(&data)
                    .ok_or_else(|| throw(&ctx, "expected ArrayBuffer as argument"))?;
                Outgoing::Binary(bytes)
            } else {
                Outgoing::Text(tag_value(&data)?)
            };
            let _ = sock.tx.send(out);
            st.emit(builtin::WS_MSGS_SENT, 1.0, sock.tags.clone());
            Ok::<_, rquickjs::Error>(())
        },
    )?;
    // wsPing(id)
    let (st, reg) = (state.clone(), registry.clone());
    n.add("wsPing", move |id: u32| {
        let Some(sock) = reg.borrow().get(&id).cloned() else {
            return;
        };
        // k6/websockets counts every frame it writes, pings and the close included.
        if !sock.legacy {
            st.emit(builtin::WS_MSGS_SENT, 1.0, sock.tags.clone());
        }
        let n = sock.ping_counter.get();
        sock.ping_counter.set(n + 1);
        let payload = n.to_string();
        sock.pings
            .borrow_mut()
            .insert(payload.clone(), Instant::now());
        let _ = sock.tx.send(Outgoing::Ping(payload.into_bytes()));
    })?;
    // wsClose(id, code, reason): sends the close frame; the session ends when the server answers.
    let (st, reg) = (state.clone(), registry.clone());
    n.add("wsClose", move |id: u32, code: u16, reason: String| {
        let Some(sock) = reg.borrow().get(&id).cloned() else {
            return false;
        };
        if sock.closed.replace(true) {
            return false;
        }
        if !sock.legacy {
            st.emit(builtin::WS_MSGS_SENT, 1.0, sock.tags.clone());
        }
        let _ = sock.tx.send(Outgoing::Close(code, reason));
        true
    })?;
    // wsRun(id): k6/ws's loop: runs the VU's event loop until the script or the server closed
    // the socket, then emits `ws_session_duration`.
    let (st, reg) = (state.clone(), registry);
    n.add("wsRun", move |ctx: Ctx<'js>, id: u32| {
        let Some(sock) = reg.borrow().get(&id).cloned() else {
            return Ok(());
        };
        let watched = sock.clone();
        let result = crate::js::event_loop::run(&ctx, &st, Some(id), &|| watched.closed.get());
        take_bytes(&st, &sock);
        st.emit(
            builtin::WS_SESSION_DURATION,
            ms_since(sock.started),
            sock.tags.clone(),
        );
        if !sock.closed.replace(true) {
            // The loop ended without a close (an exception): go away.
            let _ = sock.tx.send(Outgoing::Close(1001, String::new()));
        }
        result.map(|_| ())
    })?;
    Ok(())
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn in_init(state: &VuState) -> bool {
    state.phase.get() == Phase::Init
}

/// Parses `params` as k6 does; `strict` (k6/websockets) refuses unknown keys.
fn parse_params<'js>(
    ctx: &Ctx<'js>,
    state: &VuState,
    url: &str,
    params: Option<&Value<'js>>,
    strict: bool,
) -> rquickjs::Result<Params> {
    let settings = state.settings.borrow().clone();
    let mut opts = DialOptions {
        headers: vec![("User-Agent".to_string(), settings.user_agent.clone())],
        subprotocols: Vec::new(),
        client: crate::js::vu::client_config(&settings, state.ids),
    };
    let mut tags = TagSet::new();
    tags.extend_from(&state.tags());
    let mut jar = Some(state.jar.clone());
    if let Some(p) = params.and_then(Value::as_object) {
        for key in p.keys::<String>() {
            let key = key?;
            let v: Value = p.get(key.as_str())?;
            match key.as_str() {
                "headers" => {
                    if let Some(h) = v.as_object() {
                        for (k, val) in tag_pairs(h)? {
                            set_header(&mut opts.headers, k, val);
                        }
                    }
                }
                "tags" => {
                    if let Some(t) = v.as_object() {
                        for (k, val) in tag_pairs(t)? {
                            tags.insert(k, val);
                        }
                    }
                }
                "jar" => {
                    if let Some(o) = v.as_object() {
                        let id: Option<u32> = o.get("__lgJar").ok();
                        if let Some(id) = id {
                            jar = Some(crate::js::modules::cookies::jar_of(ctx, state, id)?);
                        }
                    }
                }
                "compression" => {
                    let algo = tag_value(&v)?;
                    let algo = algo.trim();
                    if algo.is_empty() && !strict {
                        continue;
                    }
                    if algo != "deflate" {
                        return Err(throw(
                            ctx,
                            &format!(
                                "unsupported compression algorithm '{algo}', supported algorithm is 'deflate'"
                            ),
                        ));
                    }
                    return Err(throw(
                        ctx,
                        "WebSocket compression (permessage-deflate) is not implemented by loadgate; \
                         remove the `compression` parameter",
                    ));
                }
                other if strict => {
                    return Err(throw(ctx, &format!("unknown WebSocket's option {other}")));
                }
                _ => {}
            }
        }
    }
    if let Some(jar) = jar {
        let http_url = url
            .strip_prefix("ws")
            .map(|rest| format!("http{rest}"))
            .unwrap_or_default();
        if let Ok(cookies) = jar.cookies_for_url(&http_url)
            && !cookies.is_empty()
        {
            let line = cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            set_header(&mut opts.headers, "Cookie".to_string(), line);
        }
    }
    Ok(Params { opts, tags })
}

fn set_header(headers: &mut Vec<(String, String)>, name: String, value: String) {
    match headers
        .iter_mut()
        .find(|(k, _)| k.eq_ignore_ascii_case(&name))
    {
        Some(slot) => *slot = (name, value),
        None => headers.push((name, value)),
    }
}

/// Adds `status` and `subproto` as k6 does once the handshake answered.
fn answer_tags(tags: &mut TagSet, answer: Option<&Handshake>) {
    if let Some(h) = answer {
        tags.insert("status", h.status.to_string());
        tags.insert("subproto", h.subprotocol.clone());
    }
}

fn emit_connect(state: &VuState, tags: &Arc<TagSet>, started: Instant, connected: Instant) {
    state.emit(builtin::WS_SESSIONS, 1.0, tags.clone());
    state.emit(
        builtin::WS_CONNECTING,
        (connected - started).as_secs_f64() * 1000.0,
        tags.clone(),
    );
}

fn legacy_connect<'js>(
    ctx: &Ctx<'js>,
    state: &Rc<VuState>,
    registry: &Registry,
    url: String,
    params: Option<Value<'js>>,
) -> rquickjs::Result<Object<'js>> {
    if in_init(state) {
        return Err(throw(
            ctx,
            "using websockets in the init context is not supported",
        ));
    }
    let Params { opts, mut tags } = parse_params(ctx, state, &url, params.as_ref(), false)?;
    tags.insert("url", url.clone());
    let parsed = url::Url::parse(&url);
    let started = Instant::now();
    let result = match parsed {
        Ok(u) => block_on(ctx, state, async move { ws::dial(&u, &opts).await })?,
        Err(e) => Err(DialError {
            message: format!("parse {url:?}: {e}"),
            response: None,
        }),
    };
    let connected = Instant::now();
    let out = Object::new(ctx.clone())?;
    match result {
        Ok((session, handshake)) => {
            answer_tags(&mut tags, Some(&handshake));
            let tags = Arc::new(tags);
            emit_connect(state, &tags, started, connected);
            let id = state.io.next_id();
            fill_response(ctx, &out, &url, Some(&handshake), "")?;
            out.set("id", id)?;
            spawn_session(state, registry, id, session, tags, started, true);
        }
        Err(e) => {
            answer_tags(&mut tags, e.response.as_ref());
            let tags = Arc::new(tags);
            emit_connect(state, &tags, started, connected);
            state.emit(builtin::WS_SESSION_DURATION, ms_since(started), tags);
            if state.settings.borrow().throw {
                return Err(throw(ctx, &e.message));
            }
            match &e.response {
                // k6 returns the answer of a refused handshake without an error text.
                Some(h) => fill_response(ctx, &out, "", Some(h), "")?,
                None => fill_response(ctx, &out, "", None, &e.message)?,
            }
            out.set("failure", e.message)?;
            out.set("id", 0)?;
        }
    }
    Ok(out)
}

fn fill_response<'js>(
    ctx: &Ctx<'js>,
    out: &Object<'js>,
    url: &str,
    answer: Option<&Handshake>,
    error: &str,
) -> rquickjs::Result<()> {
    out.set("url", url)?;
    let headers = Object::new(ctx.clone())?;
    out.set("status", answer.map(|h| h.status).unwrap_or(0))?;
    if let Some(h) = answer {
        for (k, v) in &h.headers {
            headers.set(k.as_str(), v.as_str())?;
        }
    }
    out.set("headers", headers)?;
    out.set("body", answer.map(|h| h.body.as_str()).unwrap_or(""))?;
    out.set("error", error)?;
    Ok(())
}

fn open_async<'js>(
    ctx: &Ctx<'js>,
    state: &Rc<VuState>,
    registry: &Registry,
    url: String,
    protocols: Value<'js>,
    params: Value<'js>,
) -> rquickjs::Result<u32> {
    if in_init(state) {
        return Err(throw(
            ctx,
            "using websockets in the init context is not supported",
        ));
    }
    let parsed = url::Url::parse(&url).map_err(|e| {
        throw(
            ctx,
            &format!("WebSocket requires valid url, but got {url:?} which resulted in {e}"),
        )
    })?;
    let Params { mut opts, mut tags } = parse_params(ctx, state, &url, Some(&params), true)?;
    if let Some(s) = protocols.as_string() {
        opts.subprotocols.push(s.to_string()?);
    } else if let Some(list) = protocols.as_array() {
        for p in list.iter::<Value>() {
            opts.subprotocols.push(tag_value(&p?)?);
        }
    }
    // After k6 v0.41 `url` and `name` carry the same value; a `name` tag wins for both.
    match tags.get("name").map(str::to_string) {
        Some(name) => tags.insert("url", name),
        None => {
            tags.insert("url", url.clone());
            tags.insert("name", url.clone());
        }
    }
    let id = state.io.next_id();
    let hub = state.io.clone();
    let hold = Rc::new(hub.hold());
    let scope = hub.scope();
    let registry = registry.clone();
    tokio::task::spawn_local(async move {
        let started = Instant::now();
        let result = tokio::select! {
            r = ws::dial(&parsed, &opts) => r,
            _ = scope.cancelled() => return,
        };
        let connected = Instant::now();
        match result {
            Err(e) => {
                answer_tags(&mut tags, e.response.as_ref());
                let tags = Arc::new(tags);
                hold.push(
                    id,
                    Box::new(move |ctx, state| {
                        emit_connect(state, &tags, started, connected);
                        dispatch(ctx, id, "error", Payload::Text(e.message))?;
                        dispatch(ctx, id, "close", Payload::Close(0, String::new()))
                    }),
                );
            }
            Ok((session, handshake)) => {
                answer_tags(&mut tags, Some(&handshake));
                let tags = Arc::new(tags);
                let (tx, rx) = mpsc::unbounded_channel();
                let sock = Rc::new(Socket {
                    tx,
                    tags: tags.clone(),
                    started,
                    legacy: false,
                    closed: Cell::new(false),
                    pings: RefCell::default(),
                    ping_counter: Cell::new(0),
                    counters: RefCell::new(Some(session.counters.clone())),
                });
                registry.borrow_mut().insert(id, sock.clone());
                let protocol = handshake.subprotocol.clone();
                let opened = sock.clone();
                hold.push(
                    id,
                    Box::new(move |ctx, state| {
                        emit_connect(state, &opened.tags, started, connected);
                        take_bytes(state, &opened);
                        dispatch(ctx, id, "open", Payload::Text(protocol))
                    }),
                );
                pump(&hold, id, sock, session, rx, scope).await;
                registry.borrow_mut().remove(&id);
            }
        }
    });
    Ok(id)
}

/// Runs a session on the worker; every event becomes a task for the VU.
fn spawn_session(
    state: &VuState,
    registry: &Registry,
    id: u32,
    session: ws::Session,
    tags: Arc<TagSet>,
    started: Instant,
    legacy: bool,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let sock = Rc::new(Socket {
        tx,
        tags,
        started,
        legacy,
        closed: Cell::new(false),
        pings: RefCell::default(),
        ping_counter: Cell::new(0),
        counters: RefCell::new(Some(session.counters.clone())),
    });
    registry.borrow_mut().insert(id, sock.clone());
    let hub = state.io.clone();
    let hold = Rc::new(hub.hold());
    let scope = hub.scope();
    let registry = registry.clone();
    tokio::task::spawn_local(async move {
        pump(&hold, id, sock, session, rx, scope).await;
        registry.borrow_mut().remove(&id);
    });
}

async fn pump(
    hold: &Rc<Hold>,
    id: u32,
    sock: Rc<Socket>,
    session: ws::Session,
    rx: mpsc::UnboundedReceiver<Outgoing>,
    scope: tokio_util::sync::CancellationToken,
) {
    let queue = hold.clone();
    ws::run_session(
        session,
        rx,
        move |event| {
            let sock = sock.clone();
            queue.push(
                id,
                Box::new(move |ctx, state| on_event(ctx, state, id, &sock, event)),
            );
        },
        scope,
    )
    .await;
}

fn take_bytes(state: &VuState, sock: &Socket) {
    if let Some(c) = sock.counters.borrow().as_ref() {
        let (sent, received) = c.take();
        state.bytes_sent.set(state.bytes_sent.get() + sent);
        state
            .bytes_received
            .set(state.bytes_received.get() + received);
    }
}

/// Data passed to a socket's `__event`.
enum Payload {
    None,
    Text(String),
    Binary(Vec<u8>),
    Close(u16, String),
}

fn on_event<'js>(
    ctx: &Ctx<'js>,
    state: &VuState,
    id: u32,
    sock: &Socket,
    event: WsEvent,
) -> rquickjs::Result<()> {
    take_bytes(state, sock);
    // k6/ws drops what arrives after the script closed the socket; k6/websockets after close().
    let dropped = sock.closed.get();
    match event {
        WsEvent::Text(text, _) if !dropped => {
            state.emit(builtin::WS_MSGS_RECEIVED, 1.0, sock.tags.clone());
            dispatch(ctx, id, "message", Payload::Text(text))
        }
        WsEvent::Binary(bytes, _) if !dropped => {
            state.emit(builtin::WS_MSGS_RECEIVED, 1.0, sock.tags.clone());
            let kind = if sock.legacy {
                "binaryMessage"
            } else {
                "message"
            };
            dispatch(ctx, id, kind, Payload::Binary(bytes))
        }
        // k6/websockets still handles control frames while closing.
        WsEvent::Ping if !dropped || !sock.legacy => dispatch(ctx, id, "ping", Payload::None),
        WsEvent::Pong(payload, at) if !dropped || !sock.legacy => {
            let key = String::from_utf8_lossy(&payload).into_owned();
            if let Some(sent) = sock.pings.borrow_mut().remove(&key) {
                state.emit(
                    builtin::WS_PING,
                    (at - sent).as_secs_f64() * 1000.0,
                    sock.tags.clone(),
                );
            }
            dispatch(ctx, id, "pong", Payload::None)
        }
        // k6/websockets reports a failed read through the close that follows it.
        WsEvent::Error(message) if sock.legacy && !dropped => {
            dispatch(ctx, id, "error", Payload::Text(message))
        }
        WsEvent::Closed { code, reason } => {
            sock.counters.borrow_mut().take();
            if !sock.legacy {
                state.emit(
                    builtin::WS_SESSION_DURATION,
                    ms_since(sock.started),
                    sock.tags.clone(),
                );
                if !matches!(code, 1000 | 1001) {
                    let text = close_error_text(code, &reason);
                    dispatch(ctx, id, "error", Payload::Text(text))?;
                }
                return dispatch(ctx, id, "close", Payload::Close(code, reason));
            }
            if dropped {
                return Ok(());
            }
            sock.closed.set(true);
            dispatch(ctx, id, "close", Payload::Close(code, reason))
        }
        _ => Ok(()),
    }
}

/// gorilla's `CloseError` text.
fn close_error_text(code: u16, reason: &str) -> String {
    let name = match code {
        1000 => "(normal)",
        1001 => "(going away)",
        1002 => "(protocol error)",
        1003 => "(unsupported data)",
        1005 => "(no status)",
        1006 => "(abnormal closure)",
        1007 => "(invalid payload data)",
        1008 => "(policy violation)",
        1009 => "(message too big)",
        1010 => "(mandatory extension missing)",
        1011 => "(internal server error)",
        1015 => "(TLS handshake error)",
        _ => "",
    };
    let mut s = format!("websocket: close {code}");
    if !name.is_empty() {
        s.push(' ');
        s.push_str(name);
    }
    if code == 1006 && reason.is_empty() {
        s.push_str(": unexpected EOF");
    } else if !reason.is_empty() {
        s.push_str(": ");
        s.push_str(reason);
    }
    s
}

/// Calls `__lgSockets[id].__event(kind, a, b)`.
fn dispatch<'js>(ctx: &Ctx<'js>, id: u32, kind: &str, payload: Payload) -> rquickjs::Result<()> {
    let sockets: Object = ctx.globals().get("__lgSockets")?;
    let Some(obj) = sockets.get::<_, Option<Object>>(id)? else {
        return Ok(());
    };
    let f: Function = obj.get("__event")?;
    let undefined = Value::new_undefined(ctx.clone());
    let (a, b): (Value, Value) = match payload {
        Payload::None => (undefined.clone(), undefined),
        Payload::Text(s) => (
            rquickjs::String::from_str(ctx.clone(), &s)?.into_value(),
            undefined,
        ),
        Payload::Binary(bytes) => (array_buffer(ctx, &bytes)?, undefined),
        Payload::Close(code, reason) => (
            Value::new_number(ctx.clone(), f64::from(code)),
            rquickjs::String::from_str(ctx.clone(), &reason)?.into_value(),
        ),
    };
    f.call::<_, ()>((This(obj), kind, a, b))
}
