//! Native half of `k6/http`: turns JS arguments into [`crate::http::Request`]s, suspends the VU while
//! the driver runs them, emits the `http_req_*` samples of every hop, and builds Response objects.

use std::rc::Rc;
use std::sync::Arc;

use rquickjs::prelude::Opt;
use rquickjs::{Array, Ctx, Function, Object, Persistent, Promise, Value};

use super::natives::Natives;
use crate::engine::options::network::SystemTags;
use crate::http::{
    Auth, Compression, Exchange, Hop, JarChoice, MultipartPart, Request, RequestCookie,
    ResponseType, form_urlencode, multipart_form_data,
};
use crate::js::convert::{
    array_buffer, bytes_of, duration_of, tag_pairs, tag_value, throw, user_tag_pairs,
};
use crate::js::coroutine::{Resume, Suspend};
use crate::js::json_select;
use crate::js::names::{Name, Names};
use crate::js::state::{ExpectedStatuses, Phase, VuState};
use crate::metrics::{TagSet, builtin};

const INIT_CONTEXT: &str = "making requests in the init context is not supported";

/// A request parsed from JS plus what is needed to tag its samples.
struct Prepared {
    request: Request,
    user_tags: Vec<(String, String)>,
    name: Option<String>,
    /// Per-request responseCallback: `None` = use the VU's, `Some(None)` = disabled.
    callback: Option<Option<ExpectedStatuses>>,
    /// The script set `redirects` itself (k6 then does not warn when the limit is reached).
    redirects_set: bool,
    /// The context's tags (group, scenario, VU tags) when the request was made.
    base_tags: Arc<TagSet>,
}

pub fn install<'js>(
    ctx: &Ctx<'js>,
    native: &Object<'js>,
    state: &Rc<VuState>,
) -> rquickjs::Result<()> {
    let n = Natives::new(ctx, native, state);
    let names = Rc::new(Names::new(ctx)?);
    let st = state.clone();
    let nm = names.clone();
    n.add(
        "request",
        move |ctx: Ctx<'js>,
              method: String,
              url: Value<'js>,
              body: Opt<Value<'js>>,
              params: Opt<Value<'js>>| {
            forbid_init(&ctx, &st)?;
            let prepared = match prepare(&ctx, &st, method, &url, body.0, params.0) {
                Ok(p) => p,
                Err(e) => return parse_failure(&ctx, &st, &nm, e),
            };
            let mut out = run(&ctx, &st, &nm, vec![prepared])?;
            out.pop().ok_or_else(|| throw(&ctx, "no response"))
        },
    )?;
    let st = state.clone();
    let nm = names.clone();
    n.add(
        "asyncRequest",
        move |ctx: Ctx<'js>,
              method: String,
              url: Value<'js>,
              body: Value<'js>,
              params: Value<'js>,
              wrap: Function<'js>| {
            // As k6: in the init context it throws; a request it cannot build settles
            // as a synchronous one would return (see `parse_failure`).
            forbid_init(&ctx, &st)?;
            let prepared = prepare(&ctx, &st, method, &url, Some(body), Some(params));
            start_async(&ctx, &st, &nm, prepared, wrap)
        },
    )?;
    let st = state.clone();
    let nm = names;
    n.add("batch", move |ctx: Ctx<'js>, list: Array<'js>| {
        let mut prepared = Vec::with_capacity(list.len());
        for item in list.iter::<Array<'js>>() {
            let item = item?;
            let method: String = item.get(0)?;
            let url: Value = item.get(1)?;
            let body: Value = item.get(2)?;
            let params: Value = item.get(3)?;
            prepared.push(prepare(&ctx, &st, method, &url, Some(body), Some(params))?);
        }
        let out = run(&ctx, &st, &nm, prepared)?;
        let arr = Array::new(ctx.clone())?;
        for (i, o) in out.into_iter().enumerate() {
            arr.set(i, o)?;
        }
        Ok::<_, rquickjs::Error>(arr)
    })?;
    n.with_state("setResponseCallback", |st| {
        move |ctx: Ctx<'js>, cb: Value<'js>| {
            let parsed = callback_of(&ctx, &cb)?;
            *st.response_callback.borrow_mut() = parsed;
            Ok::<_, rquickjs::Error>(())
        }
    })?;
    super::cookies::install(ctx, native, state)?;
    n.with_state("gjson", |st| {
        move |ctx: Ctx<'js>, body: String, path: String| {
            let walkable =
                json_select::check_depth(&body).map_err(|e| throw(&ctx, &e.to_string()))?;
            if !walkable {
                return Ok(None);
            }
            let found = st
                .suspender
                .on_parent_stack(|| json_select::select(&body, &path));
            Ok::<_, rquickjs::Error>(found)
        }
    })?;
    install_utf8(ctx, native)
}

