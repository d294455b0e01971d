//! `POST /oauth2/token`: every success and error case of the client credentials grant, through
//! `client_secret_post` unless the case is about HTTP Basic (see `client_auth`).

use crate::harness::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const READ: &str = "invoices:read";
const WRITE: &str = "invoices:write";

/// An m2m app allowed `invoices:read` and `invoices:write`, with `invoices:read` as its default.
async fn billing(app: &TestApp) -> Value {
    app.seed_app(
        new_app("billing")
            .scopes(&[READ, WRITE])
            .default_scopes(&[READ]),
    )
    .await
}

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
async fn client_secret_post_gets_a_bearer_token_with_exact_json_and_no_store_headers() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    let reply = app.token_for(&billing, None).await;

    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some(JSON_CONTENT_TYPE));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("pragma"), Some("no-cache"));
    let body = reply.json();
    assert_eq!(
        keys_of(&body),
        BTreeSet::from(["access_token", "scope", "token_type", "expires_in"])
    );
    assert!(body.get("refresh_token").is_none());
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], READ);
    assert_eq!(body["expires_in"], 300);
    assert!(
        body["access_token"]
            .as_str()
            .is_some_and(|token| token.split('.').count() == 3)
    );
}

#[tokio::test]
async fn access_token_header_is_exactly_kid_typ_alg_in_that_order() {
    let app = spawn_app_with(Setup::default().server_made_key()).await;
    let billing = billing(&app).await;

    let token = app.token_for(&billing, None).await.access_token();

    let (header, _) = jwt_parts(&token);
    let kid = jwt_kid(&token);
    assert!(is_uuid(&kid), "kid {kid:?} is not a UUID");
    assert_eq!(
        header,
        format!(r#"{{"kid":"{kid}","typ":"JWT","alg":"RS256"}}"#)
    );
}

#[tokio::test]
async fn access_token_claims_name_the_client_issuer_lifetime_and_scopes() {
    let app = spawn_app().await;
    let billing = billing(&app).await;
    let id = client_id(&billing);

    let before = unix_now();
    let reply = app.token_for(&billing, None).await;
    let after = unix_now();

    let body = reply.json();
    let (_, claims) = jwt_parts(&reply.access_token());
    assert_eq!(
        keys_of(&claims),
        BTreeSet::from(["sub", "aud", "iss", "nbf", "iat", "exp", "jti", "scope"])
    );
    assert_eq!(claims["sub"], id);
    assert_eq!(claims["aud"], id);
    assert_eq!(claims["iss"], ISSUER);
    let iat = claims["iat"].as_i64().expect("iat is an integer");
    // The server and the test read the same system clock; allow for a second boundary.
    assert!(
        (before - 1..=after + 1).contains(&iat),
        "iat {iat} is not between {before} and {after}"
    );
    assert_eq!(claims["nbf"].as_i64(), Some(iat));
    let exp = claims["exp"].as_i64().expect("exp is an integer");
    assert_eq!(exp, iat + 300, "the default TTL is 300 s");
    assert_eq!(body["expires_in"].as_i64(), Some(exp - iat));
    let jti = claims["jti"].as_str().expect("jti is a string");
    assert!(is_uuid(jti), "jti {jti:?} is not a UUID");
    assert_eq!(claims["scope"], json!([READ]));
}

#[tokio::test]
async fn custom_token_ttl_sets_exp_and_expires_in() {
    let app = spawn_app().await;
    let short = app
        .seed_app(new_app("short").scopes(&[READ]).token_ttl(60))
        .await;

    let reply = app.token_for(&short, None).await;

    let (_, claims) = jwt_parts(&reply.access_token());
    let iat = claims["iat"].as_i64().expect("iat");
    assert_eq!(claims["exp"].as_i64(), Some(iat + 60));
    assert_eq!(reply.json()["expires_in"], 60);
}

#[tokio::test]
async fn every_token_has_its_own_jti() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    let first = jwt_parts(&app.token_for(&billing, None).await.access_token()).1;
    let second = jwt_parts(&app.token_for(&billing, None).await.access_token()).1;

    let (first, second) = (
        first["jti"].as_str().expect("jti"),
        second["jti"].as_str().expect("jti"),
    );
    assert!(is_uuid(first) && is_uuid(second), "{first} / {second}");
    assert_ne!(first, second);
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
async fn unknown_client_is_401_invalid_client_without_challenge() {
    let app = spawn_app().await;
    billing(&app).await;

    let reply = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "0123456789abcdef0123456789abcdef"),
            ("client_secret", "some-secret"),
        ])
        .await;

    reply.assert_error(401, "invalid_client");
    assert_eq!(reply.header("www-authenticate"), None);
}

