//! The console's session: an admin app's client_id and secret, exchanged at
//! `POST /console/session` for a token in an `HttpOnly`, `SameSite=Strict` cookie that the admin
//! API accepts, whose changes must carry the session's CSRF token; signing out revokes it.
//! Every console answer carries the Content-Security-Policy, `X-Frame-Options: DENY` and a
//! `Referrer-Policy`. (The pages themselves are driven in a real browser by `console_browser`.)

use crate::harness::*;
use reqwest::Method;
use serde_json::{Value, json};

const SESSION: &str = "/console/session";

/// A sign-in: the answer, and the `name=value` of the cookie it set (if any).
async fn sign_in(http: &Http, body: &Value) -> (Reply, Option<String>) {
    let reply = http
        .send(http.request(Method::POST, SESSION).json(body))
        .await;
    let cookie = reply
        .header("set-cookie")
        .and_then(|value| value.split(';').next())
        .map(str::to_owned);
    (reply, cookie)
}

fn credentials(app: &Value) -> Value {
    json!({"client_id": client_id(app), "client_secret": client_secret(app)})
}

/// A signed-in session: its cookie and CSRF token.
async fn session(http: &Http, body: &Value) -> (String, String) {
    let (reply, cookie) = sign_in(http, body).await;
    let view = reply.json_of(200);
    let csrf = view["csrf_token"]
        .as_str()
        .expect("a csrf_token")
        .to_owned();
    (cookie.expect("a session cookie"), csrf)
}

/// An admin API request with the session cookie and, if given, a CSRF token.
async fn with_cookie(
    http: &Http,
    method: Method,
    path: &str,
    cookie: &str,
    csrf: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let mut request = http.request(method, path).header("cookie", cookie);
    if let Some(csrf) = csrf {
        request = request.header("x-csrf-token", csrf);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    http.send(request).await
}

fn assert_protected(reply: &Reply) {
    let csp = reply.header("content-security-policy").unwrap_or_default();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp:?}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{reply:?}");
    assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
}

#[tokio::test]
async fn the_console_page_is_served_with_a_strict_content_security_policy() {
    let app = spawn_app().await;
    for path in ["/console", "/console/"] {
        let page = app.get(path).await;
        assert_eq!(page.status, 200, "{path}: {page:?}");
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(page.body.contains("<html"), "{}", page.body);
        assert_protected(&page);
    }
    // Errors too: a file that is not there, the session without one.
    for path in ["/console/no-such-file.js", "/console/.hidden", SESSION] {
        let reply = app.get(path).await;
        assert!(
            matches!(reply.status.as_u16(), 401 | 404),
            "{path}: {reply:?}"
        );
        assert_protected(&reply);
    }
    // A path above the console's folder, sent as written (an HTTP client would resolve it).
    for path in ["/console/../Cargo.toml", "/console/pages/../../Cargo.toml"] {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let reply = app.raw_reply(request.into_bytes()).await;
        assert_eq!(reply.status, 404, "{path}: {reply:?}");
        assert!(!reply.body.contains("[package]"), "{path}: {}", reply.body);
        assert_protected(&reply);
    }
    // The OAuth endpoints are not the console's: no console policy there.
    assert!(app.jwks().await.is_object());
}

