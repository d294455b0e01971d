//! The flags of `latchkey app` (create, update, rotate-secret, ...) and their parsers; the
//! `app federation` commands are `federation_args`.

use super::{CreateKeyArgs, FederationCommand, JsonFlag, UpdateKeyArgs, parse_duration};
use clap::{Args, Subcommand};
use latchkey_protocol::app_settings::TOKEN_REUSE_PERCENT;
use latchkey_protocol::client::{ClientType, GrantType};
use latchkey_protocol::rate_limit::BadRateLimit;
use latchkey_protocol::{RateLimit, Scope};
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub(crate) enum AppCommand {
    /// Create an app and print its client_secret (shown only this once; an app given --jwks or
    /// --jwks-uri has none).
    Create(AppCreateArgs),
    /// List apps.
    List(JsonFlag),
    /// Show one app (never its secret).
    Show(AppIdArgs),
    /// Change an app's settings; a list given replaces the old one.
    Update(AppUpdateArgs),
    /// Stop an app from getting tokens (the tokens it holds are valid again if it is enabled,
    /// unless --revoke-tokens).
    Disable(DisableArgs),
    /// Let a disabled app get tokens again.
    Enable(AppIdArgs),
    /// Delete an app and its secrets.
    Delete(AppIdArgs),
    /// Give an app a new client_secret; the old one stops working (at once, or after --grace).
    RotateSecret(RotateSecretArgs),
    /// Trust identity tokens from external issuers (workload identity federation).
    #[command(subcommand)]
    Federation(FederationCommand),
}

