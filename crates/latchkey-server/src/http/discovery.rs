//! Authorization server metadata (RFC 8414), served at both well-known paths.

use super::error::OAuthError;
use super::extract::TenantHost;
use super::{AppState, paths, response};
use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use latchkey_keys::public_keys::ASSERTION_ALGORITHMS;
use latchkey_protocol::GrantType;
use latchkey_protocol::assertion::JWT_BEARER_GRANT;
use latchkey_protocol::client_auth::SUPPORTED_AUTH_METHODS;
use serde::Serialize;

#[derive(Serialize)]
struct Metadata<'a> {
    issuer: &'a str,
    token_endpoint: String,
    jwks_uri: String,
    introspection_endpoint: String,
    revocation_endpoint: String,
    grant_types_supported: [&'static str; 2],
    token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// What a `private_key_jwt` assertion may be signed with (RFC 8414 §2): never `none` or
    /// an HMAC.
    token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    introspection_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    revocation_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    /// RFC 8414 makes this member required; latchkey has no authorization endpoint, so the
    /// honest list is empty.
    response_types_supported: [&'static str; 0],
    /// Left out when the tenant does not publish its scopes (RFC 8414 makes it optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    scopes_supported: Option<Vec<&'a str>>,
    /// The algorithms access tokens are signed with (RFC 9068 resource servers read this).
    token_signing_alg_values_supported: Vec<&'static str>,
}

pub(crate) async fn metadata(
    State(state): State<AppState>,
    host: TenantHost,
) -> Result<Response, OAuthError> {
    let snapshot = state.registry.current();
    let tenant = host.tenant(&snapshot)?;
    let issuer = tenant.issuer.as_str();
    let auth_methods: Vec<&'static str> = SUPPORTED_AUTH_METHODS
        .iter()
        .map(|method| method.as_str())
        .collect();
    let assertion_algs: Vec<&'static str> = ASSERTION_ALGORITHMS
        .iter()
        .map(|alg| alg.as_str())
        .collect();
    let metadata = Metadata {
        issuer,
        token_endpoint: format!("{issuer}{}", paths::TOKEN),
        jwks_uri: format!("{issuer}{}", paths::JWKS),
        introspection_endpoint: format!("{issuer}{}", paths::INTROSPECT),
        revocation_endpoint: format!("{issuer}{}", paths::REVOKE),
        grant_types_supported: [GrantType::ClientCredentials.as_str(), JWT_BEARER_GRANT],
        token_endpoint_auth_methods_supported: auth_methods.clone(),
        token_endpoint_auth_signing_alg_values_supported: assertion_algs.clone(),
        introspection_endpoint_auth_signing_alg_values_supported: assertion_algs.clone(),
        revocation_endpoint_auth_signing_alg_values_supported: assertion_algs,
        introspection_endpoint_auth_methods_supported: auth_methods.clone(),
        revocation_endpoint_auth_methods_supported: auth_methods,
        response_types_supported: [],
        scopes_supported: tenant.scopes_supported(),
        token_signing_alg_values_supported: tenant.signing_algorithms(),
    };
    let mut response = response::json_value(StatusCode::OK, &metadata);
    response.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(response)
}
