//! `latchkey backup FILE` and `latchkey restore FILE`: an SQLite database copied while servers
//! use it, and put back, through `latchkey_store::backup`. Each says what it copied and where
//! the master key is, since a backup never holds it and its signing keys cannot be unsealed
//! without it. On PostgreSQL both refuse and give PostgreSQL's own commands instead.

use super::master_key::{MASTER_KEY_ENV, default_file};
use crate::cli::{BackupArgs, RestoreArgs};
use crate::output::counted;
use latchkey_keys::Keyring;
use latchkey_manage::keys::MasterKeys;
use latchkey_store::backup::{self as store_backup, BackupError, Contents, Replace};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zeroize::Zeroizing;

pub(crate) async fn backup(
    args: BackupArgs,
    database_url: &str,
    master_key_file: Option<&Path>,
) -> anyhow::Result<()> {
    let contents = store_backup::backup(database_url, &args.file, replace(args.force))
        .await
        .map_err(|error| backup_failure(error, &args.file))?;
    outln!(
        "backed up {} to {}",
        summary(&contents),
        args.file.display()
    );
    let place = MasterKeyPlace::find(master_key_file, database_url);
    outln!(
        "The backup does not hold the master key that seals its signing keys{}: without it \
         they cannot be unsealed, so keep a copy of it, apart from the backup.",
        sealed_by(&contents)
    );
    if let Some(place) = place.describe(&contents, "this database's") {
        outln!("{place}");
    }
    Ok(())
}

pub(crate) async fn restore(
    args: RestoreArgs,
    database_url: &str,
    master_key_file: Option<&Path>,
) -> anyhow::Result<()> {
    let restored = store_backup::restore(&args.file, database_url, replace(args.force))
        .await
        .map_err(|error| restore_failure(error, &args.file))?;
    let migrated = if restored.backup_schema_version == restored.contents.schema_version {
        String::new()
    } else {
        format!(
            " (schema migrated from version {} to {})",
            restored.backup_schema_version, restored.contents.schema_version
        )
    };
    outln!(
        "restored {} from {} into {}{migrated}",
        summary(&restored.contents),
        args.file.display(),
        restored.database.display()
    );
    let place = MasterKeyPlace::find(master_key_file, database_url);
    outln!(
        "Servers on it need the master key that sealed its signing keys{}, which the backup \
         does not hold.",
        sealed_by(&restored.contents)
    );
    if let Some(place) = place.describe(&restored.contents, "the") {
        outln!("{place}");
    }
    Ok(())
}

/// What `--force` says of a file already at the destination.
fn replace(force: bool) -> Replace {
    if force {
        Replace::Existing
    } else {
        Replace::Never
    }
}

/// A failed backup's error, with what to do about it.
fn backup_failure(error: BackupError, file: &Path) -> anyhow::Error {
    let file = file.display();
    let advice = match &error {
        BackupError::Unsupported { database } => format!(
            "back it up with `pg_dump --format=custom --file={file} '{database}'` (and restore \
             that into a new database with `pg_restore --dbname=URL {file}`), or copy the \
             deployment into an SQLite file with `latchkey db copy --from '{database}' --to \
             sqlite://{file}`"
        ),
        BackupError::Exists(_) => "choose another name, or give --force to replace it (the old \
             file stays whole until the new copy is complete)"
            .to_owned(),
        BackupError::NoDatabase(_) => "check --database (or LATCHKEY_DATABASE_URL)".to_owned(),
        _ => return error.into(),
    };
    anyhow::anyhow!("{error}: {advice}")
}

/// A failed restore's error, with what to do about it. Whatever failed, the database was
/// left as it was.
fn restore_failure(error: BackupError, file: &Path) -> anyhow::Error {
    let file = file.display();
    let advice = match &error {
        BackupError::Unsupported { database } => format!(
            "restore a pg_dump backup into a new database with `pg_restore --dbname='{database}' \
             {file}`, or copy a backup `latchkey backup` wrote into it with `latchkey db copy \
             --from sqlite://{file} --to '{database}'`"
        ),
        BackupError::Exists(_) => "restore into a new path, or give --force to replace the \
             database (stop every server on it first)"
            .to_owned(),
        BackupError::InUse(_) => {
            "stop every server and command using it, then run restore again".to_owned()
        }
        BackupError::NoBackup(_) | BackupError::NotSqlite(_) | BackupError::NotLatchkey(_) => {
            "give a file `latchkey backup` wrote".to_owned()
        }
        BackupError::Damaged { .. } => "restore another backup".to_owned(),
        BackupError::Newer { .. } => {
            "restore it with the latchkey that made it, or a newer one".to_owned()
        }
        _ => return anyhow::Error::new(error).context("nothing was changed"),
    };
    anyhow::anyhow!("{error}: {advice}; nothing was changed")
}

