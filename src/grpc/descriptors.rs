//! The methods a client knows: compiled from `.proto` files at run time (protox), decoded from a
//! protoset, or fetched by server reflection; kept in one prost-reflect pool per client, the
//! way k6's client accumulates the descriptors of every `load`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use prost::Message as _;
use prost_reflect::{
    DescriptorPool, DynamicMessage, MessageDescriptor, MethodDescriptor, ReflectMessage,
};
use prost_types::FileDescriptorSet;
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};

/// Reads a file for the compiler (the test's file access: root checks, archive cache).
pub type ReadFile = dyn Fn(&Path) -> Result<Vec<u8>, String>;

/// What `client.load` and `client.loadProtoset` return per method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodInfo {
    pub package: String,
    pub service: String,
    pub full_method: String,
    pub name: String,
    pub client_stream: bool,
    pub server_stream: bool,
}

/// A client's descriptors and its methods by `/package.Service/Method`.
#[derive(Default)]
pub struct Methods {
    pool: DescriptorPool,
    by_name: HashMap<String, MethodDescriptor>,
}

impl Methods {
    /// Adds a descriptor set; returns the methods of its services (k6's `MethodInfo` list).
    pub fn add(&mut self, set: FileDescriptorSet) -> Result<Vec<MethodInfo>, String> {
        let names: Vec<String> = set.file.iter().filter_map(|f| f.name.clone()).collect();
        self.pool
            .add_file_descriptor_set(set)
            .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for file in self
            .pool
            .files()
            .filter(|f| names.iter().any(|n| n == f.name()))
        {
            for service in file.services() {
                for method in service.methods() {
                    let full = format!("/{}/{}", service.full_name(), method.name());
                    out.push(MethodInfo {
                        package: file.package_name().to_string(),
                        service: service.name().to_string(),
                        full_method: full.clone(),
                        name: method.name().to_string(),
                        client_stream: method.is_client_streaming(),
                        server_stream: method.is_server_streaming(),
                    });
                    self.by_name.insert(full, method);
                }
            }
        }
        Ok(out)
    }

