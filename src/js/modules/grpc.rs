//! Native half of `k6/net/grpc` (shim `grpc.js`): clients with their descriptors
//! ([`crate::grpc::descriptors`]) and connection ([`crate::http::grpc`]), unary calls that
//! block the VU (`invoke`) or settle a Promise through its event loop (`asyncInvoke`), and
//! streams run as tasks on the worker whose events reach `__lgGrpcStreams[id].__event(kind, a)`
//! through the VU's [`IoHub`](crate::js::io::IoHub). Names, defaults, errors and metrics as
//! k6 v1.1's grpc module: `grpc_req_duration` per call (tags `name`, `url`, `service`,
//! `method`, `status`), `grpc_streams`, `grpc_streams_msgs_sent`, `grpc_streams_msgs_received`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use prost::Message as _;
use prost_reflect::{DynamicMessage, MethodDescriptor};
use rquickjs::function::This;
use rquickjs::prelude::Opt;
use rquickjs::{Ctx, Function, Object, Persistent, Promise, Value};
use tokio::sync::mpsc;

use crate::grpc::descriptors::{self, MethodInfo, Methods};
use crate::grpc::reflection::{self, RequestKind, ResponseKind};
use crate::grpc::{Status, code};
use crate::http::grpc::{
    CallOptions, Channel, DEFAULT_MAX_RECEIVE, DEFAULT_MAX_SEND, DialOptions, Metadata, Reply,
    StreamEvent,
};
use crate::js::convert::{bytes_of, duration_of, tag_pairs, tag_value, throw};
use crate::js::io::block_on;
use crate::js::state::{Phase, VuState};
use crate::metrics::{TagSet, builtin};

/// k6's default `invoke` timeout.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(120);
/// k6's default `connect` timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Client {
    methods: Methods,
    channel: Option<Channel>,
    addr: String,
}

type Clients = Rc<RefCell<HashMap<u32, Client>>>;

/// An open stream as the natives see it.
struct OpenStream {
    tx: RefCell<Option<mpsc::UnboundedSender<Bytes>>>,
    method: MethodDescriptor,
    tags: Arc<TagSet>,
}

type Streams = Rc<RefCell<HashMap<u32, Rc<OpenStream>>>>;

/// What `invoke` and `Stream` take as params.
struct CallParams {
    call: CallOptions,
    tags: TagSet,
    discard: bool,
}

pub fn install<'js>(
    ctx: &Ctx<'js>,
    native: &Object<'js>,
    state: &Rc<VuState>,
) -> rquickjs::Result<()> {
    if native.contains_key("grpcClient")? {
        return Ok(());
    }
    let clients: Clients = Rc::default();
    let streams: Streams = Rc::default();
    if !ctx.globals().contains_key("__lgGrpcStreams")? {
        ctx.globals()
            .set("__lgGrpcStreams", Object::new(ctx.clone())?)?;
    }
    let (st, cl) = (state.clone(), clients.clone());
    native.set(
        "grpcClient",
        Function::new(ctx.clone(), move || {
            let id = st.io.next_id();
            cl.borrow_mut().insert(id, Client::default());
            id
        })?,
    )?;
    let (st, cl) = (state.clone(), clients.clone());
    native.set(
        "grpcLoad",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, id: u32, paths: Value<'js>, files: Vec<String>| {
                load(&ctx, &st, &cl, id, &paths, &files)
            },
        )?,
    )?;
    let (st, cl) = (state.clone(), clients.clone());
    native.set(
        "grpcLoadProtoset",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, id: u32, path: String| {
            load_protoset(&ctx, &st, &cl, id, &path)
        })?,
    )?;
    let (st, cl) = (state.clone(), clients.clone());
    native.set(
        "grpcConnect",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, id: u32, addr: String, params: Opt<Value<'js>>| {
                connect(&ctx, &st, &cl, id, addr, params.0)
            },
        )?,
    )?;
    let (st, cl) = (state.clone(), clients.clone());
    native.set(
        "grpcInvoke",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  id: u32,
                  method: String,
                  req: Value<'js>,
                  params: Opt<Value<'js>>| {
                invoke(&ctx, &st, &cl, id, &method, &req, params.0)
            },
        )?,
    )?;
    let (st, cl) = (state.clone(), clients.clone());
    native.set(
        "grpcAsyncInvoke",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  id: u32,
                  method: String,
                  req: Value<'js>,
                  params: Opt<Value<'js>>| {
                async_invoke(&ctx, &st, &cl, id, &method, &req, params.0)
            },
        )?,
    )?;
    let cl = clients.clone();
    native.set(
        "grpcClose",
        Function::new(ctx.clone(), move |id: u32| {
            if let Some(c) = cl.borrow_mut().get_mut(&id) {
                c.channel = None;
            }
        })?,
    )?;
    let (st, cl, sr) = (state.clone(), clients, streams.clone());
    native.set(
        "grpcStreamOpen",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, id: Value<'js>, method: String, params: Opt<Value<'js>>| {
                stream_open(&ctx, &st, &cl, &sr, &id, &method, params.0)
            },
        )?,
    )?;
    let (st, sr) = (state.clone(), streams.clone());
    native.set(
        "grpcStreamWrite",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, id: u32, json: String| {
            stream_write(&ctx, &st, &sr, id, &json)
        })?,
    )?;
    let sr = streams;
    native.set(
        "grpcStreamEnd",
        Function::new(ctx.clone(), move |id: u32| {
            if let Some(s) = sr.borrow().get(&id) {
                s.tx.borrow_mut().take();
            }
        })?,
    )?;
    Ok(())
}

