//! One behaviour suite for every `Store`. Each check is an `async fn(&dyn Store)` in the module
//! of the entity it is about; `conformance_suite!` runs every check against one backend, each on
//! a fresh store, so a backend joins the suite with one line at the end of this file.

mod apps;
mod audit;
mod changes;
mod dump;
mod keys;
mod revocations;
mod scan;
mod tenants;

use crate::*;
use latchkey_protocol::client::{ClientType, GrantType};
use latchkey_protocol::{AppSettings, Scope, SecretHash, TokenProfile};

pub(crate) fn app(client_id: &str, name: &str) -> AppRecord {
    AppRecord {
        client_id: client_id.into(),
        tenant: DEFAULT_TENANT.into(),
        name: name.into(),
        enabled: true,
        settings: AppSettings {
            scopes: vec![
                Scope::parse("read").unwrap(),
                Scope::parse("write").unwrap(),
            ],
            default_scopes: vec![Scope::parse("read").unwrap()],
            ..AppSettings::new(ClientType::M2m)
        },
        tokens_revoked_before: None,
        revision: 1,
        created_at: 100,
        updated_at: 100,
        secrets: vec![SecretRecord {
            hash: SecretHash::of("s1"),
            created_at: 100,
            expires_at: None,
        }],
    }
}

/// `app` with its settings changed.
pub(super) fn with_settings(
    mut app: AppRecord,
    change: impl FnOnce(&mut AppSettings),
) -> AppRecord {
    change(&mut app.settings);
    app
}

pub(super) fn key(kid: &str) -> KeyRecord {
    key_with(kid, KeyStatus::Active)
}

pub(super) fn key_with(kid: &str, status: KeyStatus) -> KeyRecord {
    KeyRecord {
        kid: kid.into(),
        tenant: DEFAULT_TENANT.into(),
        alg: "RS256".into(),
        status,
        private_key: vec![1, 2, 3],
        master_key_id: Some("mk1".into()),
        created_at: 100,
        activated_at: (status == KeyStatus::Active).then_some(100),
        activate_at: None,
        retire_at: None,
        retired_at: None,
    }
}

pub(super) fn revocation(jti: &str, expires_at: i64) -> RevocationRecord {
    RevocationRecord {
        jti: jti.into(),
        tenant: DEFAULT_TENANT.into(),
        client_id: Some("c1".into()),
        expires_at,
        revoked_at: 100,
    }
}

pub(super) fn tenant(name: &str, domains: &[&str]) -> TenantRecord {
    TenantRecord {
        name: name.into(),
        domains: domains.iter().map(|d| (*d).to_owned()).collect(),
        issuer: None,
        token_profile: TokenProfile::Seed,
        publish_scopes: true,
        max_assertion_lifetime: None,
        created_at: 100,
        updated_at: 100,
    }
}

