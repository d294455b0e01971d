//! Token profiles: `seed` (the default, the seed document's tokens byte for byte) and
//! `rfc9068` (RFC 9068 JWT access tokens), chosen per tenant with `tenant create|update
//! --token-profile`, checked by the independent verifiers, introspection and oauth4webapi.

use crate::harness::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

async fn worker_with_scopes_a_and_b(app: &TestApp) -> Value {
    app.seed_app(new_app("worker").scopes(&["a", "b"])).await
}

fn header_of(token: &str) -> Value {
    serde_json::from_str(&jwt_parts(token).0).expect("the header is JSON")
}

#[tokio::test]
async fn the_default_profile_is_the_seeds_header_and_claims() {
    let app = spawn_app_with(Setup::default().server_made_key()).await;
    let worker = worker_with_scopes_a_and_b(&app).await;

    let tenant = app.cli_json(&["tenant", "show", "default", "--json"]);
    let token = app.token_for(&worker, Some("a b")).await.access_token();

    assert_eq!(tenant["token_profile"], "seed", "{tenant}");
    let (header, claims) = jwt_parts(&token);
    let kid = jwt_kid(&token);
    assert_eq!(
        header,
        format!(r#"{{"kid":"{kid}","typ":"JWT","alg":"RS256"}}"#)
    );
    let payload = token.split('.').nth(1).expect("a payload segment");
    let payload = URL_SAFE_NO_PAD.decode(payload).expect("base64url");
    let id = client_id(&worker);
    let (iat, jti) = (&claims["iat"], claims["jti"].as_str().unwrap_or_default());
    let exp = &claims["exp"];
    assert_eq!(
        String::from_utf8(payload).expect("UTF-8"),
        format!(
            r#"{{"sub":"{id}","aud":"{id}","nbf":{iat},"scope":["a","b"],"iss":"{ISSUER}","exp":{exp},"iat":{iat},"jti":"{jti}"}}"#
        ),
        "the seed's claims in the seed's order, no client_id"
    );
    verify_token(&app.jwks().await, &token, client_id(&worker), ISSUER)
        .unwrap_or_else(|error| panic!("{error}"));
}

#[tokio::test]
async fn an_rfc9068_tenant_issues_at_jwt_tokens_with_client_id_and_a_space_separated_scope() {
    let app = spawn_app_with(Setup::default().server_made_key()).await;
    let worker = worker_with_scopes_a_and_b(&app).await;
    let updated = app.cli_json(&[
        "tenant",
        "update",
        "default",
        "--token-profile",
        "rfc9068",
        "--json",
    ]);
    assert_eq!(updated["token_profile"], "rfc9068", "{updated}");

    let token = app.token_with_typ(&worker, Some("a b"), "at+jwt").await;

    let kid = jwt_kid(&token);
    let (header, claims) = jwt_parts(&token);
    assert_eq!(
        header,
        format!(r#"{{"kid":"{kid}","typ":"at+jwt","alg":"RS256"}}"#)
    );
    let id = client_id(&worker);
    for (claim, expected) in [("iss", ISSUER), ("aud", id), ("sub", id), ("client_id", id)] {
        assert_eq!(claims[claim], expected, "{claim}: {claims}");
    }
    for claim in ["exp", "iat", "nbf"] {
        assert!(claims[claim].is_i64(), "{claim}: {claims}");
    }
    assert!(
        is_uuid(claims["jti"].as_str().unwrap_or_default()),
        "{claims}"
    );
    let scope = claims["scope"].as_str().expect("scope is a string");
    assert_eq!(scope.split(' ').collect::<Vec<_>>(), ["a", "b"]);
    // The independent verifier accepts it as it accepts the seed's tokens.
    verify_token(&app.jwks().await, &token, id, ISSUER).unwrap_or_else(|error| panic!("{error}"));
}

#[tokio::test]
async fn introspection_agrees_with_either_profile_and_keeps_tokens_of_the_other_active() {
    let app = spawn_app().await;
    let worker = worker_with_scopes_a_and_b(&app).await;
    let seed_token = app.token_for(&worker, Some("a b")).await.access_token();
    app.cli_ok(&["tenant", "update", "default", "--token-profile", "rfc9068"]);
    let rfc9068_token = app.token_with_typ(&worker, Some("a b"), "at+jwt").await;

    for token in [&seed_token, &rfc9068_token] {
        let answer = app.introspect(&worker, token).await;
        assert_eq!(answer["active"], true, "{answer}");
        assert_eq!(answer["scope"], "a b", "{answer}");
        assert_eq!(answer["client_id"], client_id(&worker), "{answer}");
    }
}

#[tokio::test]
async fn switching_back_to_seed_ends_at_jwt_tokens_even_for_an_app_with_token_reuse() {
    let app = spawn_app().await;
    let worker = app.seed_app(new_app("worker").token_reuse(90)).await;
    app.cli_ok(&["tenant", "update", "default", "--token-profile", "rfc9068"]);
    app.token_with_typ(&worker, None, "at+jwt").await;

    app.cli_ok(&["tenant", "update", "default", "--token-profile", "seed"]);
    let token = app.token_with_typ(&worker, None, "JWT").await;

    let (_, claims) = jwt_parts(&token);
    assert!(claims.get("client_id").is_none(), "{claims}");
    assert!(claims["scope"].is_array(), "{claims}");
}

#[tokio::test]
async fn tenant_create_takes_a_token_profile_and_refuses_an_unknown_one() {
    let app = spawn_app().await;

    let created = app
        .seed_tenant(new_tenant("acme", &["acme.test"]).token_profile("rfc9068"))
        .await;
    let refused = app.cli(&[
        "tenant",
        "create",
        "globex",
        "--domain",
        "globex.test",
        "--token-profile",
        "jwt",
    ]);

    assert_eq!(created["token_profile"], "rfc9068", "{created}");
    let worker = app.seed_app(new_app("w").tenant("acme", "acme.test")).await;
    let token = app
        .at("acme.test")
        .token_for(&worker, None)
        .await
        .access_token();
    assert_eq!(header_of(&token)["typ"], "at+jwt");
    assert_eq!(refused.status.code(), Some(2), "{}", describe(&refused));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("seed or rfc9068"), "{stderr}");
}

/// oauth4webapi's `validateJwtAccessToken`, an RFC 9068 resource server's check, accepts an
/// rfc9068 tenant's tokens found through discovery and the JWKS on 127.0.0.1, and refuses the
/// seed's (which is why the profile exists).
#[tokio::test]
async fn oauth4webapi_validates_rfc9068_tokens_and_refuses_seed_tokens() {
    let app = spawn_app().await;
    // The tenant answering on 127.0.0.1, with the issuer the verifier reaches it at.
    let issuer = app.url("");
    app.seed_tenant(
        new_tenant("verified", &["127.0.0.1"])
            .issuer(&issuer)
            .token_profile("rfc9068"),
    )
    .await;
    let worker = app
        .seed_app(
            new_app("w")
                .tenant("verified", "127.0.0.1")
                .scopes(&["orders:read", "orders:write"]),
        )
        .await;
    let token = app
        .at("127.0.0.1")
        .token_for(&worker, Some("orders:read orders:write"))
        .await
        .access_token();
    let verify = async |token: &str| {
        run_js_verifier(
            "verify-rfc9068.mjs",
            &[
                ("ISSUER", issuer.as_str()),
                ("AUDIENCE", client_id(&worker)),
                ("ACCESS_TOKEN", token),
            ],
        )
        .await
    };

    let Some(accepted) = verify(&token).await else {
        return;
    };
    assert_eq!(accepted["ok"], true, "{accepted}");
    assert_eq!(accepted["claims"]["client_id"], client_id(&worker));
    assert_eq!(
        accepted["scopes"],
        serde_json::json!(["orders:read", "orders:write"])
    );

    app.cli_ok(&["tenant", "update", "verified", "--token-profile", "seed"]);
    let seed_token = eventually("the tenant's tokens to be the seed's again", async || {
        let token = app
            .at("127.0.0.1")
            .token_for(&worker, None)
            .await
            .access_token();
        let typ = header_of(&token)["typ"].clone();
        if typ == "JWT" {
            Ok(token)
        } else {
            Err(format!("typ {typ}"))
        }
    })
    .await;
    let refused = verify(&seed_token).await.expect("the verifier ran before");
    assert_eq!(refused["ok"], false, "{refused}");
}
