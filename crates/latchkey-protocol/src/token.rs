//! The token endpoint's request rules: `TokenForm` (parameters as received) becomes a checked
//! `TokenRequest`, and `decide` turns a request and the client it names into a `Grant`.

use crate::assertion::JWT_BEARER_GRANT;
use crate::claims::{AccessTokenClaims, Rfc9068Claims, SpaceSeparated, TokenProfile};
use crate::client::{Client, GrantType};
use crate::client_auth::{self, Assertion, AuthForm, AuthMethod, ClientCredentials};
use crate::error::TokenError;
use crate::secret::ClientSecret;
use crate::wire::TokenResponse;
use crate::{form, scope};

pub use crate::form::MAX_BODY_BYTES;

/// The token endpoint's parameters exactly as received (see `form::parse` for the rules).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TokenForm {
    /// `grant_type`.
    pub grant_type: Option<String>,
    /// `client_id`.
    pub client_id: Option<String>,
    /// `client_secret`, redacted in `Debug`.
    pub client_secret: Option<ClientSecret>,
    /// `scope`.
    pub scope: Option<String>,
    /// RFC 8707 `resource`: the audience the token is for.
    pub resource: Option<String>,
    /// `audience`, the name several hosted services give to the same request.
    pub audience: Option<String>,
    /// `client_assertion_type` (RFC 7523 §2.2).
    pub client_assertion_type: Option<String>,
    /// `client_assertion`.
    pub client_assertion: Option<String>,
    /// `assertion`, the JWT bearer grant's (RFC 7523 §2.1).
    pub assertion: Option<String>,
}

impl TokenForm {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn parse(body: &[u8]) -> Result<TokenForm, TokenError> {
        let [
            grant_type,
            client_id,
            client_secret,
            scope,
            resource,
            audience,
            client_assertion_type,
            client_assertion,
            assertion,
        ] = form::parse(
            body,
            [
                "grant_type",
                "client_id",
                "client_secret",
                "scope",
                "resource",
                "audience",
                "client_assertion_type",
                "client_assertion",
                "assertion",
            ],
        )?;
        Ok(TokenForm {
            grant_type,
            client_id,
            client_secret: client_secret.map(ClientSecret::new),
            scope,
            resource,
            audience,
            client_assertion_type,
            client_assertion,
            assertion,
        })
    }
}

/// Which grant a token request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantKind {
    /// RFC 6749 §4.4: the client authenticates itself.
    ClientCredentials,
    /// RFC 7523 §2.1: an external identity token that an app's federation rule trusts is the
    /// grant; `credentials` then only name the app (a `client_id`, or none).
    JwtBearer(Assertion),
}

/// A checked token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// The grant asked for.
    pub grant: GrantKind,
    /// The client's credentials and how they were sent. For the JWT bearer grant, the
    /// `client_id` given (empty when none) with `AuthMethod::None`.
    pub credentials: ClientCredentials,
    /// The raw `scope` parameter; checked after the client is authenticated, so that an
    /// unauthenticated caller learns nothing from scope errors.
    pub scope: Option<String>,
    /// The audience named by `resource` or `audience`; checked after authentication too.
    pub audience: Option<String>,
}

/// Parses a token request from the `Content-Type` and `Authorization` header values and the body.
pub fn parse(
    content_type: Option<&str>,
    authorization: Option<&str>,
    body: &[u8],
) -> Result<TokenRequest, TokenError> {
    form::check_content_type(content_type)?;
    let mut form = TokenForm::parse(body)?;
    let jwt_bearer = match form.grant_type.as_deref() {
        None => return Err(TokenError::InvalidRequest("grant_type is missing")),
        Some(grant) if grant == GrantType::ClientCredentials.as_str() => false,
        Some(JWT_BEARER_GRANT) => true,
        Some(_) => return Err(TokenError::UnsupportedGrantType),
    };
    let audience = match (form.resource.take(), form.audience.take()) {
        (Some(resource), Some(audience)) if resource != audience => {
            return Err(TokenError::InvalidRequest(
                "resource and audience name different audiences: give one",
            ));
        }
        (resource, audience) => resource.or(audience),
    };
    if jwt_bearer {
        return jwt_bearer_request(authorization, form, audience);
    }
    let credentials = client_auth::credentials(
        authorization,
        AuthForm {
            client_id: form.client_id,
            client_secret: form.client_secret,
            client_assertion_type: form.client_assertion_type,
            client_assertion: form.client_assertion,
        },
    )?;
    Ok(TokenRequest {
        grant: GrantKind::ClientCredentials,
        credentials,
        scope: form.scope,
        audience,
    })
}

