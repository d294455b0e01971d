//! The `Store` implementation both backends share: each backend keeps one module per entity
//! (`apps`, `tenants`, `keys`, `revocations`, `audit`, `changes`, and `dump` for whole-store
//! export and import) with the same functions, and `entity_modules_store!` delegates every
//! trait method to them, so the trait's documentation is the contract and each entity's module
//! the SQL that keeps it.

/// Implements `Store` for `$store` (a type with a `pool` field and inherent `scan`,
/// `bounded`, `lead_maintenance` and `change_notices` methods) by
/// delegating to the entity modules in scope where it is invoked.
macro_rules! entity_modules_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::Store for $store {
            async fn tenants(&self) -> $crate::StoreResult<Vec<$crate::TenantRecord>> {
                self.bounded(tenants::all(&self.pool)).await
            }

            async fn tenant(
                &self,
                name: &str,
            ) -> $crate::StoreResult<Option<$crate::TenantRecord>> {
                self.bounded(tenants::one(&self.pool, name)).await
            }

            async fn create_tenant(
                &self,
                tenant: &$crate::TenantRecord,
                first_key: Option<&$crate::KeyRecord>,
                audit: Option<&$crate::AuditEvent>,
            ) -> $crate::StoreResult<()> {
                self.bounded(tenants::create(&self.pool, tenant, first_key, audit))
                    .await
            }

            async fn update_tenant(
                &self,
                tenant: &$crate::TenantRecord,
                audit: Option<&$crate::AuditEvent>,
            ) -> $crate::StoreResult<()> {
                self.bounded(tenants::update(&self.pool, tenant, audit))
                    .await
            }

            async fn delete_tenant(
                &self,
                name: &str,
                force: bool,
                audit: Option<&$crate::AuditEvent>,
            ) -> $crate::StoreResult<()> {
                self.bounded(tenants::delete(&self.pool, name, force, audit))
                    .await
            }

            async fn create_app(
                &self,
                app: &$crate::AppRecord,
                audit: Option<&$crate::AuditEvent>,
            ) -> $crate::StoreResult<()> {
                self.bounded(apps::create(&self.pool, app, audit)).await
            }

            async fn app(
                &self,
                tenant: &str,
                client_id: &str,
            ) -> $crate::StoreResult<Option<$crate::AppRecord>> {
                self.bounded(apps::one(&self.pool, tenant, client_id)).await
            }

            async fn apps(&self, tenant: &str) -> $crate::StoreResult<Vec<$crate::AppRecord>> {
                self.bounded(apps::of_tenant(&self.pool, tenant)).await
            }

            async fn list_apps(
                &self,
                tenant: &str,
                query: &$crate::AppQuery,
            ) -> $crate::StoreResult<Vec<$crate::AppRecord>> {
                self.bounded(apps::list(&self.pool, tenant, query)).await
            }

            async fn update_app(
                &self,
                app: &$crate::AppRecord,
                audit: Option<&$crate::AuditEvent>,
            ) -> $crate::StoreResult<()> {
                self.bounded(apps::update(&self.pool, app, audit)).await
            }

            async fn max_token_ttl(&self, tenant: &str) -> $crate::StoreResult<Option<u32>> {
                self.bounded(apps::max_token_ttl(&self.pool, tenant)).await
            }

            async fn delete_app(
                &self,
                tenant: &str,
                client_id: &str,
                audit: Option<&$crate::AuditEvent>,
            ) -> $crate::StoreResult<()> {
                self.bounded(apps::delete(&self.pool, tenant, client_id, audit))
                    .await
            }

            async fn remove_secrets(
                &self,
                tenant: &str,
                client_id: &str,
                now: i64,
                audit: Option<&$crate::AuditEvent>,
            ) -> $crate::StoreResult<bool> {
                apps::remove_secrets(&self.pool, tenant, client_id, now, audit).await
            }

            async fn replace_secret(
                &self,
                tenant: &str,
                client_id: &str,
                secret: $crate::SecretRecord,
                old_expires_at: Option<i64>,
                audit: Option<&$crate::AuditEvent>,
            ) -> $crate::StoreResult<()> {
                apps::replace_secret(&self.pool, tenant, client_id, secret, old_expires_at, audit)
                    .await
            }

            async fn signing_keys(
                &self,
                tenant: &str,
            ) -> $crate::StoreResult<Vec<$crate::KeyRecord>> {
                self.bounded(keys::of_tenant(&self.pool, tenant)).await
            }

            async fn all_signing_keys(&self) -> $crate::StoreResult<Vec<$crate::KeyRecord>> {
                self.bounded(keys::all(&self.pool)).await
            }

            async fn insert_key(
                &self,
                key: &$crate::KeyRecord,
                audit: Option<&$crate::AuditEvent>,
            ) -> $crate::StoreResult<bool> {
                self.bounded(keys::insert(&self.pool, key, audit)).await
            }

            async fn promote_key(
                &self,
                tenant: &str,
                kid: &str,
                now: i64,
                retire_at: i64,
                audit: Option<&$crate::AuditEvent>,
            ) -> $crate::StoreResult<bool> {
                self.bounded(keys::promote(
                    &self.pool, tenant, kid, now, retire_at, audit,
                ))
                .await
            }

            async fn schedule_key(
                &self,
                tenant: &str,
                kid: &str,
                activate_at: i64,
                audit: Option<&$crate::AuditEvent>,
            ) -> $crate::StoreResult<bool> {
                self.bounded(keys::schedule(&self.pool, tenant, kid, activate_at, audit))
                    .await
            }

            async fn retire_key(&self, kid: &str, now: i64) -> $crate::StoreResult<bool> {
                self.bounded(keys::retire(&self.pool, kid, now)).await
            }

            async fn delete_key(&self, kid: &str) -> $crate::StoreResult<bool> {
                self.bounded(keys::delete(&self.pool, kid)).await
            }

            async fn reseal_key(
                &self,
                kid: &str,
                old_master_key_id: Option<&str>,
                private_key: &[u8],
                master_key_id: &str,
            ) -> $crate::StoreResult<bool> {
                keys::reseal(
                    &self.pool,
                    kid,
                    old_master_key_id,
                    private_key,
                    master_key_id,
                )
                .await
            }

            async fn revoke_token(
                &self,
                record: &$crate::RevocationRecord,
                audit: Option<&$crate::AuditEvent>,
            ) -> $crate::StoreResult<()> {
                self.bounded(revocations::revoke(&self.pool, record, audit))
                    .await
            }

            async fn revocations(
                &self,
                jtis: &[String],
            ) -> $crate::StoreResult<Vec<$crate::RevocationRecord>> {
                self.bounded(revocations::of_tokens(&self.pool, jtis)).await
            }

            async fn live_revocations(
                &self,
                now: i64,
            ) -> $crate::StoreResult<Vec<$crate::RevocationRecord>> {
                self.bounded(revocations::live(&self.pool, now)).await
            }

            async fn purge_revocations(&self, before: i64) -> $crate::StoreResult<u64> {
                self.bounded(revocations::purge(&self.pool, before)).await
            }

            async fn lead_maintenance(
                &self,
            ) -> $crate::StoreResult<Option<$crate::MaintenanceLease>> {
                self.lead_maintenance().await
            }

            fn change_notices(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
                self.change_notices()
            }

            async fn audit_events(
                &self,
                query: &$crate::AuditQuery,
            ) -> $crate::StoreResult<Vec<$crate::AuditEvent>> {
                self.bounded(audit::events(&self.pool, query)).await
            }

            async fn record_audit(&self, event: &$crate::AuditEvent) -> $crate::StoreResult<()> {
                let tx = write::WriteTx::begin(&self.pool).await?;
                tx.commit_with(Some(event)).await
            }

            async fn scan_clients(
                &self,
                visit: &mut (dyn FnMut($crate::ScannedClient) + Send),
            ) -> $crate::StoreResult<()> {
                self.scan(visit).await
            }

            async fn app_count(&self) -> $crate::StoreResult<u64> {
                self.bounded(apps::count(&self.pool)).await
            }

            async fn apps_by_id(
                &self,
                client_ids: &[String],
            ) -> $crate::StoreResult<Vec<$crate::AppRecord>> {
                self.bounded(apps::by_id(&self.pool, client_ids)).await
            }

            async fn latest_change(&self) -> $crate::StoreResult<i64> {
                self.bounded(changes::latest(&self.pool)).await
            }

            async fn changes_since(
                &self,
                seq: i64,
                limit: u32,
            ) -> $crate::StoreResult<Vec<$crate::Change>> {
                self.bounded(changes::since(&self.pool, seq, limit)).await
            }

            async fn purge_changes(&self, before: i64) -> $crate::StoreResult<u64> {
                self.bounded(changes::purge(&self.pool, before)).await
            }

            // These two run as long as the deployment is large (a million apps): a bound on
            // each operation's time must leave them out.
            async fn export(&self, now: i64) -> $crate::StoreResult<$crate::Dump> {
                dump::export(&self.pool, now).await
            }

            async fn import(&self, dump: &$crate::Dump) -> $crate::StoreResult<()> {
                dump::import(&self.pool, dump).await
            }
        }
    };
}

pub(crate) use entity_modules_store;