fn in_init(state: &VuState) -> bool {
    state.phase.get() == Phase::Init
}

fn method_infos<'js>(ctx: &Ctx<'js>, infos: &[MethodInfo]) -> rquickjs::Result<Value<'js>> {
    let arr = rquickjs::Array::new(ctx.clone())?;
    for (i, m) in infos.iter().enumerate() {
        let o = Object::new(ctx.clone())?;
        o.set("package", m.package.as_str())?;
        o.set("service", m.service.as_str())?;
        // k6 maps Go field names to snake_case.
        o.set("full_method", m.full_method.as_str())?;
        o.set("name", m.name.as_str())?;
        o.set("is_client_stream", m.client_stream)?;
        o.set("is_server_stream", m.server_stream)?;
        arr.set(i, o)?;
    }
    Ok(arr.into_value())
}

fn load<'js>(
    ctx: &Ctx<'js>,
    state: &Rc<VuState>,
    clients: &Clients,
    id: u32,
    paths: &Value<'js>,
    files: &[String],
) -> rquickjs::Result<Value<'js>> {
    if !in_init(state) {
        return Err(throw(ctx, "load must be called in the init context"));
    }
    let shared = state.shared.clone();
    let main = shared.modules.files.main_name();
    let mut import_paths: Vec<PathBuf> = Vec::new();
    if let Some(list) = paths.as_array() {
        for p in list.iter::<Value>() {
            let p = tag_value(&p?)?;
            let p = p.strip_prefix("file://").unwrap_or(&p).to_string();
            import_paths.push(shared.modules.files.resolve(&main, &p));
        }
    } else if !(paths.is_null() || paths.is_undefined()) {
        return Err(throw(ctx, "importPaths must be an array of strings"));
    }
    if import_paths.is_empty() {
        import_paths.push(shared.modules.files.resolve(&main, "."));
    }
    let reader = shared.clone();
    let read: Rc<descriptors::ReadFile> = Rc::new(move |p: &std::path::Path| {
        reader
            .modules
            .files
            .read_path(p)
            .map(|d| d.to_vec())
            .map_err(|e| e.to_string())
    });
    let set = descriptors::compile(&import_paths, files, read).map_err(|e| throw(ctx, &e))?;
    let mut all = clients.borrow_mut();
    let client = all.entry(id).or_default();
    let infos = client.methods.add(set).map_err(|e| throw(ctx, &e))?;
    method_infos(ctx, &infos)
}

fn load_protoset<'js>(
    ctx: &Ctx<'js>,
    state: &Rc<VuState>,
    clients: &Clients,
    id: u32,
    path: &str,
) -> rquickjs::Result<Value<'js>> {
    if !in_init(state) {
        return Err(throw(ctx, "load must be called in the init context"));
    }
    let files = &state.shared.modules.files;
    let resolved = files.resolve(&files.main_name(), path);
    let bytes = files
        .read_path(&resolved)
        .map_err(|e| throw(ctx, &format!("couldn't open protoset: {e}")))?;
    let set = descriptors::decode_protoset(&bytes, path).map_err(|e| throw(ctx, &e))?;
    let mut all = clients.borrow_mut();
    let client = all.entry(id).or_default();
    let infos = client.methods.add(set).map_err(|e| throw(ctx, &e))?;
    method_infos(ctx, &infos)
}

