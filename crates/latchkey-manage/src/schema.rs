//! OpenAPI schemas of the constrained values of the views and the admin API's bodies, built
//! from the same enums and constants the management layer validates with, so the document
//! cannot promise less or more than the server enforces. Fields name them with `#[schema(value_type = ...)]` (query parameters with
//! `#[param(value_type = ..., inline)]`); each is a component of the document.

use crate::apps::MAX_NAME_CHARS;
use crate::tenants;
use crate::views::MAX_PAGE;
use latchkey_keys::Algorithm;
use latchkey_protocol::TokenProfile;
use latchkey_protocol::app_settings::{MAX_TOKEN_TTL, MIN_TOKEN_TTL, TOKEN_REUSE_PERCENT};
use latchkey_protocol::client::{ClientType, GrantType};
use latchkey_protocol::federation;
use std::borrow::Cow;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

fn one_of<const N: usize>(names: [&'static str; N]) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names))
}

fn integer(minimum: u32, maximum: u32) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(minimum))
        .maximum(Some(maximum))
}

/// A schema type: its name in the document, its description and the schema itself.
macro_rules! constrained {
    ($type:ident, $name:literal, $description:literal, $schema:expr) => {
        #[doc = $description]
        pub struct $type;

        impl PartialSchema for $type {
            fn schema() -> RefOr<Schema> {
                let builder: ObjectBuilder = $schema;
                builder.description(Some($description)).into()
            }
        }

        impl ToSchema for $type {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

constrained!(
    AppTypeName,
    "AppType",
    "An app type.",
    one_of(ClientType::ALL.map(ClientType::as_str))
);

constrained!(
    GrantTypeName,
    "GrantType",
    "An OAuth grant type (only client_credentials is served).",
    one_of(GrantType::ALL.map(GrantType::as_str))
);

constrained!(
    AlgName,
    "Alg",
    "A signing algorithm.",
    one_of(Algorithm::ALL.map(Algorithm::as_str))
);

constrained!(
    TokenTtl,
    "TokenTtl",
    "A token lifetime in seconds.",
    integer(MIN_TOKEN_TTL, MAX_TOKEN_TTL)
);

constrained!(
    AssertionLifetime,
    "AssertionLifetime",
    "The longest lifetime of a client assertion a tenant accepts, in seconds (at most an hour).",
    integer(
        tenants::MIN_TENANT_ASSERTION_LIFETIME,
        tenants::MAX_TENANT_ASSERTION_LIFETIME
    )
);

constrained!(
    Seconds,
    "Seconds",
    "A duration in whole seconds.",
    integer(u32::MIN, u32::MAX)
);

constrained!(
    TokenReusePercent,
    "TokenReusePercent",
    "A token reuse share, in percent of a token's life.",
    integer(
        (*TOKEN_REUSE_PERCENT.start()).into(),
        (*TOKEN_REUSE_PERCENT.end()).into()
    )
);

constrained!(
    RateLimitText,
    "RateLimit",
    "A token quota: N/PERIOD, N from 1 to 1000000 and PERIOD s, min, h or d (such as 600/min).",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(RATE_LIMIT_PATTERN))
);

/// `N/PERIOD` as a pattern: what `RateLimit::from_str` accepts.
pub const RATE_LIMIT_PATTERN: &str = "^([1-9][0-9]{0,5}|1000000)/(s|min|h|d)$";

constrained!(
    AppName,
    "AppName",
    "An app's display name (no control characters).",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_NAME_CHARS))
);

constrained!(
    TenantName,
    "TenantName",
    "A tenant name.",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(tenants::name_pattern()))
);

constrained!(PageLimit, "PageLimit", "A page size.", integer(1, MAX_PAGE));

constrained!(
    FederationName,
    "FederationName",
    "A federation's name, unique within its app.",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(federation_name_pattern()))
);

/// A federation name as a pattern: what `FederationRule::validated` accepts.
pub fn federation_name_pattern() -> String {
    format!("^[A-Za-z0-9._-]{{1,{}}}$", federation::MAX_RULE_NAME)
}

constrained!(
    FetchableUrl,
    "FetchableUrl",
    "A URL latchkey may fetch: https://, or http:// to a loopback host; no query or fragment.",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^https?://[^?#]+$"))
        .max_length(Some(federation::MAX_URL_BYTES))
);

/// `token_profile` in the OpenAPI document: one of the profiles' names.
pub fn token_profile_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(TokenProfile::ALL.map(TokenProfile::as_str)))
        .description(Some(
            "The shape of the tenant's access tokens: `seed` (the seed document's, the default) \
             or `rfc9068` (RFC 9068: `typ: at+jwt`, a `client_id` claim, `scope` a \
             space-separated string).",
        ))
        .build()
}

/// `token_profile_schema` where `null` is accepted too: a change body reads it as "unchanged",
/// like every other absent or null field there.
pub fn token_profile_change_schema() -> utoipa::openapi::Object {
    let mut values: Vec<serde_json::Value> = TokenProfile::ALL
        .map(|profile| profile.as_str().into())
        .into();
    values.push(serde_json::Value::Null);
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            utoipa::openapi::schema::Type::String,
            utoipa::openapi::schema::Type::Null,
        ]))
        .enum_values(Some(values))
        .description(Some(
            "New token profile: `seed` or `rfc9068`; `null` leaves it unchanged.",
        ))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_protocol::federation::FederationRule;

    #[test]
    fn the_federation_name_pattern_spells_the_rule_validated_applies() {
        assert_eq!(federation_name_pattern(), "^[A-Za-z0-9._-]{1,64}$");
        let rule = |name: &str| FederationRule {
            name: name.to_owned(),
            issuer: "https://issuer.example".into(),
            subject: "s".into(),
            audience: None,
            claims: Default::default(),
            jwks: None,
        };
        for good in [
            "a",
            "Gh.actions_prod-1",
            &"a".repeat(federation::MAX_RULE_NAME),
        ] {
            assert!(rule(good).validated().is_ok(), "{good}");
        }
        for bad in ["", "a b", "a/b", &"a".repeat(federation::MAX_RULE_NAME + 1)] {
            assert!(rule(bad).validated().is_err(), "{bad:?}");
        }
    }
}
