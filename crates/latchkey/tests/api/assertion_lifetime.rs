//! A tenant's own limit on `private_key_jwt` assertion lifetimes: an assertion the default hour
//! admits is refused by a tenant with a shorter limit, one within the limit is accepted, and
//! the tenant going back to the default admits the longer one again, on the running server.

use crate::harness::*;
use latchkey_keys::{Algorithm, Signer, generate_private_key};
use serde_json::json;
use std::sync::atomic::{AtomicU32, Ordering};
use tempfile::TempDir;

const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An app of `tenant` that authenticates with a key of its own (no secret), and that key.
struct KeyedApp {
    client_id: String,
    signer: Signer,
    // Holds the JWK Set file the CLI read.
    _files: TempDir,
}

impl KeyedApp {
    fn create(app: &TestApp, tenant: &str) -> KeyedApp {
        let pkcs8 = generate_private_key(Algorithm::Es256).expect("a new key");
        let signer = Signer::from_pkcs8("k1", Algorithm::Es256, &pkcs8).expect("a signer");
        let files = tempfile::tempdir().expect("a temporary directory");
        let path = files.path().join("keys.json");
        let jwks = json!({ "keys": [signer.public_jwk()] });
        std::fs::write(&path, jwks.to_string()).expect("writing the JWK Set");
        let path = path.to_str().expect("a UTF-8 path");
        let created = app.cli_json(&[
            "app", "create", "--tenant", tenant, "--name", "keyed", "--jwks", path, "--json",
        ]);
        KeyedApp {
            client_id: client_id(&created).to_owned(),
            signer,
            _files: files,
        }
    }

    /// A client assertion for `audience` that lives `lifetime` seconds from now, with a `jti`
    /// never used before (a replayed one is refused for that reason alone).
    fn assertion(&self, audience: &str, lifetime: i64) -> String {
        static NEXT_JTI: AtomicU32 = AtomicU32::new(0);
        let jti = NEXT_JTI.fetch_add(1, Ordering::Relaxed);
        let iat = unix_now();
        let claims = json!({
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": audience,
            "iat": iat,
            "exp": iat + lifetime,
            "jti": format!("assertion-{jti}"),
        });
        self.signer
            .sign_jwt(&claims)
            .expect("signing the assertion")
    }

    /// Asks `server` for a token with an assertion for `audience` living `lifetime` seconds.
    async fn token_request(&self, server: &Http, audience: &str, lifetime: i64) -> Reply {
        let assertion = self.assertion(audience, lifetime);
        server
            .post_token(&[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", CLIENT_ASSERTION_TYPE),
                ("client_assertion", &assertion),
            ])
            .await
    }

    /// Waits until `server` admits an assertion living `lifetime` seconds: the app is served
    /// (the CLI wrote it to the database, which the server follows) and the limit allows it.
    async fn wait_until_admitted(&self, server: &Http, audience: &str, lifetime: i64) {
        eventually(
            &format!("a {lifetime} s assertion of {} admitted", self.client_id),
            async || {
                let reply = self.token_request(server, audience, lifetime).await;
                match reply.status.as_u16() {
                    200 => Ok(()),
                    _ => Err(format!("{reply:?}")),
                }
            },
        )
        .await;
    }
}

/// Creates tenant `acme` with this limit on assertion lifetimes, through the CLI, and returns
/// its host once the server routes it.
async fn acme_limited_to(app: &TestApp, limit: &str) -> Http {
    app.cli_ok(&[
        "tenant",
        "create",
        "acme",
        "--domain",
        ACME_HOST,
        "--max-assertion-lifetime",
        limit,
    ]);
    let acme = app.at(ACME_HOST);
    acme.wait_for_issuer(ACME_ISSUER).await;
    acme
}

#[tokio::test]
async fn a_tenant_with_a_five_minute_limit_refuses_a_ten_minute_assertion_the_default_admits() {
    let app = spawn_app().await;
    let acme = acme_limited_to(&app, "5m").await;
    let limited = KeyedApp::create(&app, "acme");
    let unlimited = KeyedApp::create(&app, "default");
    let default_issuer = app.issuer().await.expect("the default tenant's issuer");

    // Within the limit: also how the test knows the server serves the app.
    limited.wait_until_admitted(&acme, ACME_ISSUER, 300).await;
    let ten_minutes = limited.token_request(&acme, ACME_ISSUER, 600).await;
    // The default tenant keeps the default hour.
    unlimited
        .wait_until_admitted(&app, &default_issuer, 600)
        .await;

    assert!(
        ten_minutes.is_invalid_client(),
        "longer than the tenant allows: {ten_minutes:?}"
    );
    assert!(
        !ten_minutes.body.contains("lifetime"),
        "the answer does not say which check failed: {ten_minutes:?}"
    );
}

#[tokio::test]
async fn a_tenant_back_on_the_default_limit_admits_the_longer_assertion_again() {
    let app = spawn_app().await;
    let acme = acme_limited_to(&app, "300s").await;
    let keyed = KeyedApp::create(&app, "acme");
    keyed.wait_until_admitted(&acme, ACME_ISSUER, 300).await;
    let refused = keyed.token_request(&acme, ACME_ISSUER, 600).await;

    app.cli_ok(&["tenant", "update", "acme", "--default-assertion-lifetime"]);

    assert!(refused.is_invalid_client(), "{refused:?}");
    keyed.wait_until_admitted(&acme, ACME_ISSUER, 600).await;
    let over_an_hour = keyed.token_request(&acme, ACME_ISSUER, 3_601).await;
    assert!(
        over_an_hour.is_invalid_client(),
        "the default is also the most: {over_an_hour:?}"
    );
}
