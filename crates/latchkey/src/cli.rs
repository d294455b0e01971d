//! The command line: every command, flag and environment variable. These words are a public
//! contract (scripts and tests drive them): add freely, rename never.

use clap::{Args, Parser, Subcommand};
use latchkey_protocol::TokenProfile;
use std::time::Duration;

/// The long descriptions of the global options: on `latchkey --help` only, since every
/// subcommand's help repeats the global options and a short line is enough there.
const GLOBAL_OPTIONS_HELP: &str = "\
Global options:
  --database URL
      Every command works directly on the database, whether or not a server is running. Only
      `serve`, `quickstart`, `tenant create`, `app create` and `key rotate` (and `db copy`, its
      --to) create a database that does not exist yet; every other command needs an existing
      one.
  --config FILE
      A TOML file of settings: each top-level key is a long flag name with `_` for `-`
      (key_rotation_days = 30), and a flag or an environment variable overrides it. See
      `latchkey config check` and latchkey.example.toml.
  --master-key-file PATH
      The file holding the master key(s) that seal signing keys (base64, one per line, the
      first seals). Without it: LATCHKEY_MASTER_KEY holds the keys themselves, or latchkey
      keeps a generated key in a file beside the SQLite database.";

/// latchkey: an OAuth 2.0 authorization server for machine-to-machine tokens.
#[derive(Debug, Parser)]
#[command(
    name = "latchkey",
    version,
    about,
    propagate_version = true,
    after_long_help = GLOBAL_OPTIONS_HELP
)]
pub(crate) struct Cli {
    /// Database URL.
    #[arg(
        long,
        global = true,
        env = "LATCHKEY_DATABASE_URL",
        default_value = "sqlite://latchkey.db"
    )]
    pub(crate) database: String,

    /// File holding the master keys that seal signing keys.
    #[arg(long, global = true, env = "LATCHKEY_MASTER_KEY_FILE")]
    pub(crate) master_key_file: Option<std::path::PathBuf>,

    /// How log lines are written to stderr: text (for a terminal) or json (one object per
    /// line, for a log pipeline).
    #[arg(
        long,
        global = true,
        env = "LATCHKEY_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    pub(crate) log_format: LogFormat,

    /// Configuration file (TOML) of settings the flags and environment do not give.
    #[arg(long, global = true, env = "LATCHKEY_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<std::path::PathBuf>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The shape of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Readable on a terminal.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the authorization server.
    Serve(ServeArgs),
    /// Create (or refresh) a demo app, print a ready-to-run curl command, and run the server.
    Quickstart(ServeArgs),
    /// Manage tenants: each has its own domains, issuer, signing keys and apps.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage apps (OAuth clients).
    App(Scoped<AppCommand>),
    /// Inspect and rotate signing keys.
    Key(Scoped<KeyCommand>),
    /// Revoke tokens.
    Token(Scoped<TokenCommand>),
    /// Read the audit trail of admin changes.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Manage the master key that seals signing keys at rest.
    #[command(subcommand, name = "master-key")]
    MasterKey(MasterKeyCommand),
    /// Move a whole deployment between databases (SQLite and PostgreSQL).
    #[command(subcommand)]
    Db(DbCommand),
    /// Write a consistent copy of the --database SQLite file to FILE while servers keep using
    /// it. The copy does not hold the master key: keep that apart.
    Backup(BackupArgs),
    /// Put a backup back as the --database SQLite file, checked and migrated first (an
    /// existing database is replaced only with --force).
    Restore(RestoreArgs),
    /// Check the configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print a shell completion script (bash, zsh or fish) for every command and flag.
    Completions(CompletionsArgs),
    /// Print the man page, or write one per command with --out DIR.
    Man(ManArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    /// Copy everything (tenants, apps with their secrets, signing keys, live revocations, the
    /// audit trail) from one database into another that holds no apps or keys yet; --database
    /// plays no part.
    Copy(DbCopyArgs),
}

mod app_args;
mod backup_args;
mod config_args;
mod federation_args;
mod generate_args;
mod serve_args;
pub(crate) use app_args::{
    AppCommand, AppCreateArgs, AppIdArgs, AppUpdateArgs, Claim, DisableArgs, RotateSecretArgs,
};
pub(crate) use backup_args::{BackupArgs, RestoreArgs};
pub(crate) use config_args::{ConfigCheckArgs, ConfigCommand};
pub(crate) use federation_args::{
    ClaimCondition, CreateKeyArgs, FederationAddArgs, FederationCommand, FederationRemoveArgs,
    UpdateKeyArgs,
};
pub(crate) use generate_args::{CompletionsArgs, ManArgs, Shell};
pub(crate) use serve_args::ServeArgs;

