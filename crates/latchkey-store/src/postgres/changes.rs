//! The change log on PostgreSQL. Its numbers are drawn in commit order (`write`), so reading
//! "after the last seq seen" misses nothing.

use crate::columns::changed_entity;
use crate::{Change, StoreResult};
use sqlx::{PgPool, Row};

pub(super) async fn latest(pool: &PgPool) -> StoreResult<i64> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT max(seq) FROM changes")
        .fetch_one(pool)
        .await?;
    Ok(seq.unwrap_or(0))
}

pub(super) async fn since(pool: &PgPool, seq: i64, limit: u32) -> StoreResult<Vec<Change>> {
    let rows = sqlx::query(
        "SELECT seq, entity, tenant, entity_id FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(seq)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Change {
                seq: row.try_get("seq")?,
                entity: changed_entity(row.try_get("entity")?)?,
                tenant: row.try_get("tenant")?,
                id: row.try_get("entity_id")?,
            })
        })
        .collect()
}

pub(super) async fn purge(pool: &PgPool, before: i64) -> StoreResult<u64> {
    let result =
        sqlx::query("DELETE FROM changes WHERE at < $1 AND seq < (SELECT max(seq) FROM changes)")
            .bind(before)
            .execute(pool)
            .await?;
    Ok(result.rows_affected())
}
