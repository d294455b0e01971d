//! OpenAPI schemas of the constrained values of the admin API, built from the same enums and
//! constants the server validates with, so the document cannot promise less or more than the
//! server enforces. Fields name them with `#[schema(value_type = ...)]` (query parameters with
//! `#[param(value_type = ..., inline)]`); each is a component of the document.

use super::MAX_PAGE;
use crate::apps::MAX_NAME_CHARS;
use crate::tenants;
use latchkey_keys::Algorithm;
use latchkey_protocol::client::{
    ClientType, GrantType, MAX_TOKEN_TTL, MIN_TOKEN_TTL, TOKEN_REUSE_PERCENT,
};
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
        pub(crate) struct $type;

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
