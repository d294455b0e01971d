//! Kubernetes projected service account tokens: accepted when the service account, the
//! namespace claim and the audience match; refused when anything does not.

use super::*;
use crate::harness::*;
use serde_json::json;

#[tokio::test]
async fn a_kubernetes_service_account_token_gets_a_token_both_ways_and_again() {
    let Payments {
        app,
        issuer,
        id,
        token,
        reply,
    } = payments().await;
    let id = id.as_str();
    assert_eq!(jwt_parts(&reply.access_token()).1["sub"], id, "{reply:?}");
    assert!(issuer.discovery_served() >= 1, "discovery was read");
    assert!(issuer.jwks_served() >= 1, "the key set was read");

    // A platform token is meant to be presented again while it lives.
    let again = app.token_by_assertion(&token, Some(id)).await;
    again.granted("the same token again");
    let granted = app.jwt_bearer_grant(&token, Some(id), None).await;
    granted.granted("as the grant");
    assert_eq!(jwt_parts(&granted.access_token()).1["sub"], id);
    let without_id = app.jwt_bearer_grant(&token, None, None).await;
    without_id.granted("the grant without client_id");
    assert_eq!(jwt_parts(&without_id.access_token()).1["sub"], id);
}

#[tokio::test]
async fn a_kubernetes_token_is_refused_when_anything_does_not_match() {
    let Payments {
        app, issuer, id, ..
    } = payments().await;
    let id = id.as_str();

    let other_issuer = TestIssuer::start().await;
    let untrusted = TestKey::rsa();
    let now = unix_now();
    let changed = |change: &dyn Fn(&mut Value)| {
        let mut claims = payments_token_claims(&issuer);
        change(&mut claims);
        issuer.sign(&claims)
    };
    let cases = vec![
        (
            "another service account",
            issuer.sign(&kubernetes_claims(
                issuer.url(),
                "payments",
                "batch",
                ISSUER,
                now,
            )),
        ),
        (
            "the namespace claim differs",
            changed(&|claims| claims["kubernetes.io"]["namespace"] = json!("billing")),
        ),
        (
            "the namespace claim is missing",
            changed(&|claims| {
                claims["kubernetes.io"]
                    .as_object_mut()
                    .map(|object| object.remove("namespace"));
            }),
        ),
        (
            "another audience",
            changed(&|claims| claims["aud"] = json!(["https://kubernetes.default.svc"])),
        ),
        (
            "no audience",
            changed(&|claims| {
                claims.as_object_mut().map(|object| object.remove("aud"));
            }),
        ),
        (
            "from another issuer, with its own key",
            other_issuer.sign(&kubernetes_claims(
                other_issuer.url(),
                "payments",
                "api",
                ISSUER,
                now,
            )),
        ),
        (
            "naming the trusted issuer, signed by another issuer's key",
            other_issuer.sign(&payments_token_claims(&issuer)),
        ),
        (
            "signed by an untrusted key",
            untrusted.sign(&payments_token_claims(&issuer)),
        ),
        (
            "expired",
            changed(&|claims| {
                claims["iat"] = json!(now - 7200);
                claims["nbf"] = json!(now - 7200);
                claims["exp"] = json!(now - 3600);
            }),
        ),
        (
            "not valid before an hour from now",
            changed(&|claims| claims["nbf"] = json!(now + 3600)),
        ),
        (
            "living longer than a day",
            changed(&|claims| claims["exp"] = json!(now + 2 * 86_400)),
        ),
        (
            "alg none",
            unsigned_jwt(issuer.key.kid(), &payments_token_claims(&issuer)),
        ),
        (
            "HS256 keyed with the issuer's public key",
            issuer
                .key
                .sign_hs256_with_public_key(&payments_token_claims(&issuer)),
        ),
    ];
    let wrong = refusals(&app, id, &cases).await;
    assert!(wrong.is_empty(), "not refused:\n{}", wrong.join("\n"));
}
