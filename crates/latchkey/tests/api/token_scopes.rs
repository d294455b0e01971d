//! The scopes of a token request: defaults when none is named, several, duplicates, and scopes
//! refused (only once the client is authenticated).

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeSet;

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

fn scope_claim(claims: &Value) -> Vec<String> {
    claims["scope"]
        .as_array()
        .unwrap_or_else(|| panic!("the scope claim is not a JSON array: {claims}"))
        .iter()
        .map(|scope| scope.as_str().expect("scopes are strings").to_owned())
        .collect()
}

fn response_scopes(body: &Value) -> Vec<String> {
    body["scope"]
        .as_str()
        .expect("the response scope is a string")
        .split(' ')
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn omitted_scope_gets_the_default_scopes() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    let reply = app.token_for(&billing, None).await;

    assert_eq!(reply.json()["scope"], READ);
    assert_eq!(scope_claim(&jwt_parts(&reply.access_token()).1), vec![READ]);
}

#[tokio::test]
async fn empty_scope_parameter_gets_the_default_scopes() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    for empty in ["", " ", "   "] {
        let reply = app.token_for(&billing, Some(empty)).await;
        assert_eq!(reply.status, StatusCode::OK, "scope={empty:?}: {reply:?}");
        assert_eq!(reply.json()["scope"], READ, "scope={empty:?}");
    }
}

#[tokio::test]
async fn omitted_scope_without_default_scopes_gets_every_allowed_scope() {
    let app = spawn_app().await;
    let reporting = app
        .seed_app(new_app("reporting").scopes(&[READ, WRITE]))
        .await;

    let reply = app.token_for(&reporting, None).await;

    let body = reply.json();
    let granted: BTreeSet<String> = response_scopes(&body).into_iter().collect();
    assert_eq!(granted, set(&[READ, WRITE]));
    let claimed: BTreeSet<String> = scope_claim(&jwt_parts(&reply.access_token()).1)
        .into_iter()
        .collect();
    assert_eq!(claimed, set(&[READ, WRITE]));
}

#[tokio::test]
async fn several_space_separated_scopes_are_all_granted() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    let reply = app
        .token_for(&billing, Some(&format!("{READ} {WRITE}")))
        .await;

    let body = reply.json();
    assert_eq!(
        body["scope"],
        format!("{READ} {WRITE}"),
        "space-separated in the response"
    );
    assert_eq!(
        scope_claim(&jwt_parts(&reply.access_token()).1),
        vec![READ, WRITE],
        "a JSON array in the token"
    );
}

#[tokio::test]
async fn duplicate_scopes_collapse() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    let reply = app
        .token_for(
            &billing,
            Some(&format!("{WRITE} {READ} {WRITE} {READ} {WRITE}")),
        )
        .await;

    let body = reply.json();
    let granted = response_scopes(&body);
    assert_eq!(granted.len(), 2, "{body}");
    assert_eq!(
        granted.iter().cloned().collect::<BTreeSet<_>>(),
        set(&[READ, WRITE])
    );
    let claimed = scope_claim(&jwt_parts(&reply.access_token()).1);
    assert_eq!(claimed.len(), 2, "{claimed:?}");
    assert_eq!(
        claimed.into_iter().collect::<BTreeSet<_>>(),
        set(&[READ, WRITE])
    );
}

#[tokio::test]
async fn invalid_scope_names_the_refused_scope_and_points_out_commas() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    let spaced = app.token_for(&billing, Some("invoices:read admin")).await;
    let commas = app
        .token_for(&billing, Some("invoices:read,invoices:write"))
        .await;

    for reply in [&spaced, &commas] {
        reply.assert_error(400, "invalid_scope");
        let body = reply.json();
        let keys: Vec<&String> = body.as_object().expect("an object").keys().collect();
        assert_eq!(keys, ["error", "error_description"], "{reply:?}");
    }
    assert_eq!(
        spaced.json()["error_description"],
        "scope 'admin' is not allowed for this client"
    );
    assert_eq!(
        commas.json()["error_description"],
        "scope 'invoices:read,invoices:write' is not allowed for this client; scopes are space-separated, not comma-separated"
    );
}

#[tokio::test]
async fn scope_errors_are_reported_only_after_the_client_is_authenticated() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    for scope in ["admin", "bad\"scope"] {
        let reply = app
            .post_token(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id(&billing)),
                ("client_secret", "wrong"),
                ("scope", scope),
            ])
            .await;
        reply.assert_error(401, "invalid_client");
    }
}