/// A JWT bearer grant request: its assertion is the only credential, so a secret or a client
/// assertion beside it is a second method (RFC 7523 §3.1 leaves client authentication to
/// the server; latchkey trusts the assertion alone, as the workload identity flows do).
fn jwt_bearer_request(
    authorization: Option<&str>,
    form: TokenForm,
    audience: Option<String>,
) -> Result<TokenRequest, TokenError> {
    let assertion = form
        .assertion
        .ok_or(TokenError::InvalidRequest("assertion is missing"))?;
    let authenticates = client_auth::parse_basic(authorization)?.is_some()
        || form.client_secret.is_some()
        || form.client_assertion.is_some()
        || form.client_assertion_type.is_some();
    if authenticates {
        return Err(TokenError::InvalidRequest(
            "the jwt-bearer grant's assertion is its credential: send no client secret or client assertion with it",
        ));
    }
    Ok(TokenRequest {
        grant: GrantKind::JwtBearer(Assertion::new(assertion)),
        credentials: ClientCredentials {
            client_id: form.client_id.unwrap_or_default(),
            secret: None,
            assertion: None,
            method: AuthMethod::None,
        },
        scope: form.scope,
        audience,
    })
}

/// The decision to issue a token: who, which scopes, and when it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant<'c> {
    /// The authenticated client.
    pub client: &'c Client,
    /// Granted scopes, borrowed from the client's allowed scopes.
    pub scopes: Vec<&'c str>,
    /// The audience asked for, borrowed from the client's allowed audiences; `None` means the
    /// client id (the seed's `aud`).
    pub audience: Option<&'c str>,
    /// Issued at (and not before), unix seconds.
    pub issued_at: i64,
    /// Expiry, unix seconds.
    pub expires_at: i64,
}

/// Decides a token request. `client` is the entry found for the claimed client id, if any.
pub fn decide<'c>(
    client: Option<&'c Client>,
    request: &TokenRequest,
    now: i64,
) -> Result<Grant<'c>, TokenError> {
    // A public client has no secret to check: identifying it is enough to refuse the grant.
    if client.is_some_and(|c| c.enabled) {
        refuse_public(client)?;
    }
    let client = client_auth::authenticate(client, &request.credentials, now)?;
    decide_authenticated(client, request, now)
}

fn refuse_public(client: Option<&Client>) -> Result<(), TokenError> {
    if client.is_some_and(|c| !c.client_type.is_confidential()) {
        return Err(TokenError::UnauthorizedClient(
            "public clients (spa, native) cannot use the client_credentials grant",
        ));
    }
    Ok(())
}

/// Decides a token request whose client is already authenticated (by a client assertion or
/// the JWT bearer grant's assertion, checked by the server): the decision after
/// authentication, the same as for a secret. Tokens from an assertion are client credentials
/// tokens, so the app must be allowed that grant.
pub fn decide_authenticated<'c>(
    client: &'c Client,
    request: &TokenRequest,
    now: i64,
) -> Result<Grant<'c>, TokenError> {
    refuse_public(Some(client))?;
    if !client.grant_types.contains(GrantType::ClientCredentials) {
        return Err(TokenError::UnauthorizedClient(
            "this app is not allowed the client_credentials grant",
        ));
    }
    let scopes = scope::decide(
        request.scope.as_deref(),
        &client.scopes,
        &client.default_scopes,
    )?;
    let audience = match request.audience.as_deref() {
        None => None,
        Some(asked) if !crate::app_settings::is_absolute_uri(asked) => {
            return Err(TokenError::InvalidTarget(
                "resource must be an absolute URI without a fragment",
            ));
        }
        Some(asked) => Some(
            client
                .audiences
                .iter()
                .find(|allowed| *allowed == asked)
                .ok_or(TokenError::InvalidTarget(
                    "this app may not get tokens for this resource",
                ))?
                .as_str(),
        ),
    };
    Ok(Grant {
        client,
        scopes,
        audience,
        issued_at: now,
        expires_at: now + i64::from(client.token_ttl),
    })
}

