//! The flags of apps without secrets: an app's public keys for `private_key_jwt` (on `app
//! create` and `app update`), and `app federation add|list|remove`, the external issuers whose
//! identity tokens an app accepts as its own.

use super::AppIdArgs;
use clap::{Args, Subcommand};
use latchkey_protocol::federation::parse_claim_condition;
use std::path::PathBuf;

/// The public keys of a new app: either flag makes an app without a client secret.
#[derive(Debug, Args)]
pub(crate) struct CreateKeyArgs {
    /// The app's public keys, a JWK Set file (`-` reads stdin): the app gets no client_secret
    /// and authenticates with private_key_jwt, signing with one of its private keys.
    #[arg(long, value_name = "FILE", conflicts_with = "jwks_uri")]
    pub(crate) jwks: Option<PathBuf>,
    /// Where the app publishes its JWK Set (https://, or http:// to 127.0.0.1, [::1] or
    /// localhost), fetched and cached by latchkey: the app gets no client_secret.
    #[arg(long, value_name = "URL")]
    pub(crate) jwks_uri: Option<String>,
}

/// A change of an app's public keys: one of the three flags.
#[derive(Debug, Args)]
#[group(multiple = false)]
pub(crate) struct UpdateKeyArgs {
    /// Replace the app's public keys with this JWK Set file (`-` reads stdin); drops a
    /// --jwks-uri.
    #[arg(long, value_name = "FILE")]
    pub(crate) jwks: Option<PathBuf>,
    /// Fetch the app's public keys from this URL from now on; drops a --jwks.
    #[arg(long, value_name = "URL")]
    pub(crate) jwks_uri: Option<String>,
    /// Remove the app's public keys (its JWK Set or JWKS URI).
    #[arg(long)]
    pub(crate) no_jwks: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum FederationCommand {
    /// Trust identity tokens from an external issuer (a Kubernetes cluster, GitHub Actions, a
    /// SPIFFE trust domain) whose subject and claims match, as the app's.
    Add(FederationAddArgs),
    /// List the app's federations.
    List(AppIdArgs),
    /// Remove one of the app's federations: its issuer's tokens are no longer accepted.
    Remove(FederationRemoveArgs),
}

/// One `--claim` of a federation: a claim name or a JSON Pointer, and its expected value.
#[derive(Debug, Clone)]
pub(crate) struct ClaimCondition(pub(crate) String, pub(crate) String);

fn parse_condition(text: &str) -> Result<ClaimCondition, String> {
    parse_claim_condition(text)
        .map(|(claim, value)| ClaimCondition(claim, value))
        .map_err(|error| error.to_string())
}

#[derive(Debug, Args)]
pub(crate) struct FederationAddArgs {
    /// The app's client_id.
    pub(crate) id: String,
    /// A name for the federation, unique within the app (letters, digits, '.', '_', '-').
    #[arg(long)]
    pub(crate) name: String,
    /// The external issuer: its tokens' `iss`, and where its OIDC discovery document (and so
    /// its keys) is found, unless --jwks pins them.
    #[arg(long, value_name = "URL")]
    pub(crate) issuer: String,
    /// The tokens' `sub` exactly, or a prefix of it ending in '*' (quote it), such as
    /// 'repo:acme/api:ref:refs/heads/*' or system:serviceaccount:payments:api.
    #[arg(long)]
    pub(crate) subject: String,
    /// The audience the tokens must hold (default: the tenant's issuer URL).
    #[arg(long, value_name = "AUD")]
    pub(crate) audience: Option<String>,
    /// A condition on another claim, KEY=VALUE (repeat for several): a claim name such as
    /// repository=acme/api, or a JSON Pointer for a nested claim, such as
    /// /kubernetes.io/namespace=payments.
    #[arg(long = "claim", value_name = "KEY=VALUE", value_parser = parse_condition)]
    pub(crate) claims: Vec<ClaimCondition>,
    /// The issuer's public keys as a JWK Set file (`-` reads stdin), for an issuer whose
    /// discovery latchkey cannot reach (an air-gapped cluster's API server).
    #[arg(long, value_name = "FILE")]
    pub(crate) jwks: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct FederationRemoveArgs {
    /// The app's client_id.
    pub(crate) id: String,
    /// The federation's name.
    pub(crate) name: String,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}
