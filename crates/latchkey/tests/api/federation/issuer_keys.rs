//! Where an issuer's keys come from: its discovery and JWKS, cached while it is away; a
//! pinned `--jwks` with no discovery at all; keys without `alg`, as SPIFFE bundles publish.

use super::*;
use crate::harness::*;
use serde_json::json;

#[tokio::test]
async fn cached_keys_keep_working_while_the_issuer_is_away() {
    let Payments {
        app,
        mut issuer,
        id,
        ..
    } = payments().await;
    let id = id.as_str();

    issuer.stop().await;
    let fresh = issuer.sign(&payments_token_claims(&issuer));
    let reply = app.token_by_assertion(&fresh, Some(id)).await;
    reply.granted("a new token, its key cached");
    let reply = app.jwt_bearer_grant(&fresh, Some(id), None).await;
    reply.granted("as the grant");
    // A key the server never saw cannot be fetched while the issuer is away.
    let unknown = TestKey::rsa();
    app.token_by_assertion(&unknown.sign(&payments_token_claims(&issuer)), Some(id))
        .await
        .assert_error(401, "invalid_client");

    issuer.restart().await;
    let reply = app
        .token_by_assertion(&issuer.sign(&payments_token_claims(&issuer)), Some(id))
        .await;
    reply.granted("after the issuer came back");
}

#[tokio::test]
async fn an_issuer_pinned_with_jwks_works_with_no_discovery() {
    let app = spawn_app().await;
    // An air-gapped cluster's API server: nothing answers at its URL.
    let cluster = "https://kubernetes.default.svc.cluster.local";
    let key = TestKey::rsa();
    let jwks = JsonFile::new(&jwks_of(&[&key]));
    let created = app.create_app("payments", &[]);
    let id = client_id(&created);
    app.add_federation(
        id,
        "in-cluster",
        &[
            "--issuer",
            cluster,
            "--subject",
            "system:serviceaccount:payments:api",
            "--jwks",
            jwks.path(),
        ],
    );
    let token = key.sign(&kubernetes_claims(
        cluster,
        "payments",
        "api",
        ISSUER,
        unix_now(),
    ));

    accepted_as_client(&app, &token, id).await;
    let untrusted = TestKey::rsa().sign(&kubernetes_claims(
        cluster,
        "payments",
        "api",
        ISSUER,
        unix_now(),
    ));
    let wrong = refusals(&app, id, &[("signed by a key not pinned", untrusted)]).await;
    assert!(wrong.is_empty(), "not refused:\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn keys_without_alg_and_tokens_without_jti_are_accepted_as_spiffe_publishes_them() {
    let app = spawn_app().await;
    let trust_domain = "https://spiffe.acme.test";
    let key = TestKey::ec();
    let bundle = JsonFile::new(&json!({"keys": [key.bare_jwk()]}));
    let created = app.create_app("mesh", &[]);
    let id = client_id(&created);
    let subject = "spiffe://acme.test/ns/payments/sa/api";
    app.add_federation(
        id,
        "mesh",
        &[
            "--issuer",
            trust_domain,
            "--subject",
            subject,
            "--audience",
            "latchkey",
            "--jwks",
            bundle.path(),
        ],
    );
    let now = unix_now();
    // A JWT-SVID: sub, aud, exp, iat; no jti.
    let svid = key.sign(&json!({"iss": trust_domain, "sub": subject, "aud": ["latchkey"], "iat": now, "exp": now + 300}));

    accepted_as_client(&app, &svid, id).await;
    let again = app.token_by_assertion(&svid, Some(id)).await;
    again.granted("the same SVID again");
}
