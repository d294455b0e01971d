//! An app's keys as the snapshot holds them: its own public keys (`private_key_jwt`) parsed
//! once, where it publishes them, and the external issuers it trusts with the keys pinned for
//! them, so that no request parses a key.

use latchkey_keys::PublicKeySet;
use latchkey_protocol::client::ClientKeys;
use latchkey_protocol::federation::FederationRule;

/// How an app proves itself without a secret.
#[derive(Debug)]
pub struct AppKeys {
    /// Its JWK Set, parsed.
    pub jwks: Option<PublicKeySet>,
    /// Where it publishes its JWK Set (fetched and cached by `RemoteKeys`).
    pub jwks_uri: Option<Box<str>>,
    /// The external issuers it trusts.
    pub trusts: Vec<Trust>,
}

/// One federation rule, with the issuer's keys when the rule pins them.
#[derive(Debug)]
pub struct Trust {
    /// The rule.
    pub rule: FederationRule,
    /// The pinned keys, parsed; `None` means the issuer's discovery document says.
    pub pinned: Option<PublicKeySet>,
}

impl AppKeys {
    /// Parses an app's stored keys. Keys are checked when they are written, so one that does
    /// not parse here was written behind latchkey's back: it is left out, with a warning, and
    /// the app cannot use it, rather than the whole snapshot failing to load.
    pub fn parse(client_id: &str, keys: &ClientKeys) -> AppKeys {
        let parse = |what: &str, text: &str| match PublicKeySet::parse(text) {
            Ok(set) => Some(set),
            Err(error) => {
                tracing::warn!(client_id, what, error = %error, "a stored JWK Set is not usable; it is ignored");
                None
            }
        };
        AppKeys {
            jwks: keys.jwks.as_deref().and_then(|text| parse("jwks", text)),
            jwks_uri: keys.jwks_uri.as_deref().map(Box::from),
            trusts: keys
                .federation
                .iter()
                .map(|rule| Trust {
                    pinned: rule
                        .jwks
                        .as_deref()
                        .and_then(|text| parse("federation jwks", text)),
                    rule: rule.clone(),
                })
                .collect(),
        }
    }

    /// The trusts whose issuer is `issuer`.
    pub fn trusts_of<'a>(&'a self, issuer: &'a str) -> impl Iterator<Item = &'a Trust> + 'a {
        self.trusts
            .iter()
            .filter(move |trust| trust.rule.issuer == issuer)
    }
}
