//! Black-box tests of latchkey: the real router on an ephemeral 127.0.0.1 port with a database of
//! its own, the `latchkey` binary on the same database, `jsonwebtoken` as an independent verifier
//! and the `oauth2` crate as a real client. `harness` has what the tests share. These files build
//! two test binaries: `api` on SQLite and `api_postgres` on PostgreSQL (`harness::backend`).

mod harness;

mod admin_apps;
mod admin_audit;
mod admin_auth;
mod admin_errors;
mod admin_input;
mod admin_keys;
mod admin_no_store;
mod admin_openapi;
mod admin_tenants;
mod admin_unavailable;
mod any_request;
mod app_disable;
mod app_warnings;
mod audience;
mod audit;
mod cli_app_commands;
mod cli_failures;
mod cli_options;
mod client_auth;
mod client_auth_log;
mod concurrent_writes;
mod database_connect;
mod database_failover;
mod database_outage;
mod database_unreachable;
mod database_url;
mod db_copy;
mod discovery;
mod full_disk;
mod introspection;
mod jwks;
mod key_rotation;
mod live_changes;
mod master_key;
mod nodes;
mod oauth2_client;
mod read_your_writes;
mod restart;
mod revocation;
mod secret_grace;
mod serve;
mod tenant_changes;
mod tenant_commands;
mod tenant_creation;
mod tenant_isolation;
mod tenant_routing;
mod token_clients;
mod token_errors;
mod token_grant;
mod token_profile;
mod token_requests;
mod token_reuse;
mod token_scopes;