/// `connect`'s params, checked as k6's `newConnectParams`.
struct ConnectParams {
    plaintext: bool,
    reflect: bool,
    reflect_metadata: Vec<(String, Vec<u8>)>,
    timeout: Duration,
    max_receive: usize,
    max_send: usize,
}

fn go_value(v: &Value<'_>) -> String {
    if let Some(s) = v.as_string() {
        return format!("\"{}\"", s.to_string().unwrap_or_default());
    }
    tag_value(v).unwrap_or_default()
}

fn connect_params<'js>(
    ctx: &Ctx<'js>,
    params: Option<&Value<'js>>,
) -> Result<ConnectParams, String> {
    let mut p = ConnectParams {
        plaintext: false,
        reflect: false,
        reflect_metadata: Vec::new(),
        timeout: CONNECT_TIMEOUT,
        max_receive: 0,
        max_send: 0,
    };
    let Some(obj) = params.and_then(Value::as_object) else {
        return Ok(p);
    };
    for key in obj.keys::<String>() {
        let key = key.map_err(|e| e.to_string())?;
        let v: Value = obj.get(key.as_str()).map_err(|e| e.to_string())?;
        match key.as_str() {
            "plaintext" => {
                p.plaintext = v.as_bool().ok_or_else(|| {
                    format!(
                        "invalid plaintext value: '{}', it needs to be boolean",
                        go_value(&v)
                    )
                })?;
            }
            "reflect" => {
                p.reflect = v.as_bool().ok_or_else(|| {
                    format!(
                        "invalid reflect value: '{}', it needs to be boolean",
                        go_value(&v)
                    )
                })?;
            }
            "timeout" => {
                p.timeout = duration_of(&v).map_err(|e| format!("invalid timeout value: {e}"))?;
            }
            "reflectMetadata" => {
                p.reflect_metadata = metadata_param(ctx, &v)
                    .map_err(|e| format!("invalid reflectMetadata param: {e}"))?;
            }
            "maxReceiveSize" | "maxSendSize" => {
                let n = v
                    .as_int()
                    .map(i64::from)
                    .or_else(|| v.as_float().filter(|f| f.fract() == 0.0).map(|f| f as i64));
                let Some(n) = n else {
                    return Err(format!(
                        "invalid {key} value: '{}', it needs to be an integer",
                        go_value(&v)
                    ));
                };
                if n < 0 {
                    return Err(format!(
                        "invalid {key} value: '{n}, it needs to be a positive integer"
                    ));
                }
                if key == "maxReceiveSize" {
                    p.max_receive = n as usize;
                } else {
                    p.max_send = n as usize;
                }
            }
            "tls" => {
                return Err(
                    "the `tls` connect parameter (client certificates, CA certificates) is not \
                     implemented by loadgate; use the test's tlsAuth/insecureSkipTLSVerify options"
                        .to_string(),
                );
            }
            other => return Err(format!("unknown connect param: \"{other}\"")),
        }
    }
    Ok(p)
}

/// Metadata as k6's `newMetadata` reads it: string values, ArrayBuffers for `-bin` keys.
fn metadata_param<'js>(_ctx: &Ctx<'js>, v: &Value<'js>) -> Result<Vec<(String, Vec<u8>)>, String> {
    if v.is_null() || v.is_undefined() {
        return Ok(Vec::new());
    }
    let Some(obj) = v.as_object().filter(|o| !o.is_array()) else {
        return Err("must be an object with key-value pairs".to_string());
    };
    let mut out = Vec::new();
    for prop in obj.props::<String, Value>() {
        let (k, val) = prop.map_err(|e| e.to_string())?;
        if k.ends_with("-bin") {
            let bytes = (!val.is_string())
                .then(|| bytes_of(&val))
                .flatten()
                .ok_or_else(|| format!("\"{k}\" value must be binary"))?;
            out.push((k, bytes));
        } else {
            let s = val
                .as_string()
                .and_then(|s| s.to_string().ok())
                .ok_or_else(|| format!("\"{k}\" value must be a string"))?;
            out.push((k, s.into_bytes()));
        }
    }
    Ok(out)
}