/// `__k6.utf8(bytes)`: an ArrayBuffer or string as text.
pub fn install_utf8<'js>(ctx: &Ctx<'js>, native: &Object<'js>) -> rquickjs::Result<()> {
    native.set(
        "utf8",
        Function::new(ctx.clone(), |v: Value<'js>| -> String {
            bytes_of(&v)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        })?,
    )
}

/// `http.expectedStatuses(...)` marker object, or null (disabled).
fn callback_of<'js>(ctx: &Ctx<'js>, cb: &Value<'js>) -> rquickjs::Result<Option<ExpectedStatuses>> {
    if cb.is_null() || cb.is_undefined() {
        return Ok(None);
    }
    let ranges: Option<Array> = cb.as_object().and_then(|o| o.get("__lgExpected").ok());
    let Some(ranges) = ranges else {
        return Err(throw(
            ctx,
            "responseCallback must be the result of http.expectedStatuses() or null",
        ));
    };
    let mut out = Vec::new();
    for r in ranges.iter::<Array>() {
        let r = r?;
        let lo: f64 = r.get(0)?;
        let hi: f64 = r.get(1)?;
        out.push((lo as u16, hi as u16));
    }
    Ok(Some(ExpectedStatuses { ranges: out }))
}

fn forbid_init(ctx: &Ctx<'_>, state: &VuState) -> rquickjs::Result<()> {
    if state.phase.get() == Phase::Init {
        return Err(throw(ctx, INIT_CONTEXT));
    }
    Ok(())
}

/// A request whose arguments k6 cannot turn into a request (a bad `responseType`, `timeout`,
/// ...): k6 logs `Request Failed` and returns a Response with only `error` set, sending and
/// measuring nothing; with the `throw` option it throws the error instead.
fn parse_failure<'js>(
    ctx: &Ctx<'js>,
    state: &VuState,
    n: &Names,
    err: rquickjs::Error,
) -> rquickjs::Result<Value<'js>> {
    if !matches!(err, rquickjs::Error::Exception) {
        return Err(err);
    }
    let thrown = ctx.catch();
    if state.settings.borrow().throw {
        return Err(ctx.throw(thrown));
    }
    let message = thrown
        .as_object()
        .and_then(|o| o.get::<_, Option<String>>("message").ok().flatten())
        .unwrap_or_else(|| crate::js::convert::thrown_text(&thrown));
    tracing::warn!(error = %message, "Request Failed");
    let o = Object::new(ctx.clone())?;
    n.put(ctx, &o, Name::status, 0)?;
    n.put(ctx, &o, Name::status_text, "")?;
    n.put(ctx, &o, Name::proto, "")?;
    n.put(ctx, &o, Name::url, "")?;
    n.put(ctx, &o, Name::headers, Object::new(ctx.clone())?)?;
    n.put(ctx, &o, Name::body, Value::new_null(ctx.clone()))?;
    n.put(ctx, &o, Name::error, message)?;
    n.put(ctx, &o, Name::error_code, 0)?;
    n.put(ctx, &o, Name::cookies, Object::new(ctx.clone())?)?;
    Ok(o.into_value())
}

