//! The target's gRPC services (h2c on the plain port, h2 on the TLS one): `main.FeatureExplorer`
//! and `main.RouteGuide` from `route_guide.proto`, plus server reflection (v1 and v1alpha).
//! Messages are dynamic (prost-reflect over the proto compiled at start). Behaviour for tests:
//!
//! - `GetFeature(Point)`: the feature at the point, or one without a name.
//! - `ListFeatures(Rectangle)`: every feature inside the rectangle.
//! - `RecordRoute(stream Point)`: a summary (points, features among them, distance in metres).
//! - `RouteChat(stream RouteNote)`: each note back.
//! - Request metadata `x-status: N` (and `x-message`) ends any call with that status; with
//!   `x-abort-after: N` a server stream sends N messages and then ends with `ABORTED`.
//! - Every answer carries the header `x-served-by: loadgate` and the trailer `x-trailer: done`;
//!   `x-echo` request metadata comes back as a header.
//!
//! Any other service is 404 (clients report `Unimplemented`); an unknown method of these
//! services ends with `UNIMPLEMENTED`.

use std::convert::Infallible;
use std::sync::OnceLock;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, Value};
use tokio::sync::mpsc;

use crate::grpc::{code, reflection, wire};

/// The services' definition (a copy for scripts is in the conformance fixtures).
pub const PROTO: &str = include_str!("route_guide.proto");

/// Largest message the server reads.
const MAX_MESSAGE: usize = 4 * 1024 * 1024;

/// The features the services know: name, latitude, longitude (E7).
const FEATURES: [(&str, i32, i32); 6] = [
    (
        "Patriots Path, Mendham, NJ 07945, USA",
        407_838_351,
        -746_143_763,
    ),
    (
        "101 New Jersey 10, Whippany, NJ 07981, USA",
        408_122_808,
        -743_999_179,
    ),
    ("U.S. 6, Shohola, PA 18458, USA", 413_628_156, -749_015_468),
    (
        "5 Conners Road, Kingston, NY 12401, USA",
        419_999_544,
        -740_371_136,
    ),
    (
        "Berkshire Valley Management Area Trail, Jefferson, NJ, USA",
        410_248_224,
        -747_127_767,
    ),
    (
        "3 Hasta Way, Newton, NJ 07860, USA",
        410_873_075,
        -744_459_023,
    ),
];

struct Services {
    pool: DescriptorPool,
    advertised: Vec<String>,
}

fn services() -> Option<&'static Services> {
    static CELL: OnceLock<Option<Services>> = OnceLock::new();
    CELL.get_or_init(|| {
        let read: std::rc::Rc<crate::grpc::descriptors::ReadFile> =
            std::rc::Rc::new(|_p: &std::path::Path| Ok(PROTO.as_bytes().to_vec()));
        let set = crate::grpc::descriptors::compile(
            &[std::path::PathBuf::from("/")],
            &["route_guide.proto".to_string()],
            read,
        )
        .ok()?;
        let pool = DescriptorPool::from_file_descriptor_set(set).ok()?;
        Some(Services {
            pool,
            // Reflection itself is not listed: the pool has no descriptor for it, and a
            // client resolves every listed service.
            advertised: vec!["main.FeatureExplorer".into(), "main.RouteGuide".into()],
        })
    })
    .as_ref()
}

type Tx = mpsc::UnboundedSender<Result<Frame<Bytes>, Infallible>>;

/// The end of a call: status and message.
struct End(u32, String);

impl End {
    fn ok() -> Self {
        End(code::OK, String::new())
    }
}

/// Handles one gRPC request (the router sends the four service prefixes here).
pub(super) async fn handle(req: Request) -> Response {
    let Some(svc) = services() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let (parts, body) = req.into_parts();
    let is_grpc = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"));
    if !is_grpc {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "gRPC only\n").into_response();
    }
    let path = parts.uri.path().to_string();
    let headers = parts.headers;
    let echo = headers.get("x-echo").cloned();
    let (tx, rx) = mpsc::unbounded_channel();
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|f| (f, rx)) });
    tokio::spawn(async move {
        let incoming = Incoming::new(body);
        let end = serve_call(svc, &path, &headers, incoming, &tx).await;
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", HeaderValue::from(end.0));
        if !end.1.is_empty()
            && let Ok(v) = HeaderValue::from_str(&wire::encode_message(&end.1))
        {
            trailers.insert("grpc-message", v);
        }
        trailers.insert("x-trailer", HeaderValue::from_static("done"));
        let _ = tx.send(Ok(Frame::trailers(trailers)));
    });
    let mut res = Response::new(Body::new(StreamBody::new(stream)));
    let h = res.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/grpc"));
    h.insert("x-served-by", HeaderValue::from_static("loadgate"));
    if let Some(v) = echo {
        h.insert("x-echo", v);
    }
    res
}