#[tokio::test]
async fn signing_in_sets_an_http_only_strict_cookie_that_the_admin_api_accepts() {
    let admins = admins().await;
    let http = &admins.app;
    let (reply, cookie) = sign_in(http, &credentials(&admins.ops)).await;
    let view = reply.json_of(200);
    assert_protected(&reply);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(view["client_id"], client_id(&admins.ops));
    assert_eq!(view["tenant"], "default");
    assert_eq!(view["reach"], "all_tenants");
    let expires_in = view["expires_in"].as_i64().unwrap();
    assert!((1..=300).contains(&expires_in), "{view}");
    // The script sees no token: only the cookie carries it.
    assert!(!reply.body.contains("access_token"), "{}", reply.body);
    let set_cookie = reply.header("set-cookie").unwrap();
    assert!(
        set_cookie.starts_with("latchkey_console=ey"),
        "{set_cookie}"
    );
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(
        set_cookie.contains(&format!("Max-Age={expires_in}"))
            || set_cookie.contains(&format!("Max-Age={}", expires_in + 1)),
        "the cookie lives as long as the token: {set_cookie} vs {view}"
    );
    assert!(!set_cookie.contains("Secure"), "plain HTTP: {set_cookie}");

    let cookie = cookie.unwrap();
    let tenants = with_cookie(http, Method::GET, "/admin/v1/tenants", &cookie, None, None).await;
    let names: Vec<_> = tenants.json_of(200)["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tenant| tenant["name"].clone())
        .collect();
    assert_eq!(names, ["acme", "default", "globex"]);
    // After a reload, the page reads the same session back, with the same CSRF token.
    let again = with_cookie(http, Method::GET, SESSION, &cookie, None, None).await;
    let again = again.json_of(200);
    assert_eq!(again["csrf_token"], view["csrf_token"]);
    assert_eq!(again["client_id"], view["client_id"]);
}

#[tokio::test]
async fn a_change_with_the_cookie_but_without_its_csrf_token_is_refused_and_changes_nothing() {
    let admins = admins().await;
    let http = &admins.app;
    let (cookie, csrf) = session(http, &credentials(&admins.ops)).await;
    let (_, other_csrf) = session(http, &credentials(&admins.ops)).await;
    let path = "/admin/v1/tenants/acme/apps";
    let body = json!({"name": "made-by-csrf"});
    for presented in [
        None,
        Some(""),
        Some("not-the-token"),
        Some(other_csrf.as_str()),
    ] {
        let reply = with_cookie(http, Method::POST, path, &cookie, presented, Some(&body)).await;
        assert_admin_error(&reply, 403, "invalid_csrf_token");
    }
    let listed = with_cookie(http, Method::GET, path, &cookie, None, None).await;
    assert!(
        !listed.body.contains("made-by-csrf"),
        "a refused change was made: {}",
        listed.body
    );
    // The same change with the session's own token is made.
    let made = with_cookie(http, Method::POST, path, &cookie, Some(&csrf), Some(&body)).await;
    assert_eq!(made.status, 201, "{made:?}");
    // A bearer token needs no CSRF token: it is not sent by the browser on its own.
    let bearer = http
        .admin_call(
            Method::POST,
            path,
            Some(&admins.root),
            Some(&json!({"name": "by-bearer"})),
        )
        .await;
    assert_eq!(bearer.status, 201, "{bearer:?}");
}

#[tokio::test]
async fn a_wrong_secret_an_unknown_app_or_a_non_admin_app_cannot_sign_in() {
    let admins = admins().await;
    let http = &admins.app;
    let wrong = json!({"client_id": client_id(&admins.ops), "client_secret": "not-the-secret"});
    let (reply, cookie) = sign_in(http, &wrong).await;
    reply.assert_error(401, "invalid_client");
    assert_eq!(cookie, None);
    let unknown = json!({"client_id": "nobody", "client_secret": "x"});
    sign_in(http, &unknown)
        .await
        .0
        .assert_error(401, "invalid_client");
    // acme's admin is not an app of `default`, and not of a tenant that does not exist.
    let elsewhere = credentials(&admins.acme_ops);
    sign_in(http, &elsewhere)
        .await
        .0
        .assert_error(401, "invalid_client");
    let mut missing = credentials(&admins.ops);
    missing["tenant"] = json!("no-such-tenant");
    sign_in(http, &missing)
        .await
        .0
        .assert_error(401, "invalid_client");

    let plain = admins.plain_app.clone();
    let (reply, cookie) = sign_in(http, &credentials(&plain)).await;
    assert_admin_error(&reply, 403, "insufficient_scope");
    assert_eq!(cookie, None);

    // Only JSON: a cross-site form cannot post it without the browser asking first.
    let form = http
        .send(http.request(Method::POST, SESSION).form(&[
            ("client_id", client_id(&admins.ops)),
            ("client_secret", client_secret(&admins.ops)),
        ]))
        .await;
    assert_admin_error(&form, 400, "invalid_request");
    for body in [
        json!({"client_id": "x"}),
        json!({"client_id": "x", "client_secret": "y", "extra": 1}),
    ] {
        let (reply, _) = sign_in(http, &body).await;
        assert_admin_error(&reply, 400, "invalid_request");
    }
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_like_failed_client_logins() {
    let (app, ops) = spawn_seeded(Setup::default().with_login_throttling(), async |seed| {
        seed.app(new_app("ops").scopes(&["latchkey:admin"])).await
    })
    .await;
    let attacker = app.connecting_from(std::net::IpAddr::from([127, 0, 0, 7]));
    let wrong = json!({"client_id": client_id(&ops), "client_secret": "not-the-secret"});
    for attempt in 1..=10 {
        let (reply, _) = sign_in(&attacker, &wrong).await;
        assert_eq!(reply.status, 401, "attempt {attempt}: {reply:?}");
    }
    let (throttled, cookie) = sign_in(&attacker, &credentials(&ops)).await;
    assert_eq!(throttled.status, 429, "{throttled:?}");
    assert_eq!(throttled.error(), "too_many_requests");
    assert!(throttled.header("retry-after").is_some(), "{throttled:?}");
    assert_eq!(cookie, None, "the right secret is refused too");
    // The failures were counted where client logins are: the token endpoint refuses as well.
    let token = attacker
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id(&ops)),
            ("client_secret", client_secret(&ops)),
        ])
        .await;
    assert_eq!(token.status, 429, "{token:?}");
    // Another address signs in.
    sign_in(&app, &credentials(&ops)).await.0.json_of(200);
}

