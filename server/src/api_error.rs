//! JSON errors of the HTTP endpoints: `{error, code, field?}` with a status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

/// An HTTP error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The status.
    pub status: StatusCode,
    /// A stable code (`UNAUTHORIZED`, `BAD_JSON`, `INVALID_BODY`, ...).
    pub code: &'static str,
    /// The human message, naming the field when there is one.
    pub message: String,
    /// The field at fault.
    pub field: Option<String>,
    /// Extra members (e.g. `currentVersion` on a conflict).
    pub extra: Map<String, Value>,
}

impl ApiError {
    /// An error without a field.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            extra: Map::new(),
        }
    }

    /// 401: missing or wrong admin token.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
    }

    /// 400: the body is not a JSON object.
    pub fn bad_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_JSON", message)
    }

    /// 422: a field is missing or wrong.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "INVALID_BODY", message);
        e.field = Some(field.to_owned());
        e
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = self.extra;
        body.insert("error".into(), json!(self.message));
        body.insert("code".into(), json!(self.code));
        if let Some(field) = self.field {
            body.insert("field".into(), json!(field));
        }
        (self.status, Json(Value::Object(body))).into_response()
    }
}