/// The request's messages, as they arrive.
struct Incoming {
    body: Body,
    decoder: wire::Decoder,
    done: bool,
}

impl Incoming {
    fn new(body: Body) -> Self {
        Incoming {
            body,
            decoder: wire::Decoder::default(),
            done: false,
        }
    }

    /// The next message; `Ok(None)` when the client half-closed.
    async fn next(&mut self) -> Result<Option<Bytes>, End> {
        loop {
            match self.decoder.next_message(MAX_MESSAGE) {
                Ok(Some(m)) => return Ok(Some(m)),
                Ok(None) if self.done => return Ok(None),
                Ok(None) => {}
                Err(e) => return Err(End(code::RESOURCE_EXHAUSTED, e.to_string())),
            }
            match self.body.frame().await {
                None => self.done = true,
                Some(Err(e)) => return Err(End(code::CANCELED, e.to_string())),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.decoder.push(&data);
                    }
                }
            }
        }
    }
}

fn send(tx: &Tx, msg: &impl prost::Message) {
    let _ = tx.send(Ok(Frame::data(wire::frame(&msg.encode_to_vec()))));
}

fn decode(desc: &MessageDescriptor, bytes: Bytes) -> Result<DynamicMessage, End> {
    DynamicMessage::decode(desc.clone(), bytes).map_err(|e| {
        End(
            code::INTERNAL,
            format!("grpc: error unmarshalling request: {e}"),
        )
    })
}

fn int_field(msg: &DynamicMessage, name: &str) -> i32 {
    msg.get_field_by_name(name)
        .and_then(|v| v.as_i32())
        .unwrap_or(0)
}

fn point_of(msg: Option<&DynamicMessage>) -> (i32, i32) {
    msg.map(|m| (int_field(m, "latitude"), int_field(m, "longitude")))
        .unwrap_or((0, 0))
}

fn message_field(msg: &DynamicMessage, name: &str) -> Option<DynamicMessage> {
    match msg.get_field_by_name(name)?.as_ref() {
        Value::Message(m) => Some(m.clone()),
        _ => None,
    }
}

fn point(pool: &DescriptorPool, lat: i32, lng: i32) -> Option<DynamicMessage> {
    let mut p = DynamicMessage::new(pool.get_message_by_name("main.Point")?);
    p.set_field_by_name("latitude", Value::I32(lat));
    p.set_field_by_name("longitude", Value::I32(lng));
    Some(p)
}

fn feature(pool: &DescriptorPool, name: &str, lat: i32, lng: i32) -> Option<DynamicMessage> {
    let mut f = DynamicMessage::new(pool.get_message_by_name("main.Feature")?);
    f.set_field_by_name("name", Value::String(name.to_string()));
    f.set_field_by_name("location", Value::Message(point(pool, lat, lng)?));
    Some(f)
}

fn metadata_u32(h: &HeaderMap, name: &str) -> Option<u32> {
    h.get(name)?.to_str().ok()?.trim().parse().ok()
}

