//! HTTP/JSON for partners without gRPC (DESIGN §6): `POST /v1/{package.Service}/{Method}`
//! with a proto3-JSON body is translated into the same gRPC call, and its answer
//! back into JSON. Errors follow Google's JSON error shape, with the gRPC status
//! mapped to its HTTP code and the `google.rpc` details (field violations, retry
//! delay) carried along. Unary methods only: streaming needs gRPC.

use ayushman_platform::ApiError;
use std::convert::Infallible;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MethodDescriptor, SerializeOptions};
use serde_json::json;
use tonic::{Code, Status, body::Body};
use tonic_types::StatusExt;
use tower::ServiceExt;

/// The path prefix of JSON calls.
const PREFIX: &str = "/v1/";

/// Translates JSON calls to gRPC and back, using the contracts' descriptors.
pub struct JsonTranscoder {
    pool: DescriptorPool,
    max_body_bytes: usize,
}

impl JsonTranscoder {
    /// Reads the mesh's contracts; bodies above `max_body_bytes` are refused.
    pub fn new(max_body_bytes: usize) -> Result<Self, prost_reflect::DescriptorError> {
        Ok(Self {
            pool: DescriptorPool::decode(ayushman_proto::FILE_DESCRIPTOR_SET)?,
            max_body_bytes,
        })
    }

    /// The gRPC method of a JSON path: `/v1/a.B/C` is `/a.B/C`; `None` for other paths.
    pub fn grpc_path(path: &str) -> Option<String> {
        path.strip_prefix(PREFIX)
            .filter(|rest| rest.contains('/'))
            .map(|rest| format!("/{rest}"))
    }

    /// Calls `method` on `inner` with the JSON body of `request`; returns the
    /// JSON response and the gRPC status code it carried.
    pub async fn call<S>(
        &self,
        inner: S,
        request: Request<Body>,
        method: &str,
    ) -> (Response<Body>, i32)
    where
        S: tower_service::Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
    {
        match self.translate(inner, request, method).await {
            Ok(response) => (response, Code::Ok as i32),
            Err(status) => (Self::error_response(&status), status.code() as i32),
        }
    }

    async fn translate<S>(
        &self,
        inner: S,
        request: Request<Body>,
        method: &str,
    ) -> Result<Response<Body>, Status>
    where
        S: tower_service::Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
    {
        if request.method() != http::Method::POST {
            return Err(Status::unimplemented(format!(
                "{} is not supported: call {PREFIX}{{package.Service}}/{{Method}} with POST",
                request.method()
            )));
        }
        let descriptor = self.method(method)?;
        let (parts, body) = request.into_parts();
        let body = Limited::new(body, self.max_body_bytes)
            .collect()
            .await
            .map_err(|error| {
                Status::invalid_argument(format!(
                    "request body could not be read (at most {} bytes): {error}",
                    self.max_body_bytes
                ))
            })?
            .to_bytes();
        let message = decode_json(&descriptor, &body)?;

        let mut frame = BytesMut::with_capacity(5 + message.encoded_len());
        frame.put_u8(0);
        frame.put_u32(u32::try_from(message.encoded_len()).unwrap_or(u32::MAX));
        message.encode(&mut frame).map_err(internal)?;
        let mut grpc = Request::builder()
            .method(http::Method::POST)
            .uri(method)
            .version(http::Version::HTTP_2)
            .body(Body::new(Full::new(frame.freeze())))
            .map_err(internal)?;
        for (name, value) in &parts.headers {
            if ![header::CONTENT_TYPE, header::CONTENT_LENGTH, header::HOST].contains(name) {
                grpc.headers_mut().append(name, value.clone());
            }
        }
        let headers = grpc.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc"),
        );
        headers.insert(header::TE, HeaderValue::from_static("trailers"));