impl<'c> Grant<'c> {
    /// The access token's claims. `sub` is the client id; so is `aud` unless the request named
    /// an audience, as in the seed.
    pub fn claims<'g>(&'g self, issuer: &'g str, jti: &'g str) -> AccessTokenClaims<'g> {
        AccessTokenClaims {
            sub: &self.client.client_id,
            aud: self.audience.unwrap_or(&self.client.client_id),
            nbf: self.issued_at,
            scope: &self.scopes,
            iss: issuer,
            exp: self.expires_at,
            iat: self.issued_at,
            jti,
        }
    }

    /// The claims of an RFC 9068 access token: the seed's, with `client_id` and `scope` as a
    /// space-separated string.
    pub fn rfc9068_claims<'g>(&'g self, issuer: &'g str, jti: &'g str) -> Rfc9068Claims<'g> {
        Rfc9068Claims {
            iss: issuer,
            exp: self.expires_at,
            aud: self.audience.unwrap_or(&self.client.client_id),
            sub: &self.client.client_id,
            client_id: &self.client.client_id,
            iat: self.issued_at,
            jti,
            nbf: self.issued_at,
            scope: SpaceSeparated(&self.scopes),
        }
    }

    /// The JWT payload: the profile's claims in its order, then the app's custom claims. The
    /// custom claims were validated and serialized once, when the snapshot was loaded; they are
    /// spliced in before the closing brace, so an app without them costs exactly one
    /// serialization and one with them no re-parse.
    pub fn payload(
        &self,
        profile: TokenProfile,
        issuer: &str,
        jti: &str,
    ) -> Result<Vec<u8>, serde_json::Error> {
        let mut payload = match profile {
            TokenProfile::Seed => serde_json::to_vec(&self.claims(issuer, jti))?,
            TokenProfile::Rfc9068 => serde_json::to_vec(&self.rfc9068_claims(issuer, jti))?,
        };
        if let Some(extra) = self.client.custom_claims.as_deref()
            && payload.last() == Some(&b'}')
        {
            payload.pop();
            payload.push(b',');
            payload.extend_from_slice(extra.as_bytes());
            payload.push(b'}');
        }
        Ok(payload)
    }

    /// The success body for a token issued earlier and handed out again (token reuse):
    /// `expires_in` counts down to the reused token's expiry.
    pub fn reused_response(&self, access_token: String, expires_at: i64) -> TokenResponse {
        TokenResponse {
            access_token,
            scope: self.scopes.join(" "),
            token_type: "Bearer".to_owned(),
            expires_in: u64::try_from(expires_at - self.issued_at).unwrap_or(0),
        }
    }

    /// The success body for the signed token.
    pub fn response(&self, access_token: String) -> TokenResponse {
        TokenResponse {
            access_token,
            scope: self.scopes.join(" "),
            token_type: "Bearer".to_owned(),
            expires_in: u64::try_from(self.expires_at - self.issued_at).unwrap_or(0),
        }
    }
}

/// Token reuse: whether a token issued at `issued_at` and expiring at `expires_at` still has at
/// least `percent` of its life left at `now`, so an identical request may get it again.
pub fn reusable(issued_at: i64, expires_at: i64, percent: u8, now: i64) -> bool {
    let life = expires_at - issued_at;
    let left = expires_at - now;
    life > 0 && left > 0 && left * 100 >= life * i64::from(percent)
}

#[cfg(test)]
mod tests;
