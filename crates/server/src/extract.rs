//! Request extractors that turn every malformed input into a clear 4xx with
//! a stable code, instead of axum's plain-text rejections.

use crate::AppState;
use crate::error::{ApiError, lang_of};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use lapor_domain::{Error, ErrorCode, Lang};
use serde::de::DeserializeOwned;

/// The caller's language, from `Accept-Language` (Indonesian by default).
#[derive(Debug, Clone, Copy)]
pub struct ReqLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for ReqLang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ReqLang(lang_of(&parts.headers)))
    }
}

/// JSON body with our error mapping.
pub struct Json<T>(pub T);

fn json_rejection(r: JsonRejection) -> Error {
    match r {
        JsonRejection::MissingJsonContentType(_) => {
            Error::with(ErrorCode::UnsupportedMediaType, "Content-Type: application/json")
        }
        JsonRejection::JsonSyntaxError(e) => {
            let text = e.body_text();
            if text.contains("invalid unicode") || text.contains("UTF-8") || text.contains("utf-8") {
                Error::with(ErrorCode::InvalidEncoding, text)
            } else {
                Error::with(ErrorCode::InvalidJson, text)
            }
        }
        JsonRejection::JsonDataError(e) => Error::validation(e.body_text()),
        JsonRejection::BytesRejection(e) => {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::new(ErrorCode::BodyTooLarge)
            } else {
                Error::with(ErrorCode::InvalidJson, e.body_text())
            }
        }
        other => Error::with(ErrorCode::InvalidJson, other.body_text()),
    }
}

impl<T: DeserializeOwned> FromRequest<AppState> for Json<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = lang_of(req.headers());
        // Check the encoding ourselves so that invalid UTF-8 is named as such.
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, state.config.max_body_bytes)
            .await
            .map_err(|_| ApiError::new(Error::new(ErrorCode::BodyTooLarge), lang))?;
        if std::str::from_utf8(&bytes).is_err() {
            return Err(ApiError::new(Error::new(ErrorCode::InvalidEncoding), lang));
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(r) => Err(ApiError::new(json_rejection(r), lang)),
        }
    }
}

/// Query string with our error mapping.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let lang = lang_of(&parts.headers);
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                Err(ApiError::new(Error::with(ErrorCode::InvalidQuery, e.body_text()), lang))
            }
            Err(e) => Err(ApiError::new(Error::with(ErrorCode::InvalidQuery, e.body_text()), lang)),
        }
    }
}
