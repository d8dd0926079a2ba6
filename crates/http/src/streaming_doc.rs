//! The streaming operations ([`crate::operations::STREAMING`]) in the
//! OpenAPI document. Their bodies are streams (multipart transfers, tus,
//! downloads) that poem-openapi cannot declare, so they are described here
//! by hand and merged into the generated document ([`merge`]); a test keeps
//! this description and `STREAMING` in step.

use poem_openapi::registry::Registry;
use poem_openapi::types::Type;
use serde_json::{Value, json};

use crate::transfer::StreamedTransfer;

/// Adds the streaming operations and their schemas to `spec`, the document
/// poem-openapi generated.
pub(crate) fn merge(spec: &str) -> String {
    let mut document: Value = serde_json::from_str(spec).expect("poem-openapi writes JSON");
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        let Value::Object(streaming) = paths_of_streams() else { unreachable!("a JSON object literal") };
        for (path, operations) in streaming {
            let entry = paths.entry(path).or_insert_with(|| json!({}));
            if let (Some(entry), Value::Object(operations)) = (entry.as_object_mut(), operations) {
                entry.extend(operations);
            }
        }
    }
    if let Some(schemas) = document.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        let Value::Object(streaming) = schemas_of_streams() else { unreachable!("a JSON object literal") };
        schemas.extend(streaming);
    }
    document.to_string()
}

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json; charset=utf-8": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } }
    })
}

fn tus_resumable() -> Value {
    json!({
        "name": "Tus-Resumable", "in": "header", "required": true,
        "description": "The tus protocol version: 1.0.0 (412 otherwise).",
        "schema": { "type": "string", "enum": ["1.0.0"] }
    })
}

fn uuid_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description,
            "schema": { "type": "string", "format": "uuid" } })
}

fn header(description: &str) -> Value {
    json!({ "description": description, "schema": { "type": "string" } })
}

