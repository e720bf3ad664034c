//! HTTP face of the one error type: a JSON body with the stable code and a
//! message in the caller's language.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lapor_domain::{Error, ErrorCode, Lang};
use serde::Serialize;
use utoipa::ToSchema;

/// Error body returned by every endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `stale_version`.
    pub code: String,
    /// Human-readable message in Indonesian or English (Accept-Language).
    pub message: String,
    /// Which field or value is at fault, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// An error bound to the language it will be rendered in.
#[derive(Debug)]
pub struct ApiError {
    pub error: Error,
    pub lang: Lang,
}

impl ApiError {
    pub fn new(error: Error, lang: Lang) -> Self {
        ApiError { error, lang }
    }
}

pub fn error_response(error: &Error, lang: Lang) -> Response {
    let status = StatusCode::from_u16(error.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // Internal details stay in the log, not in the response.
    let detail = if error.code == ErrorCode::Internal {
        None
    } else {
        error.detail.clone()
    };
    if status.is_server_error() {
        tracing::error!(code = error.code.as_str(), detail = ?error.detail, "request failed");
    }
    let body = ErrorBody {
        error: ErrorDetail {
            code: error.code.as_str().to_string(),
            message: error.code.message(lang).to_string(),
            detail,
        },
    };
    let mut resp = (status, axum::Json(body)).into_response();
    let lang_tag = match lang {
        Lang::Id => "id",
        Lang::En => "en",
    };
    resp.headers_mut()
        .insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang_tag));
    crate::throttle::mark_retry(&mut resp, error);
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(&self.error, self.lang)
    }
}

pub fn lang_of(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or_default()
}
