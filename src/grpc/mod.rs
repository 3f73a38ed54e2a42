//! gRPC for `k6/net/grpc`: descriptors compiled at run time ([`descriptors`]: `.proto` files with
//! protox, protosets, server reflection), dynamic messages (prost-reflect), the wire format
//! ([`wire`]) and the calls (`crate::http::grpc`: one HTTP/2 connection per client, unary
//! calls and streams on hyper's HTTP/2 client). No JS here: `js::modules::grpc` binds it to scripts.
//! The loopback server of `loadgate target` uses the same pieces ([`reflection`], [`wire`]).

pub mod descriptors;
pub mod reflection;
pub mod wire;

/// gRPC status codes (`google.golang.org/grpc/codes`), as `grpc.Status*` exposes them.
pub mod code {
    pub const OK: u32 = 0;
    pub const CANCELED: u32 = 1;
    pub const UNKNOWN: u32 = 2;
    pub const INVALID_ARGUMENT: u32 = 3;
    pub const DEADLINE_EXCEEDED: u32 = 4;
    pub const NOT_FOUND: u32 = 5;
    pub const ALREADY_EXISTS: u32 = 6;
    pub const PERMISSION_DENIED: u32 = 7;
    pub const RESOURCE_EXHAUSTED: u32 = 8;
    pub const FAILED_PRECONDITION: u32 = 9;
    pub const ABORTED: u32 = 10;
    pub const OUT_OF_RANGE: u32 = 11;
    pub const UNIMPLEMENTED: u32 = 12;
    pub const INTERNAL: u32 = 13;
    pub const UNAVAILABLE: u32 = 14;
    pub const DATA_LOSS: u32 = 15;
    pub const UNAUTHENTICATED: u32 = 16;

    /// The `grpc.Status*` names and their codes.
    pub const NAMES: [(&str, u32); 17] = [
        ("StatusOK", OK),
        ("StatusCanceled", CANCELED),
        ("StatusUnknown", UNKNOWN),
        ("StatusInvalidArgument", INVALID_ARGUMENT),
        ("StatusDeadlineExceeded", DEADLINE_EXCEEDED),
        ("StatusNotFound", NOT_FOUND),
        ("StatusAlreadyExists", ALREADY_EXISTS),
        ("StatusPermissionDenied", PERMISSION_DENIED),
        ("StatusResourceExhausted", RESOURCE_EXHAUSTED),
        ("StatusFailedPrecondition", FAILED_PRECONDITION),
        ("StatusAborted", ABORTED),
        ("StatusOutOfRange", OUT_OF_RANGE),
        ("StatusUnimplemented", UNIMPLEMENTED),
        ("StatusInternal", INTERNAL),
        ("StatusUnavailable", UNAVAILABLE),
        ("StatusDataLoss", DATA_LOSS),
        ("StatusUnauthenticated", UNAUTHENTICATED),
    ];
}

/// A call's final status: code and message (`grpc-status`, `grpc-message`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub code: u32,
    pub message: String,
}

impl Status {
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        Status {
            code,
            message: message.into(),
        }
    }

    pub fn ok() -> Self {
        Status::new(code::OK, "")
    }

    pub fn is_ok(&self) -> bool {
        self.code == code::OK
    }

    /// grpc-go's `status.Error` text: `rpc error: code = NotFound desc = ...`.
    pub fn go_error(&self) -> String {
        format!(
            "rpc error: code = {} desc = {}",
            code_name(self.code),
            self.message
        )
    }
}

/// grpc-go's `codes.Code.String()`.
pub fn code_name(code: u32) -> String {
    match code {
        code::OK => "OK",
        code::CANCELED => "Canceled",
        code::UNKNOWN => "Unknown",
        code::INVALID_ARGUMENT => "InvalidArgument",
        code::DEADLINE_EXCEEDED => "DeadlineExceeded",
        code::NOT_FOUND => "NotFound",
        code::ALREADY_EXISTS => "AlreadyExists",
        code::PERMISSION_DENIED => "PermissionDenied",
        code::RESOURCE_EXHAUSTED => "ResourceExhausted",
        code::FAILED_PRECONDITION => "FailedPrecondition",
        code::ABORTED => "Aborted",
        code::OUT_OF_RANGE => "OutOfRange",
        code::UNIMPLEMENTED => "Unimplemented",
        code::INTERNAL => "Internal",
        code::UNAVAILABLE => "Unavailable",
        code::DATA_LOSS => "DataLoss",
        code::UNAUTHENTICATED => "Unauthenticated",
        other => return format!("Code({other})"),
    }
    .to_string()
}