#[derive(Debug, Args)]
pub(crate) struct DbCopyArgs {
    /// The database to copy from (sqlite://PATH or postgres://...); it is only read.
    #[arg(long)]
    pub(crate) from: String,
    /// The database to copy into (sqlite://PATH, created if missing, or postgres://...).
    #[arg(long)]
    pub(crate) to: String,
}

/// A command family that works inside one tenant.
#[derive(Debug, Args)]
pub(crate) struct Scoped<C: Subcommand> {
    /// The tenant to work in.
    #[arg(
        long,
        global = true,
        env = "LATCHKEY_TENANT",
        default_value = "default"
    )]
    pub(crate) tenant: String,
    #[command(subcommand)]
    pub(crate) command: C,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TenantCommand {
    /// Create a tenant answering on its own domains.
    Create(TenantCreateArgs),
    /// List tenants.
    List(JsonFlag),
    /// Show one tenant.
    Show(TenantNameArgs),
    /// Change a tenant's domains, issuer, token profile, scope publishing or assertion lifetime.
    Update(TenantUpdateArgs),
    /// Delete a tenant (refused while it has apps, unless --force).
    Delete(TenantDeleteArgs),
}

#[derive(Debug, Args)]
pub(crate) struct TenantCreateArgs {
    /// Unique name (lower-case letters, digits, '-' and '_').
    pub(crate) name: String,
    /// A host the tenant answers on (repeat for several); the first gives its issuer
    /// https://DOMAIN unless --issuer is given.
    #[arg(long = "domain", required = true)]
    pub(crate) domains: Vec<String>,
    /// The issuer (`iss`) of the tenant's tokens, instead of https://FIRST_DOMAIN.
    #[arg(long)]
    pub(crate) issuer: Option<String>,
    /// The shape of its access tokens: seed (the default) or rfc9068 (RFC 9068 JWT access
    /// tokens).
    #[arg(long, value_parser = parse_token_profile)]
    pub(crate) token_profile: Option<TokenProfile>,
    /// Leave scopes_supported out of its discovery document.
    #[arg(long)]
    pub(crate) no_publish_scopes: bool,
    /// The longest lifetime of a private_key_jwt client assertion it accepts (1s to 1h; the
    /// default and most is 1h).
    #[arg(long, value_name = "DURATION", value_parser = parse_assertion_lifetime)]
    pub(crate) max_assertion_lifetime: Option<u64>,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

fn parse_token_profile(text: &str) -> Result<TokenProfile, String> {
    TokenProfile::parse(text).ok_or_else(|| {
        let names: Vec<&str> = TokenProfile::ALL.map(TokenProfile::as_str).to_vec();
        format!("unknown token profile {text:?}: use {}", names.join(" or "))
    })
}

#[derive(Debug, Args)]
pub(crate) struct TenantNameArgs {
    /// The tenant's name.
    pub(crate) name: String,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct TenantUpdateArgs {
    /// The tenant's name.
    pub(crate) name: String,
    /// The tenant's domains (replaces the list; repeat for several).
    #[arg(long = "domain")]
    pub(crate) domains: Option<Vec<String>>,
    /// A new issuer.
    #[arg(long, conflicts_with = "default_issuer")]
    pub(crate) issuer: Option<String>,
    /// Go back to the default issuer (https://FIRST_DOMAIN; for `default`, serve's --issuer).
    #[arg(long)]
    pub(crate) default_issuer: bool,
    /// The shape of its access tokens from now on: seed or rfc9068.
    #[arg(long, value_parser = parse_token_profile)]
    pub(crate) token_profile: Option<TokenProfile>,
    /// List the tenant's scopes in its discovery document (scopes_supported).
    #[arg(long, conflicts_with = "no_publish_scopes")]
    pub(crate) publish_scopes: bool,
    /// Leave scopes_supported out of its discovery document.
    #[arg(long)]
    pub(crate) no_publish_scopes: bool,
    /// The longest lifetime of a private_key_jwt client assertion it accepts from now on (1s
    /// to 1h).
    #[arg(
        long,
        value_name = "DURATION",
        value_parser = parse_assertion_lifetime,
        conflicts_with = "default_assertion_lifetime"
    )]
    pub(crate) max_assertion_lifetime: Option<u64>,
    /// Go back to the default assertion lifetime limit (1h).
    #[arg(long)]
    pub(crate) default_assertion_lifetime: bool,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

/// A tenant's limit on client assertion lifetimes: a duration (`10m`, `300s`) of whole
/// seconds, within the range the management layer enforces.
fn parse_assertion_lifetime(text: &str) -> Result<u64, String> {
    let lifetime = parse_duration(text)?;
    if lifetime.subsec_nanos() != 0 {
        return Err(format!("{text:?} is not a whole number of seconds"));
    }
    latchkey_manage::tenants::check_assertion_lifetime(lifetime.as_secs())
        .map(u64::from)
        .map_err(|error| error.to_string())
}

#[derive(Debug, Args)]
pub(crate) struct TenantDeleteArgs {
    /// The tenant's name.
    pub(crate) name: String,
    /// Delete its apps, signing keys and revocations too.
    #[arg(long)]
    pub(crate) force: bool,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// List audit events, oldest first.
    List(AuditListArgs),
}

fn parse_moment(text: &str) -> Result<crate::commands::Moment, String> {
    crate::commands::Moment::parse(text)
}

#[derive(Debug, Args)]
pub(crate) struct AuditListArgs {
    /// Only events at or after this time: an RFC 3339 time (2026-11-25T10:00:00Z), unix
    /// seconds, or a duration ago (15m, 2h, 7d).
    #[arg(long, value_parser = parse_moment)]
    pub(crate) since: Option<crate::commands::Moment>,
    /// Only events at or before this time, as --since takes it; not before --since.
    #[arg(long, value_parser = parse_moment)]
    pub(crate) until: Option<crate::commands::Moment>,
    /// Only events of this tenant.
    #[arg(long)]
    pub(crate) tenant: Option<String>,
    /// Only events of this action, matched exactly (app.create, key.rotate, token.revoke, ...).
    #[arg(long)]
    pub(crate) action: Option<String>,
    /// At most this many events: the oldest ones after --since, else the most recent.
    #[arg(long, default_value_t = 1000)]
    pub(crate) limit: u32,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct JsonFlag {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

/// A duration: `90s`, `15m`, `1h`, `2d` (humantime's units), or a bare number of seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    if let Ok(seconds) = text.trim().parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(text).map_err(|error| {
        format!("{error}: use a duration such as 90s, 15m, 1h or 2d, or a number of seconds")
    })
}

