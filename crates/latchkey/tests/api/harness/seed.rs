//! Apps and tenants written in-process through the management code the CLI and the admin API
//! share, as the objects `latchkey app create --json` and `latchkey tenant create --json`
//! print. The one place the suite reaches the management layer: when it moves, this file's
//! imports change and nothing else.
//!
//! Seeding is not a test of the CLI (that is `cli.rs` and the tests that run it): it is how a
//! test gets the apps and tenants it is about, quickly.

use super::{Setup, TestApp, TestDatabase, prepare, unix_now};
use latchkey_keys::Algorithm;
use latchkey_manage::audit::Actor;
use latchkey_manage::keys::MasterKeys;
use latchkey_manage::views::{AppView, KeyView, TenantView};
use latchkey_manage::{apps, tenants};
use latchkey_protocol::claims::TokenProfile;
use latchkey_protocol::{AppSettingsPatch, Scope};
use latchkey_store::Store;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

/// An app to seed: `new_app("name")` and what differs from `latchkey app create --name name`.
#[derive(Clone)]
pub(crate) struct AppSpec {
    new: apps::NewApp,
    /// Where the app's tenant answers, to wait for the app there.
    host: Option<String>,
}

/// An m2m app of the default tenant named `name`, with the CLI's defaults.
pub(crate) fn new_app(name: &str) -> AppSpec {
    AppSpec {
        new: apps::NewApp {
            tenant: latchkey_store::DEFAULT_TENANT.to_owned(),
            name: name.to_owned(),
            app_type: latchkey_protocol::client::ClientType::M2m,
            settings: AppSettingsPatch::default(),
        },
        host: None,
    }
}

fn scopes(names: &[&str]) -> Vec<Scope> {
    names
        .iter()
        .map(|name| Scope::parse(name).unwrap_or_else(|error| panic!("{name:?}: {error}")))
        .collect()
}

impl AppSpec {
    /// In `tenant`, which answers at `host`.
    pub(crate) fn tenant(mut self, tenant: &str, host: &str) -> AppSpec {
        self.new.tenant = tenant.to_owned();
        self.host = Some(host.to_owned());
        self
    }

    /// Of this type (`m2m`, `web`, `spa`, `native`).
    pub(crate) fn kind(mut self, kind: &str) -> AppSpec {
        self.new.app_type = kind.parse().expect("an app type");
        self
    }

    /// Allowed these scopes.
    pub(crate) fn scopes(mut self, names: &[&str]) -> AppSpec {
        self.new.settings.scopes = Some(scopes(names));
        self
    }

    /// Granted these scopes when a request names none.
    pub(crate) fn default_scopes(mut self, names: &[&str]) -> AppSpec {
        self.new.settings.default_scopes = Some(scopes(names));
        self
    }

    /// With these grant types instead of its type's.
    pub(crate) fn grant_types(mut self, names: &[&str]) -> AppSpec {
        let grants = names
            .iter()
            .map(|name| name.parse().expect("a grant type"))
            .collect();
        self.new.settings.grant_types = Some(grants);
        self
    }

    /// Tokens living `seconds`.
    pub(crate) fn token_ttl(mut self, seconds: u32) -> AppSpec {
        self.new.settings.token_ttl = Some(seconds);
        self
    }

    /// Allowed to introspect other apps' tokens.
    pub(crate) fn introspect(mut self) -> AppSpec {
        self.new.settings.can_introspect = Some(true);
        self
    }

    /// Reusing its token while `percent` of its life remains.
    pub(crate) fn token_reuse(mut self, percent: u8) -> AppSpec {
        self.new.settings.token_reuse_percent = Some(Some(percent));
        self
    }

    /// Limited to this many newly signed tokens per period (`N/PERIOD`).
    pub(crate) fn rate_limit(mut self, limit: &str) -> AppSpec {
        self.new.settings.rate_limit = Some(Some(limit.parse().expect("a rate limit")));
        self
    }

