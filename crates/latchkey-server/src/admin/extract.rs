//! Request extractors whose failures answer in the admin API's error shape.

use super::error::AdminError;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use std::fmt::Display;
use std::str::FromStr;

/// Largest accepted admin request body.
const MAX_BODY_BYTES: usize = 256 * 1024;

/// A JSON object body; an empty body reads as `{}` (so optional bodies may be left out).
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = AdminError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, AdminError> {
        let body = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| {
                AdminError::BadRequest(format!(
                    "the request body could not be read, or is larger than {MAX_BODY_BYTES} bytes"
                ))
            })?;
        read_json(&body).map(JsonBody)
    }
}

/// Reads a JSON object body as `JsonBody` does, from its bytes.
pub(crate) fn read_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AdminError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    // serde's derived `Deserialize` also reads a struct from a JSON array (its fields in
    // order), so `["name"]` would pass for `{"name": ...}`: only an object is a body here.
    if body.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&b'{') {
        return Err(AdminError::BadRequest(
            "the request body must be a JSON object".into(),
        ));
    }
    serde_json::from_slice(body)
        .map_err(|error| AdminError::BadRequest(format!("invalid JSON body: {error}")))
}

/// A value given as text (a query parameter) read through its `FromStr`, so a value the type
/// refuses is a malformed request like any other bad query.
pub(crate) fn parsed<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: Display,
{
    String::deserialize(deserializer)?
        .parse()
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// Query parameters.
pub(crate) struct QueryParams<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AdminError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(query)| QueryParams(query))
            .map_err(|rejection| AdminError::BadRequest(rejection.body_text()))
    }
}