fn paths_of_streams() -> Value {
    let transfer = json!({ "$ref": "#/components/schemas/StreamedTransfer" });
    let quota = error("quota_exceeded: the files do not fit in an allowance (the message names it and what is left)");
    let not_found = error("not_found: no such object, or out of your scope");
    json!({
        "/transfers": { "post": {
            "operationId": "send_transfer",
            "tags": ["Files"],
            "summary": "Send files (multipart, streamed), or open a transfer for resumable uploads (JSON)",
            "description": "multipart/form-data: the text fields first (`client` or `connection`, then one `to` per \
                recipient; none sends to every user of the client), then one `file` part per file, streamed to \
                storage part by part; recipients are told by one email. application/json: the same fields open \
                a transfer that resumable uploads (`/uploads`) fill; `POST /transfers/{batch}/complete` tells the \
                recipients. Nothing of a refused or broken request is kept.",
            "requestBody": { "required": true, "content": {
                "multipart/form-data": { "schema": {
                    "type": "object",
                    "properties": {
                        "client": { "type": "string", "format": "uuid" },
                        "connection": { "type": "string", "format": "uuid" },
                        "to": { "type": "array", "items": { "type": "string", "format": "uuid" }, "maxItems": 100 },
                        "file": { "type": "array", "items": { "type": "string", "format": "binary" } }
                    }
                } },
                "application/json": { "schema": { "$ref": "#/components/schemas/TransferDestination" } }
            } },
            "responses": {
                "201": { "description": "The transfer and its documents.",
                         "content": { "application/json; charset=utf-8": { "schema": transfer } } },
                "400": error("invalid: a field names what is wrong"),
                "404": not_found,
                "413": quota,
                "415": error("unsupported_media_type: send multipart/form-data or application/json")
            }
        } },
        "/uploads": {
            "options": {
                "operationId": "tus_options",
                "tags": ["Files"],
                "summary": "tus: the protocol versions, extensions and checksum algorithms served",
                "responses": { "204": { "description": "See the headers.", "headers": {
                    "Tus-Version": header("1.0.0"),
                    "Tus-Extension": header("creation,creation-defer-length,termination,expiration,checksum"),
                    "Tus-Checksum-Algorithm": header("sha1,sha256,md5")
                } } }
            },
            "post": {
                "operationId": "tus_create",
                "tags": ["Files"],
                "summary": "tus creation: start a resumable upload of one file into an open transfer",
                "description": "`Upload-Metadata` carries `batch` (the transfer, from the JSON `POST /transfers`) \
                    and `filename`, base64-encoded. A declared `Upload-Length` is reserved against the quota now; \
                    with `Upload-Defer-Length: 1` each PATCH reserves as it goes.",
                "parameters": [
                    tus_resumable(),
                    { "name": "Upload-Length", "in": "header", "schema": { "type": "integer", "minimum": 0 } },
                    { "name": "Upload-Defer-Length", "in": "header", "schema": { "type": "string", "enum": ["1"] } },
                    { "name": "Upload-Metadata", "in": "header", "required": true,
                      "description": "batch <base64 uuid>,filename <base64 name>", "schema": { "type": "string" } }
                ],
                "responses": {
                    "201": { "description": "Created: PATCH the bytes to `Location`.", "headers": {
                        "Location": header("/api/v1/uploads/{upload}"),
                        "Upload-Offset": header("0"),
                        "Upload-Expires": header("When an upload nobody continues is abandoned (RFC 7231 date)."),
                        "Ferry-Document": header("For an empty file: the document it became at once.")
                    } },
                    "400": error("invalid: a header names what is wrong"),
                    "404": not_found,
                    "409": error("conflict: the transfer is complete"),
                    "412": { "description": "Tus-Resumable is missing or another version." },
                    "413": quota
                }
            }
        },
        "/uploads/{upload}": {
            "head": {
                "operationId": "tus_status",
                "tags": ["Files"],
                "summary": "tus: how far an upload got (resume from Upload-Offset)",
                "parameters": [ uuid_param("upload", "The upload, from the creation's Location."), tus_resumable() ],
                "responses": {
                    "200": { "description": "See the headers.", "headers": {
                        "Upload-Offset": header("The bytes received."),
                        "Upload-Length": header("The declared length, when declared."),
                        "Upload-Defer-Length": header("1 while the length is not declared."),
                        "Upload-Expires": header("When it is abandoned if nobody continues it.")
                    } },
                    "404": { "description": "No such upload, not yours, finished or abandoned." }
                }
            },
            "patch": {
                "operationId": "tus_append",
                "tags": ["Files"],
                "summary": "tus: send the next bytes of an upload",
                "description": "From `Upload-Offset`, which must be where the upload stands (409 otherwise). A \
                    request cut short keeps what arrived, unless it carried `Upload-Checksum`, which must then \
                    match all of its bytes (460 and nothing kept otherwise). The last byte turns the upload into \
                    a document of its transfer.",
                "parameters": [
                    uuid_param("upload", "The upload, from the creation's Location."),
                    tus_resumable(),
                    { "name": "Upload-Offset", "in": "header", "required": true,
                      "schema": { "type": "integer", "minimum": 0 } },
                    { "name": "Upload-Length", "in": "header",
                      "description": "Declares the length of an upload created with Upload-Defer-Length.",
                      "schema": { "type": "integer", "minimum": 0 } },
                    { "name": "Upload-Checksum", "in": "header",
                      "description": "`sha1|sha256|md5 <base64 digest>` of this request's bytes.",
                      "schema": { "type": "string" } }
                ],
                "requestBody": { "required": true, "content": {
                    "application/offset+octet-stream": { "schema": { "type": "string", "format": "binary" } }
                } },
                "responses": {
                    "204": { "description": "Kept.", "headers": {
                        "Upload-Offset": header("Where the upload stands now."),
                        "Upload-Expires": header("When it is abandoned if nobody continues it."),
                        "Ferry-Document": header("When this request delivered the last byte: the document.")
                    } },
                    "400": error("invalid: a header names what is wrong"),
                    "404": not_found,
                    "409": error("conflict: Upload-Offset is not where the upload stands (HEAD tells)"),
                    "413": quota,
                    "415": error("unsupported_media_type: send application/offset+octet-stream"),
                    "460": error("checksum_mismatch: the bytes do not match Upload-Checksum; nothing was kept")
                }
            },
            "delete": {
                "operationId": "tus_terminate",
                "tags": ["Files"],
                "summary": "tus termination: give an upload up (its bytes removed, its quota given back)",
                "parameters": [ uuid_param("upload", "The upload."), tus_resumable() ],
                "responses": { "204": { "description": "Gone." }, "404": not_found }
            }
        },
        "/documents/{document}/content": { "get": {
            "operationId": "download_document",
            "tags": ["Files"],
            "summary": "Download a document (streamed; one Range)",
            "description": "Always an attachment (RFC 6266 name), never rendered inline; the bytes count against \
                the practice's throughput as they are delivered. The first download by a recipient of a file a \
                practice user sent mails the sender a receipt.",
            "parameters": [
                uuid_param("document", "The document."),
                { "name": "Range", "in": "header", "description": "One range: `bytes=first-last`, `bytes=first-` \
                  or `bytes=-suffix` (several are answered with the whole file).", "schema": { "type": "string" } }
            ],
            "responses": {
                "200": { "description": "The whole file.", "headers": {
                    "Content-Disposition": header("attachment; filename=\"…\"; filename*=UTF-8''…"),
                    "ETag": header("The SHA-256, quoted."),
                    "Ferry-SHA256": header("The SHA-256, hex.")
                }, "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } } },
                "206": { "description": "The range asked for.", "headers": {
                    "Content-Range": header("bytes first-last/size")
                }, "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } } },
                "404": not_found,
                "413": error("quota_exceeded: this month's throughput has no room for the download"),
                "416": error("range_not_satisfiable: the range is outside the file")
            }
        } }
    })
}

/// The schemas the streaming operations refer to: the request body of a
/// JSON `POST /transfers`, and its answer, [`StreamedTransfer`], whose
/// schema poem-openapi writes from the type the handler serializes (its
/// documents are the generated `DocumentOut`, as everywhere else).
fn schemas_of_streams() -> Value {
    let uuid = json!({ "type": "string", "format": "uuid" });
    let mut registry = Registry::new();
    <StreamedTransfer as Type>::register(&mut registry);
    let mut schemas = serde_json::to_value(&registry.schemas).expect("schemas are JSON");
    schemas["TransferDestination"] = json!({
        "type": "object",
        "description": "Where a transfer goes: a client (its users, or those named in `to`) or a connection.",
        "properties": {
            "client": uuid,
            "connection": uuid,
            "to": { "type": "array", "items": uuid, "maxItems": 100 }
        }
    });
    schemas
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::STREAMING;

    #[test]
    fn every_streaming_operation_is_described_and_nothing_else() {
        let Value::Object(paths) = paths_of_streams() else { panic!("an object") };
        let mut described = Vec::new();
        for (path, operations) in &paths {
            for (method, operation) in operations.as_object().expect("operations") {
                described.push((
                    operation["operationId"].as_str().expect("an id").to_owned(),
                    method.clone(),
                    path.clone(),
                ));
            }
        }
        described.sort();
        let mut expected: Vec<(String, String, String)> = STREAMING
            .iter()
            .map(|op| (op.id.to_owned(), op.method.as_str().to_ascii_lowercase(), op.path.to_owned()))
            .collect();
        expected.sort();
        assert_eq!(described, expected);
    }

    #[test]
    fn merging_keeps_what_was_there_and_resolves_every_reference() {
        let generated = json!({
            "paths": { "/documents/{document}": { "get": { "operationId": "get_document" } } },
            "components": { "schemas": { "ErrorBody": { "type": "object" } } }
        });
        let merged: Value = serde_json::from_str(&merge(&generated.to_string())).expect("JSON");
        assert_eq!(merged["paths"]["/documents/{document}"]["get"]["operationId"], "get_document");
        assert_eq!(merged["paths"]["/uploads/{upload}"]["patch"]["operationId"], "tus_append");
        let text = merged.to_string();
        for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().expect("a name");
            assert!(merged["components"]["schemas"].get(name).is_some(), "{name} is referred to but not defined");
        }
    }
}