async fn serve_call(
    svc: &Services,
    path: &str,
    headers: &HeaderMap,
    mut incoming: Incoming,
    tx: &Tx,
) -> End {
    let pool = &svc.pool;
    if let Some(code) = metadata_u32(headers, "x-status") {
        let message = headers
            .get("x-message")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        return End(code, message);
    }
    let abort_after = metadata_u32(headers, "x-abort-after");
    let Some(input) = pool
        .services()
        .find_map(|s| {
            s.methods()
                .find(|m| format!("/{}/{}", s.full_name(), m.name()) == path)
        })
        .map(|m| m.input())
        .or_else(|| {
            (path == reflection::V1 || path == reflection::V1ALPHA)
                .then(|| pool.get_message_by_name("main.Point"))
                .flatten()
        })
    else {
        let method = path.rsplit('/').next().unwrap_or("");
        let service = path.trim_start_matches('/').split('/').next().unwrap_or("");
        return End(
            code::UNIMPLEMENTED,
            format!("unknown method {method} for service {service}"),
        );
    };
    let result: Result<End, End> = async {
        match path {
            "/main.FeatureExplorer/GetFeature" => {
                let Some(req) = incoming.next().await? else {
                    return Ok(End(code::INTERNAL, "grpc: no request message".into()));
                };
                let req = decode(&input, req)?;
                let (lat, lng) = point_of(Some(&req));
                let name = FEATURES
                    .iter()
                    .find(|f| f.1 == lat && f.2 == lng)
                    .map_or("", |f| f.0);
                if let Some(f) = feature(pool, name, lat, lng) {
                    send(tx, &f);
                }
                Ok(End::ok())
            }
            "/main.FeatureExplorer/ListFeatures" => {
                let Some(req) = incoming.next().await? else {
                    return Ok(End(code::INTERNAL, "grpc: no request message".into()));
                };
                let req = decode(&input, req)?;
                let lo = point_of(message_field(&req, "lo").as_ref());
                let hi = point_of(message_field(&req, "hi").as_ref());
                let (lat0, lat1) = (lo.0.min(hi.0), lo.0.max(hi.0));
                let (lng0, lng1) = (lo.1.min(hi.1), lo.1.max(hi.1));
                let mut sent = 0;
                for (name, lat, lng) in FEATURES {
                    if (lat0..=lat1).contains(&lat) && (lng0..=lng1).contains(&lng) {
                        if abort_after == Some(sent) {
                            return Ok(End(code::ABORTED, "aborted by the server".into()));
                        }
                        if let Some(f) = feature(pool, name, lat, lng) {
                            send(tx, &f);
                        }
                        sent += 1;
                    }
                }
                if abort_after.is_some() {
                    return Ok(End(code::ABORTED, "aborted by the server".into()));
                }
                Ok(End::ok())
            }
            "/main.RouteGuide/RecordRoute" => {
                let started = std::time::Instant::now();
                let (mut points, mut features, mut distance) = (0i32, 0i32, 0f64);
                let mut last: Option<(i32, i32)> = None;
                while let Some(m) = incoming.next().await? {
                    let p = point_of(Some(&decode(&input, m)?));
                    points += 1;
                    if FEATURES.iter().any(|f| f.1 == p.0 && f.2 == p.1) {
                        features += 1;
                    }
                    if let Some(prev) = last {
                        distance += metres(prev, p);
                    }
                    last = Some(p);
                }
                let Some(desc) = pool.get_message_by_name("main.RouteSummary") else {
                    return Ok(End(code::INTERNAL, "no summary type".into()));
                };
                let mut s = DynamicMessage::new(desc);
                s.set_field_by_name("point_count", Value::I32(points));
                s.set_field_by_name("feature_count", Value::I32(features));
                s.set_field_by_name("distance", Value::I32(distance as i32));
                s.set_field_by_name(
                    "elapsed_time",
                    Value::I32(started.elapsed().as_secs() as i32),
                );
                send(tx, &s);
                Ok(End::ok())
            }
            "/main.RouteGuide/RouteChat" => {
                let mut sent = 0;
                while let Some(m) = incoming.next().await? {
                    if abort_after == Some(sent) {
                        return Ok(End(code::ABORTED, "aborted by the server".into()));
                    }
                    let note = decode(&input, m)?;
                    send(tx, &note);
                    sent += 1;
                }
                Ok(End::ok())
            }
            reflection::V1 | reflection::V1ALPHA => {
                while let Some(m) = incoming.next().await? {
                    let req = reflection::ServerReflectionRequest::decode(m).map_err(|e| {
                        End(
                            code::INTERNAL,
                            format!("grpc: error unmarshalling request: {e}"),
                        )
                    })?;
                    send(tx, &reflection::answer(pool, &svc.advertised, req));
                }
                Ok(End::ok())
            }
            _ => Ok(End(
                code::UNIMPLEMENTED,
                format!("method {path} not implemented"),
            )),
        }
    }
    .await;
    match result {
        Ok(end) | Err(end) => end,
    }
}

/// Distance between two E7 points in metres (haversine, as the route guide example).
fn metres(a: (i32, i32), b: (i32, i32)) -> f64 {
    const R: f64 = 6_371_000.0;
    let rad = |v: i32| f64::from(v) / 1e7 * std::f64::consts::PI / 180.0;
    let (lat1, lat2) = (rad(a.0), rad(b.0));
    let dlat = lat2 - lat1;
    let dlng = rad(b.1) - rad(a.1);
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlng / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().atan2((1.0 - h).sqrt())
}