#[tokio::test]
async fn wrong_secret_is_401_invalid_client_and_the_answer_never_contains_it() {
    let app = spawn_app().await;
    let billing = billing(&app).await;
    let wrong = "Wr0ngSecret-unmistakable-marker-7f3a9c";

    let reply = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id(&billing)),
            ("client_secret", wrong),
        ])
        .await;

    reply.assert_error(401, "invalid_client");
    assert_eq!(
        reply.header("www-authenticate"),
        None,
        "no challenge without Basic"
    );
    assert!(
        !reply.body.contains(wrong),
        "the body echoes the secret: {}",
        reply.body
    );
    assert!(
        !reply.body.contains(client_secret(&billing)),
        "the body leaks the real secret"
    );
    for (name, value) in &reply.headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        assert!(!value.contains(wrong), "header {name} echoes the secret");
    }
}

#[tokio::test]
async fn missing_secret_is_401_invalid_client() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    let reply = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id(&billing)),
        ])
        .await;
    reply.assert_error(401, "invalid_client");
    assert_eq!(reply.header("www-authenticate"), None);

    let empty = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id(&billing)),
            ("client_secret", ""),
        ])
        .await;
    empty.assert_error(401, "invalid_client");
}

#[tokio::test]
async fn no_client_authentication_at_all_is_401_invalid_client_without_challenge() {
    let app = spawn_app().await;

    let reply = app
        .post_token(&[("grant_type", "client_credentials"), ("scope", READ)])
        .await;

    reply.assert_error(401, "invalid_client");
    assert_eq!(reply.header("www-authenticate"), None);
}

#[tokio::test]
async fn client_secret_without_client_id_is_invalid_request() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    let reply = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_secret", client_secret(&billing)),
        ])
        .await;

    // A missing parameter (README: "missing or repeated parameter"), not a failed login.
    reply.assert_error(400, "invalid_request");
}

#[tokio::test]
async fn disabled_app_is_401_invalid_client() {
    let app = spawn_app().await;
    let billing = billing(&app).await;
    let (id, secret) = (client_id(&billing), client_secret(&billing));
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
    ];

    app.cli_ok(&["app", "disable", id]);

    let reply = app
        .token_until(
            "the disabled app to be refused",
            &form,
            Reply::is_invalid_client,
        )
        .await;
    reply.assert_error(401, "invalid_client");
    assert_eq!(reply.header("www-authenticate"), None);
    let basic = app
        .post_token_basic(id, secret, &[("grant_type", "client_credentials")])
        .await;
    basic.assert_error(401, "invalid_client");
    assert_eq!(basic.header("www-authenticate"), Some(BASIC_CHALLENGE));
}

#[tokio::test]
async fn deleted_app_is_401_invalid_client() {
    let app = spawn_app().await;
    let billing = billing(&app).await;
    let (id, secret) = (client_id(&billing), client_secret(&billing));
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
    ];

    app.cli_ok(&["app", "delete", id]);

    let reply = app
        .token_until(
            "the deleted app to be refused",
            &form,
            Reply::is_invalid_client,
        )
        .await;
    reply.assert_error(401, "invalid_client");
    assert_eq!(reply.header("www-authenticate"), None);
    let basic = app
        .post_token_basic(id, secret, &[("grant_type", "client_credentials")])
        .await;
    basic.assert_error(401, "invalid_client");
    assert_eq!(basic.header("www-authenticate"), Some(BASIC_CHALLENGE));
}

#[tokio::test]
async fn web_app_without_client_credentials_is_unauthorized_client() {
    let app = spawn_app().await;
    let web = app
        .seed_app(new_app("portal").scopes(&[READ]).kind("web"))
        .await;
    assert!(
        web["client_secret"].is_string(),
        "a web app is confidential: {web}"
    );

    app.token_for(&web, None)
        .await
        .assert_error(400, "unauthorized_client");
    app.post_token_basic(
        client_id(&web),
        client_secret(&web),
        &[("grant_type", "client_credentials")],
    )
    .await
    .assert_error(400, "unauthorized_client");
}

#[tokio::test]
async fn web_app_created_with_the_client_credentials_grant_gets_a_token() {
    let app = spawn_app().await;
    let web = app
        .seed_app(
            new_app("portal")
                .scopes(&[READ])
                .grant_types(&["client_credentials"])
                .kind("web"),
        )
        .await;

    let reply = app.token_for(&web, None).await;

    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(jwt_parts(&reply.access_token()).1["sub"], client_id(&web));
}

