//! What bounds one app's growth: at most 200 scopes, settings whose largest token still fits
//! what introspection accepts, and at most 1,000 live self-revocations (past which every token
//! of the app can still be revoked at once).

use crate::harness::*;
use latchkey_protocol::AppSettings;
use latchkey_protocol::app_settings::{MAX_SCOPES, largest_token_bytes};
use latchkey_protocol::introspection::MAX_TOKEN_BYTES;
use latchkey_protocol::revocation::MAX_SELF_REVOCATIONS;
use latchkey_store::RevocationRecord;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn more_than_200_scopes_are_refused_by_the_cli_and_the_admin_api() {
    let admins = admins().await;
    let names: Vec<String> = (0..=MAX_SCOPES).map(|i| format!("s{i}")).collect();
    let mut args = vec!["app", "create", "--name", "wide"];
    for name in &names {
        args.extend(["--scope", name.as_str()]);
    }
    assert_cli_fails(&admins.app, &args, &["at most 200 scopes"]);
    let reply = admins
        .as_root(
            Method::POST,
            "/admin/v1/tenants/default/apps",
            Some(&json!({"name": "wide", "scopes": names})),
        )
        .await;
    assert!(matches!(reply.status.as_u16(), 400 | 422), "{reply:?}");
    assert!(reply.body.contains("at most 200 scopes"), "{reply:?}");
    let allowed = &names[..MAX_SCOPES];
    ok_json(
        &admins
            .as_root(
                Method::POST,
                "/admin/v1/tenants/default/apps",
                Some(&json!({"name": "wide", "scopes": allowed})),
            )
            .await,
        201,
    );
}

/// 200 scopes, the longest audience, and custom claims as large as the bound then lets them be.
fn largest_settings() -> (Vec<String>, String, String) {
    let scopes: Vec<String> = (0..MAX_SCOPES).map(|i| format!("scope:{i:03}")).collect();
    let audience = format!("https://api.test/{}", "a".repeat(2000));
    let mut settings = AppSettings::new(latchkey_protocol::ClientType::M2m);
    settings.scopes = scopes
        .iter()
        .map(|s| latchkey_protocol::Scope::parse(s).unwrap())
        .collect();
    settings.audiences = vec![audience.clone()];
    let claims = |padding: usize| json!({ "pad": "p".repeat(padding) }).to_string();
    let mut padding = 0;
    loop {
        settings.custom_claims = Some(claims(padding + 1));
        if largest_token_bytes(&settings) > MAX_TOKEN_BYTES {
            break;
        }
        padding += 1;
    }
    (scopes, audience, claims(padding))
}

#[tokio::test]
async fn the_largest_token_an_app_may_be_issued_is_introspected_as_active() {
    let app = spawn_app().await;
    let (scopes, audience, claims) = largest_settings();
    let scope_refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let claims: Value = serde_json::from_str(&claims).unwrap();
    let big = app
        .seed_app(
            new_app("big")
                .scopes(&scope_refs)
                .audiences(&[&audience])
                .claims(claims.clone()),
        )
        .await;
    let scope = scopes.join(" ");
    let token = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id(&big)),
            ("client_secret", client_secret(&big)),
            ("scope", &scope),
            ("resource", &audience),
        ])
        .await
        .access_token();
    assert!(token.len() > 11 * 1024, "{} bytes", token.len());
    let answer = app.introspect(&big, &token).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["aud"], audience.as_str());

    // One byte more of claims is refused, through the CLI as through every other way.
    let pad = claims["pad"].as_str().unwrap();
    let more = format!("pad={pad}p");
    assert_cli_fails(
        &app,
        &["app", "update", client_id(&big), "--claim", &more],
        &["introspection accepts"],
    );
}

#[tokio::test]
async fn past_1000_live_self_revocations_an_app_gets_429_and_can_still_revoke_every_token() {
    let app = spawn_app().await;
    let worker = app.seed_app(new_app("worker")).await;
    let id = client_id(&worker).to_owned();
    let store = app.store().await;
    let now = unix_now();
    for i in 0..MAX_SELF_REVOCATIONS {
        let record = RevocationRecord {
            jti: format!("00000000-0000-4000-8000-{i:012}"),
            tenant: "default".into(),
            client_id: Some(id.clone()),
            expires_at: now + 300,
            revoked_at: now,
        };
        store.revoke_token(&record, None).await.unwrap();
    }
    // Until the server has applied the stored revocations, each try revokes a new token.
    let (token, refused) = eventually("the revocations to reach the server", async || {
        let token = app.token_for(&worker, None).await.access_token();
        let reply = app.revoke(&worker, &token).await;
        if reply.status.as_u16() == 429 {
            Ok((token, reply))
        } else {
            Err(format!("{reply:?}"))
        }
    })
    .await;
    refused.assert_error(429, "too_many_requests");
    assert!(refused.header("retry-after").is_some(), "{refused:?}");
    assert_eq!(app.introspect(&worker, &token).await["active"], true);

    app.cli_ok(&["token", "revoke", "--app", &id]);
    app.wait_for_active(&worker, &token, false).await;
}
