//! Online backups of an SQLite database (`backup`) and putting one back (`restore`): what
//! the CLI's `latchkey backup` and `latchkey restore` do, on files only. The SQL of both is in
//! `sqlite::backup`; this module owns the files around it: the database named by a URL, the
//! partial file a copy is written to beside its final name, and the atomic step that gives it
//! that name (so a half-written copy never carries it).
//!
//! PostgreSQL is refused with `BackupError::Unsupported`, which carries the URL its own tools
//! (`pg_dump`, `pg_restore`) take: a PostgreSQL database is backed up by PostgreSQL.

use crate::StoreError;
use crate::sqlite::backup as sql;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// What a backup holds, counted in the backup itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    /// Tenants.
    pub tenants: u64,
    /// Apps, in every tenant.
    pub apps: u64,
    /// Signing keys, in every state.
    pub signing_keys: u64,
    /// The master keys that sealed those signing keys, by id, sorted: none of them is in the
    /// backup, and without them its signing keys cannot be unsealed.
    pub master_key_ids: Vec<String>,
    /// The newest schema migration applied.
    pub schema_version: i64,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// What the restored database holds.
    pub contents: Contents,
    /// The schema version of the backup, before the migrations this latchkey applied.
    pub backup_schema_version: i64,
    /// The database file written.
    pub database: PathBuf,
}

/// Whether a file already at the destination may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// Refuse with `BackupError::Exists`.
    Never,
    /// Replace it, atomically.
    Existing,
}

/// Why a backup or a restore did not happen. Nothing was written at the destination.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The database is PostgreSQL; `database` is its URL as `pg_dump` and `pg_restore` take it
    /// (no password, none of latchkey's own parameters).
    #[error("backup and restore work on SQLite files; PostgreSQL is backed up by its own tools")]
    Unsupported {
        /// The URL for PostgreSQL's tools.
        database: String,
    },
    /// The URL names no file (an in-memory database, or another scheme).
    #[error("{0}")]
    NotAFile(String),
    /// There is no database at the path.
    #[error("there is no database at {}", .0.display())]
    NoDatabase(PathBuf),
    /// There is no backup file at the path.
    #[error("there is no file at {}", .0.display())]
    NoBackup(PathBuf),
    /// The destination (or an SQLite file beside it, `-wal` or `-shm`) already exists.
    #[error("{} already exists", .0.display())]
    Exists(PathBuf),
    /// The file is not an SQLite database.
    #[error("{} is not an SQLite database", .0.display())]
    NotSqlite(PathBuf),
    /// The file is an SQLite database without latchkey's schema.
    #[error("{} is an SQLite database but not latchkey's (it holds no latchkey schema)", .0.display())]
    NotLatchkey(PathBuf),
    /// SQLite finds the file damaged; `report` is what it says.
    #[error("{} is damaged: {report}", .path.display())]
    Damaged {
        /// The file.
        path: PathBuf,
        /// SQLite's own words (`PRAGMA integrity_check`, or the error it stopped with).
        report: String,
    },
    /// The file was made by a newer latchkey, whose schema this one does not know.
    #[error(
        "{} holds schema version {version}, newer than this latchkey knows (up to {known})",
        .path.display()
    )]
    Newer {
        /// The file.
        path: PathBuf,
        /// Its newest migration.
        version: i64,
        /// The newest migration this latchkey has.
        known: i64,
    },
    /// Another process has the database open (a server, or a command, running on it).
    #[error("{} is in use by another process", .0.display())]
    InUse(PathBuf),
    /// A file operation failed; `doing` says which.
    #[error("{doing}: {error}")]
    Io {
        /// What was being done, naming the file.
        doing: String,
        /// The cause.
        error: std::io::Error,
    },
    /// The database failed otherwise.
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for BackupError {
    fn from(error: sqlx::Error) -> BackupError {
        BackupError::Store(error.into())
    }
}

/// Shorthand for `BackupError::Io`.
pub(crate) fn io(doing: impl FnOnce() -> String) -> impl FnOnce(std::io::Error) -> BackupError {
    move |error| BackupError::Io {
        doing: doing(),
        error,
    }
}

/// Writes a consistent copy of the SQLite database at `database_url` to `file`, while servers
/// keep using the database: one read transaction (`VACUUM INTO`), which waits for no writer and
/// holds none up. The copy is written to a partial file beside `file`, checked
/// (`integrity_check`), synced, and only then given `file`'s name.
pub async fn backup(
    database_url: &str,
    file: &Path,
    replace: Replace,
) -> Result<Contents, BackupError> {
    let database = sqlite_file(database_url)?;
    if !database.is_file() {
        return Err(BackupError::NoDatabase(database));
    }
    refuse_existing(&[file.to_owned()], replace)?;
    let partial = Partial::beside(file)?;
    let contents = sql::copy(&database, partial.path()).await?;
    partial.place(file, replace)?;
    Ok(contents)
}

