//! A real client library's `private_key_jwt`: Python's authlib (`OAuth2Session` with its
//! `PrivateKeyJWT` client authentication, pinned in `tests/python/requirements.txt`) gets a
//! token from the server with a key the test made.

use crate::harness::*;
use std::io::Write;

#[tokio::test]
async fn authlib_private_key_jwt_gets_a_token() {
    let app = spawn_app().await;
    for key in [TestKey::rsa(), TestKey::ec()] {
        let created =
            app.create_app_with_jwks("python", &jwks_of(&[&key]), &["--scope", "jobs:run"]);
        let id = client_id(&created).to_owned();
        app.token_once_known("the app's key to be accepted", Some(&id), || {
            key.sign(&assertion_claims(&id, ISSUER, unix_now()))
        })
        .await;

        let mut key_file = tempfile::NamedTempFile::new().expect("a temporary key file");
        key_file
            .write_all(key.private_pem().as_bytes())
            .expect("writing the key file");
        let key_path = key_file.path().to_str().expect("a UTF-8 path").to_owned();
        // authlib's assertion names the token endpoint it is given as `aud`: the server's
        // own, by its issuer, while the request goes to the test server's address.
        let audience = format!("{ISSUER}{TOKEN_PATH}");
        let token_url = app.token_url();
        let Some(answer) = run_python_client(
            "authlib_private_key_jwt.py",
            &[
                ("TOKEN_URL", &token_url),
                ("AUDIENCE", &audience),
                ("CLIENT_ID", &id),
                ("KEY_FILE", &key_path),
                ("KID", key.kid()),
                ("ALG", key.default_alg()),
            ],
        )
        .await
        else {
            return;
        };

        let token = answer["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token from authlib: {answer}"));
        assert_eq!(answer["token_type"], "Bearer", "{answer}");
        assert_eq!(answer["scope"], "jobs:run", "{answer}");
        let jwks = app.jwks().await;
        let claims = verify_token(&jwks, token, &id, ISSUER)
            .unwrap_or_else(|error| panic!("authlib's token does not verify: {error}"));
        assert_eq!(claims["sub"], id.as_str(), "{key:?}");
    }
}