    /// The method named `/pkg.Service/Method` (the leading `/` may be missing).
    pub fn get(&self, name: &str) -> Option<MethodDescriptor> {
        if name.starts_with('/') {
            self.by_name.get(name).cloned()
        } else {
            self.by_name.get(&format!("/{name}")).cloned()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// Compiles `files` found under `import_paths` (directories, already absolute), with their
/// imports and the well-known `google/protobuf/*.proto`.
pub fn compile(
    import_paths: &[PathBuf],
    files: &[String],
    read: Rc<ReadFile>,
) -> Result<FileDescriptorSet, String> {
    let mut chain = ChainFileResolver::new();
    chain.add(ScriptFiles {
        import_paths: import_paths.to_vec(),
        read,
    });
    chain.add(GoogleFileResolver::new());
    let mut compiler = protox::Compiler::with_file_resolver(chain);
    compiler.include_imports(true);
    for f in files {
        compiler.open_file(f).map_err(|e| compile_error(&e))?;
    }
    Ok(compiler.file_descriptor_set())
}

fn compile_error(e: &protox::Error) -> String {
    // miette's Display is the headline; the location makes it useful.
    let mut text = e.to_string();
    if let Some(file) = e.file() {
        text = format!("{file}: {text}");
    }
    text
}

/// Decodes a protoset (a serialised `FileDescriptorSet`).
pub fn decode_protoset(bytes: &[u8], name: &str) -> Result<FileDescriptorSet, String> {
    FileDescriptorSet::decode(bytes)
        .map_err(|e| format!("couldn't unmarshal protoset file {name}: {e}"))
}

/// The compiler's view of the script's files: a name is looked up under each import path.
struct ScriptFiles {
    import_paths: Vec<PathBuf>,
    read: Rc<ReadFile>,
}

impl FileResolver for ScriptFiles {
    fn resolve_path(&self, path: &Path) -> Option<String> {
        Some(path.to_string_lossy().into_owned())
    }

    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        for dir in &self.import_paths {
            let candidate = dir.join(name);
            if let Ok(bytes) = (self.read)(&candidate) {
                let source = String::from_utf8_lossy(&bytes);
                return File::from_source(name, &source);
            }
        }
        Err(protox::Error::file_not_found(name))
    }
}

/// JSON (as `JSON.stringify` gives it) to a message of type `desc`, as protojson reads it.
pub fn message_from_json(desc: MessageDescriptor, json: &str) -> Result<DynamicMessage, String> {
    let mut de = serde_json::Deserializer::from_str(json);
    let msg = DynamicMessage::deserialize_with_options(
        desc,
        &mut de,
        &prost_reflect::DeserializeOptions::new().deny_unknown_fields(true),
    )
    .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(msg)
}

/// A message as protojson writes it, as JSON text: with `EmitUnpopulated` (k6's marshaler for
/// unary answers) when `unpopulated`, without (k6's stream messages use a zero marshaler).
pub fn message_to_json(msg: &DynamicMessage, unpopulated: bool) -> Result<String, String> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::new(&mut out);
    msg.serialize_with_options(
        &mut ser,
        &prost_reflect::SerializeOptions::new().skip_default_fields(!unpopulated),
    )
    .map_err(|e| e.to_string())?;
    if !unpopulated {
        return String::from_utf8(out).map_err(|e| e.to_string());
    }
    let mut value: serde_json::Value = serde_json::from_slice(&out).map_err(|e| e.to_string())?;
    null_unset_messages(&msg.descriptor(), &mut value);
    Ok(value.to_string())
}

/// protojson's `EmitUnpopulated` writes an unset message field as `null` (prost-reflect leaves
/// it out); oneof members stay out.
fn null_unset_messages(desc: &MessageDescriptor, value: &mut serde_json::Value) {
    let serde_json::Value::Object(map) = value else {
        return;
    };
    for field in desc.fields() {
        let prost_reflect::Kind::Message(inner) = field.kind() else {
            continue;
        };
        if field.is_list() || field.is_map() || field.containing_oneof().is_some() {
            continue;
        }
        if inner.full_name().starts_with("google.protobuf.") {
            continue;
        }
        match map.get_mut(field.json_name()) {
            Some(v) => null_unset_messages(&inner, v),
            None => {
                map.insert(field.json_name().to_string(), serde_json::Value::Null);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROTO: &str = r#"
syntax = "proto3";
package demo;
import "google/protobuf/empty.proto";
message Ping { string text = 1; int64 big = 2; repeated int32 list = 3; }
service Echo {
  rpc Say(Ping) returns (Ping);
  rpc Many(Ping) returns (stream Ping);
  rpc Nothing(google.protobuf.Empty) returns (google.protobuf.Empty);
}
"#;

    fn reader(path: &Path) -> Result<Vec<u8>, String> {
        if path.ends_with("protos/demo.proto") {
            Ok(PROTO.as_bytes().to_vec())
        } else if path.ends_with("protos/bad.proto") {
            Ok(b"syntax = \"proto3\";\nmessage {".to_vec())
        } else {
            Err("no such file".into())
        }
    }

    #[test]
    fn compiles_with_imports_and_lists_methods() {
        let set = compile(
            &[PathBuf::from("/x/protos")],
            &["demo.proto".into()],
            Rc::new(reader),
        )
        .unwrap();
        let mut m = Methods::default();
        let infos = m.add(set).unwrap();
        let names: Vec<_> = infos.iter().map(|i| i.full_method.as_str()).collect();
        assert_eq!(
            names,
            ["/demo.Echo/Say", "/demo.Echo/Many", "/demo.Echo/Nothing"]
        );
        assert!(infos[1].server_stream && !infos[1].client_stream);
        assert_eq!(infos[0].package, "demo");
        assert_eq!(infos[0].service, "Echo");
        let say = m.get("demo.Echo/Say").unwrap();
        let msg = message_from_json(say.input(), r#"{"text":"hi","big":"5"}"#).unwrap();
        assert_eq!(
            message_to_json(&msg, true).unwrap(),
            r#"{"text":"hi","big":"5","list":[]}"#
        );
        assert!(message_from_json(say.input(), r#"{"text":1}"#).is_err());
        assert!(message_from_json(say.input(), r#"{"nope":1}"#).is_err());
    }

    #[test]
    fn malformed_and_missing_files_are_errors() {
        let e = compile(
            &[PathBuf::from("/x/protos")],
            &["bad.proto".into()],
            Rc::new(reader),
        )
        .unwrap_err();
        assert!(e.contains("bad.proto"), "{e}");
        assert!(
            compile(
                &[PathBuf::from("/x/protos")],
                &["none.proto".into()],
                Rc::new(reader)
            )
            .is_err()
        );
        assert!(decode_protoset(b"\xff\xff", "x.protoset").is_err());
    }
}
