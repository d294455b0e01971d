//! Requests to the server under test. `Http` is one way of addressing it: the connection
//! always goes to the test server's address, and the `Host` header is the server's own unless
//! `at(host)` names another (the Host is what routes a request to its tenant). Every request
//! is built by `Http::request`, so that a request at another host is the same request.

use super::{FORM, JSON_CONTENT_TYPE, JWKS_PATH, TOKEN_PATH, WAIT, basic_header, eventually};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::net::SocketAddr;

/// `GET /oauth2/jwks` on a raw connection left open (keep-alive), asserting a 200 head; the
/// rest of the answer stays unread.
pub(crate) async fn get_jwks_on(stream: &mut tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(format!("GET {JWKS_PATH} HTTP/1.1\r\nHost: issuer.test\r\n\r\n").as_bytes())
        .await
        .expect("sending a request");
    let mut head = [0; 12];
    stream
        .read_exact(&mut head)
        .await
        .expect("reading an answer");
    assert_eq!(&head, b"HTTP/1.1 200");
}

/// An HTTP answer, read in full.
#[derive(Debug)]
pub(crate) struct Reply {
    /// The status.
    pub(crate) status: StatusCode,
    /// The headers.
    pub(crate) headers: HeaderMap,
    /// The body as text (lossy).
    pub(crate) body: String,
}

impl Reply {
    async fn read(response: reqwest::Response) -> Reply {
        Reply::try_read(response)
            .await
            .expect("reading the response body")
    }

    async fn try_read(response: reqwest::Response) -> Result<Reply, reqwest::Error> {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await?;
        Ok(Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }

    /// The body as JSON; panics with the body when it is not JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| {
            panic!(
                "body is not JSON ({error}): status {} body {:?}",
                self.status, self.body
            )
        })
    }

    /// One header as text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|value| value.to_str().expect("header is visible ASCII"))
    }

    /// The `error` member of an error body.
    pub(crate) fn error(&self) -> String {
        match self.json().get("error") {
            Some(Value::String(code)) => code.clone(),
            other => panic!(
                "no string `error` in the body ({other:?}): status {} body {:?}",
                self.status, self.body
            ),
        }
    }

    /// The access token of a success body; panics with the answer otherwise.
    pub(crate) fn access_token(&self) -> String {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "expected a token, got {self:?}"
        );
        self.json()["access_token"]
            .as_str()
            .expect("access_token is a string")
            .to_owned()
    }

    /// Asserts an OAuth error answer: status, JSON content type and `error` code.
    pub(crate) fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "status of {self:?}");
        assert_eq!(
            self.header("content-type"),
            Some(JSON_CONTENT_TYPE),
            "content type of {self:?}"
        );
        assert_eq!(self.error(), code, "error code of {self:?}");
    }

    /// Whether this is a 401 `invalid_client`.
    pub(crate) fn is_invalid_client(&self) -> bool {
        self.status == StatusCode::UNAUTHORIZED && self.body.contains("invalid_client")
    }

    /// The JSON body of an answer that must have `status` (`Null` when the body is empty).
    pub(crate) fn json_of(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "{self:?}");
        if self.body.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }
}

/// The test server, addressed with its own `Host` or another one.
#[derive(Clone)]
pub(crate) struct Http {
    /// Where the server listens.
    pub(crate) address: SocketAddr,
    /// An HTTP client that does not follow redirects.
    pub(crate) client: reqwest::Client,
    host: Option<String>,
}

impl Http {
    pub(super) fn new(address: SocketAddr) -> Http {
        let client = super::http_client_builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("building the HTTP client");
        Http {
            address,
            client,
            host: None,
        }
    }

    /// The same server, with the `Host` header set to `host` on every request.
    pub(crate) fn at(&self, host: &str) -> Http {
        Http {
            host: Some(host.to_owned()),
            ..self.clone()
        }
    }

    /// The same server, reached from the local address `source` (any of 127.0.0.0/8 on
    /// Linux): a second client machine, as far as the server's socket can tell.
    pub(crate) fn connecting_from(&self, source: std::net::IpAddr) -> Http {
        let client = super::http_client_builder()
            .redirect(reqwest::redirect::Policy::none())
            .local_address(source)
            .build()
            .expect("building the HTTP client");
        Http {
            client,
            ..self.clone()
        }
    }