fn prepare<'js>(
    ctx: &Ctx<'js>,
    state: &VuState,
    method: String,
    url: &Value<'js>,
    body: Option<Value<'js>>,
    params: Option<Value<'js>>,
) -> rquickjs::Result<Prepared> {
    forbid_init(ctx, state)?;
    let settings = state.settings.borrow().clone();
    let (url, mut name) = match url
        .as_object()
        .filter(|o| o.contains_key("__lgUrl").unwrap_or(false))
    {
        Some(o) => (
            o.get::<_, String>("url")?,
            Some(o.get::<_, String>("name")?),
        ),
        None => (tag_value(url)?, None),
    };
    let mut request = Request::new(method, url);
    request.max_redirects = settings.max_redirects;
    if settings.discard_response_bodies {
        request.response_type = ResponseType::None;
    }
    let mut user_tags = Vec::new();
    let mut callback = None;
    let mut redirects_set = false;
    if let Some(p) = params.as_ref().and_then(Value::as_object) {
        if let Ok(h) = p.get::<_, Object>("headers") {
            request.headers = tag_pairs(&h)?;
        }
        if let Ok(t) = p.get::<_, Object>("tags") {
            user_tags = user_tag_pairs(&t)?;
        }
        let timeout: Value = p.get("timeout")?;
        if !timeout.is_undefined() && !timeout.is_null() {
            request.timeout = duration_of(&timeout)
                .map_err(|e| throw(ctx, &format!("invalid timeout value: {e}")))?;
        }
        if let Ok(Some(r)) = p.get::<_, Option<f64>>("redirects") {
            request.max_redirects = r.max(0.0) as u32;
            redirects_set = true;
        }
        if let Ok(Some(a)) = p.get::<_, Option<String>>("auth") {
            request.auth = match a.as_str() {
                "basic" => Some(Auth::Basic),
                "digest" => Some(Auth::Digest),
                other => {
                    return Err(throw(
                        ctx,
                        &format!("unsupported auth `{other}`: use basic or digest"),
                    ));
                }
            };
        }
        if let Ok(Some(c)) = p.get::<_, Option<String>>("compression") {
            for part in c.split(',').map(str::trim).filter(|x| !x.is_empty()) {
                request.compression.push(match part {
                    "gzip" => Compression::Gzip,
                    "deflate" => Compression::Deflate,
                    other => {
                        return Err(throw(
                            ctx,
                            &format!("unsupported compression `{other}`: use gzip or deflate"),
                        ));
                    }
                });
            }
        }
        if let Ok(cookies) = p.get::<_, Object>("cookies") {
            for (name, v) in cookies.props::<String, Value>().flatten() {
                let (value, replace) = match v.as_object() {
                    Some(o) if !v.is_string() => (
                        o.get::<_, Value>("value").and_then(|x| tag_value(&x))?,
                        o.get::<_, Option<bool>>("replace")
                            .ok()
                            .flatten()
                            .unwrap_or(false),
                    ),
                    _ => (tag_value(&v)?, false),
                };
                request.cookies.push(RequestCookie {
                    name,
                    value,
                    replace,
                });
            }
        }
        let jar: Value = p.get("jar")?;
        if jar.is_null() {
            request.jar = JarChoice::Disabled;
        } else if let Some(id) = jar
            .as_object()
            .and_then(|o| o.get::<_, Option<u32>>("__lgJar").ok().flatten())
            .filter(|id| *id > 0)
        {
            let custom = super::cookies::jar_of(ctx, state, id)?;
            request.jar = JarChoice::Custom(custom);
        }
        if let Ok(Some(rt)) = p.get::<_, Option<String>>("responseType") {
            request.response_type = match rt.as_str() {
                "text" => ResponseType::Text,
                "binary" => ResponseType::Binary,
                "none" => ResponseType::None,
                other => {
                    return Err(throw(
                        ctx,
                        &format!("{other} does not belong to ResponseType values"),
                    ));
                }
            };
        }
        if p.contains_key("responseCallback")? {
            let cb: Value = p.get("responseCallback")?;
            callback = Some(callback_of(ctx, &cb)?);
        }
    }
    if let Some(pos) = user_tags.iter().position(|(k, _)| k == "name") {
        name = Some(user_tags[pos].1.clone());
    }
    if let Some(b) = body.filter(|b| !b.is_null() && !b.is_undefined()) {
        encode_body(ctx, &mut request, &b)?;
    }
    if !request
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
    {
        request
            .headers
            .push(("User-Agent".to_string(), settings.user_agent.clone()));
    }
    Ok(Prepared {
        request,
        user_tags,
        name,
        callback,
        redirects_set,
        base_tags: state.tags(),
    })
}