fn connect<'js>(
    ctx: &Ctx<'js>,
    state: &Rc<VuState>,
    clients: &Clients,
    id: u32,
    addr: String,
    params: Option<Value<'js>>,
) -> rquickjs::Result<bool> {
    if in_init(state) {
        return Err(throw(
            ctx,
            "connecting to a gRPC server in the init context is not supported",
        ));
    }
    let p = connect_params(ctx, params.as_ref())
        .map_err(|e| throw(ctx, &format!("invalid grpc.connect() parameters: {e}")))?;
    let settings = state.settings.borrow().clone();
    let opts = DialOptions {
        plaintext: p.plaintext,
        timeout: p.timeout,
        max_receive: if p.max_receive > 0 {
            p.max_receive
        } else {
            DEFAULT_MAX_RECEIVE
        },
        max_send: if p.max_send > 0 {
            p.max_send
        } else {
            DEFAULT_MAX_SEND
        },
        user_agent: settings.user_agent.clone(),
        client: crate::js::vu::client_config(&settings, state.ids),
    };
    let dial_addr = addr.clone();
    let channel = block_on(ctx, state, async move {
        crate::http::grpc::dial(&dial_addr, &opts).await
    })?
    .map_err(|e| throw(ctx, &e))?;
    if p.reflect {
        // k6 emits no grpc_req_duration for the reflection call.
        let ch = channel.clone();
        let md = p.reflect_metadata.clone();
        let timeout = p.timeout;
        let result = block_on(ctx, state, async move { reflect(&ch, md, timeout).await })?;
        take_bytes(state, &channel);
        let set = result.map_err(|(_, e)| throw(ctx, &e))?;
        let mut all = clients.borrow_mut();
        let client = all.entry(id).or_default();
        client
            .methods
            .add(set)
            .map_err(|e| throw(ctx, &format!("can't convert method info: {e}")))?;
    }
    let mut all = clients.borrow_mut();
    let client = all.entry(id).or_default();
    client.channel = Some(channel);
    client.addr = addr;
    Ok(true)
}

/// Collects every file of every service the server lists (v1, then v1alpha), as k6's
/// grpcext.Reflect. The error carries the status code of the call that failed.
async fn reflect(
    ch: &Channel,
    metadata: Vec<(String, Vec<u8>)>,
    timeout: Duration,
) -> Result<prost_types::FileDescriptorSet, (u32, String)> {
    let opts = CallOptions {
        metadata,
        timeout: Some(timeout),
    };
    let mut method = reflection::V1;
    let ask = |method: &'static str, kind: RequestKind| {
        let opts = opts.clone();
        async move {
            let msg = reflection::request(kind).encode_to_vec();
            let reply = ch.unary(method, Bytes::from(msg), &opts).await;
            if !reply.status.is_ok() {
                return Err(reply.status);
            }
            let bytes = reply.message.unwrap_or_default();
            reflection::ServerReflectionResponse::decode(bytes)
                .map_err(|e| Status::new(code::INTERNAL, e.to_string()))
        }
    };
    let listed = match ask(method, RequestKind::ListServices(String::new())).await {
        Ok(r) => r,
        Err(s) if s.code == code::UNIMPLEMENTED => {
            method = reflection::V1ALPHA;
            ask(method, RequestKind::ListServices(String::new()))
                .await
                .map_err(|s| (s.code, format!("can't list services: {}", s.go_error())))?
        }
        Err(s) => return Err((s.code, format!("can't list services: {}", s.go_error()))),
    };
    let services: Vec<String> = match listed.message_response {
        Some(ResponseKind::ListServicesResponse(l)) => {
            l.service.into_iter().map(|s| s.name).collect()
        }
        _ => {
            return Err((
                code::INTERNAL,
                "can't list services: unexpected answer".into(),
            ));
        }
    };
    let mut seen = std::collections::HashSet::new();
    let mut files = Vec::new();
    let mut wanted: Vec<RequestKind> = services
        .iter()
        .map(|s| RequestKind::FileContainingSymbol(s.clone()))
        .collect();
    while let Some(kind) = wanted.pop() {
        let what = match &kind {
            RequestKind::FileContainingSymbol(s) | RequestKind::FileByFilename(s) => s.clone(),
            _ => String::new(),
        };
        let answer = ask(method, kind).await.map_err(|s| {
            (
                s.code,
                format!("can't get method on service \"{what}\": {}", s.go_error()),
            )
        })?;
        let protos = match answer.message_response {
            Some(ResponseKind::FileDescriptorResponse(f)) => f.file_descriptor_proto,
            Some(ResponseKind::ErrorResponse(e)) => {
                return Err((
                    code::NOT_FOUND,
                    format!(
                        "can't get method on service \"{what}\": {}",
                        e.error_message
                    ),
                ));
            }
            _ => Vec::new(),
        };
        for raw in protos {
            let fd = prost_types::FileDescriptorProto::decode(raw.as_slice())
                .map_err(|e| (code::INTERNAL, e.to_string()))?;
            let name = fd.name.clone().unwrap_or_default();
            if !seen.insert(name) {
                continue;
            }
            for dep in &fd.dependency {
                if !seen.contains(dep) {
                    wanted.push(RequestKind::FileByFilename(dep.clone()));
                }
            }
            files.push(fd);
        }
    }
    // Dependencies first, as a pool wants them.
    let mut ordered: Vec<prost_types::FileDescriptorProto> = Vec::new();
    let mut placed = std::collections::HashSet::new();
    while !files.is_empty() {
        let before = files.len();
        files.retain(|f| {
            let ready = f
                .dependency
                .iter()
                .all(|d| placed.contains(d) || !seen.contains(d));
            if ready {
                placed.insert(f.name.clone().unwrap_or_default());
                ordered.push(f.clone());
            }
            !ready
        });
        if files.len() == before {
            ordered.append(&mut files);
        }
    }
    Ok(prost_types::FileDescriptorSet { file: ordered })
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn take_bytes(state: &VuState, ch: &Channel) {
    let (sent, received) = ch.counters.take();
    state.bytes_sent.set(state.bytes_sent.get() + sent);
    state
        .bytes_received
        .set(state.bytes_received.get() + received);
}

