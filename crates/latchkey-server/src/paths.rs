//! The OAuth endpoint paths: what the router serves, discovery names and assertions are
//! addressed to.

/// RFC 6749 token endpoint.
pub const TOKEN: &str = "/oauth2/token";
/// RFC 7662 token introspection.
pub const INTROSPECT: &str = "/oauth2/introspect";
/// RFC 7009 token revocation.
pub const REVOKE: &str = "/oauth2/revoke";
/// RFC 7517 JWK Set.
pub const JWKS: &str = "/oauth2/jwks";
/// RFC 8414 metadata.
pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
/// OpenID Connect discovery path, serving the same metadata.
pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
/// Liveness: the process serves.
pub const HEALTH: &str = "/healthz";
/// Readiness: whether this node serves tokens, and how fresh its data is.
pub const READY: &str = "/readyz";