/// Sets the request body: strings and binary as they are, `http.file()` values make a multipart
/// form, other objects a urlencoded form.
fn encode_body<'js>(ctx: &Ctx<'js>, request: &mut Request, b: &Value<'js>) -> rquickjs::Result<()> {
    if let Some(bytes) = bytes_of(b) {
        request.body = bytes.into();
        return Ok(());
    }
    let Some(obj) = b.as_object() else {
        request.body = tag_value(b)?.into_bytes().into();
        return Ok(());
    };
    let has_header = |r: &Request| {
        r.headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    };
    let mut parts = Vec::new();
    let mut fields = Vec::new();
    let mut multipart = false;
    for prop in obj.props::<String, Value>() {
        let (k, v) = prop?;
        match v
            .as_object()
            .filter(|o| o.contains_key("__lgFile").unwrap_or(false))
        {
            Some(file) => {
                multipart = true;
                let data: Value = file.get("data")?;
                parts.push(MultipartPart {
                    name: k,
                    filename: Some(file.get::<_, String>("filename")?),
                    content_type: Some(file.get::<_, String>("content_type")?),
                    data: bytes_of(&data).unwrap_or_default().into(),
                });
            }
            None if v.is_array() => {
                // k6 sends one `key=value` pair per element: `{topping: ['a', 'b']}` is
                // `topping=a&topping=b` (its examples/html_form_post.js).
                if let Some(items) = v.as_array() {
                    for item in items.iter::<Value>() {
                        fields.push((k.clone(), form_value(&item?)?));
                    }
                }
                parts.push(MultipartPart {
                    name: k,
                    filename: None,
                    content_type: None,
                    data: Vec::new().into(),
                });
            }
            None => {
                let value = form_value(&v)?;
                fields.push((k.clone(), value.clone()));
                parts.push(MultipartPart {
                    name: k,
                    filename: None,
                    content_type: None,
                    data: value.into_bytes().into(),
                });
            }
        }
    }
    let _ = ctx;
    if multipart {
        let (body, content_type) = multipart_form_data(&parts);
        request.body = body;
        if !has_header(request) {
            request
                .headers
                .push(("Content-Type".to_string(), content_type));
        }
    } else {
        request.body = form_urlencode(&fields).into_bytes().into();
        if !has_header(request) {
            request.headers.push((
                "Content-Type".to_string(),
                "application/x-www-form-urlencoded".to_string(),
            ));
        }
    }
    Ok(())
}

/// A form field's value as k6 encodes it: nested objects and arrays (which k6 cannot encode) and
/// null become an empty value, everything else its string form.
fn form_value(v: &Value<'_>) -> rquickjs::Result<String> {
    if v.is_object() && !v.is_function() {
        return Ok(String::new());
    }
    tag_value(v)
}

fn run<'js>(
    ctx: &Ctx<'js>,
    state: &VuState,
    names: &Names,
    prepared: Vec<Prepared>,
) -> rquickjs::Result<Vec<Value<'js>>> {
    if state.interrupted.get() {
        return Err(throw(ctx, "iteration interrupted"));
    }
    state.flush();
    let requests = prepared.iter().map(|p| p.request.clone()).collect();
    let exchanges = match state.suspender.suspend(Suspend::Http(requests)) {
        Resume::Http(ex) => ex,
        Resume::Cancelled => {
            state.interrupted.set(true);
            return Err(throw(ctx, "iteration interrupted"));
        }
        _ => return Err(throw(ctx, "internal error: unexpected resume")),
    };
    let mut out = Vec::with_capacity(exchanges.len());
    for (p, ex) in prepared.into_iter().zip(exchanges) {
        out.push(finish(ctx, state, names, p, ex)?);
    }
    state.flush();
    Ok(out)
}

