//! Apps that prove who they are without a shared secret, as a user sets them up with the CLI
//! (`app create --jwks FILE`, `--jwks-uri URL`, `app federation add`), and the requests they
//! make: a client credentials grant authenticated by an assertion (RFC 7523 §2.2), the JWT
//! bearer grant (RFC 7523 §2.1), introspection and revocation with an assertion.

use super::test_keys::{JWT_BEARER_ASSERTION, JWT_BEARER_GRANT, assertion_form};
use super::{Http, Reply, TestApp, eventually, jwt_parts};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::io::Write;

/// A JSON document in a temporary file, for a `--jwks FILE`; removed when dropped.
pub(crate) struct JsonFile(tempfile::NamedTempFile);

impl JsonFile {
    /// Writes `value` to a new temporary file.
    pub(crate) fn new(value: &Value) -> JsonFile {
        let mut file = tempfile::NamedTempFile::new().expect("creating a temporary file");
        file.write_all(value.to_string().as_bytes())
            .expect("writing the JSON file");
        JsonFile(file)
    }

    /// Its path, as an argument.
    pub(crate) fn path(&self) -> &str {
        self.0.path().to_str().expect("a UTF-8 temporary path")
    }
}

impl TestApp {
    /// `latchkey app create --name NAME [EXTRA...] --json`: the app as printed.
    pub(crate) fn create_app(&self, name: &str, extra: &[&str]) -> Value {
        let mut args = vec!["app", "create", "--name", name];
        args.extend_from_slice(extra);
        args.push("--json");
        self.cli_json(&args)
    }

    /// `latchkey app create --name NAME --jwks FILE [EXTRA...] --json`: the app as printed.
    pub(crate) fn create_app_with_jwks(&self, name: &str, jwks: &Value, extra: &[&str]) -> Value {
        let file = JsonFile::new(jwks);
        self.create_app(name, &[&["--jwks", file.path()], extra].concat())
    }

    /// `latchkey app create --name NAME --jwks-uri URI [EXTRA...] --json`: the app as printed.
    pub(crate) fn create_app_with_jwks_uri(&self, name: &str, uri: &str, extra: &[&str]) -> Value {
        self.create_app(name, &[&["--jwks-uri", uri], extra].concat())
    }

    /// `latchkey app update ID --jwks FILE [EXTRA...]`.
    pub(crate) fn update_jwks(&self, client_id: &str, jwks: &Value, extra: &[&str]) {
        let file = JsonFile::new(jwks);
        let mut args = vec!["app", "update", client_id, "--jwks", file.path()];
        args.extend_from_slice(extra);
        self.cli_ok(&args);
    }

    /// `latchkey app federation add ID --name NAME ARGS...` (`--issuer`, `--subject`, ...).
    pub(crate) fn add_federation(&self, client_id: &str, name: &str, args: &[&str]) {
        let mut all = vec!["app", "federation", "add", client_id, "--name", name];
        all.extend_from_slice(args);
        self.cli_ok(&all);
    }
}

impl Http {
    /// A client credentials request authenticated by `assertion` (and `client_id`, if given).
    pub(crate) async fn token_by_assertion(
        &self,
        assertion: &str,
        client_id: Option<&str>,
    ) -> Reply {
        self.post_token(&assertion_form(assertion, client_id)).await
    }

    /// A JWT bearer grant request (RFC 7523 §2.1) presenting `assertion`, with a `client_id`
    /// and a `scope` when given.
    pub(crate) async fn jwt_bearer_grant(
        &self,
        assertion: &str,
        client_id: Option<&str>,
        scope: Option<&str>,
    ) -> Reply {
        let mut form = vec![("grant_type", JWT_BEARER_GRANT), ("assertion", assertion)];
        if let Some(id) = client_id {
            form.push(("client_id", id));
        }
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.post_token(&form).await
    }

    /// Polls a client credentials request authenticated by a new assertion from `mint` each
    /// time (an assertion is good once) until it gets a token: until what the CLI wrote has
    /// reached the server. Returns that answer.
    pub(crate) async fn token_once_known(
        &self,
        what: &str,
        client_id: Option<&str>,
        mut mint: impl FnMut() -> String,
    ) -> Reply {
        self.reply_until(
            what,
            async || self.token_by_assertion(&mint(), client_id).await,
            |reply| reply.status == StatusCode::OK,
        )
        .await
    }

    /// Polls `request` until its answer satisfies `accept`; returns that answer.
    pub(crate) async fn reply_until(
        &self,
        what: &str,
        mut request: impl AsyncFnMut() -> Reply,
        accept: impl Fn(&Reply) -> bool,
    ) -> Reply {
        eventually(what, async || {
            let reply = request().await;
            if accept(&reply) {
                Ok(reply)
            } else {
                Err(format!("{reply:?}"))
            }
        })
        .await
    }

    /// `POST path` (introspection or revocation) with `token`, the client authenticated by
    /// `assertion`.
    pub(crate) async fn post_with_assertion(
        &self,
        path: &str,
        assertion: &str,
        token: &str,
    ) -> Reply {
        let form = [
            ("token", token),
            ("client_assertion_type", JWT_BEARER_ASSERTION),
            ("client_assertion", assertion),
        ];
        self.send(self.request(Method::POST, path).form(&form))
            .await
    }
}

impl Http {
    /// The strings of a list member of the RFC 8414 metadata (asserted present).
    pub(crate) async fn metadata_list(&self, member: &str) -> Vec<String> {
        let metadata = self.get(super::OAUTH_METADATA).await.json_of(200);
        metadata[member]
            .as_array()
            .unwrap_or_else(|| panic!("no {member} list in {metadata}"))
            .iter()
            .filter_map(|value| value.as_str().map(str::to_owned))
            .collect()
    }
}

impl Reply {
    /// Whether this is the OAuth error `code` with `status` (any body that is not one is not).
    pub(crate) fn is_error(&self, status: u16, code: &str) -> bool {
        self.status.as_u16() == status
            && serde_json::from_str::<Value>(&self.body)
                .is_ok_and(|body| body.get("error").and_then(Value::as_str) == Some(code))
    }

    /// Asserts a token answer (`what` names the request, for the failure message) and returns
    /// the access token's claims.
    pub(crate) fn granted(&self, what: &str) -> Value {
        assert_eq!(self.status, StatusCode::OK, "{what}: {self:?}");
        jwt_parts(&self.access_token()).1
    }
}