#[tokio::test]
async fn signing_out_revokes_the_session_so_the_same_cookie_no_longer_works() {
    let admins = admins().await;
    let http = &admins.app;
    let (cookie, csrf) = session(http, &credentials(&admins.ops)).await;
    // Signing out is a change: without the CSRF token it is refused and the session lives.
    let refused = with_cookie(http, Method::DELETE, SESSION, &cookie, None, None).await;
    assert_admin_error(&refused, 403, "invalid_csrf_token");
    with_cookie(http, Method::GET, SESSION, &cookie, None, None)
        .await
        .json_of(200);

    let out = with_cookie(http, Method::DELETE, SESSION, &cookie, Some(&csrf), None).await;
    assert_eq!(out.status, 204, "{out:?}");
    assert_protected(&out);
    let cleared = out.header("set-cookie").unwrap();
    assert!(cleared.starts_with("latchkey_console=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    let after = with_cookie(http, Method::GET, SESSION, &cookie, None, None).await;
    assert_admin_error(&after, 401, "invalid_token");
    let api = with_cookie(http, Method::GET, "/admin/v1/tenants", &cookie, None, None).await;
    assert_admin_error(&api, 401, "invalid_token");
    // Signing out again only clears the cookie.
    let again = with_cookie(http, Method::DELETE, SESSION, &cookie, Some(&csrf), None).await;
    assert_eq!(again.status, 204, "{again:?}");
    // The sign-in is in the audit trail, and the sign-out as the revocation of its token.
    let audit = http
        .admin_call(
            Method::GET,
            "/admin/v1/audit?tenant=default",
            Some(&admins.root),
            None,
        )
        .await
        .json_of(200);
    let actions: Vec<_> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["actor"] == client_id(&admins.ops))
        .map(|event| event["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["console.sign_in", "token.revoke"], "{audit}");
}

#[tokio::test]
async fn a_tenant_admin_signs_in_to_its_tenant_and_reaches_no_other() {
    let admins = admins().await;
    let http = &admins.app;
    let mut body = credentials(&admins.acme_ops);
    body["tenant"] = json!("acme");
    let (reply, cookie) = sign_in(http, &body).await;
    let view = reply.json_of(200);
    assert_eq!(view["tenant"], "acme");
    assert_eq!(view["reach"], "own_tenant");
    let cookie = cookie.unwrap();
    let own = with_cookie(
        http,
        Method::GET,
        "/admin/v1/tenants/acme/apps",
        &cookie,
        None,
        None,
    )
    .await;
    own.json_of(200);
    for path in [
        "/admin/v1/tenants/globex/apps",
        "/admin/v1/tenants/default/apps",
    ] {
        let other = with_cookie(http, Method::GET, path, &cookie, None, None).await;
        assert_admin_error(&other, 403, "access_denied");
    }
}

/// Signing in and out are writes (the sign-in's audit event, the token's revocation): on a
/// database that cannot take them, each answers 503 and changes nothing: no session is opened,
/// and the open one still works until a sign-out is stored.
#[tokio::test]
async fn on_a_full_database_signing_in_or_out_answers_503_and_changes_nothing() {
    if skip_unless_sqlite("fills the disk under the SQLite file") {
        return;
    }
    let Some(mut tmpfs) = Tmpfs::mount("4m") else {
        return;
    };
    let admins = admins_in(tmpfs.folder(), Setup::default()).await;
    let http = &admins.app;
    let (cookie, csrf) = session(http, &credentials(&admins.ops)).await;

    tmpfs.fill("filler");
    let (refused, set) = sign_in(http, &credentials(&admins.ops)).await;
    assert_admin_error(&refused, 503, "temporarily_unavailable");
    assert_eq!(set, None, "a session opened without its audit event");
    let out = with_cookie(http, Method::DELETE, SESSION, &cookie, Some(&csrf), None).await;
    assert_admin_error(&out, 503, "temporarily_unavailable");
    assert_eq!(out.header("set-cookie"), None, "{out:?}");
    with_cookie(http, Method::GET, SESSION, &cookie, None, None)
        .await
        .json_of(200);

    std::fs::remove_file(tmpfs.path("filler")).expect("removing the filler file");
    let out = with_cookie(http, Method::DELETE, SESSION, &cookie, Some(&csrf), None).await;
    assert_eq!(out.status, 204, "{out:?}");
    let after = with_cookie(http, Method::GET, SESSION, &cookie, None, None).await;
    assert_admin_error(&after, 401, "invalid_token");
}