fn call_params<'js>(
    ctx: &Ctx<'js>,
    state: &VuState,
    params: Option<&Value<'js>>,
) -> Result<CallParams, String> {
    let mut tags = TagSet::new();
    tags.extend_from(&state.tags());
    let mut p = CallParams {
        call: CallOptions::default(),
        tags,
        discard: false,
    };
    let Some(obj) = params.filter(|v| !v.is_null() && !v.is_undefined()) else {
        return Ok(p);
    };
    let Some(obj) = obj.as_object() else {
        return Ok(p);
    };
    for key in obj.keys::<String>() {
        let key = key.map_err(|e| e.to_string())?;
        let v: Value = obj.get(key.as_str()).map_err(|e| e.to_string())?;
        match key.as_str() {
            "metadata" => {
                p.call.metadata =
                    metadata_param(ctx, &v).map_err(|e| format!("invalid metadata param: {e}"))?;
            }
            "tags" => {
                if let Some(t) = v.as_object() {
                    for (k, val) in tag_pairs(t).map_err(|e| e.to_string())? {
                        p.tags.insert(k, val);
                    }
                } else if !(v.is_null() || v.is_undefined()) {
                    return Err("metric tags: invalid tags object".to_string());
                }
            }
            "timeout" => {
                let d = duration_of(&v).map_err(|e| format!("invalid timeout value: {e}"))?;
                p.call.timeout = (!d.is_zero()).then_some(d);
            }
            "discardResponseMessage" => p.discard = v.as_bool().unwrap_or(false),
            other => return Err(format!("unknown param: \"{other}\"")),
        }
    }
    Ok(p)
}

/// The system tags of a call, as k6's `SetSystemTags`.
fn system_tags(state: &VuState, tags: &mut TagSet, addr: &str, method: &str) {
    let settings = state.settings.borrow().clone();
    let sys = &settings.network.system_tags;
    if sys.has("url") {
        tags.insert("url", format!("{addr}{method}"));
    }
    let mut parts = method.trim_start_matches('/').splitn(2, '/');
    let service = parts.next().unwrap_or("");
    let name = parts.next().unwrap_or("");
    if sys.has("service") {
        tags.insert("service", service);
    }
    if sys.has("method") {
        tags.insert("method", name);
    }
    if tags.get("name").is_none() && sys.has("name") {
        tags.insert("name", method);
    }
}