#[derive(Debug, Args)]
pub(crate) struct AppIdArgs {
    /// The app's client_id.
    pub(crate) id: String,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DisableArgs {
    /// The app's client_id.
    pub(crate) id: String,
    /// Also revoke every token the app holds, so that enabling it again does not make them
    /// valid again.
    #[arg(long)]
    pub(crate) revoke_tokens: bool,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

fn parse_scope(text: &str) -> Result<Scope, String> {
    Scope::parse(text).map_err(|error| format!("{error}; give one scope per --scope flag"))
}

fn parse_type(text: &str) -> Result<ClientType, String> {
    text.parse()
        .map_err(|error: latchkey_protocol::app_settings::ClientConfigError| error.to_string())
}

fn parse_grant(text: &str) -> Result<GrantType, String> {
    text.parse()
        .map_err(|error: latchkey_protocol::app_settings::ClientConfigError| error.to_string())
}

fn parse_percent(text: &str) -> Result<u8, String> {
    let number = text.trim().trim_end_matches('%');
    match number.parse::<u8>() {
        Ok(percent) if TOKEN_REUSE_PERCENT.contains(&percent) => Ok(percent),
        _ => Err(format!(
            "{text:?} is not a share of the token's life: use a percentage from 1% to 100%, such as 80%"
        )),
    }
}

fn parse_rate_limit(text: &str) -> Result<RateLimit, String> {
    text.trim()
        .parse()
        .map_err(|error: BadRateLimit| error.to_string())
}

/// One `--claim KEY=VALUE`: VALUE is JSON when it parses as JSON (`3`, `true`, `["a","b"]`,
/// `{"x":1}`), else a string (`gold`).
#[derive(Debug, Clone)]
pub(crate) struct Claim(pub(crate) String, pub(crate) serde_json::Value);

fn parse_claim(text: &str) -> Result<Claim, String> {
    let Some((key, value)) = text.split_once('=') else {
        return Err(format!(
            "{text:?} is not KEY=VALUE: give one claim per --claim, such as --claim tier=gold or --claim level=3"
        ));
    };
    if key.is_empty() {
        return Err("a claim needs a name before '=': such as --claim tier=gold".to_owned());
    }
    let value =
        serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
    Ok(Claim(key.to_owned(), value))
}

/// A token lifetime: a duration (`5m`, `1h`) or seconds, in whole seconds.
pub(super) fn parse_token_ttl(text: &str) -> Result<u32, String> {
    let ttl = parse_duration(text)?;
    if ttl.subsec_nanos() != 0 {
        return Err(format!("{text:?} is not a whole number of seconds"));
    }
    u32::try_from(ttl.as_secs()).map_err(|_| format!("{text:?} is too long for a token lifetime"))
}

#[derive(Debug, Args)]
pub(crate) struct AppCreateArgs {
    /// Display name.
    #[arg(long)]
    pub(crate) name: String,
    /// App type: m2m and web are confidential (get a secret); spa and native are public.
    #[arg(long = "type", default_value = "m2m", value_parser = parse_type)]
    pub(crate) app_type: ClientType,
    /// An allowed scope (repeat for several).
    #[arg(long = "scope", value_parser = parse_scope)]
    pub(crate) scopes: Vec<Scope>,
    /// A scope granted when a token request names none (repeat for several).
    #[arg(long = "default-scope", value_parser = parse_scope)]
    pub(crate) default_scopes: Vec<Scope>,
    /// An allowed grant type (repeat for several); m2m apps get client_credentials by default.
    #[arg(long = "grant-type", value_parser = parse_grant)]
    pub(crate) grant_types: Vec<GrantType>,
    /// Token lifetime: seconds, or a duration such as 5m or 1h (default 300 seconds).
    #[arg(long, value_parser = parse_token_ttl)]
    pub(crate) token_ttl: Option<u32>,
    /// Allow the app to introspect other apps' tokens (for resource servers).
    #[arg(long)]
    pub(crate) introspect: bool,
    /// Hand out the token the app already holds for an identical request while this share of
    /// its life remains (for example 80%). Off by default.
    #[arg(long, value_parser = parse_percent)]
    pub(crate) token_reuse: Option<u8>,
    /// An audience a token request may name with `resource=URI` (repeat for several); the
    /// token's `aud` is then that URI instead of the client id.
    #[arg(long = "audience")]
    pub(crate) audiences: Vec<String>,
    /// A claim added to every token of the app, KEY=VALUE (repeat for several); VALUE is JSON
    /// when it parses as JSON, else a string.
    #[arg(long = "claim", value_parser = parse_claim)]
    pub(crate) claims: Vec<Claim>,
    /// Limit the app to N newly signed tokens per PERIOD on each server (s, min, h or d, such
    /// as 600/min); past it, token requests get 429 with Retry-After.
    #[arg(long, value_name = "N/PERIOD", value_parser = parse_rate_limit)]
    pub(crate) rate_limit: Option<RateLimit>,
    /// Only count and log the requests the rate limit would refuse, refusing none.
    #[arg(long)]
    pub(crate) rate_limit_monitor: bool,
    #[command(flatten)]
    pub(crate) keys: CreateKeyArgs,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct AppUpdateArgs {
    /// The app's client_id.
    pub(crate) id: String,
    /// New display name.
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Allowed scopes (replaces the list).
    #[arg(long = "scope", value_parser = parse_scope)]
    pub(crate) scopes: Option<Vec<Scope>>,
    /// Default scopes (replaces the list).
    #[arg(long = "default-scope", value_parser = parse_scope)]
    pub(crate) default_scopes: Option<Vec<Scope>>,
    /// Allowed grant types (replaces the list).
    #[arg(long = "grant-type", value_parser = parse_grant)]
    pub(crate) grant_types: Option<Vec<GrantType>>,
    /// Token lifetime: seconds, or a duration such as 5m or 1h.
    #[arg(long, value_parser = parse_token_ttl)]
    pub(crate) token_ttl: Option<u32>,
    /// Allow the app to introspect other apps' tokens.
    #[arg(long, conflicts_with = "no_introspect")]
    pub(crate) introspect: bool,
    /// Withdraw the introspect permission.
    #[arg(long)]
    pub(crate) no_introspect: bool,
    /// Turn token reuse on with this share of the token's life (for example 80%).
    #[arg(long, value_parser = parse_percent, conflicts_with = "no_token_reuse")]
    pub(crate) token_reuse: Option<u8>,
    /// Turn token reuse off: every request gets a new token.
    #[arg(long)]
    pub(crate) no_token_reuse: bool,
    /// Allowed audiences (replaces the list; repeat for several).
    #[arg(long = "audience", conflicts_with = "no_audiences")]
    pub(crate) audiences: Option<Vec<String>>,
    /// Remove every allowed audience: tokens are for the client id only.
    #[arg(long)]
    pub(crate) no_audiences: bool,
    /// Claims added to every token (replaces the set; repeat for several), KEY=VALUE.
    #[arg(long = "claim", value_parser = parse_claim, conflicts_with = "no_claims")]
    pub(crate) claims: Option<Vec<Claim>>,
    /// Remove every custom claim.
    #[arg(long)]
    pub(crate) no_claims: bool,
    /// Limit the app to N newly signed tokens per PERIOD on each server (s, min, h or d, such
    /// as 600/min).
    #[arg(
        long,
        value_name = "N/PERIOD",
        value_parser = parse_rate_limit,
        conflicts_with = "no_rate_limit"
    )]
    pub(crate) rate_limit: Option<RateLimit>,
    /// Remove the rate limit.
    #[arg(long)]
    pub(crate) no_rate_limit: bool,
    /// Only count and log the requests the rate limit would refuse, refusing none.
    #[arg(long, conflicts_with = "rate_limit_enforce")]
    pub(crate) rate_limit_monitor: bool,
    /// Leave monitor mode: refuse the requests past the rate limit again.
    #[arg(long)]
    pub(crate) rate_limit_enforce: bool,
    #[command(flatten)]
    pub(crate) keys: UpdateKeyArgs,
    /// Remove every client_secret of the app (refused unless it has --jwks, --jwks-uri or a
    /// federation to authenticate with).
    #[arg(long)]
    pub(crate) no_secret: bool,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RotateSecretArgs {
    /// The app's client_id.
    pub(crate) id: String,
    /// Keep the old secret working for this long (for example 1h, or seconds) beside the new one.
    #[arg(long, value_parser = parse_duration)]
    pub(crate) grace: Option<Duration>,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}
