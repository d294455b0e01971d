//! The OAuth 2.0 protocol core of latchkey: request parsing, client authentication, scope
//! decisions, access token claims, wire types and error mapping.
//!
//! This crate does no IO. It reads no clock, no random source, no environment and no socket:
//! the current time and any random value (a `jti`) come in as parameters, so every rule here is
//! checked by plain unit tests. The HTTP layer gathers inputs, calls these functions and
//! serializes what they return.

pub mod admin;
pub mod app_settings;
pub mod assertion;
pub mod claims;
pub mod client;
pub mod client_auth;
pub mod console;
pub mod error;
pub mod federation;
pub mod form;
pub mod introspection;
pub mod rate;
pub mod rate_limit;
pub mod revocation;
pub mod scope;
pub mod secret;
pub mod token;
pub mod wire;

pub use app_settings::{AppSettings, AppSettingsPatch};
pub use claims::{AccessTokenClaims, TokenProfile};
pub use client::{Client, ClientType, GrantType};
pub use error::{Limit, TokenError};
pub use rate_limit::RateLimit;
pub use scope::Scope;
pub use secret::{ClientSecret, SecretHash, StoredSecret};