/// `http.asyncRequest`: the request runs on a task of the worker's runtime while the script
/// goes on; the VU's event loop settles the Promise when the answer is in (k6 runs it on a
/// goroutine and resolves through the event loop). Several in flight run concurrently.
fn start_async<'js>(
    ctx: &Ctx<'js>,
    state: &Rc<VuState>,
    names: &Rc<Names>,
    prepared: Result<Prepared, rquickjs::Error>,
    wrap: Function<'js>,
) -> rquickjs::Result<Promise<'js>> {
    let (promise, resolve, reject) = Promise::new(ctx)?;
    let prepared = match prepared {
        Ok(p) => p,
        Err(e) => {
            match parse_failure(ctx, state, names, e) {
                Ok(response) => resolve.call::<_, ()>((wrap.call::<_, Value>((response,))?,))?,
                Err(rquickjs::Error::Exception) => reject.call::<_, ()>((ctx.catch(),))?,
                Err(e) => return Err(e),
            }
            return Ok(promise);
        }
    };
    if state.interrupted.get() {
        return Err(throw(ctx, "iteration interrupted"));
    }
    let resolve = Persistent::save(ctx, resolve);
    let reject = Persistent::save(ctx, reject);
    let wrap = Persistent::save(ctx, wrap);
    let hub = state.io.clone();
    let hold = hub.hold();
    let scope = hub.scope();
    let http = state.http.clone();
    let id = hub.next_id();
    let request = prepared.request.clone();
    let names = names.clone();
    tokio::task::spawn_local(async move {
        let ex = tokio::select! {
            ex = http.execute(request) => ex,
            _ = scope.cancelled() => return,
        };
        hold.push(
            id,
            Box::new(move |ctx, state| {
                let resolve = resolve.restore(ctx)?;
                let reject = reject.restore(ctx)?;
                let wrap = wrap.restore(ctx)?;
                match finish(ctx, state, &names, prepared, ex) {
                    Ok(response) => resolve.call::<_, ()>((wrap.call::<_, Value>((response,))?,)),
                    Err(rquickjs::Error::Exception) => reject.call::<_, ()>((ctx.catch(),)),
                    Err(e) => Err(e),
                }
            }),
        );
    });
    Ok(promise)
}

/// Emits the samples of one exchange, logs its error and builds its Response object (or
/// throws its error, with the `throw` option).
fn finish<'js>(
    ctx: &Ctx<'js>,
    state: &VuState,
    names: &Names,
    p: Prepared,
    ex: Exchange,
) -> rquickjs::Result<Value<'js>> {
    record(state, &p, &ex);
    if let Some(bodies) = state.settings.borrow().http_debug {
        super::super::log::http_debug(&state.shared, &ex, bodies);
    }
    if ex.redirect_limit_reached && !p.redirects_set {
        tracing::warn!("{}", ex.redirect_warning());
    }
    if let Some(err) = ex.hops.last().and_then(|h| h.error.as_ref()) {
        let detail = err.log_detail(&p.request.method, &p.request.url);
        tracing::warn!(error = %detail, "Request Failed");
        if state.settings.borrow().throw {
            return Err(throw(ctx, &detail));
        }
    }
    response_object(ctx, names, &p, ex)
}

