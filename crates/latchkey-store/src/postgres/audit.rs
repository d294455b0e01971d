//! The audit trail on PostgreSQL.

use crate::{AuditEvent, AuditOrder, AuditQuery, StoreResult};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

/// Appends an event on `conn`, inside the transaction of the change it records when there is one.
pub(super) async fn insert(conn: &mut PgConnection, event: &AuditEvent) -> StoreResult<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO audit_events (at, tenant, actor, action, target, details) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(event.at)
    .bind(&event.tenant)
    .bind(&event.actor)
    .bind(&event.action)
    .bind(&event.target)
    .bind(&event.details)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// `events_on` the pool.
pub(super) async fn events(
    pool: &sqlx::PgPool,
    query: &AuditQuery,
) -> StoreResult<Vec<AuditEvent>> {
    events_on(pool, query).await
}

pub(super) async fn events_on<'c>(
    executor: impl sqlx::Executor<'c, Database = Postgres>,
    query: &AuditQuery,
) -> StoreResult<Vec<AuditEvent>> {
    let mut sql = QueryBuilder::<Postgres>::new(
        "SELECT id, at, tenant, actor, action, target, details FROM audit_events WHERE TRUE",
    );
    if let Some(since) = query.since {
        sql.push(" AND at >= ").push_bind(since);
    }
    if let Some(tenant) = &query.tenant {
        sql.push(" AND tenant = ").push_bind(tenant.as_str());
    }
    if let Some(after) = query.after_id {
        sql.push(" AND id > ").push_bind(after);
    }
    if let Some(action) = &query.action {
        sql.push(" AND action = ").push_bind(action.as_str());
    }
    if let Some(until) = query.until {
        sql.push(" AND at <= ").push_bind(until);
    }
    if let Some(before) = query.before_id {
        sql.push(" AND id < ").push_bind(before);
    }
    // Both orders that pick the newest take them by descending id; `Latest` then turns them
    // back to be read oldest first.
    let order = if query.order.picks_newest() {
        " ORDER BY id DESC LIMIT "
    } else {
        " ORDER BY id LIMIT "
    };
    sql.push(order).push_bind(i64::from(query.limit));
    let mut rows = sql.build().fetch_all(executor).await?;
    if query.order == AuditOrder::Latest {
        rows.reverse();
    }
    rows.iter()
        .map(|row| {
            Ok(AuditEvent {
                id: row.try_get("id")?,
                at: row.try_get("at")?,
                tenant: row.try_get("tenant")?,
                actor: row.try_get("actor")?,
                action: row.try_get("action")?,
                target: row.try_get("target")?,
                details: row.try_get("details")?,
            })
        })
        .collect()
}