        let response = match inner.oneshot(grpc).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let (parts, body) = response.into_parts();
        if let Some(status) = status_in(&parts.headers) {
            return Err(status);
        }
        let collected = body.collect().await.map_err(|error| {
            tracing::warn!(%error, "the service's answer broke off");
            Status::from(ApiError::Unavailable(
                "the service's answer broke off; retry with the same idempotency_key".into(),
            ))
        })?;
        if let Some(status) = collected.trailers().and_then(status_in) {
            return Err(status);
        }
        let reply = decode_frame(&descriptor, collected.to_bytes())?;
        let mut serializer = serde_json::Serializer::new(Vec::new());
        reply
            .serialize_with_options(&mut serializer, &SerializeOptions::new())
            .map_err(internal)?;
        Ok(json_response(StatusCode::OK, serializer.into_inner()))
    }

    fn method(&self, path: &str) -> Result<MethodDescriptor, Status> {
        let (service, name) = path
            .trim_start_matches('/')
            .split_once('/')
            .unwrap_or_default();
        let method = self
            .pool
            .get_service_by_name(service)
            .and_then(|s| s.methods().find(|m| m.name() == name))
            .ok_or_else(|| Status::unimplemented(format!("no method {path}")))?;
        if method.is_client_streaming() || method.is_server_streaming() {
            return Err(Status::unimplemented(format!(
                "{path} streams; call it over gRPC"
            )));
        }
        Ok(method)
    }

    /// `status` as a Google-style JSON error with its HTTP code.
    pub fn error_response(status: &Status) -> Response<Body> {
        let http = http_status(status.code());
        let details = status.get_error_details();
        let mut extra = Vec::new();
        if let Some(bad) = details.bad_request() {
            extra.push(json!({
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": bad.field_violations.iter().map(|v| json!({
                    "field": v.field,
                    "description": v.description,
                })).collect::<Vec<_>>(),
            }));
        }
        let retry = details.retry_info().and_then(|r| r.retry_delay);
        if let Some(delay) = retry {
            extra.push(json!({
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": format!("{:.3}s", delay.as_secs_f64()),
            }));
        }
        let body = json!({
            "error": {
                "code": http.as_u16(),
                "status": code_name(status.code()),
                "message": status.message(),
                "details": extra,
            }
        });
        let mut response = json_response(http, body.to_string().into_bytes());
        if let Some(delay) = retry {
            let seconds = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

fn decode_json(method: &MethodDescriptor, body: &[u8]) -> Result<DynamicMessage, Status> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let message = DynamicMessage::deserialize(method.input(), &mut deserializer)
        .and_then(|message| deserializer.end().map(|()| message))
        .map_err(|error| {
            let mut details = tonic_types::ErrorDetails::new();
            details.add_bad_request_violation("body", error.to_string());
            Status::with_error_details(
                Code::InvalidArgument,
                format!(
                    "body is not a valid {} in proto3 JSON: {error}",
                    method.input().full_name()
                ),
                details,
            )
        })?;
    Ok(message)
}

fn decode_frame(method: &MethodDescriptor, mut bytes: Bytes) -> Result<DynamicMessage, Status> {
    if bytes.len() < 5 {
        return Err(internal("the service answered without a message"));
    }
    let compressed = bytes.get_u8();
    let length = bytes.get_u32() as usize;
    if compressed != 0 || bytes.len() < length {
        return Err(internal("the service answered with an unreadable message"));
    }
    DynamicMessage::decode(method.output(), bytes.slice(..length)).map_err(internal)
}

/// INTERNAL for a partner: the cause goes to the log with the trace id, the
/// partner gets the trace id only.
fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Status {
    ApiError::internal(cause).into()
}

fn status_in(headers: &http::HeaderMap) -> Option<Status> {
    Status::from_header_map(headers).filter(|status| status.code() != Code::Ok)
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Body> {
    let mut response = Response::new(Body::new(Full::new(Bytes::from(body))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The HTTP code of a gRPC status, as in google/rpc/code.proto.
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            StatusCode::BAD_REQUEST
        }
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The google.rpc.Code name of a status code.
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths_name_their_grpc_method() {
        assert_eq!(
            JsonTranscoder::grpc_path("/v1/ayushman.preauth.v1.PreauthService/GetPreauth"),
            Some("/ayushman.preauth.v1.PreauthService/GetPreauth".to_owned())
        );
        assert_eq!(
            JsonTranscoder::grpc_path("/ayushman.preauth.v1.PreauthService/GetPreauth"),
            None
        );
        assert_eq!(JsonTranscoder::grpc_path("/v1/nothing"), None);
    }

    #[test]
    fn status_codes_map_to_http_and_their_names() {
        assert_eq!(http_status(Code::PermissionDenied), StatusCode::FORBIDDEN);
        assert_eq!(
            http_status(Code::ResourceExhausted),
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(code_name(Code::PermissionDenied), "PERMISSION_DENIED");
        assert_eq!(code_name(Code::Ok), "OK");
    }
}