/// A call ready to go.
struct Prepared {
    channel: Channel,
    method: String,
    descriptor: MethodDescriptor,
    message: Bytes,
    params: CallParams,
}

fn prepare<'js>(
    ctx: &Ctx<'js>,
    state: &VuState,
    clients: &Clients,
    id: u32,
    method: &str,
    req: &Value<'js>,
    params: Option<&Value<'js>>,
) -> rquickjs::Result<Prepared> {
    if in_init(state) {
        return Err(throw(
            ctx,
            "invoking RPC methods in the init context is not supported",
        ));
    }
    let all = clients.borrow();
    let client = all.get(&id);
    let Some((channel, addr)) =
        client.and_then(|c| c.channel.clone().map(|ch| (ch, c.addr.clone())))
    else {
        return Err(throw(
            ctx,
            "no gRPC connection, you must call connect first",
        ));
    };
    if method.is_empty() {
        return Err(throw(ctx, "method to invoke cannot be empty"));
    }
    let method = if method.starts_with('/') {
        method.to_string()
    } else {
        format!("/{method}")
    };
    let Some(descriptor) = client.and_then(|c| c.methods.get(&method)) else {
        return Err(throw(
            ctx,
            &format!("method \"{method}\" not found in file descriptors"),
        ));
    };
    let mut params = call_params(ctx, state, params).map_err(|e| {
        throw(
            ctx,
            &format!("invalid GRPC's client.invoke() parameters: {e}"),
        )
    })?;
    if params.call.timeout.is_none() {
        params.call.timeout = Some(INVOKE_TIMEOUT);
    }
    if req.is_null() || req.is_undefined() {
        return Err(throw(ctx, "request cannot be nil"));
    }
    let json = ctx
        .json_stringify(req.clone())?
        .map(|s| s.to_string())
        .transpose()?
        .unwrap_or_default();
    let msg = descriptors::message_from_json(descriptor.input(), &json).map_err(|e| {
        throw(
            ctx,
            &format!("unable to serialise request object to protocol buffer: {e}"),
        )
    })?;
    system_tags(state, &mut params.tags, &addr, &method);
    Ok(Prepared {
        channel,
        method,
        descriptor,
        message: Bytes::from(msg.encode_to_vec()),
        params,
    })
}

fn invoke<'js>(
    ctx: &Ctx<'js>,
    state: &Rc<VuState>,
    clients: &Clients,
    id: u32,
    method: &str,
    req: &Value<'js>,
    params: Option<Value<'js>>,
) -> rquickjs::Result<Value<'js>> {
    let p = prepare(ctx, state, clients, id, method, req, params.as_ref())?;
    let started = Instant::now();
    let (channel, method, message, call) = (
        p.channel.clone(),
        p.method.clone(),
        p.message.clone(),
        p.params.call.clone(),
    );
    let reply = block_on(ctx, state, async move {
        channel.unary(&method, message, &call).await
    })?;
    finish(ctx, state, p, started, reply)
}

fn async_invoke<'js>(
    ctx: &Ctx<'js>,
    state: &Rc<VuState>,
    clients: &Clients,
    id: u32,
    method: &str,
    req: &Value<'js>,
    params: Option<Value<'js>>,
) -> rquickjs::Result<Promise<'js>> {
    let (promise, resolve, reject) = Promise::new(ctx)?;
    let p = match prepare(ctx, state, clients, id, method, req, params.as_ref()) {
        Ok(p) => p,
        Err(rquickjs::Error::Exception) => {
            reject.call::<_, ()>((ctx.catch(),))?;
            return Ok(promise);
        }
        Err(e) => return Err(e),
    };
    let resolve = Persistent::save(ctx, resolve);
    let reject = Persistent::save(ctx, reject);
    let hub = state.io.clone();
    let hold = hub.hold();
    let scope = hub.scope();
    let source = hub.next_id();
    tokio::task::spawn_local(async move {
        let started = Instant::now();
        let reply = tokio::select! {
            r = p.channel.unary(&p.method, p.message.clone(), &p.params.call) => r,
            _ = scope.cancelled() => return,
        };
        hold.push(
            source,
            Box::new(move |ctx, state| {
                let resolve = resolve.restore(ctx)?;
                let reject = reject.restore(ctx)?;
                match finish(ctx, state, p, started, reply) {
                    Ok(v) => resolve.call::<_, ()>((v,)),
                    Err(rquickjs::Error::Exception) => reject.call::<_, ()>((ctx.catch(),)),
                    Err(e) => Err(e),
                }
            }),
        );
    });
    Ok(promise)
}