    /// `http://ADDR` + `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// The token endpoint's URL.
    pub(crate) fn token_url(&self) -> String {
        self.url(TOKEN_PATH)
    }

    /// A request to `path`, with this `Host` if one was named.
    pub(crate) fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let request = self.client.request(method, self.url(path));
        match &self.host {
            Some(host) => request.header("host", host),
            None => request,
        }
    }

    /// Sends a request and reads the whole answer.
    pub(crate) async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        Reply::read(request.send().await.expect("sending the request")).await
    }

    /// Sends a request and reads the whole answer, or says why there is none (a server killed
    /// before or while it answered).
    pub(crate) async fn try_send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Reply, reqwest::Error> {
        Reply::try_read(request.send().await?).await
    }

    /// `GET path`.
    pub(crate) async fn get(&self, path: &str) -> Reply {
        self.send(self.request(Method::GET, path)).await
    }

    /// Any method on `path` with no body.
    pub(crate) async fn call(&self, method: Method, path: &str) -> Reply {
        self.send(self.request(method, path)).await
    }

    /// `POST /oauth2/token` with a form body (credentials, if any, in the body).
    pub(crate) async fn post_token(&self, form: &[(&str, &str)]) -> Reply {
        self.send(self.request(Method::POST, TOKEN_PATH).form(form))
            .await
    }

    /// `POST /oauth2/token` with `client_secret_basic`: id and secret form-urlencoded, then
    /// base64 (RFC 6749 §2.3.1).
    pub(crate) async fn post_token_basic(
        &self,
        id: &str,
        secret: &str,
        form: &[(&str, &str)],
    ) -> Reply {
        self.post_token_authorization(&basic_header(id, secret), form)
            .await
    }

    /// `POST /oauth2/token` with a form body and the given `Authorization` header value.
    pub(crate) async fn post_token_authorization(
        &self,
        authorization: &str,
        form: &[(&str, &str)],
    ) -> Reply {
        self.send(
            self.request(Method::POST, TOKEN_PATH)
                .header("authorization", authorization)
                .form(form),
        )
        .await
    }

    /// `POST /oauth2/token` with raw headers (bytes, so they may be invalid UTF-8) and a raw body.
    pub(crate) async fn post_token_raw(&self, headers: &[(&str, &[u8])], body: Vec<u8>) -> Reply {
        let mut request = self.request(Method::POST, TOKEN_PATH);
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes()).expect("a valid header name");
            let value =
                HeaderValue::from_bytes(value).expect("a header value without CR, LF or NUL");
            request = request.header(name, value);
        }
        self.send(request.body(body)).await
    }

    /// Writes `request` as raw bytes on a new connection and returns the status code of the
    /// answer (`None` when the server closed without one). For requests an HTTP client will not
    /// send: chunked bodies, truncated bodies, broken framing. The request should ask for
    /// `Connection: close` so that the server ends the answer by closing. With `close_write`,
    /// the client then shuts its sending side, so a truncated body meets end-of-stream; the
    /// server may take that as an aborted request and close without an answer.
    pub(crate) async fn raw_http(&self, request: Vec<u8>, close_write: bool) -> Option<u16> {
        let response = self.raw_exchange(request, close_write).await;
        let status = response
            .strip_prefix("HTTP/1.1 ")
            .or_else(|| response.strip_prefix("HTTP/1.0 "))?;
        status.get(..3)?.parse().ok()
    }

    /// `raw_http`, returning all the server sent (head and body, lossy text).
    pub(crate) async fn raw_exchange(&self, request: Vec<u8>, close_write: bool) -> String {
        use std::io::{Read, Write};
        let address = self.address;
        // Blocking socket calls run off the runtime so that the test's tasks keep running.
        tokio::task::spawn_blocking(move || {
            let mut stream =
                std::net::TcpStream::connect(address).expect("connecting to the server");
            stream
                .set_read_timeout(Some(WAIT))
                .expect("setting a read timeout");
            // The server may answer and close before reading everything; what matters is its answer.
            let _ = stream.write_all(&request);
            if close_write {
                let _ = stream.shutdown(std::net::Shutdown::Write);
            }
            let mut response = Vec::new();
            let _ = stream.read_to_end(&mut response);
            String::from_utf8_lossy(&response).into_owned()
        })
        .await
        .expect("the raw HTTP exchange")
    }

    /// `raw_exchange` of a request the server answers with a `Content-Length` body, read as a
    /// `Reply`.
    pub(crate) async fn raw_reply(&self, request: Vec<u8>) -> Reply {
        let response = self.raw_exchange(request, false).await;
        let (head, body) = response
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no end of the head in {response:?}"));
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.strip_prefix("HTTP/1.1 "))
            .and_then(|rest| rest.get(..3))
            .and_then(|code| StatusCode::from_bytes(code.as_bytes()).ok())
            .unwrap_or_else(|| panic!("no status line in {response:?}"));
        let mut headers = HeaderMap::new();
        for line in lines {
            let (name, value) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("a header line without ':' in {response:?}"));
            headers.append(
                HeaderName::from_bytes(name.trim().as_bytes()).expect("a header name"),
                HeaderValue::from_str(value.trim()).expect("a header value"),
            );
        }
        Reply {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    /// The head of a token request declaring a body of `length` bytes and waiting for
    /// `100 Continue` before it sends any: a server that refuses the length answers with no
    /// body on the wire. (A body sent at once and left unread when the server answers early
    /// and closes can make the client's TCP stack drop that answer for a reset.)
    pub(crate) fn declared_length_request(&self, length: usize) -> Vec<u8> {
        format!(
            "POST {TOKEN_PATH} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
             Content-Type: {FORM}\r\nContent-Length: {length}\r\nExpect: 100-continue\r\n\r\n",
            self.host
                .clone()
                .unwrap_or_else(|| self.address.to_string())
        )
        .into_bytes()
    }

    /// A client_credentials request with `client_secret_post` and an optional scope.
    pub(crate) async fn token_for(&self, app: &Value, scope: Option<&str>) -> Reply {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", client_id(app)),
            ("client_secret", client_secret(app)),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.post_token(&form).await
    }

    /// Asserts that `count` token requests for `app` in a row get a token (`when` names the
    /// circumstances, for the failure message).
    pub(crate) async fn assert_tokens_keep_coming(&self, app: &Value, count: usize, when: &str) {
        for attempt in 0..count {
            let reply = self.token_for(app, None).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "token {attempt} {when}: {reply:?}"
            );
        }
    }

    /// Polls a token request with this form until `accept` holds of the answer.
    pub(crate) async fn token_until(
        &self,
        what: &str,
        form: &[(&str, &str)],
        accept: impl Fn(&Reply) -> bool,
    ) -> Reply {
        eventually(what, async || {
            let reply = self.post_token(form).await;
            if accept(&reply) {
                Ok(reply)
            } else {
                Err(format!("{reply:?}"))
            }
        })
        .await
    }

    /// Polls the token endpoint until the server answers anything but `invalid_client` for the
    /// app's own credentials (a public app sends only its id), i.e. until the app has reached
    /// the snapshot that serves this host.
    pub(crate) async fn wait_until_known(&self, app: &Value) {
        let id = client_id(app).to_owned();
        let secret = app["client_secret"].as_str().map(str::to_owned);
        eventually(&format!("app {id} to reach the server"), async || {
            let mut form = vec![
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
            ];
            if let Some(secret) = &secret {
                form.push(("client_secret", secret.as_str()));
            }
            let reply = self.post_token(&form).await;
            if reply.is_invalid_client() {
                Err(format!("{reply:?}"))
            } else {
                Ok(())
            }
        })
        .await;
    }

    /// Polls a token request with the app's own credentials until it is refused as
    /// `invalid_client`: until a change that disabled or deleted the app, or replaced the
    /// secret the object holds, has reached the snapshot that serves this host.
    pub(crate) async fn wait_until_refused(&self, app: &Value, what: &str) {
        eventually(what, async || {
            let reply = self.token_for(app, None).await;
            if reply.is_invalid_client() {
                Ok(())
            } else {
                Err(format!("{reply:?}"))
            }
        })
        .await;
    }

    /// An admin API request with an optional bearer token and JSON body.
    pub(crate) async fn admin_call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let mut request = self.request(method, path);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        self.send(request).await
    }

    /// An admin API request that must answer `status`; its JSON body (`Null` when empty).
    pub(crate) async fn admin_ok(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
        status: u16,
    ) -> Value {
        self.admin_call(method, path, Some(token), body)
            .await
            .json_of(status)
    }

    /// `POST /oauth2/introspect` with HTTP Basic credentials.
    pub(crate) async fn post_introspect(&self, id: &str, secret: &str, token: &str) -> Reply {
        self.send(
            self.request(Method::POST, "/oauth2/introspect")
                .basic_auth(id, Some(secret))
                .form(&[("token", token)]),
        )
        .await
    }

    /// Introspects `token` as `asking` (an app object); the answer must be 200.
    pub(crate) async fn introspect(&self, asking: &Value, token: &str) -> Value {
        let reply = self
            .post_introspect(client_id(asking), client_secret(asking), token)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "introspection answer {reply:?}"
        );
        reply.json()
    }

    /// Polls introspection until `token` is active (`true`) or inactive (`false`) for `asking`.
    pub(crate) async fn wait_for_active(&self, asking: &Value, token: &str, active: bool) -> Value {
        eventually(
            &format!("the token to introspect active={active}"),
            async || {
                let answer = self.introspect(asking, token).await;
                if answer["active"] == active {
                    Ok(answer)
                } else {
                    Err(answer.to_string())
                }
            },
        )
        .await
    }

    /// `POST /oauth2/revoke` with HTTP Basic credentials.
    pub(crate) async fn post_revoke(&self, id: &str, secret: &str, token: &str) -> Reply {
        self.send(
            self.request(Method::POST, "/oauth2/revoke")
                .basic_auth(id, Some(secret))
                .form(&[("token", token)]),
        )
        .await
    }

    /// `POST /oauth2/revoke` as `asking` (an app object).
    pub(crate) async fn revoke(&self, asking: &Value, token: &str) -> Reply {
        self.post_revoke(client_id(asking), client_secret(asking), token)
            .await
    }

    /// `GET /oauth2/jwks` as JSON, after checking it is a 200.
    pub(crate) async fn jwks(&self) -> Value {
        let reply = self.get(JWKS_PATH).await;
        assert_eq!(reply.status, StatusCode::OK, "JWKS answer {reply:?}");
        reply.json()
    }

    /// The kids in the JWKS.
    pub(crate) async fn jwks_kids(&self) -> Vec<String> {
        self.jwks().await["keys"]
            .as_array()
            .expect("a keys array")
            .iter()
            .map(|key| key["kid"].as_str().expect("a kid").to_owned())
            .collect()
    }

    /// Polls the JWKS until `kid` is published (`true`) or gone from it (`false`).
    pub(crate) async fn wait_for_published(&self, kid: &str, published: bool) {
        eventually(
            &format!("key {kid} to be published={published} in the JWKS"),
            async || {
                let kids = self.jwks_kids().await;
                if kids.iter().any(|listed| listed == kid) == published {
                    Ok(())
                } else {
                    Err(format!("{kids:?}"))
                }
            },
        )
        .await;
    }

    /// The `issuer` of the discovery document, or the answer when it is not a 200.
    pub(crate) async fn issuer(&self) -> Result<String, String> {
        let reply = self.get("/.well-known/oauth-authorization-server").await;
        if reply.status != StatusCode::OK {
            return Err(format!("{reply:?}"));
        }
        reply.json()["issuer"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no issuer in {}", reply.body))
    }

    /// Polls discovery until it names `issuer`: this host is routed to the tenant with that
    /// issuer.
    pub(crate) async fn wait_for_issuer(&self, issuer: &str) {
        let host = self.host.as_deref().unwrap_or("the server's own host");
        eventually(
            &format!("{host} to answer as {issuer}"),
            async || match self.issuer().await {
                Ok(seen) if seen == issuer => Ok(()),
                other => Err(format!("{other:?}")),
            },
        )
        .await;
    }
}

/// The `client_id` of an app object (as the CLI prints it and the seeding returns it).
pub(crate) fn client_id(app: &Value) -> &str {
    app["client_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no client_id in {app}"))
}

/// The `client_secret` of an app object.
pub(crate) fn client_secret(app: &Value) -> &str {
    app["client_secret"]
        .as_str()
        .unwrap_or_else(|| panic!("no client_secret in {app}"))
}