/// Puts the backup `file` back as the SQLite database at `database_url`. Everything is checked
/// on a copy beside the database before the database is touched: that `file` is an SQLite
/// database, whole (`integrity_check`), with latchkey's schema no newer than this latchkey's;
/// the copy is migrated to this latchkey's schema, synced, and renamed over the database, whose
/// stale `-wal` and `-shm` files go first. Replacing a database that a process has open is
/// refused (`InUse`): that process would go on with the old file.
pub async fn restore(
    file: &Path,
    database_url: &str,
    replace: Replace,
) -> Result<Restored, BackupError> {
    let database = sqlite_file(database_url)?;
    let companions = sql::companions(&database);
    refuse_existing(&companions, replace)?;
    if !file.is_file() {
        return Err(BackupError::NoBackup(file.to_owned()));
    }
    if !sql::has_sqlite_header(file).map_err(io(|| format!("could not read {}", file.display())))? {
        return Err(BackupError::NotSqlite(file.to_owned()));
    }
    let partial = Partial::beside(&database)?;
    {
        let mut source =
            File::open(file).map_err(io(|| format!("could not read {}", file.display())))?;
        let mut copy = OpenOptions::new()
            .write(true)
            .open(partial.path())
            .map_err(io(|| {
                format!("could not write {}", partial.path().display())
            }))?;
        std::io::copy(&mut source, &mut copy).map_err(io(|| {
            format!("could not copy {} beside the database", file.display())
        }))?;
    }
    let prepared = sql::prepare(partial.path(), file).await?;
    // Held until the rename: no process can open the old database meanwhile.
    let _hold = if database.exists() {
        sql::hold_unused(&database).await?
    } else {
        None
    };
    for stale in &companions[1..] {
        match std::fs::remove_file(stale) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(BackupError::Io {
                    doing: format!("could not remove {}", stale.display()),
                    error,
                });
            }
        }
    }
    partial.place(&database, Replace::Existing)?;
    Ok(Restored {
        contents: prepared.contents,
        backup_schema_version: prepared.backup_schema_version,
        database,
    })
}

/// The file of an SQLite URL; PostgreSQL is `Unsupported`.
fn sqlite_file(database_url: &str) -> Result<PathBuf, BackupError> {
    if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
        return Err(BackupError::Unsupported {
            database: crate::postgres::tool_url(database_url),
        });
    }
    if !database_url.starts_with("sqlite:") {
        let scheme = database_url
            .split_once(':')
            .map_or(database_url, |(s, _)| s);
        return Err(StoreError::UnsupportedUrl(format!("{scheme}:")).into());
    }
    sql::file_of(database_url)
}

/// `Exists` for the first of `paths` that exists, unless it may be replaced.
fn refuse_existing(paths: &[PathBuf], replace: Replace) -> Result<(), BackupError> {
    if replace == Replace::Existing {
        return Ok(());
    }
    match paths.iter().find(|path| path.symlink_metadata().is_ok()) {
        Some(path) => Err(BackupError::Exists(path.clone())),
        None => Ok(()),
    }
}

/// A new, empty, owner-only file beside a final path, removed when dropped unless `place`
/// gave it the final name. Owner-only because a backup holds every app's secret hash and
/// every sealed signing key.
struct Partial {
    path: PathBuf,
    placed: bool,
}

impl Partial {
    fn beside(destination: &Path) -> Result<Partial, BackupError> {
        let name = destination.file_name().ok_or_else(|| {
            BackupError::NotAFile(format!("{} names no file", destination.display()))
        })?;
        for attempt in 0u32.. {
            let mut partial = name.to_owned();
            partial.push(format!(".{}-{attempt}.partial", std::process::id()));
            let path = destination.with_file_name(partial);
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(&path) {
                Ok(_) => {
                    return Ok(Partial {
                        path,
                        placed: false,
                    });
                }
                // Left by an earlier run of a process with this id that was killed.
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(error) => {
                    return Err(BackupError::Io {
                        doing: format!("could not create a file beside {}", destination.display()),
                        error,
                    });
                }
            }
        }
        unreachable!("some attempt number is free")
    }

    fn path(&self) -> &Path {
        &self.path
    }

    /// Syncs the file, gives it `destination`'s name (replacing a file there only if
    /// `replace` says so, else refusing atomically with `Exists`), and syncs the folder, so
    /// that the name survives a power loss too.
    fn place(mut self, destination: &Path, replace: Replace) -> Result<(), BackupError> {
        File::open(&self.path)
            .and_then(|file| file.sync_all())
            .map_err(io(|| format!("could not sync {}", self.path.display())))?;
        match replace {
            Replace::Existing => std::fs::rename(&self.path, destination)
                .map_err(io(|| format!("could not write {}", destination.display())))?,
            // A hard link fails if the name is taken, where a rename would replace it: a file
            // that appeared since the first check is refused too.
            Replace::Never => match std::fs::hard_link(&self.path, destination) {
                Ok(()) => {
                    let _ = std::fs::remove_file(&self.path);
                }
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(BackupError::Exists(destination.to_owned()));
                }
                Err(error) => {
                    return Err(BackupError::Io {
                        doing: format!("could not write {}", destination.display()),
                        error,
                    });
                }
            },
        }
        self.placed = true;
        let folder = match destination.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        File::open(folder)
            .and_then(|folder| folder.sync_all())
            .map_err(io(|| {
                format!("could not sync the folder {}", folder.display())
            }))
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.placed {
            let _ = std::fs::remove_file(&self.path);
            for companion in ["-wal", "-shm", "-journal"] {
                let mut name = self.path.clone().into_os_string();
                name.push(companion);
                let _ = std::fs::remove_file(name);
            }
        }
    }
}