    /// Whose rate limit only counts and logs.
    pub(crate) fn rate_limit_monitor(mut self) -> AppSpec {
        self.new.settings.rate_limit_monitor = Some(true);
        self
    }

    /// Allowed these audiences.
    pub(crate) fn audiences(mut self, audiences: &[&str]) -> AppSpec {
        self.new.settings.audiences = Some(audiences.iter().map(|&text| text.to_owned()).collect());
        self
    }

    /// With these static claims (a JSON object).
    pub(crate) fn claims(mut self, claims: Value) -> AppSpec {
        let Value::Object(claims) = claims else {
            panic!("claims are a JSON object: {claims}");
        };
        self.new.settings.custom_claims = Some(claims);
        self
    }
}

/// A tenant to seed: `new_tenant("name", domains)` and what differs from `latchkey tenant create`.
#[derive(Clone)]
pub(crate) struct TenantSpec {
    new: tenants::NewTenant,
}

/// A tenant named `name` on `domains` (the first gives its issuer).
pub(crate) fn new_tenant(name: &str, domains: &[&str]) -> TenantSpec {
    TenantSpec {
        new: tenants::NewTenant {
            name: name.to_owned(),
            domains: domains.iter().map(|&domain| domain.to_owned()).collect(),
            ..tenants::NewTenant::default()
        },
    }
}

impl TenantSpec {
    /// With this issuer instead of `https://FIRST_DOMAIN`.
    pub(crate) fn issuer(mut self, issuer: &str) -> TenantSpec {
        self.new.issuer = Some(issuer.to_owned());
        self
    }

    /// With this token profile (`seed`, `rfc9068`).
    pub(crate) fn token_profile(mut self, profile: &str) -> TenantSpec {
        self.new.token_profile = Some(TokenProfile::parse(profile).expect("a token profile"));
        self
    }
}

/// Writes apps and tenants to one database, as the CLI would (the audit trail records `cli`).
pub(crate) struct Seeder {
    store: Arc<dyn Store>,
    master_keys: MasterKeys,
}

impl Seeder {
    /// A seeder writing through `store`, sealing keys with the master key in the file.
    pub(crate) fn on(store: Arc<dyn Store>, master_key_file: &Path) -> Seeder {
        Seeder {
            store,
            master_keys: MasterKeys::from_file(master_key_file.to_path_buf())
                .expect("reading the master key file"),
        }
    }

    /// Stores the default tenant's first signing key (active) as if made `at`, unix seconds.
    pub(crate) async fn first_key_made_at(&self, at: i64) {
        insert_first_key(&*self.store, &self.master_keys, Algorithm::default(), at).await;
    }

    /// Creates the app; returns it as `app create --json` prints it, secret included.
    pub(crate) async fn app(&self, spec: AppSpec) -> Value {
        let (app, secret) = apps::create(&*self.store, spec.new, Actor::CLI, unix_now())
            .await
            .expect("seeding an app");
        let mut object = serde_json::to_value(AppView::from(&app)).expect("an app as JSON");
        object["client_secret"] = json!(secret.as_ref().map(|secret| secret.expose()));
        object
    }

    /// Disables an app of the default tenant, as `app disable` does.
    pub(crate) async fn disable(&self, app: &Value) {
        let client_id = app["client_id"].as_str().expect("an app object");
        apps::disable(
            &*self.store,
            latchkey_store::DEFAULT_TENANT,
            client_id,
            false,
            Actor::CLI,
            unix_now(),
        )
        .await
        .expect("disabling an app");
    }

    /// Creates the tenant with its first signing key; returns it as `tenant create --json`
    /// prints it.
    pub(crate) async fn tenant(&self, spec: TenantSpec) -> Value {
        let tenant = tenants::create(
            &*self.store,
            &self.master_keys,
            spec.new,
            Actor::CLI,
            unix_now(),
        )
        .await
        .expect("seeding a tenant");
        serde_json::to_value(TenantView::from(&tenant)).expect("a tenant as JSON")
    }
}