/// Emits the samples of every hop of one exchange, with the tags of the context that made it.
fn record(state: &VuState, p: &Prepared, ex: &Exchange) {
    let base = &p.base_tags;
    let vu_callback = state.response_callback.borrow();
    let callback = match &p.callback {
        Some(cb) => cb.as_ref(),
        None => vu_callback.as_ref(),
    };
    let settings = state.settings.borrow().clone();
    let sys = &settings.network.system_tags;
    for hop in &ex.hops {
        let expected = callback.map(|cb| cb.matches(hop.status));
        let tags = Arc::new(hop_tags(base, p, hop, expected, sys));
        let t = &hop.timings;
        state.emit(builtin::HTTP_REQS, 1.0, tags.clone());
        state.emit(builtin::HTTP_REQ_DURATION, t.duration, tags.clone());
        state.emit(builtin::HTTP_REQ_BLOCKED, t.blocked, tags.clone());
        state.emit(builtin::HTTP_REQ_CONNECTING, t.connecting, tags.clone());
        state.emit(
            builtin::HTTP_REQ_TLS_HANDSHAKING,
            t.tls_handshaking,
            tags.clone(),
        );
        state.emit(builtin::HTTP_REQ_SENDING, t.sending, tags.clone());
        state.emit(builtin::HTTP_REQ_WAITING, t.waiting, tags.clone());
        state.emit(builtin::HTTP_REQ_RECEIVING, t.receiving, tags.clone());
        if let Some(ok) = expected {
            state.emit(builtin::HTTP_REQ_FAILED, if ok { 0.0 } else { 1.0 }, tags);
        }
        state
            .bytes_sent
            .set(state.bytes_sent.get() + hop.bytes_sent);
        state
            .bytes_received
            .set(state.bytes_received.get() + hop.bytes_received);
    }
}

fn hop_tags(
    base: &TagSet,
    p: &Prepared,
    hop: &Hop,
    expected: Option<bool>,
    sys: &SystemTags,
) -> TagSet {
    let mut set = base.clone();
    for (k, v) in &p.user_tags {
        set.insert(k.as_str(), v.as_str());
    }
    let url = p.name.clone().unwrap_or_else(|| hop.url.clone());
    if sys.has("url") {
        set.insert("url", url.clone());
    }
    if sys.has("name") {
        set.insert("name", url);
    }
    if sys.has("method") {
        set.insert("method", hop.method.as_str());
    }
    if sys.has("status") {
        set.insert("status", hop.status.to_string());
    }
    if !hop.proto.is_empty() && sys.has("proto") {
        set.insert("proto", hop.proto);
    }
    if !hop.tls_version.is_empty() && sys.has("tls_version") {
        set.insert("tls_version", hop.tls_version);
    }
    if let (Some(ok), true) = (expected, sys.has("expected_response")) {
        set.insert("expected_response", if ok { "true" } else { "false" });
    }
    if hop.error_code != 0 && sys.has("error_code") {
        set.insert("error_code", hop.error_code.to_string());
    }
    if let (Some(e), true) = (&hop.error, sys.has("error")) {
        set.insert("error", e.to_string());
    }
    if let (Some(ip), true) = (hop.remote_ip, sys.has("ip")) {
        set.insert("ip", ip.to_string());
    }
    set
}

