//! The change log in SQLite. Triggers append to it in the transaction of every write, and
//! SQLite has one writer at a time, so `seq` (an AUTOINCREMENT key) is assigned in commit
//! order: what the ordering contract on `Store::changes_since` asks of a backend.

use crate::columns::changed_entity;
use crate::{Change, StoreResult};
use sqlx::{Row, SqlitePool};

pub(super) async fn latest(pool: &SqlitePool) -> StoreResult<i64> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT max(seq) FROM changes")
        .fetch_one(pool)
        .await?;
    Ok(seq.unwrap_or(0))
}

pub(super) async fn since(pool: &SqlitePool, seq: i64, limit: u32) -> StoreResult<Vec<Change>> {
    let rows = sqlx::query(
        "SELECT seq, entity, tenant, entity_id FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
    )
    .bind(seq)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Change {
                seq: row.try_get("seq")?,
                entity: changed_entity(&row.try_get::<String, _>("entity")?)?,
                tenant: row.try_get("tenant")?,
                id: row.try_get("entity_id")?,
            })
        })
        .collect()
}

pub(super) async fn purge(pool: &SqlitePool, before: i64) -> StoreResult<u64> {
    let result =
        sqlx::query("DELETE FROM changes WHERE at < ? AND seq < (SELECT max(seq) FROM changes)")
            .bind(before)
            .execute(pool)
            .await?;
    Ok(result.rows_affected())
}
