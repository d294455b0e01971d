//! Property: whatever a request holds (any body, form or not; any content type, Authorization
//! and Host header, repeated or not), every OAuth endpoint and the admin API answer a 2xx with a
//! valid answer or a 4xx with a JSON error body, never a 5xx, and the server keeps serving.

use crate::harness::*;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::Method;
use serde_json::Value;

/// Cases per endpoint: enough to mix every kind of header and body, few enough for seconds.
const CASES: u32 = 256;

/// What one generated request holds.
#[derive(Debug, Clone)]
struct Request {
    content_types: Vec<String>,
    authorizations: Vec<String>,
    host: Option<String>,
    body: Vec<u8>,
}

/// What the strategies draw values from: the seeded app's real credentials and tokens, so that
/// some requests get past parsing and authentication.
#[derive(Debug, Clone)]
struct Known {
    client_id: String,
    secret: String,
    token: String,
    admin_token: String,
}

fn text() -> impl Strategy<Value = String> {
    "[ -~]{0,40}"
}

fn header_text(known: &Known) -> impl Strategy<Value = String> + use<> {
    let basic = basic_header(&known.client_id, &known.secret);
    let bearer = format!("Bearer {}", known.admin_token);
    prop_oneof![
        Just(basic),
        Just(bearer),
        text().prop_map(|text| basic_header_raw(&text, &text)),
        text().prop_map(|text| format!("Basic {text}")),
        text().prop_map(|text| format!("Bearer {text}")),
        text(),
    ]
}

fn content_type() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(FORM.to_owned()),
        Just(format!("{FORM};charset=UTF-8")),
        Just("application/json".to_owned()),
        Just("text/plain".to_owned()),
        text(),
    ]
}

fn value(known: &Known) -> impl Strategy<Value = String> + use<> {
    prop_oneof![
        Just("client_credentials".to_owned()),
        Just(known.client_id.clone()),
        Just(known.secret.clone()),
        Just(known.token.clone()),
        Just("access_token".to_owned()),
        Just("read".to_owned()),
        Just("https://api.example".to_owned()),
        text(),
        vec(any::<u8>(), 0..24).prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
    ]
}

fn form_body(known: &Known) -> impl Strategy<Value = Vec<u8>> + use<> {
    let name = prop_oneof![
        Just("grant_type".to_owned()),
        Just("client_id".to_owned()),
        Just("client_secret".to_owned()),
        Just("scope".to_owned()),
        Just("token".to_owned()),
        Just("token_type_hint".to_owned()),
        Just("resource".to_owned()),
        Just("audience".to_owned()),
        text(),
    ];
    vec((name, value(known)), 0..8).prop_map(|pairs| {
        let pairs: Vec<String> = pairs
            .iter()
            .map(|(name, value)| format!("{}={}", form_encode(name), form_encode(value)))
            .collect();
        pairs.join("&").into_bytes()
    })
}

fn json_body(known: &Known) -> impl Strategy<Value = Vec<u8>> + use<> {
    let field = prop_oneof![
        Just("name"),
        Just("type"),
        Just("scopes"),
        Just("default_scopes"),
        Just("enabled"),
        Just("token_ttl"),
        Just("audiences"),
        Just("claims"),
        Just("jti"),
        Just("client_id"),
        Just("domains"),
        Just("issuer"),
        Just("grace_seconds"),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        value(known).prop_map(Value::from),
    ];
    let json = leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::from),
            vec(("[a-z_]{1,8}", inner), 0..4)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    });
    vec((field, json), 0..6).prop_map(|pairs| {
        let object: serde_json::Map<String, Value> = pairs
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        serde_json::to_vec(&object).expect("JSON serializes")
    })
}

fn request(known: &Known) -> impl Strategy<Value = Request> + use<> {
    let host = prop_oneof![
        Just(None),
        Just(Some(ACME.to_owned())),
        "[a-z0-9.:-]{1,30}".prop_map(Some),
    ];
    let body = prop_oneof![form_body(known), json_body(known), vec(any::<u8>(), 0..512),];
    (
        vec(content_type(), 0..3),
        vec(header_text(known), 0..3),
        host,
        body,
    )
        .prop_map(|(content_types, authorizations, host, body)| Request {
            content_types,
            authorizations,
            host,
            body,
        })
}