/// `conformance_suite!(NAME, CONSTRUCTOR)` makes a module `NAME` with one test per check, in
/// one submodule per entity (`conformance::NAME::apps::...`). `CONSTRUCTOR` is called once per
/// test and returns a future of `(store, guard)`: a fresh store in its initial state (only
/// the `default` tenant), and whatever must outlive it, such as a temporary directory or a
/// database to drop, which the test holds until it ends. The checks listed under `two stores`
/// are about moving data from one store to another and get two fresh stores.
macro_rules! conformance_suite {
    ($backend:ident, $open:expr) => {
        conformance_suite!(@tests $backend, $open, {
            tenants: [
                default_tenant_exists,
                tenants_keep_their_domains_in_order,
                a_tenants_assertion_lifetime_is_stored_changed_announced_and_cleared,
                a_tenant_and_its_first_key_are_created_together_or_not_at_all,
                a_domain_or_name_belongs_to_one_tenant,
                deleting_a_tenant_with_apps_needs_force,
            ],
            apps: [
                created_app_reads_back_with_its_secret,
                a_duplicate_client_id_already_exists,
                app_in_unknown_tenant_is_not_found,
                apps_list_in_name_order,
                app_listing_filters_and_pages,
                apps_by_id_returns_those_that_exist,
                app_count_counts_the_apps_of_every_tenant,
                max_token_ttl_is_the_longest_the_tenant_ever_had,
                update_bumps_revision_and_refuses_stale_writes,
                delete_removes_app_and_secrets,
                replace_secret_without_grace_drops_the_old_one,
                replace_secret_with_grace_keeps_the_old_one_until_its_end,
                audiences_and_claims_are_stored,
                rate_limits_are_stored_and_removed,
                keys_and_federation_rules_are_stored_and_scanned,
                removing_secrets_leaves_the_app_without_any,
                introspection_permission_and_app_revocation_are_stored,
            ],
            scan: [
                scan_hands_over_every_app_with_all_its_secrets,
                scan_reads_every_setting_of_every_app_once,
            ],
            keys: [
                first_key_is_inserted_once,
                only_one_next_key_per_tenant,
                promotion_makes_next_active_and_active_retiring,
                only_a_next_key_is_scheduled_and_its_time_reads_back,
                retiring_keys_retire_and_inactive_keys_delete,
                keys_created_in_the_same_second_list_newest_first,
                reseal_replaces_only_keys_sealed_by_the_old_master_key,
            ],
            revocations: [
                revocations_are_kept_until_their_token_expires,
                a_jti_revoked_in_two_tenants_is_two_revocations,
            ],
            audit: [
                audit_events_read_back_in_order_and_filter,
                the_action_filter_matches_the_action_exactly,
                until_keeps_events_at_or_before_the_time_and_bounds_a_range_with_since,
                before_id_keeps_events_with_a_lower_id,
                newest_first_lists_by_descending_id_and_its_limit_keeps_the_newest,
                an_audit_event_is_stored_with_its_change_and_never_without,
                an_event_without_a_change_is_recorded_alone,
            ],
            changes: [
                every_write_appends_a_change,
                purge_drops_old_changes_only,
                a_reader_following_the_log_during_concurrent_writes_misses_nothing,
            ],
        }, two stores {
            dump: [
                an_export_imported_into_a_new_store_exports_the_same,
                an_import_refuses_a_store_with_an_app_or_a_key_and_writes_nothing,
                after_an_import_every_kind_of_write_goes_on,
                an_import_replaces_tenants_of_its_names_and_keeps_the_others,
            ],
        });
    };
    (@tests $backend:ident, $open:expr,
        { $($entity:ident: [$($check:ident),* $(,)?]),* $(,)? },
        two stores { $($pair_entity:ident: [$($pair_check:ident),* $(,)?]),* $(,)? }) => {
        mod $backend {
            $(
                mod $entity {
                    $(
                        #[tokio::test]
                        async fn $check() {
                            let (store, _guard) = ($open)().await;
                            let store: &dyn $crate::Store = &store;
                            super::super::$entity::$check(store).await;
                        }
                    )*
                }
            )*
            $(
                mod $pair_entity {
                    $(
                        #[tokio::test]
                        async fn $pair_check() {
                            let (source, _source_guard) = ($open)().await;
                            let (target, _target_guard) = ($open)().await;
                            super::super::$pair_entity::$pair_check(&source, &target).await;
                        }
                    )*
                }
            )*
        }
    };
}

/// A fresh SQLite store in a temporary directory of its own.
async fn sqlite_store() -> (crate::SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    (crate::SqliteStore::open(&url).await.unwrap(), dir)
}

conformance_suite!(sqlite, crate::conformance::sqlite_store);

conformance_suite!(postgres, crate::postgres::testing::store);

/// What `latchkey db copy` relies on: a dump moves between the two backends and back unchanged.
mod across_backends {
    #[tokio::test]
    async fn an_export_moves_from_sqlite_to_postgresql_and_back_unchanged() {
        let (sqlite, _dir) = super::sqlite_store().await;
        let (postgres, _database) = crate::postgres::testing::store().await;
        let (back, _back_dir) = super::sqlite_store().await;
        super::dump::fill(&sqlite).await;
        let there = super::dump::copy(&sqlite, &postgres).await;
        let back_again = super::dump::copy(&postgres, &back).await;
        assert_eq!(there, back_again);
    }
}