fn metadata_object<'js>(ctx: &Ctx<'js>, md: &Metadata) -> rquickjs::Result<Object<'js>> {
    let o = Object::new(ctx.clone())?;
    for (k, vs) in md {
        let arr = rquickjs::Array::new(ctx.clone())?;
        for (i, v) in vs.iter().enumerate() {
            arr.set(i, v.as_str())?;
        }
        o.set(k.as_str(), arr)?;
    }
    Ok(o)
}

fn json_value<'js>(ctx: &Ctx<'js>, json: &str) -> rquickjs::Result<Value<'js>> {
    ctx.json_parse(json.to_string())
}

/// Emits the call's `grpc_req_duration` and builds k6's response object.
fn finish<'js>(
    ctx: &Ctx<'js>,
    state: &VuState,
    p: Prepared,
    started: Instant,
    reply: Reply,
) -> rquickjs::Result<Value<'js>> {
    take_bytes(state, &p.channel);
    let mut tags = p.params.tags;
    if state.settings.borrow().network.system_tags.has("status") {
        tags.insert("status", reply.status.code.to_string());
    }
    state.emit(
        builtin::GRPC_REQ_DURATION,
        ms_since(started),
        Arc::new(tags),
    );
    let out = Object::new(ctx.clone())?;
    let message = if p.params.discard {
        Value::new_null(ctx.clone())
    } else {
        let msg = match &reply.message {
            Some(bytes) => {
                DynamicMessage::decode(p.descriptor.output(), bytes.clone()).map_err(|e| {
                    throw(
                        ctx,
                        &format!("unable to convert response object to JSON: {e}"),
                    )
                })?
            }
            None => DynamicMessage::new(p.descriptor.output()),
        };
        let json = descriptors::message_to_json(&msg, true).map_err(|e| {
            throw(
                ctx,
                &format!("unable to convert response object to JSON: {e}"),
            )
        })?;
        json_value(ctx, &json)?
    };
    out.set("message", message)?;
    out.set("headers", metadata_object(ctx, &reply.headers)?)?;
    out.set("trailers", metadata_object(ctx, &reply.trailers)?)?;
    out.set("status", reply.status.code)?;
    if reply.status.is_ok() {
        out.set("error", Value::new_null(ctx.clone()))?;
    } else {
        out.set("error", error_object(ctx, &reply.status)?)?;
    }
    Ok(out.into_value())
}

/// The status as protojson writes `google.rpc.Status` (k6's `response.error`).
fn error_object<'js>(ctx: &Ctx<'js>, status: &Status) -> rquickjs::Result<Value<'js>> {
    let o = Object::new(ctx.clone())?;
    o.set("code", status.code)?;
    o.set("message", status.message.as_str())?;
    o.set("details", rquickjs::Array::new(ctx.clone())?)?;
    Ok(o.into_value())
}