/// Checks the answer to one request: a valid 2xx, or a 4xx with a JSON error body.
fn check(method: &Method, path: &str, reply: &Reply) -> Result<(), TestCaseError> {
    let status = reply.status.as_u16();
    prop_assert!(status < 500, "{method} {path}: {reply:?}");
    if reply.status.is_success() {
        if !reply.body.is_empty() {
            prop_assert!(
                serde_json::from_str::<Value>(&reply.body).is_ok(),
                "{method} {path}: a success that is not JSON: {reply:?}"
            );
        }
        if path == TOKEN_PATH {
            prop_assert!(reply.json()["access_token"].is_string(), "{reply:?}");
        }
        return Ok(());
    }
    prop_assert!((400..500).contains(&status), "{method} {path}: {reply:?}");
    prop_assert_eq!(
        reply.header("content-type"),
        Some(JSON_CONTENT_TYPE),
        "{:?}",
        reply
    );
    let body: Value = serde_json::from_str(&reply.body)
        .map_err(|error| TestCaseError::fail(format!("{method} {path}: {error}: {reply:?}")))?;
    prop_assert!(body["error"].is_string(), "{method} {path}: {reply:?}");
    prop_assert!(
        body.get("error_description").is_none_or(Value::is_string),
        "{method} {path}: {reply:?}"
    );
    Ok(())
}

async fn send(app: &TestApp, method: &Method, path: &str, request: &Request) -> Reply {
    let http = match &request.host {
        Some(host) => app.at(host),
        None => (**app).clone(),
    };
    let mut builder = http.request(method.clone(), path);
    for content_type in &request.content_types {
        builder = builder.header("content-type", content_type);
    }
    for authorization in &request.authorizations {
        builder = builder.header("authorization", authorization);
    }
    http.send(builder.body(request.body.clone())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_makes_any_endpoint_answer_a_server_error_and_the_server_keeps_serving() {
    let admins = admins().await;
    let app = &admins.app;
    let caller = app
        .seed_app(
            new_app("caller")
                .scopes(&["read"])
                .audiences(&["https://api.example"]),
        )
        .await;
    let target = app.seed_app(new_app("target")).await;
    let last = app.seed_app(new_app("last")).await;
    let known = Known {
        client_id: client_id(&caller).to_owned(),
        secret: client_secret(&caller).to_owned(),
        token: app.token_for(&caller, None).await.access_token(),
        admin_token: admins.root.clone(),
    };
    let target_path = format!("/admin/v1/tenants/default/apps/{}", client_id(&target));
    let endpoints = [
        (Method::POST, TOKEN_PATH.to_owned()),
        (Method::POST, "/oauth2/introspect".to_owned()),
        (Method::POST, "/oauth2/revoke".to_owned()),
        (Method::GET, JWKS_PATH.to_owned()),
        (Method::GET, OAUTH_METADATA.to_owned()),
        (Method::GET, OPENID_CONFIGURATION.to_owned()),
        (Method::GET, "/admin/v1/tenants/default/apps".to_owned()),
        (Method::POST, "/admin/v1/tenants/default/apps".to_owned()),
        (Method::PATCH, target_path),
        (
            Method::POST,
            "/admin/v1/tenants/default/revocations".to_owned(),
        ),
    ];
    let runtime = tokio::runtime::Handle::current();
    for (method, path) in &endpoints {
        let mut runner = TestRunner::new(Config {
            failure_persistence: None,
            ..Config::with_cases(CASES)
        });
        let outcome = tokio::task::block_in_place(|| {
            runner.run(&request(&known), |request| {
                let reply = runtime.block_on(send(app, method, path, &request));
                check(method, path, &reply)
            })
        });
        if let Err(failure) = outcome {
            panic!("{method} {path}: {failure}");
        }
    }
    // Still serving: a correct token request succeeds.
    let reply = app.token_for(&last, None).await;
    assert!(reply.status.is_success(), "{reply:?}");
}