fn parse_alg(text: &str) -> Result<latchkey_keys::Algorithm, String> {
    text.parse()
        .map_err(|error: latchkey_keys::algorithm::UnknownAlgorithm| error.to_string())
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// List signing keys and where each is in its life cycle.
    List(JsonFlag),
    /// Sign new tokens with a new key from now on (or, with --in, from DURATION on); the old
    /// key stays published until its tokens have expired.
    Rotate(KeyRotateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct KeyRotateArgs {
    /// Algorithm of the new key (RS256, ES256 or EdDSA); default: the current key's.
    #[arg(long, value_parser = parse_alg)]
    pub(crate) alg: Option<latchkey_keys::Algorithm>,
    /// Publish the new key now and sign with it from DURATION on (such as 10m), on every
    /// server, so that verifiers' cached JWKS hold it first. 10m (twice the JWKS max-age) is
    /// enough for every cache.
    #[arg(long = "in", value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) activate_in: Option<Duration>,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Revoke one token (by the token itself, or by its jti), or every token issued to an app
    /// until now.
    Revoke(TokenRevokeArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["jti", "token", "app"])))]
pub(crate) struct TokenRevokeArgs {
    /// The token's jti claim (a UUID), refused from then on in the --tenant.
    pub(crate) jti: Option<String>,
    /// The token itself (`-` reads it from stdin): verified against every tenant's signing
    /// keys, which give its tenant, jti and expiry (--tenant is not needed).
    #[arg(long, value_name = "JWT")]
    pub(crate) token: Option<String>,
    /// Revoke every token issued to this app (client_id) until now.
    #[arg(long)]
    pub(crate) app: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum MasterKeyCommand {
    /// Print a new random master key.
    Generate,
    /// Re-seal every signing key with the current (first) master key. With --generate, first
    /// create a new master key and put it first in the master key file.
    Rotate(MasterKeyRotateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct MasterKeyRotateArgs {
    /// Create a new master key in the master key file before re-sealing.
    #[arg(long)]
    pub(crate) generate: bool,
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn token_ttls_are_seconds_or_durations_in_whole_seconds() {
        use super::app_args::parse_token_ttl;
        assert_eq!(parse_token_ttl("300"), Ok(300));
        assert_eq!(parse_token_ttl("5m"), Ok(300));
        assert_eq!(parse_token_ttl("1h"), Ok(3600));
        assert_eq!(parse_token_ttl("1m 30s"), Ok(90));
        for bad in ["", "5 parsecs", "-5", "1500ms", "200y"] {
            assert!(parse_token_ttl(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn grace_periods_take_the_same_durations() {
        use super::parse_duration;
        use std::time::Duration;
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse_duration("soon").is_err());
    }
}
