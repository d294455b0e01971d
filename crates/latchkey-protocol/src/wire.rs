//! Response bodies exactly as they travel, shared by the server and its clients.

use serde::{Deserialize, Serialize};

/// The token endpoint's success body, in the seed document's field order. Its `Debug` leaves
/// the access token out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The signed JWT.
    pub access_token: String,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field("scope", &self.scope)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// An OAuth error body (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The error code.
    pub error: String,
    /// A human-readable hint; never secret material.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_description: Option<String>,
}

/// An `aud` claim: one audience or several (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience, as latchkey issues it.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

/// The introspection answer (RFC 7662 §2.2): `{"active": false}` and nothing more for an
/// inactive token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntrospectionResponse {
    /// Whether the token is active.
    pub active: bool,
    /// The token's details, only when active.
    #[serde(flatten, skip_serializing_if = "Option::is_none", default)]
    pub token: Option<ActiveToken>,
}

impl IntrospectionResponse {
    /// The answer for any token that is not active.
    pub fn inactive() -> IntrospectionResponse {
        IntrospectionResponse {
            active: false,
            token: None,
        }
    }
}

/// What introspection tells about an active token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveToken {
    /// Granted scopes, space-separated.
    pub scope: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Expiry.
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Subject (the client id).
    pub sub: String,
    /// Audience.
    pub aud: Audience,
    /// Issuer.
    pub iss: String,
    /// Token id.
    pub jti: String,
}