fn stream_open<'js>(
    ctx: &Ctx<'js>,
    state: &Rc<VuState>,
    clients: &Clients,
    streams: &Streams,
    client: &Value<'js>,
    method: &str,
    params: Option<Value<'js>>,
) -> rquickjs::Result<u32> {
    let id: Option<u32> = client
        .as_object()
        .and_then(|o| o.get::<_, Option<u32>>("__lgGrpcClient").ok().flatten());
    let all = clients.borrow();
    let Some(c) = id.and_then(|id| all.get(&id)) else {
        return Err(throw(
            ctx,
            "invalid GRPC Stream's client: not a gRPC client",
        ));
    };
    let Some(channel) = c.channel.clone() else {
        return Err(throw(
            ctx,
            "invalid GRPC Stream's client: no gRPC connection, you must call connect first",
        ));
    };
    let method = if method.starts_with('/') {
        method.to_string()
    } else {
        format!("/{method}")
    };
    let Some(descriptor) = c.methods.get(&method) else {
        return Err(throw(
            ctx,
            &format!(
                "invalid GRPC Stream's method: method \"{method}\" not found in file descriptors"
            ),
        ));
    };
    let mut p = call_params(ctx, state, params.as_ref())
        .map_err(|e| throw(ctx, &format!("invalid GRPC Stream's parameters: {e}")))?;
    system_tags(state, &mut p.tags, &c.addr, &method);
    drop(all);
    let tags = Arc::new(p.tags);
    let sid = state.io.next_id();
    let (tx, rx) = mpsc::unbounded_channel();
    let open = Rc::new(OpenStream {
        tx: RefCell::new(Some(tx)),
        method: descriptor.clone(),
        tags: tags.clone(),
    });
    streams.borrow_mut().insert(sid, open);
    state.emit(builtin::GRPC_STREAMS, 1.0, tags.clone());
    let hub = state.io.clone();
    let hold = Rc::new(hub.hold());
    let scope = hub.scope();
    let streams = streams.clone();
    let call = p.call;
    let discard = p.discard;
    tokio::task::spawn_local(async move {
        let started = Instant::now();
        let queue = hold.clone();
        let output = descriptor.output();
        let ch = channel.clone();
        let run = ch.stream(&method, &call, rx, move |event| {
            let output = output.clone();
            let tags = tags.clone();
            let channel = channel.clone();
            queue.push(
                sid,
                Box::new(move |ctx, state| {
                    take_bytes(state, &channel);
                    match event {
                        StreamEvent::Message(bytes) => {
                            state.emit(builtin::GRPC_STREAMS_MSGS_RECEIVED, 1.0, tags.clone());
                            let value = if discard {
                                Object::new(ctx.clone())?.into_value()
                            } else {
                                let msg = DynamicMessage::decode(output, bytes)
                                    .map_err(|e| throw(ctx, &e.to_string()))?;
                                let json = descriptors::message_to_json(&msg, false)
                                    .map_err(|e| throw(ctx, &e))?;
                                json_value(ctx, &json)?
                            };
                            dispatch(ctx, sid, "data", value)
                        }
                        StreamEvent::End(status, _) => {
                            let mut t = (*tags).clone();
                            if state.settings.borrow().network.system_tags.has("status") {
                                t.insert("status", status.code.to_string());
                            }
                            state.emit(builtin::GRPC_REQ_DURATION, ms_since(started), Arc::new(t));
                            if !status.is_ok() && status.code != code::CANCELED {
                                let err = error_object(ctx, &status)?;
                                dispatch(ctx, sid, "error", err)?;
                            }
                            dispatch(ctx, sid, "end", Value::new_undefined(ctx.clone()))
                        }
                    }
                }),
            );
        });
        tokio::select! {
            () = run => {}
            _ = scope.cancelled() => {}
        }
        streams.borrow_mut().remove(&sid);
    });
    Ok(sid)
}

fn stream_write<'js>(
    ctx: &Ctx<'js>,
    state: &VuState,
    streams: &Streams,
    id: u32,
    json: &str,
) -> rquickjs::Result<()> {
    let Some(s) = streams.borrow().get(&id).cloned() else {
        return Ok(());
    };
    let msg = match descriptors::message_from_json(s.method.input(), json) {
        Ok(m) => m,
        Err(e) => {
            // k6 fails the stream: its error listeners get the error, then `end`.
            s.tx.borrow_mut().take();
            let status = Status::new(
                code::UNKNOWN,
                format!("can't serialise request object to protocol buffer: {e}"),
            );
            let err = error_object(ctx, &status)?;
            return dispatch(ctx, id, "error", err);
        }
    };
    let sent =
        s.tx.borrow()
            .as_ref()
            .is_some_and(|tx| tx.send(Bytes::from(msg.encode_to_vec())).is_ok());
    if sent {
        state.emit(builtin::GRPC_STREAMS_MSGS_SENT, 1.0, s.tags.clone());
    }
    Ok(())
}

/// Calls `__lgGrpcStreams[id].__event(kind, value)`.
fn dispatch<'js>(ctx: &Ctx<'js>, id: u32, kind: &str, value: Value<'js>) -> rquickjs::Result<()> {
    let streams: Object = ctx.globals().get("__lgGrpcStreams")?;
    let Some(obj) = streams.get::<_, Option<Object>>(id)? else {
        return Ok(());
    };
    let f: Function = obj.get("__event")?;
    f.call::<_, ()>((This(obj), kind, value))
}