#[tokio::test]
async fn spa_and_native_apps_presenting_their_client_id_are_unauthorized_client() {
    let app = spawn_app().await;
    for kind in ["spa", "native"] {
        let public = app
            .seed_app(
                new_app(&format!("public-{kind}"))
                    .scopes(&[READ])
                    .kind(kind),
            )
            .await;
        assert!(
            public["client_secret"].is_null(),
            "a {kind} app has no secret: {public}"
        );

        app.post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id(&public)),
        ])
        .await
        .assert_error(400, "unauthorized_client");
        app.post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id(&public)),
            ("scope", READ),
        ])
        .await
        .assert_error(400, "unauthorized_client");
    }
}

#[tokio::test]
async fn repeated_parameter_is_invalid_request() {
    let app = spawn_app().await;
    let billing = billing(&app).await;
    let (id, secret) = (client_id(&billing), client_secret(&billing));
    let valid = [
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
        ("scope", READ),
    ];

    for (index, (name, value)) in valid.iter().enumerate() {
        let mut form = valid.to_vec();
        form.insert(index + 1, (*name, *value));
        let reply = app.post_token(&form).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{name} twice: {reply:?}"
        );
        reply.assert_error(400, "invalid_request");
    }
    // The same parameter twice with different values, one of them empty, is still repeated.
    let mut form = valid.to_vec();
    form.push(("scope", ""));
    app.post_token(&form)
        .await
        .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn unknown_parameters_are_ignored() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    let reply = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id(&billing)),
            ("client_secret", client_secret(&billing)),
            ("requested_token_use", "x"),
            ("requested_token_use", "y"),
        ])
        .await;

    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
}

#[tokio::test]
async fn wrong_content_type_is_invalid_request() {
    let app = spawn_app().await;
    let billing = billing(&app).await;
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        client_id(&billing),
        client_secret(&billing)
    );
    let json_body = json!({
        "grant_type": "client_credentials",
        "client_id": client_id(&billing),
        "client_secret": client_secret(&billing),
    })
    .to_string();

    let cases: [(&str, String); 4] = [
        ("application/json", json_body),
        ("text/plain", form.clone()),
        ("multipart/form-data; boundary=x", form.clone()),
        ("application/x-www-form-urlencodedx", form),
    ];
    for (content_type, body) in cases {
        let reply = app
            .post_token_raw(
                &[("content-type", content_type.as_bytes())],
                body.into_bytes(),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{content_type}: {reply:?}"
        );
        reply.assert_error(400, "invalid_request");
    }
}

#[tokio::test]
async fn missing_content_type_is_invalid_request() {
    let app = spawn_app().await;
    let billing = billing(&app).await;
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        client_id(&billing),
        client_secret(&billing)
    );

    let reply = app.post_token_raw(&[], form.into_bytes()).await;

    reply.assert_error(400, "invalid_request");
}

#[tokio::test]
async fn form_content_type_with_a_charset_parameter_is_accepted() {
    let app = spawn_app().await;
    let billing = billing(&app).await;
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        client_id(&billing),
        client_secret(&billing)
    );

    let reply = app
        .post_token_raw(
            &[(
                "content-type",
                b"application/x-www-form-urlencoded; charset=UTF-8",
            )],
            form.into_bytes(),
        )
        .await;

    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
}

#[tokio::test]
async fn get_put_delete_on_the_token_endpoint_are_405_with_allow_post() {
    let app = spawn_app().await;

    for method in [Method::GET, Method::PUT, Method::DELETE, Method::PATCH] {
        let reply = app.call(method.clone(), TOKEN_PATH).await;
        assert_eq!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method}: {reply:?}"
        );
        assert_eq!(reply.header("allow"), Some("POST"), "{method}");
        assert!(
            reply.json()["error"].is_string(),
            "{method}: an OAuth error body: {reply:?}"
        );
    }
}

/// A valid request padded with an ignored parameter to exactly `size` bytes.
fn padded_request(app: &Value, size: usize) -> Vec<u8> {
    let mut body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&padding=",
        client_id(app),
        client_secret(app)
    );
    assert!(body.len() < size);
    body.push_str(&"a".repeat(size - body.len()));
    assert_eq!(body.len(), size);
    body.into_bytes()
}

#[tokio::test]
async fn body_over_64_kib_is_413() {
    let app = spawn_app().await;

    for length in [64 * 1024 + 1, 1024 * 1024] {
        let reply = app.raw_reply(app.declared_length_request(length)).await;
        reply.assert_error(413, "invalid_request");
    }
}

