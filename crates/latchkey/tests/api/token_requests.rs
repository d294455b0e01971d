//! The shape of a token request on the wire: parameters, content types, methods, body sizes,
//! chunked bodies, garbage and broken framing, and error answers that are JSON and never cached.

use crate::harness::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

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
