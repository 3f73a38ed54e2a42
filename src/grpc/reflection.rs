//! The gRPC server reflection protocol (`grpc.reflection.v1` and `v1alpha`, the same messages):
//! the messages as prost structs, the server's answer from a descriptor pool (used by
//! `loadgate target`), and the client's walk that collects every file of every service
//! (used by `connect(..., {reflect: true})`, as k6's grpcext.Reflect does).

use std::collections::HashSet;

use prost::Message;
use prost_reflect::DescriptorPool;

pub const V1: &str = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
pub const V1ALPHA: &str = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

#[derive(Clone, PartialEq, Message)]
pub struct ServerReflectionRequest {
    #[prost(string, tag = "1")]
    pub host: String,
    #[prost(oneof = "RequestKind", tags = "3, 4, 5, 6, 7")]
    pub message_request: Option<RequestKind>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum RequestKind {
    #[prost(string, tag = "3")]
    FileByFilename(String),
    #[prost(string, tag = "4")]
    FileContainingSymbol(String),
    #[prost(message, tag = "5")]
    FileContainingExtension(ExtensionRequest),
    #[prost(string, tag = "6")]
    AllExtensionNumbersOfType(String),
    #[prost(string, tag = "7")]
    ListServices(String),
}

#[derive(Clone, PartialEq, Message)]
pub struct ExtensionRequest {
    #[prost(string, tag = "1")]
    pub containing_type: String,
    #[prost(int32, tag = "2")]
    pub extension_number: i32,
}

#[derive(Clone, PartialEq, Message)]
pub struct ServerReflectionResponse {
    #[prost(string, tag = "1")]
    pub valid_host: String,
    #[prost(message, optional, tag = "2")]
    pub original_request: Option<ServerReflectionRequest>,
    #[prost(oneof = "ResponseKind", tags = "4, 5, 6, 7")]
    pub message_response: Option<ResponseKind>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum ResponseKind {
    #[prost(message, tag = "4")]
    FileDescriptorResponse(FileDescriptorResponse),
    #[prost(message, tag = "5")]
    AllExtensionNumbersResponse(ExtensionNumberResponse),
    #[prost(message, tag = "6")]
    ListServicesResponse(ListServiceResponse),
    #[prost(message, tag = "7")]
    ErrorResponse(ErrorResponse),
}

#[derive(Clone, PartialEq, Message)]
pub struct FileDescriptorResponse {
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub file_descriptor_proto: Vec<Vec<u8>>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ExtensionNumberResponse {
    #[prost(string, tag = "1")]
    pub base_type_name: String,
    #[prost(int32, repeated, tag = "2")]
    pub extension_number: Vec<i32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ListServiceResponse {
    #[prost(message, repeated, tag = "1")]
    pub service: Vec<ServiceResponse>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ServiceResponse {
    #[prost(string, tag = "1")]
    pub name: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct ErrorResponse {
    #[prost(int32, tag = "1")]
    pub error_code: i32,
    #[prost(string, tag = "2")]
    pub error_message: String,
}

pub fn request(kind: RequestKind) -> ServerReflectionRequest {
    ServerReflectionRequest {
        host: String::new(),
        message_request: Some(kind),
    }
}

/// The server side: answers one request from `pool` (the services it serves, reflection
/// included when `advertised` lists it).
pub fn answer(
    pool: &DescriptorPool,
    advertised: &[String],
    req: ServerReflectionRequest,
) -> ServerReflectionResponse {
    let kind = match &req.message_request {
        Some(RequestKind::ListServices(_)) => {
            ResponseKind::ListServicesResponse(ListServiceResponse {
                service: advertised
                    .iter()
                    .map(|n| ServiceResponse { name: n.clone() })
                    .collect(),
            })
        }
        Some(RequestKind::FileByFilename(name)) => match pool.get_file_by_name(name) {
            Some(f) => files_with_deps(pool, f.name()),
            None => not_found(&format!("file {name:?} not found")),
        },
        Some(RequestKind::FileContainingSymbol(symbol)) => {
            let symbol = symbol.trim_start_matches('.');
            let file = pool
                .get_service_by_name(symbol)
                .map(|s| s.parent_file())
                .or_else(|| pool.get_message_by_name(symbol).map(|m| m.parent_file()))
                .or_else(|| pool.get_enum_by_name(symbol).map(|e| e.parent_file()))
                .or_else(|| {
                    let (svc, _) = symbol.rsplit_once('.')?;
                    pool.get_service_by_name(svc).map(|s| s.parent_file())
                });
            match file {
                Some(f) => files_with_deps(pool, f.name()),
                None => not_found(&format!("symbol {symbol:?} not found")),
            }
        }
        Some(RequestKind::AllExtensionNumbersOfType(t)) => {
            ResponseKind::AllExtensionNumbersResponse(ExtensionNumberResponse {
                base_type_name: t.clone(),
                extension_number: Vec::new(),
            })
        }
        Some(RequestKind::FileContainingExtension(_)) => not_found("extension not found"),
        None => ResponseKind::ErrorResponse(ErrorResponse {
            error_code: super::code::INVALID_ARGUMENT as i32,
            error_message: "empty request".into(),
        }),
    };
    ServerReflectionResponse {
        valid_host: req.host.clone(),
        original_request: Some(req),
        message_response: Some(kind),
    }
}

fn not_found(message: &str) -> ResponseKind {
    ResponseKind::ErrorResponse(ErrorResponse {
        error_code: super::code::NOT_FOUND as i32,
        error_message: message.to_string(),
    })
}

/// A file and, transitively, the files it imports (grpc-go's server sends them together).
fn files_with_deps(pool: &DescriptorPool, name: &str) -> ResponseKind {
    let mut seen = HashSet::new();
    let mut stack = vec![name.to_string()];
    let mut out = Vec::new();
    while let Some(n) = stack.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        if let Some(f) = pool.get_file_by_name(&n) {
            let proto = f.file_descriptor_proto();
            stack.extend(proto.dependency.iter().cloned());
            out.push(proto.encode_to_vec());
        }
    }
    ResponseKind::FileDescriptorResponse(FileDescriptorResponse {
        file_descriptor_proto: out,
    })
}