#[tokio::test]
async fn body_of_exactly_64_kib_is_accepted() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    let reply = app
        .post_token_raw(
            &[("content-type", FORM.as_bytes())],
            padded_request(&billing, 64 * 1024),
        )
        .await;

    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
}

/// One malformed token request: its `Content-Type` and `Authorization` values as raw bytes
/// (absent when `None`) and its body.
struct Garbage<'a> {
    what: &'a str,
    content_type: Option<&'a [u8]>,
    authorization: Option<&'a [u8]>,
    body: Vec<u8>,
}

impl<'a> Garbage<'a> {
    fn new(
        what: &'a str,
        content_type: Option<&'a [u8]>,
        authorization: Option<&'a [u8]>,
        body: impl Into<Vec<u8>>,
    ) -> Self {
        Garbage {
            what,
            content_type,
            authorization,
            body: body.into(),
        }
    }
}

#[tokio::test]
async fn garbage_requests_get_400_or_401_and_never_a_server_error() {
    let app = spawn_app().await;
    let billing = billing(&app).await;
    let (id, secret) = (client_id(&billing), client_secret(&billing));
    let long_id = "a".repeat(10_000);
    let long_basic = basic_header(&long_id, "secret");
    let long_body = format!("grant_type=client_credentials&client_id={long_id}&client_secret=x");
    let valid = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    let bad_scope_bytes = [valid.as_bytes(), b"&scope=%FF%FE%00\xff\xfe"].concat();
    let long_scope = format!("{valid}&scope={}", "s".repeat(10_000));

    const GRANT_ONLY: &[u8] = b"grant_type=client_credentials";
    let form = Some(FORM.as_bytes());
    let basic = |value: &'static [u8]| Some(value);
    let cases = [
        Garbage::new(
            "invalid UTF-8 bytes in the body",
            form,
            None,
            &b"grant_type=client_credentials&client_id=\xff\xfe\xfd&client_secret=\xc3\x28"[..],
        ),
        Garbage::new(
            "invalid UTF-8 bytes in grant_type",
            form,
            None,
            &b"grant_type=\xff\xfe&client_id=a&client_secret=b"[..],
        ),
        Garbage::new(
            "invalid percent escapes",
            form,
            None,
            &b"grant_type=client_credentials&client_id=%zz%&client_secret=%e2%82%"[..],
        ),
        Garbage::new(
            "percent escapes of invalid UTF-8",
            form,
            None,
            &b"grant_type=client_credentials&client_id=%FF%C3%28&client_secret=%80"[..],
        ),
        Garbage::new(
            "percent-encoded NUL bytes",
            form,
            None,
            &b"grant_type=client_credentials%00&client_id=%00&client_secret=%00"[..],
        ),
        Garbage::new(
            "a 10,000-character client_id in the body",
            form,
            None,
            long_body.as_bytes(),
        ),
        Garbage::new(
            "a 10,000-character client_id in Basic",
            form,
            Some(long_basic.as_bytes()),
            GRANT_ONLY,
        ),
        Garbage::new(
            "a Basic header that is not base64",
            form,
            basic(b"Basic !!!not*base64***"),
            GRANT_ONLY,
        ),
        Garbage::new(
            "Basic with nothing after it",
            form,
            basic(b"Basic"),
            GRANT_ONLY,
        ),
        Garbage::new(
            "Basic with only spaces after it",
            form,
            basic(b"Basic    "),
            GRANT_ONLY,
        ),
        Garbage::new(
            "Basic without a colon",
            form,
            basic(b"Basic bm9jb2xvbg=="),
            GRANT_ONLY,
        ),
        Garbage::new(
            "Basic of invalid UTF-8",
            form,
            basic(b"Basic //79Og=="),
            GRANT_ONLY,
        ),
        Garbage::new(
            "Basic with invalid percent escapes",
            form,
            basic(b"Basic JXp6OiU="),
            GRANT_ONLY,
        ),
        Garbage::new(
            "Basic with an empty id",
            form,
            basic(b"Basic OnNlY3JldA=="),
            GRANT_ONLY,
        ),
        Garbage::new(
            "an Authorization header with non-ASCII bytes",
            form,
            basic(b"Basic \xff\xfe"),
            GRANT_ONLY,
        ),
        Garbage::new(
            "an unknown authorization scheme",
            form,
            basic(b"Bearer abc.def.ghi"),
            GRANT_ONLY,
        ),
        Garbage::new("an empty body", form, None, &b""[..]),
        Garbage::new("an empty body without a content type", None, None, &b""[..]),
        Garbage::new("a body of separators", form, None, &b"&&&===&=&"[..]),
        Garbage::new(
            "a content type with non-ASCII bytes",
            Some(b"application/x-www-form-urlencoded\xff"),
            None,
            valid.as_bytes(),
        ),
        Garbage::new(
            "binary noise",
            form,
            None,
            (0..=255u8).cycle().take(4096).collect::<Vec<u8>>(),
        ),
        Garbage::new("a scope of invalid bytes", form, None, bad_scope_bytes),
        Garbage::new(
            "a 10,000-character scope",
            form,
            None,
            long_scope.as_bytes(),
        ),
    ];

    for case in cases {
        let mut headers: Vec<(&str, &[u8])> = Vec::new();
        if let Some(content_type) = case.content_type {
            headers.push(("content-type", content_type));
        }
        if let Some(authorization) = case.authorization {
            headers.push(("authorization", authorization));
        }
        let reply = app.post_token_raw(&headers, case.body).await;
        let what = case.what;
        assert!(
            reply.status == StatusCode::BAD_REQUEST || reply.status == StatusCode::UNAUTHORIZED,
            "{what}: expected 400 or 401, got {reply:?}"
        );
        assert!(
            reply.json()["error"].is_string(),
            "{what}: an OAuth error body: {reply:?}"
        );
    }

    // The server is still healthy and still serves the app afterwards.
    assert_eq!(app.token_for(&billing, None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn error_answers_are_json_and_never_cached() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    let replies = [
        app.post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "nobody"),
            ("client_secret", "x"),
        ])
        .await,
        app.token_for(&billing, Some("admin")).await,
        app.post_token(&[("grant_type", "password")]).await,
    ];
    for reply in replies {
        assert_eq!(
            reply.header("content-type"),
            Some(JSON_CONTENT_TYPE),
            "{reply:?}"
        );
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{reply:?}");
        assert!(reply.json()["error"].is_string(), "{reply:?}");
    }
}

