//! JWTs: their parts, independent verification with `jsonwebtoken`, and tokens forged with a
//! key the server trusts.

use super::{Http, TestApp, eventually};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::Value;

/// The raw JSON text of a JWT's header and its claims as JSON.
pub(crate) fn jwt_parts(token: &str) -> (String, Value) {
    let segments: Vec<&str> = token.split('.').collect();
    assert_eq!(
        segments.len(),
        3,
        "a compact JWS has three segments: {token}"
    );
    let header = URL_SAFE_NO_PAD
        .decode(segments[0])
        .expect("the header is base64url without padding");
    let claims = URL_SAFE_NO_PAD
        .decode(segments[1])
        .expect("the claims are base64url without padding");
    let header = String::from_utf8(header).expect("the header is UTF-8");
    let claims = serde_json::from_slice(&claims).expect("the claims are JSON");
    (header, claims)
}

/// The `kid` of a JWT's header.
pub(crate) fn jwt_kid(token: &str) -> String {
    let (header, _) = jwt_parts(token);
    let header: Value = serde_json::from_str(&header).expect("the header is JSON");
    header["kid"]
        .as_str()
        .expect("the header has a string kid")
        .to_owned()
}

/// Verifies `token` independently, with `jsonwebtoken`: RS256 only, against the JWKS key named
/// by its `kid`, with `aud` = `audience` and `iss` = `issuer`. Returns the claims.
pub(crate) fn verify_token(
    jwks: &Value,
    token: &str,
    audience: &str,
    issuer: &str,
) -> Result<Value, String> {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    let header =
        jsonwebtoken::decode_header(token).map_err(|error| format!("bad header: {error}"))?;
    let kid = header.kid.ok_or("the token has no kid")?;
    let keys = jwks["keys"]
        .as_array()
        .ok_or("the JWKS has no keys array")?;
    let jwk = keys
        .iter()
        .find(|key| key["kid"] == kid.as_str())
        .ok_or(format!("kid {kid} is not in the JWKS"))?;
    let member = |name: &str| jwk[name].as_str().ok_or(format!("the JWK has no {name}"));
    let (key, algorithm) = match jwk["kty"].as_str() {
        Some("RSA") => (
            DecodingKey::from_rsa_components(member("n")?, member("e")?),
            Algorithm::RS256,
        ),
        Some("EC") => (
            DecodingKey::from_ec_components(member("x")?, member("y")?),
            Algorithm::ES256,
        ),
        Some("OKP") => (
            DecodingKey::from_ed_components(member("x")?),
            Algorithm::EdDSA,
        ),
        other => return Err(format!("unknown key type {other:?}")),
    };
    let key = key.map_err(|error| format!("bad JWK: {error}"))?;
    if header.alg != algorithm {
        return Err(format!(
            "header alg {:?} is not the key's {algorithm:?}",
            header.alg
        ));
    }
    let mut validation = Validation::new(algorithm);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
    validation.validate_nbf = true;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|error| format!("verification failed: {error}"))
}

/// Claims shaped like latchkey's, for forged tokens.
pub(crate) fn claims_for(client_id: &str, issuer: &str, iat: i64, exp: i64) -> Value {
    serde_json::json!({
        "sub": client_id, "aud": client_id, "nbf": iat, "scope": [], "iss": issuer,
        "exp": exp, "iat": iat, "jti": uuid_like(iat),
    })
}

fn uuid_like(seed: i64) -> String {
    format!(
        "00000000-0000-4000-8000-{:012x}",
        seed.unsigned_abs() % 0x1_0000_0000_0000
    )
}

impl TestApp {
    /// Signs `claims` with the stored key `kid`, unsealed with the master key: a token the
    /// server would never issue, made with a key it trusts.
    pub(crate) async fn forge_with_stored_key(&self, kid: &str, claims: &Value) -> String {
        let record = self
            .stored_keys()
            .await
            .into_iter()
            .find(|key| key.kid == kid)
            .unwrap_or_else(|| panic!("no stored key {kid}"));
        let pkcs8 = self.master_keys().open(&record).expect("unsealing the key");
        let alg = record.alg.parse().expect("a known algorithm");
        latchkey_keys::Signer::from_pkcs8(kid, alg, &pkcs8)
            .expect("parsing the key")
            .sign_jwt(claims)
            .expect("signing")
    }
}

impl Http {
    /// Polls for `app`'s token until its header's `typ` is `typ`: a
    /// tenant's new token profile has reached the server. Returns that token.
    pub(crate) async fn token_with_typ(
        &self,
        app: &Value,
        scope: Option<&str>,
        typ: &str,
    ) -> String {
        eventually(&format!("a token with typ {typ}"), async || {
            let reply = self.token_for(app, scope).await;
            if reply.status != StatusCode::OK {
                return Err(format!("{reply:?}"));
            }
            let token = reply.access_token();
            let (header, _) = jwt_parts(&token);
            let header: Value = serde_json::from_str(&header).expect("the header is JSON");
            if header["typ"] == typ {
                Ok(token)
            } else {
                Err(format!("header {header}"))
            }
        })
        .await
    }
}