/// Stores an active signing key of `alg` for the default tenant of a new database: the key a
/// server would otherwise make at its first start.
pub(crate) async fn store_first_key(store: &dyn Store, master_key_file: &Path, alg: Algorithm) {
    let master_keys =
        MasterKeys::from_file(master_key_file.to_path_buf()).expect("reading the master key file");
    insert_first_key(store, &master_keys, alg, unix_now()).await;
}

/// Stores an active signing key of `alg` for the default tenant, made `at`.
async fn insert_first_key(store: &dyn Store, master_keys: &MasterKeys, alg: Algorithm, at: i64) {
    let key = latchkey_manage::keys::new_key(
        master_keys,
        latchkey_store::DEFAULT_TENANT,
        alg,
        latchkey_store::KeyStatus::Active,
        at,
    )
    .await
    .expect("making the first signing key");
    assert!(
        store
            .insert_key(&key, None)
            .await
            .expect("storing the first key"),
        "a new database has no key yet"
    );
}

/// A new database with its master key where `latchkey serve` finds it (beside an SQLite file,
/// given to every command on PostgreSQL), filled by `seeding`: for tests of the `latchkey`
/// process whose setup is not what they are about.
pub(crate) async fn seeded_database<T>(
    seeding: impl AsyncFnOnce(&Seeder) -> T,
) -> (TestDatabase, String, T) {
    let dir = tempfile::tempdir().expect("creating a temporary directory");
    let (database, store) = prepare(dir, &Setup::default()).await;
    let seeded = seeding(&Seeder::on(store, database.master_key_file())).await;
    let db_url = database.url().to_owned();
    (database, db_url, seeded)
}

impl TestApp {
    async fn seeder(&self) -> &Seeder {
        self.seeder
            .get_or_init(async || Seeder::on(self.store().await, &self.master_key_file))
            .await
    }

    /// Seeds an app while the server runs, then waits until the server serves it (it follows
    /// the change log). Returns the app as `app create --json` prints it.
    pub(crate) async fn seed_app(&self, spec: AppSpec) -> Value {
        let host = spec.host.clone();
        let app = self.seeder().await.app(spec).await;
        match host {
            Some(host) => self.at(&host).wait_until_known(&app).await,
            None => self.wait_until_known(&app).await,
        }
        app
    }

    /// Seeds a tenant while the server runs, then waits until its first domain answers with
    /// its issuer. Returns the tenant as `tenant create --json` prints it.
    pub(crate) async fn seed_tenant(&self, spec: TenantSpec) -> Value {
        let host = spec.new.domains[0].clone();
        let tenant = self.seeder().await.tenant(spec).await;
        let issuer = tenant["issuer"]
            .as_str()
            .unwrap_or_else(|| panic!("no issuer in {tenant}"));
        self.at(&host).wait_for_issuer(issuer).await;
        tenant
    }

    /// An admin app of `default` (`ops`, with `latchkey:admin`) and a bearer token for it.
    pub(crate) async fn admin_token(&self) -> (Value, String) {
        let ops = self
            .seed_app(new_app("ops").scopes(&["latchkey:admin"]))
            .await;
        let token = self
            .token_for(&ops, Some("latchkey:admin"))
            .await
            .access_token();
        (ops, token)
    }

    /// The default tenant's signing keys as `latchkey key list --json` prints them, newest
    /// first (read in-process: a test about the command runs it).
    pub(crate) async fn key_list(&self) -> Vec<Value> {
        self.stored_keys()
            .await
            .iter()
            .map(|key| serde_json::to_value(KeyView::from(key)).expect("a key as JSON"))
            .collect()
    }

    /// The `key_list` entry of `kid`.
    pub(crate) async fn listed_key(&self, kid: &str) -> Value {
        let keys = self.key_list().await;
        keys.iter()
            .find(|key| key["kid"] == kid)
            .unwrap_or_else(|| panic!("key {kid} is not listed: {keys:?}"))
            .clone()
    }
}
