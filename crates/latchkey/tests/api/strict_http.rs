//! A request names one host or is refused: two Host headers, no Host on HTTP/1.1, or an
//! absolute-form target naming another host than Host are 400 `invalid_request` (so that no
//! proxy can route a request to one tenant while latchkey serves another); and every answer
//! (a token, a 404, the admin API, an error) carries `X-Content-Type-Options: nosniff`.

use crate::harness::*;
use reqwest::Method;

fn raw(head: &str) -> Vec<u8> {
    format!("{head}Connection: close\r\n\r\n").into_bytes()
}

#[tokio::test]
async fn requests_naming_no_host_or_two_hosts_are_400_invalid_request() {
    let app = spawn_app().await;
    for request in [
        "GET /oauth2/jwks HTTP/1.1\r\nHost: issuer.test\r\nHost: other.test\r\n",
        "GET /oauth2/jwks HTTP/1.1\r\nHost: issuer.test\r\nHost: issuer.test\r\n",
        "GET /oauth2/jwks HTTP/1.1\r\n",
        "GET http://other.test/oauth2/jwks HTTP/1.1\r\nHost: issuer.test\r\n",
    ] {
        let reply = app.raw_reply(raw(request)).await;
        reply.assert_error(400, "invalid_request");
        assert!(
            reply.json()["error_description"].is_string(),
            "{request:?}: {reply:?}"
        );
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    }
}

#[tokio::test]
async fn one_host_in_either_form_is_served() {
    let app = spawn_app().await;
    for request in [
        "GET /oauth2/jwks HTTP/1.1\r\nHost: issuer.test\r\n",
        "GET http://issuer.test/oauth2/jwks HTTP/1.1\r\nHost: issuer.test\r\n",
        // HTTP/1.0 has no Host to require.
        "GET /oauth2/jwks HTTP/1.0\r\n",
    ] {
        let response = app.raw_exchange(raw(request), false).await;
        assert!(
            response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
            "{request:?}: {response}"
        );
    }
}

#[tokio::test]
async fn every_answer_carries_nosniff() {
    let (app, worker) =
        spawn_seeded(Setup::default(), async |seed| seed.app(new_app("w")).await).await;
    let token = app.token_for(&worker, None).await;
    token.access_token();
    let not_found = app.get("/no/such/path").await;
    let admin = app
        .admin_call(Method::GET, "/admin/v1/tenants", None, None)
        .await;
    let refused = app.post_token(&[("grant_type", "password")]).await;
    for (what, reply) in [
        ("token", &token),
        ("404", &not_found),
        ("admin", &admin),
        ("error", &refused),
    ] {
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(reply.header("strict-transport-security"), None, "{what}");
    }
    assert_eq!(not_found.status, 404);
    assert_eq!(admin.status, 401);
}