/// A raw HTTP/1.1 request for the token endpoint with a chunked body.
fn chunked_request(app: &TestApp, body: &[u8], chunk_size: usize) -> Vec<u8> {
    let mut request = format!(
        "POST {TOKEN_PATH} HTTP/1.1\r\nHost: {}\r\nContent-Type: {FORM}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.address
    )
    .into_bytes();
    for chunk in body.chunks(chunk_size) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    request
}

#[tokio::test]
async fn chunked_body_is_accepted_up_to_64_kib_and_413_beyond() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    let within = chunked_request(&app, &padded_request(&billing, 64 * 1024), 4096);
    assert_eq!(
        app.raw_http(within, false).await,
        Some(200),
        "a chunked body of exactly 64 KiB"
    );

    let over = chunked_request(&app, &padded_request(&billing, 64 * 1024 + 1), 4096);
    assert_eq!(
        app.raw_http(over, false).await,
        Some(413),
        "a chunked body over 64 KiB"
    );
}

#[tokio::test]
async fn broken_http_framing_never_gets_a_server_error() {
    let app = spawn_app().await;
    let billing = billing(&app).await;
    let host = app.address;
    let valid = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        client_id(&billing),
        client_secret(&billing)
    );

    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "a body shorter than its Content-Length",
            format!("POST {TOKEN_PATH} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: {FORM}\r\nContent-Length: 500\r\n\r\n{valid}")
                .into_bytes(),
        ),
        (
            "a chunked body cut off mid-chunk",
            format!("POST {TOKEN_PATH} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: {FORM}\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n{valid}")
                .into_bytes(),
        ),
        (
            "an invalid chunk size",
            format!("POST {TOKEN_PATH} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: {FORM}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{valid}\r\n0\r\n\r\n")
                .into_bytes(),
        ),
        (
            "an unparsable Content-Length",
            format!("POST {TOKEN_PATH} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: {FORM}\r\nContent-Length: lots\r\n\r\n{valid}")
                .into_bytes(),
        ),
        ("a garbage request line", b"\x00\x01GARBAGE \xff\r\n\r\n".to_vec()),
        (
            "a header line without a colon",
            format!("POST {TOKEN_PATH} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nnot a header\r\nContent-Length: 0\r\n\r\n").into_bytes(),
        ),
    ];

    for (what, request) in cases {
        // The client ends its side after the request so that a truncated body meets its end;
        // closing without an answer is then acceptable, a 5xx never is.
        let status = app.raw_http(request, true).await;
        assert!(
            status.is_none_or(|code| (400..500).contains(&code)),
            "{what}: got status {status:?}"
        );
    }
    assert_eq!(
        app.token_for(&billing, None).await.status,
        StatusCode::OK,
        "the server still serves"
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
