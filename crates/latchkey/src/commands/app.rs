//! `latchkey app ...`: app management on the database.

use super::now;
use super::tenant;
use crate::cli::{
    AppCommand, AppCreateArgs, AppUpdateArgs, Claim, DisableArgs, RotateSecretArgs, UpdateKeyArgs,
};
use crate::output;
use anyhow::Context;
use latchkey_manage::apps::{self, AppChanges, NewApp};
use latchkey_manage::audit::Actor;
use latchkey_manage::views::SecretView;
use latchkey_protocol::AppSettingsPatch;
use latchkey_store::Store;
use serde_json::json;

pub(crate) async fn run(
    store: &dyn Store,
    tenant: &str,
    command: AppCommand,
) -> anyhow::Result<()> {
    tenant::require(store, tenant).await?;
    match command {
        AppCommand::Create(args) => create(store, tenant, args).await,
        AppCommand::List(flag) => {
            let apps = store.apps(tenant).await.context("could not list apps")?;
            if flag.json {
                let list: Vec<_> = apps.iter().map(|app| output::app_json(app, None)).collect();
                output::print_json(&list);
            } else {
                output::print_app_table(&apps);
            }
            Ok(())
        }
        AppCommand::Show(args) => {
            let app = apps::show(store, tenant, &args.id).await?;
            if args.json {
                output::print_json(&output::app_json(&app, None));
            } else {
                output::print_app(&app, None);
            }
            Ok(())
        }
        AppCommand::Update(args) => update(store, tenant, args).await,
        AppCommand::Disable(args) => disable(store, tenant, args).await,
        AppCommand::Enable(args) => enable(store, tenant, &args.id, args.json).await,
        AppCommand::Delete(args) => {
            apps::delete(store, tenant, &args.id, Actor::CLI, now()).await?;
            if args.json {
                output::print_json(&json!({ "client_id": args.id, "deleted": true }));
            } else {
                outln!(
                    "Deleted app {}. Its tokens stay valid until they expire.",
                    args.id
                );
            }
            Ok(())
        }
        AppCommand::RotateSecret(args) => rotate_secret(store, tenant, args).await,
        AppCommand::Federation(command) => super::federation::run(store, tenant, command).await,
    }
}

/// A JWK Set file's text (`-` reads stdin).
pub(super) fn read_jwks(path: &std::path::Path) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        return std::io::read_to_string(std::io::stdin())
            .context("could not read the JWK Set from stdin");
    }
    std::fs::read_to_string(path)
        .with_context(|| format!("could not read the JWK Set file {}", path.display()))
}

/// The key change of `app update` as a patch: set a JWK Set, set a JWKS URI, remove either,
/// or nothing.
fn key_patch(keys: UpdateKeyArgs) -> anyhow::Result<AppSettingsPatch> {
    let (jwks, jwks_uri) = match keys {
        UpdateKeyArgs {
            jwks: Some(path), ..
        } => (Some(Some(read_jwks(&path)?)), None),
        UpdateKeyArgs {
            jwks_uri: Some(uri),
            ..
        } => (None, Some(Some(uri))),
        UpdateKeyArgs { no_jwks: true, .. } => (Some(None), Some(None)),
        _ => (None, None),
    };
    Ok(AppSettingsPatch {
        jwks,
        jwks_uri,
        ..AppSettingsPatch::default()
    })
}

async fn create(store: &dyn Store, tenant: &str, args: AppCreateArgs) -> anyhow::Result<()> {
    let new = NewApp {
        tenant: tenant.to_owned(),
        name: args.name,
        app_type: args.app_type,
        settings: AppSettingsPatch {
            scopes: Some(args.scopes),
            default_scopes: Some(args.default_scopes),
            grant_types: (!args.grant_types.is_empty()).then_some(args.grant_types),
            token_ttl: args.token_ttl,
            can_introspect: Some(args.introspect),
            token_reuse_percent: Some(args.token_reuse),
            audiences: Some(args.audiences),
            custom_claims: Some(claims_object(args.claims)),
            rate_limit: Some(args.rate_limit),
            rate_limit_monitor: Some(args.rate_limit_monitor),
            jwks: args
                .keys
                .jwks
                .as_deref()
                .map(read_jwks)
                .transpose()?
                .map(Some),
            jwks_uri: args.keys.jwks_uri.map(Some),
            federation: None,
        },
    };
    let (app, secret) = apps::create(store, new, Actor::CLI, now()).await?;
    // On stderr, so that `--json` output stays one JSON document.
    for warning in apps::warnings(&app) {
        eprintln!("warning: {warning}");
    }
    if args.json {
        output::print_json(&output::app_json(&app, Some(secret.as_ref())));
        return Ok(());
    }
    outln!("Created app {:?}.", app.name);
    output::print_app(&app, secret.as_ref());
    if secret.is_some() {
        outln!(
            "\nStore the client_secret now: it is shown only once (rotate it with `latchkey app rotate-secret`)."
        );
    } else if apps::has_keys(&app.settings) {
        outln!(
            "\nThe app has no client_secret: it authenticates with private_key_jwt, a JWT signed \
             with one of its private keys."
        );
    } else {
        outln!(
            "\nA {} app is a public client: it has no secret and cannot use client_credentials.",
            app.settings.app_type
        );
    }
    Ok(())
}

