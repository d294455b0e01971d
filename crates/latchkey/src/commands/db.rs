//! `latchkey db copy`: a whole deployment moved from one database to another (SQLite to
//! PostgreSQL and back), through the store's export and import.
//!
//! Signing keys travel sealed, as stored: the copy re-seals nothing, so servers on the target
//! need the master key the source's servers had. The copy checks before it writes that the
//! master key it was given (or, from SQLite to SQLite, the file beside the source) opens
//! every key, so that it never makes a deployment no server can sign with.

use super::master_key::{InlineKeys, MASTER_KEY_ENV, MasterKeySource, create_once, default_file};
use super::{now, open_store_from};
use crate::cli::{DbCommand, DbCopyArgs};
use anyhow::{Context, bail};
use latchkey_manage::keys::MasterKeys;
use latchkey_store::{Create, Dump, StoreError};
use std::path::PathBuf;
use std::sync::Arc;

pub(crate) async fn run(
    command: DbCommand,
    master_key_file: Option<PathBuf>,
    inline: Option<Arc<InlineKeys>>,
) -> anyhow::Result<()> {
    match command {
        DbCommand::Copy(args) => copy(args, master_key_file, inline).await,
    }
}

async fn copy(
    args: DbCopyArgs,
    master_key_file: Option<PathBuf>,
    inline: Option<Arc<InlineKeys>>,
) -> anyhow::Result<()> {
    let given = master_key_file.is_some() || inline.is_some();
    let source_keys = MasterKeySource {
        file: master_key_file.clone(),
        database_url: args.from.clone(),
        inline: inline.clone(),
    };
    // PostgreSQL on either side needs the master key given, as every command on PostgreSQL
    // does: there is no file beside the database to keep it in, and the servers on the target
    // will need it. Checked before either database is opened.
    source_keys.require_given()?;
    MasterKeySource {
        file: master_key_file,
        database_url: args.to.clone(),
        inline,
    }
    .require_given()?;
    let source = open_store_from(&args.from, Create::Never, "--from").await?;
    let dump = source
        .export(now())
        .await
        .context("could not read the database to copy from")?;
    let master_keys = if dump.keys.iter().any(|key| key.master_key_id.is_some()) {
        // Without sealed keys there is nothing to check, and resolving could create a master
        // key file beside an SQLite source.
        let master_keys = source_keys.resolve(source.as_ref(), false).await?;
        check_keys_open(&dump, &master_keys)?;
        Some(master_keys)
    } else {
        None
    };
    let target = open_store_from(&args.to, Create::IfMissing, "--to").await?;
    match target.import(&dump).await {
        Ok(()) => {}
        Err(error @ StoreError::NotEmpty(_)) => bail!(
            "{error}: copy into a new database instead (a path with no SQLite file yet, or a \
             newly created PostgreSQL database)"
        ),
        Err(error) => return Err(error).context("could not write the database to copy into"),
    }
    outln!("copied {}", summary(&dump));
    // From SQLite to SQLite without a master key given, the key travels as the database's
    // own file does: servers on the copy find it beside it.
    if let (false, Some(master_keys)) = (given, master_keys) {
        copy_master_key_file(&master_keys, &args.to)?;
    }
    Ok(())
}

/// Fails, naming the key and the master key it needs, unless every sealed key opens.
fn check_keys_open(dump: &Dump, master_keys: &MasterKeys) -> anyhow::Result<()> {
    for key in &dump.keys {
        if master_keys.open(key).is_err() {
            bail!(
                "signing key {} (tenant {:?}) is sealed by master key {}, which the master key \
                 given does not open: give the master key of the database to copy from \
                 (--master-key-file or {MASTER_KEY_ENV}); nothing was copied",
                key.kid,
                key.tenant,
                key.master_key_id.as_deref().unwrap_or("none")
            );
        }
    }
    Ok(())
}

/// Puts the source's master key file beside an SQLite target, unless one is there already.
fn copy_master_key_file(master_keys: &MasterKeys, target_url: &str) -> anyhow::Result<()> {
    let (Some(source_file), Some(target_file)) = (master_keys.file(), default_file(target_url))
    else {
        return Ok(());
    };
    let contents = std::fs::read_to_string(source_file)
        .with_context(|| format!("could not read {}", source_file.display()))?;
    if create_once(&target_file, &contents)? {
        outln!("copied the master key file to {}", target_file.display());
    } else {
        outln!(
            "{} already exists: servers on the copy need the master key in {}",
            target_file.display(),
            source_file.display()
        );
    }
    Ok(())
}

/// `2 tenants, 5 apps, 3 signing keys, 1 revocation, 17 audit events`.
fn summary(dump: &Dump) -> String {
    let count = |n: usize, one: &str, many: &str| crate::output::counted(n as u64, one, many);
    [
        count(dump.tenants.len(), "tenant", "tenants"),
        count(dump.apps.len(), "app", "apps"),
        count(dump.keys.len(), "signing key", "signing keys"),
        count(dump.revocations.len(), "revocation", "revocations"),
        count(dump.audit.len(), "audit event", "audit events"),
    ]
    .join(", ")
}

#[cfg(test)]
mod tests {
    use super::summary;
    use latchkey_store::{AuditEvent, Dump, RevocationRecord};

    #[test]
    fn the_summary_counts_each_kind_in_singular_or_plural() {
        let event = AuditEvent {
            id: 1,
            at: 1,
            tenant: "default".into(),
            actor: "cli".into(),
            action: "app.create".into(),
            target: "c1".into(),
            details: "{}".into(),
        };
        let revocation = RevocationRecord {
            jti: "j1".into(),
            tenant: "default".into(),
            client_id: None,
            expires_at: 2,
            revoked_at: 1,
        };
        let dump = Dump {
            revocations: vec![revocation],
            audit: vec![event.clone(), event],
            ..Dump::default()
        };
        assert_eq!(
            summary(&dump),
            "0 tenants, 0 apps, 0 signing keys, 1 revocation, 2 audit events"
        );
    }
}
