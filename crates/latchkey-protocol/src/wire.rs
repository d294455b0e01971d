//! Response bodies exactly as they travel, shared by the server and its clients.

use serde::{Deserialize, Serialize};

/// The token endpoint's success body, in the seed document's field order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// An OAuth error body (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The error code.
    pub error: String,
    /// A human-readable hint; never secret material.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_description: Option<String>,
}