async fn update(store: &dyn Store, tenant: &str, args: AppUpdateArgs) -> anyhow::Result<()> {
    let keys = key_patch(args.keys)?;
    // A `--no-*` flag clears its setting; clap refuses it beside the flag that sets it.
    let changes = AppChanges {
        name: args.name,
        enabled: None,
        tokens_revoked_before: None,
        settings: AppSettingsPatch {
            scopes: args.scopes,
            default_scopes: args.default_scopes,
            grant_types: args.grant_types,
            token_ttl: args.token_ttl,
            can_introspect: match (args.introspect, args.no_introspect) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            token_reuse_percent: match (args.token_reuse, args.no_token_reuse) {
                (Some(percent), _) => Some(Some(percent)),
                (None, true) => Some(None),
                (None, false) => None,
            },
            audiences: match (args.audiences, args.no_audiences) {
                (Some(audiences), _) => Some(audiences),
                (None, true) => Some(Vec::new()),
                (None, false) => None,
            },
            custom_claims: match (args.claims, args.no_claims) {
                (Some(claims), _) => Some(claims_object(claims)),
                (None, true) => Some(serde_json::Map::new()),
                (None, false) => None,
            },
            rate_limit: match (args.rate_limit, args.no_rate_limit) {
                (Some(limit), _) => Some(Some(limit)),
                (None, true) => Some(None),
                (None, false) => None,
            },
            rate_limit_monitor: match (args.rate_limit_monitor, args.rate_limit_enforce) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            ..keys
        },
        remove_secret: args.no_secret,
    };
    let app = apps::update(store, tenant, &args.id, &changes, Actor::CLI, now()).await?;
    if args.json {
        output::print_json(&output::app_json(&app, None));
    } else {
        outln!("Updated app {}.", app.client_id);
        output::print_app(&app, None);
    }
    Ok(())
}

/// `--claim` flags as a JSON object (a later claim of the same name wins).
fn claims_object(claims: Vec<Claim>) -> serde_json::Map<String, serde_json::Value> {
    claims
        .into_iter()
        .map(|Claim(key, value)| (key, value))
        .collect()
}

async fn enable(store: &dyn Store, tenant: &str, id: &str, json: bool) -> anyhow::Result<()> {
    let changes = AppChanges {
        enabled: Some(true),
        ..AppChanges::default()
    };
    let app = apps::update(store, tenant, id, &changes, Actor::CLI, now()).await?;
    if json {
        output::print_json(&output::app_json(&app, None));
    } else {
        outln!(
            "Enabled app {}: it can get tokens again, and the unexpired tokens it held before \
             it was disabled (unless revoked) are valid again.",
            app.client_id
        );
    }
    Ok(())
}

async fn disable(store: &dyn Store, tenant: &str, args: DisableArgs) -> anyhow::Result<()> {
    let app = apps::disable(
        store,
        tenant,
        &args.id,
        args.revoke_tokens,
        Actor::CLI,
        now(),
    )
    .await?;
    if args.json {
        output::print_json(&output::app_json(&app, None));
    } else if args.revoke_tokens {
        outln!(
            "Disabled app {}: its token requests now get invalid_client, and every token it \
             held is revoked.",
            app.client_id
        );
    } else {
        outln!(
            "Disabled app {}: its token requests now get invalid_client. Its tokens are refused \
             while it is disabled and valid again if it is enabled (use --revoke-tokens to \
             revoke them).",
            app.client_id
        );
    }
    Ok(())
}

async fn rotate_secret(
    store: &dyn Store,
    tenant: &str,
    args: RotateSecretArgs,
) -> anyhow::Result<()> {
    let grace = match args.grace {
        Some(grace) => Some(u32::try_from(grace.as_secs()).context("--grace is too long")?),
        None => None,
    };
    let rotated = apps::rotate_secret(store, tenant, &args.id, grace, Actor::CLI, now()).await?;
    if args.json {
        output::print_json(&SecretView::new(args.id, &rotated));
        return Ok(());
    }
    outln!("client_id      {}", args.id);
    outln!("client_secret  {}", rotated.secret.expose());
    match (args.grace, rotated.previous_expires_at) {
        (Some(grace), Some(until)) => outln!(
            "\nThe old secret keeps working for {} more, until {}.",
            humantime::format_duration(grace),
            output::timestamp(until)
        ),
        _ => outln!(
            "\nThe old secret no longer works. Store the new one now: it is shown only once."
        ),
    }
    Ok(())
}