/// `1 tenant, 3 apps, 2 signing keys`.
fn summary(contents: &Contents) -> String {
    [
        counted(contents.tenants, "tenant", "tenants"),
        counted(contents.apps, "app", "apps"),
        counted(contents.signing_keys, "signing key", "signing keys"),
    ]
    .join(", ")
}

/// ` (master key ID)`, or nothing when no key is sealed.
fn sealed_by(contents: &Contents) -> String {
    match contents.master_key_ids.as_slice() {
        [] => String::new(),
        [id] => format!(" (master key {id})"),
        ids => format!(" (master keys {})", ids.join(", ")),
    }
}

/// Where the master key of a database is, found as the server would find it, without
/// creating one.
enum MasterKeyPlace {
    /// `--master-key-file`.
    Flag(PathBuf, Option<Arc<Keyring>>),
    /// `LATCHKEY_MASTER_KEY`.
    Environment(Option<Arc<Keyring>>),
    /// The file beside the SQLite database.
    Beside(PathBuf, Option<Arc<Keyring>>),
    /// Nowhere; the path beside the database where one would be looked for.
    Missing(Option<PathBuf>),
}

impl MasterKeyPlace {
    fn find(master_key_file: Option<&Path>, database_url: &str) -> MasterKeyPlace {
        let from_file = |path: &Path| {
            MasterKeys::from_file(path.to_owned())
                .ok()
                .map(|keys| keys.keyring())
        };
        if let Some(path) = master_key_file {
            return MasterKeyPlace::Flag(path.to_owned(), from_file(path));
        }
        if let Ok(text) = std::env::var(MASTER_KEY_ENV) {
            let text = Zeroizing::new(text);
            return MasterKeyPlace::Environment(Keyring::parse(&text).ok().map(Arc::new));
        }
        match default_file(database_url) {
            Some(path) if path.exists() => {
                let keyring = from_file(&path);
                MasterKeyPlace::Beside(path, keyring)
            }
            beside => MasterKeyPlace::Missing(beside),
        }
    }

    /// Where the key is, and whether it holds every master key that sealed `contents`' keys.
    fn describe(&self, contents: &Contents, whose: &str) -> Option<String> {
        let (place, keyring) = match self {
            MasterKeyPlace::Flag(path, keyring) => (
                format!("{} (--master-key-file)", path.display()),
                keyring.as_ref(),
            ),
            MasterKeyPlace::Environment(keyring) => (MASTER_KEY_ENV.to_owned(), keyring.as_ref()),
            MasterKeyPlace::Beside(path, keyring) => (
                format!("{}, the file beside the database", path.display()),
                keyring.as_ref(),
            ),
            // Nothing is sealed yet: nothing to warn about.
            MasterKeyPlace::Missing(_) if contents.master_key_ids.is_empty() => return None,
            MasterKeyPlace::Missing(beside) => {
                let beside = beside.as_ref().map_or(String::new(), |path| {
                    format!(", or put its file at {}", path.display())
                });
                return Some(format!(
                    "warning: no master key was found (no --master-key-file, no \
                     {MASTER_KEY_ENV}{}): give the one its servers use with --master-key-file \
                     or {MASTER_KEY_ENV}{beside}",
                    if beside.is_empty() {
                        ""
                    } else {
                        ", no file beside the database"
                    }
                ));
            }
        };
        let held = keyring.map_or(Vec::new(), |keyring| keyring.ids());
        let missing: Vec<&str> = contents
            .master_key_ids
            .iter()
            .map(String::as_str)
            .filter(|id| !held.contains(id))
            .collect();
        Some(if missing.is_empty() {
            format!("The master key is in {place}.")
        } else {
            format!(
                "warning: {whose} master key in {place} does not hold master key {}: find the \
                 one that sealed these signing keys, or servers cannot sign with them",
                missing.join(", ")
            )
        })
    }
}