fn response_object<'js>(
    ctx: &Ctx<'js>,
    n: &Names,
    p: &Prepared,
    ex: Exchange,
) -> rquickjs::Result<Value<'js>> {
    let r = ex.response;
    let o = Object::new(ctx.clone())?;
    n.put(ctx, &o, Name::status, r.status)?;
    n.put(ctx, &o, Name::status_text, r.status_text)?;
    n.put(ctx, &o, Name::proto, r.proto)?;
    n.put(ctx, &o, Name::url, r.url)?;
    let headers = Object::new(ctx.clone())?;
    for (k, v) in &r.headers {
        headers.set(k.as_str(), v.as_str())?;
    }
    n.put(ctx, &o, Name::headers, headers)?;
    // k6 reads no body for 1xx, 204 and 304 (RFC 9110: never content): `body` is null.
    let no_content = matches!(r.status, 100..=199 | 204 | 304);
    let body: Value = match (&r.body, p.request.response_type) {
        (None, _) | (_, ResponseType::None) => Value::new_null(ctx.clone()),
        _ if no_content => Value::new_null(ctx.clone()),
        (Some(b), ResponseType::Binary) => array_buffer(ctx, b)?,
        (Some(b), ResponseType::Text) => {
            rquickjs::String::from_str(ctx.clone(), &String::from_utf8_lossy(b))?.into_value()
        }
    };
    n.put(ctx, &o, Name::body, body)?;
    let t = &r.timings;
    let timings = Object::new(ctx.clone())?;
    n.put(ctx, &timings, Name::duration, t.duration)?;
    n.put(ctx, &timings, Name::blocked, t.blocked)?;
    n.put(ctx, &timings, Name::looking_up, t.looking_up)?;
    n.put(ctx, &timings, Name::connecting, t.connecting)?;
    n.put(ctx, &timings, Name::tls_handshaking, t.tls_handshaking)?;
    n.put(ctx, &timings, Name::sending, t.sending)?;
    n.put(ctx, &timings, Name::waiting, t.waiting)?;
    n.put(ctx, &timings, Name::receiving, t.receiving)?;
    n.put(ctx, &o, Name::timings, timings)?;
    n.put(ctx, &o, Name::error, r.error)?;
    n.put(ctx, &o, Name::error_code, r.error_code)?;
    n.put(ctx, &o, Name::remote_ip, r.remote_ip)?;
    n.put(ctx, &o, Name::remote_port, r.remote_port)?;
    n.put(ctx, &o, Name::tls_version, r.tls_version)?;
    n.put(ctx, &o, Name::tls_cipher_suite, r.tls_cipher_suite)?;
    let cookies = Object::new(ctx.clone())?;
    for c in &r.cookies {
        let list: Array = match cookies.get::<_, Option<Array>>(c.name.as_str())? {
            Some(a) => a,
            None => {
                let a = Array::new(ctx.clone())?;
                cookies.set(c.name.as_str(), a.clone())?;
                a
            }
        };
        let co = Object::new(ctx.clone())?;
        n.put(ctx, &co, Name::name, c.name.as_str())?;
        n.put(ctx, &co, Name::value, c.value.as_str())?;
        n.put(ctx, &co, Name::domain, c.domain.as_str())?;
        n.put(ctx, &co, Name::path, c.path.as_str())?;
        n.put(ctx, &co, Name::http_only, c.http_only)?;
        n.put(ctx, &co, Name::secure, c.secure)?;
        n.put(ctx, &co, Name::max_age, c.max_age as f64)?;
        n.put(ctx, &co, Name::expires, c.expires as f64)?;
        list.set(list.len(), co)?;
    }
    n.put(ctx, &o, Name::cookies, cookies)?;
    let rec = &r.request;
    let req = Object::new(ctx.clone())?;
    n.put(ctx, &req, Name::method, rec.method.as_str())?;
    n.put(ctx, &req, Name::url, rec.url.as_str())?;
    let rh = Object::new(ctx.clone())?;
    for (k, vals) in &rec.headers {
        let arr = Array::new(ctx.clone())?;
        for (i, v) in vals.iter().enumerate() {
            arr.set(i, v.as_str())?;
        }
        rh.set(k.as_str(), arr)?;
    }
    n.put(ctx, &req, Name::headers, rh)?;
    n.put(
        ctx,
        &req,
        Name::body,
        String::from_utf8_lossy(&rec.body).into_owned(),
    )?;
    let rc = Object::new(ctx.clone())?;
    for (k, v) in &rec.cookies {
        let arr = Array::new(ctx.clone())?;
        let c = Object::new(ctx.clone())?;
        n.put(ctx, &c, Name::name, k.as_str())?;
        n.put(ctx, &c, Name::value, v.as_str())?;
        n.put(ctx, &c, Name::replace, false)?;
        arr.set(0, c)?;
        rc.set(k.as_str(), arr)?;
    }
    n.put(ctx, &req, Name::cookies, rc)?;
    n.put(ctx, &o, Name::request, req)?;
    Ok(o.into_value())
}
