//! What the OAuth handlers take from a request besides the state: the Host that picks their
//! tenant, and a bounded form body. Refusals are `OAuthError`s, answered like any other.

use super::error::OAuthError;
use crate::registry::{Snapshot, TenantState};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{CONTENT_LENGTH, HOST};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use latchkey_protocol::TokenError;
use latchkey_protocol::form::MAX_BODY_BYTES;
use std::convert::Infallible;
use std::sync::Arc;

/// The request's Host header: the one way a handler finds its tenant, with `tenant`. The
/// header is kept rather than looked up at once, so that the tenant comes from the same
/// snapshot as everything else the handler reads, taken after the body has arrived.
#[derive(Debug, Clone, Default)]
pub(crate) struct TenantHost(Option<HeaderValue>);

impl<S: Send + Sync> FromRequestParts<S> for TenantHost {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(TenantHost(parts.headers.get(HOST).cloned()))
    }
}

impl TenantHost {
    /// The tenant answering this Host in `snapshot` (`Snapshot::tenant_for_host`: the one that
    /// claims it, else `default`). A Host no tenant serves under `--strict-hosts` is a 404, the
    /// answer to a path that does not exist.
    pub(crate) fn tenant<'s>(
        &self,
        snapshot: &'s Snapshot,
    ) -> Result<&'s Arc<TenantState>, OAuthError> {
        let host = self.0.as_ref().and_then(|value| value.to_str().ok());
        snapshot.tenant_for_host(host).ok_or(OAuthError::NotFound)
    }
}

/// A form body of at most `MAX_BODY_BYTES`.
pub(crate) struct FormBody(pub(crate) Bytes);

impl<S: Send + Sync> FromRequest<S> for FormBody {
    type Rejection = OAuthError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, OAuthError> {
        let (parts, body) = request.into_parts();
        form_body(&parts.headers, body).await.map(FormBody)
    }
}

/// Reads a form body of at most `MAX_BODY_BYTES`, answering 413 past that: at once when the
/// declared length says so, else once the limit is reached.
async fn form_body(headers: &HeaderMap, body: Body) -> Result<Bytes, OAuthError> {
    let declared_too_large = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|length| length > MAX_BODY_BYTES);
    if declared_too_large {
        return Err(TokenError::PayloadTooLarge.into());
    }
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|error| {
            let over_limit =
                std::iter::successors(Some(&error as &dyn std::error::Error), |e| e.source())
                    .any(|cause| cause.is::<http_body_util::LengthLimitError>());
            if over_limit {
                TokenError::PayloadTooLarge.into()
            } else {
                // Cut off mid-body (a broken chunk, fewer bytes than Content-Length).
                TokenError::InvalidRequest("the request body could not be read in full").into()
            }
        })
}

/// A header's value as text, if present and visible ASCII.
pub(crate) fn header(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(headers: &[(HeaderName, &str)], body: Body) -> Result<Bytes, OAuthError> {
        let mut request = Request::new(body);
        for (name, value) in headers {
            let value = HeaderValue::from_str(value).unwrap();
            request.headers_mut().insert(name.clone(), value);
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime
            .block_on(FormBody::from_request(request, &()))
            .map(|FormBody(bytes)| bytes)
    }

    #[test]
    fn a_body_within_the_limit_is_read_whole() {
        let form = "grant_type=client_credentials";
        assert_eq!(read(&[], Body::from(form)).unwrap(), form.as_bytes());
        let full = "x".repeat(MAX_BODY_BYTES);
        assert_eq!(
            read(&[], Body::from(full.clone())).unwrap().len(),
            full.len()
        );
    }

    #[test]
    fn a_declared_length_over_the_limit_is_413_before_reading() {
        let declared = (MAX_BODY_BYTES + 1).to_string();
        assert_eq!(
            read(&[(CONTENT_LENGTH, &declared)], Body::empty()),
            Err(OAuthError::Token(TokenError::PayloadTooLarge))
        );
    }

    #[test]
    fn a_body_over_the_limit_is_413_without_a_declared_length() {
        let body = Body::from("x".repeat(MAX_BODY_BYTES + 1));
        assert_eq!(
            read(&[], body),
            Err(OAuthError::Token(TokenError::PayloadTooLarge))
        );
    }

    #[test]
    fn an_unserved_host_is_404() {
        // A snapshot without tenants serves no host, not even through `default`.
        let snapshot = Snapshot::default();
        let host = TenantHost(Some(HeaderValue::from_static("auth.example.com")));
        assert_eq!(host.tenant(&snapshot).err(), Some(OAuthError::NotFound));
        assert_eq!(
            TenantHost::default().tenant(&snapshot).err(),
            Some(OAuthError::NotFound)
        );
    }
}
