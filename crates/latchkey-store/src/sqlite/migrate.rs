//! Applies the embedded migrations exactly once however many processes open a new database at
//! the same moment.
//!
//! sqlx's migrator reads what is applied before it takes any lock (its SQLite lock is a no-op),
//! so processes starting together on a fresh file each apply the same migration and all but one
//! fail ("table tenants already exists", "duplicate column name"). Here the whole run is one
//! `BEGIN IMMEDIATE` transaction: the first process applies everything while the others wait on
//! the write lock, then find nothing left to do. The bookkeeping table is sqlx's own, so
//! databases migrated before keep working.

use super::write::WriteTx;
use crate::{StoreError, StoreResult};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::{Executor, Row, SqlitePool};
use std::collections::HashMap;

/// Applies every migration of `migrator` the database does not have yet.
pub(super) async fn run(pool: &SqlitePool, migrator: &Migrator) -> StoreResult<()> {
    let mut tx = WriteTx::lock(pool).await?;
    tx.conn()
        .execute(
            "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
                version BIGINT PRIMARY KEY,
                description TEXT NOT NULL,
                installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
                success BOOLEAN NOT NULL,
                checksum BLOB NOT NULL,
                execution_time BIGINT NOT NULL
            )",
        )
        .await?;
    let rows = sqlx::query("SELECT version, success, checksum FROM _sqlx_migrations")
        .fetch_all(tx.conn())
        .await?;
    let mut applied = HashMap::new();
    for row in &rows {
        let version: i64 = row.try_get("version")?;
        if !row.try_get::<bool, _>("success")? {
            return Err(StoreError::Migrate(MigrateError::Dirty(version)));
        }
        applied.insert(version, row.try_get::<Vec<u8>, _>("checksum")?);
    }
    for version in applied.keys() {
        if !migrator.version_exists(*version) {
            // A newer latchkey migrated this database; this one does not know its schema.
            return Err(StoreError::Migrate(MigrateError::VersionMissing(*version)));
        }
    }
    for migration in migrator.iter() {
        if migration.migration_type.is_down_migration() {
            continue;
        }
        match applied.get(&migration.version) {
            Some(checksum) if checksum.as_slice() == &*migration.checksum => {}
            Some(_) => {
                return Err(StoreError::Migrate(MigrateError::VersionMismatch(
                    migration.version,
                )));
            }
            None => {
                tx.conn().execute(&*migration.sql).await.map_err(|e| {
                    StoreError::Migrate(MigrateError::ExecuteMigration(e, migration.version))
                })?;
                sqlx::query(
                    "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                     VALUES (?, ?, TRUE, ?, -1)",
                )
                .bind(migration.version)
                .bind(&*migration.description)
                .bind(&*migration.checksum)
                .execute(tx.conn())
                .await?;
            }
        }
    }
    tx.commit().await
}
