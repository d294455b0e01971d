//! The admin REST API under `/admin/v1/`: tenants, apps (with their federations), keys, token
//! revocation and the audit trail, for automation that should not need database access. Requests authenticate with an
//! access token latchkey issued itself (scope `latchkey:admin`; see `auth`).
//!
//! The OpenAPI document is generated from the handlers' annotations as the routes are
//! registered (`utoipa-axum`), so a route cannot exist without its description; a test keeps
//! the checked-in copy (`docs/admin-openapi.json`) equal to it.

mod apps;
mod audit;
pub(crate) mod auth;
pub(crate) mod bodies;
pub(crate) mod error;
pub(crate) mod extract;
mod federations;
#[doc(hidden)]
pub mod fuzzing;
mod keys;
mod tenants;

use crate::http::{AppState, response};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::Response;
use axum::routing::{any, get};
use axum::{Router, middleware};
use error::AdminError;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, OpenApi as Document, Ref, RefOr, Required, ResponseBuilder,
    Schema, SecurityRequirement,
};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Most items per page of a listing (apps, audit events).
pub(crate) const MAX_PAGE: u32 = 1000;

/// Items per page of a listing unless `limit` says otherwise.
const DEFAULT_PAGE: u32 = 100;

/// The page size a listing's `limit` asks for.
fn page_size(limit: Option<u32>) -> Result<u32, AdminError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(AdminError::BadRequest(format!(
            "limit must be 1 to {MAX_PAGE}"
        )))
    }
}

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/admin/v1/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "latchkey admin API",
        version = "1",
        description = "Manage tenants, apps, signing keys and revocations of a latchkey authorization server. \
Authenticate with an access token of an app granted the latchkey:admin scope: an admin app of the \
default tenant manages every tenant, one of another tenant manages only its own."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "tenants", description = "Tenants on their own domains"),
        (name = "apps", description = "Apps (OAuth clients)"),
        (name = "keys", description = "Signing keys"),
        (name = "tokens", description = "Token revocation"),
        (name = "audit", description = "The audit trail"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, document: &mut Document) {
        let components = document.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from /oauth2/token with scope latchkey:admin",
                    ))
                    .build(),
            ),
        );
        document.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(tenants::list, tenants::create))
        .routes(routes!(tenants::show, tenants::update, tenants::delete))
        .routes(routes!(apps::list, apps::create))
        .routes(routes!(apps::show, apps::update, apps::delete))
        .routes(routes!(apps::enable))
        .routes(routes!(apps::disable))
        .routes(routes!(apps::rotate_secret))
        .routes(routes!(apps::remove_secret))
        .routes(routes!(federations::list, federations::add))
        .routes(routes!(federations::remove))
        .routes(routes!(keys::list))
        .routes(routes!(keys::rotate))
        .routes(routes!(keys::revoke))
        .routes(routes!(audit::list))
}

/// The admin routes and their OpenAPI document.
fn routes_and_document() -> (Router<AppState>, Document) {
    let (router, mut document) = routes().split_for_parts();
    mark_optional_bodies(&mut document);
    document_unavailable(&mut document);
    (router, document)
}

/// Every operation reads or writes the database, so every one may answer 503 while the
/// database cannot take it (`AdminError::Unavailable`): documented once here, not per handler.
fn document_unavailable(document: &mut Document) {
    let unavailable = ResponseBuilder::new()
        .description(
            "temporarily_unavailable: the database cannot take the request now (full, \
             read-only, locked or failing; the description says which)",
        )
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer))
                .description(Some("seconds to wait before trying again"))
                .build(),
        )
        .build();
    for operation in operations(document) {
        operation
            .responses
            .responses
            .insert("503".to_owned(), RefOr::T(unavailable.clone()));
    }
}

fn operations(document: &mut Document) -> impl Iterator<Item = &mut Operation> {
    document.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
    })
}

/// `JsonBody` reads an empty body as `{}`, so a body whose schema requires no property may be
/// left out: the document says so for exactly those (utoipa marks every body required).
fn mark_optional_bodies(document: &mut Document) {
    let schemas = document
        .components
        .as_ref()
        .map(|components| components.schemas.clone())
        .unwrap_or_default();
    let requires_nothing = |reference: &str| {
        reference
            .strip_prefix("#/components/schemas/")
            .and_then(|name| schemas.get(name))
            .is_some_and(|schema| {
                matches!(schema, RefOr::T(Schema::Object(object)) if object.required.is_empty())
            })
    };
    for body in operations(document).filter_map(|operation| operation.request_body.as_mut()) {
        let optional = body.content.values().all(|content| {
            matches!(&content.schema, Some(RefOr::Ref(reference)) if requires_nothing(&reference.ref_location))
        });
        if optional {
            body.required = Some(Required::False);
        }
    }
}

/// The OpenAPI 3.1 document of the admin API, as pretty JSON.
pub fn openapi_json() -> String {
    routes_and_document()
        .1
        .to_pretty_json()
        .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
}

/// The admin routes, the OpenAPI document at `OPENAPI_PATH`, and a 404 in the API's error
/// shape for every other path under `/admin/`.
pub(crate) fn router() -> Router<AppState> {
    let (router, document) = routes_and_document();
    let json = document.to_pretty_json().unwrap_or_default();
    router
        .route(
            OPENAPI_PATH,
            get(move || {
                let json = json.clone();
                async move { (StatusCode::OK, [(CONTENT_TYPE, "application/json")], json) }
            }),
        )
        .route("/admin", any(unknown_path))
        .route("/admin/", any(unknown_path))
        .route("/admin/{*path}", any(unknown_path))
        // One layer rather than each handler: admin answers carry secrets (a new app's
        // client_secret) and tenant data no cache should keep, errors included.
        .layer(middleware::map_response(no_store))
}

async fn no_store(answer: Response) -> Response {
    response::no_store(answer)
}

async fn unknown_path() -> AdminError {
    AdminError::NotFound("no such admin API endpoint".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_100_unless_a_limit_from_1_to_1000_says_otherwise() {
        assert_eq!(page_size(None).unwrap(), DEFAULT_PAGE);
        assert_eq!(page_size(Some(1)).unwrap(), 1);
        assert_eq!(page_size(Some(MAX_PAGE)).unwrap(), MAX_PAGE);
        for limit in [0, MAX_PAGE + 1, u32::MAX] {
            match page_size(Some(limit)) {
                Err(AdminError::BadRequest(why)) => assert_eq!(why, "limit must be 1 to 1000"),
                other => panic!("{limit}: {other:?}"),
            }
        }
    }

    /// The checked-in document, for people and client generators reading the repository.
    const CHECKED_IN: &str = include_str!("../../../../docs/admin-openapi.json");

    #[test]
    fn checked_in_openapi_document_matches_the_code() {
        let generated = openapi_json();
        if std::env::var_os("LATCHKEY_WRITE_OPENAPI").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/admin-openapi.json");
            std::fs::write(path, format!("{generated}\n")).unwrap();
            return;
        }
        assert_eq!(
            CHECKED_IN.trim_end(),
            generated,
            "docs/admin-openapi.json is stale: regenerate it with \
             `LATCHKEY_WRITE_OPENAPI=1 cargo test -p latchkey-server openapi`"
        );
    }

    #[test]
    fn the_document_carries_the_constraints_the_server_enforces() {
        let document: serde_json::Value = serde_json::from_str(&openapi_json()).unwrap();
        let schemas = &document["components"]["schemas"];
        let names = |list: &[&str]| serde_json::json!(list);
        assert_eq!(
            schemas["AppType"]["enum"],
            names(&latchkey_protocol::client::ClientType::ALL.map(|kind| kind.as_str()))
        );
        assert_eq!(
            schemas["Alg"]["enum"],
            names(&latchkey_keys::Algorithm::ALL.map(|alg| alg.as_str()))
        );
        assert_eq!(schemas["TokenReusePercent"]["minimum"], 1);
        assert_eq!(schemas["TokenReusePercent"]["maximum"], 100);
        assert_eq!(
            schemas["RateLimit"]["pattern"],
            latchkey_manage::schema::RATE_LIMIT_PATTERN
        );
        assert_eq!(
            schemas["TenantName"]["pattern"],
            latchkey_manage::tenants::name_pattern()
        );
        for (name, field, schema) in [
            ("NewAppBody", "type", "AppType"),
            ("NewAppBody", "token_reuse_percent", "TokenReusePercent"),
            ("AppPatch", "token_reuse_percent", "TokenReusePercent"),
            ("NewAppBody", "rate_limit", "RateLimit"),
            ("AppPatch", "rate_limit", "RateLimit"),
            ("AppView", "rate_limit", "RateLimit"),
            ("RotateKeyBody", "alg", "Alg"),
            ("NewTenantBody", "name", "TenantName"),
        ] {
            let text = schemas[name]["properties"][field].to_string();
            assert!(
                text.contains(&format!("#/components/schemas/{schema}")),
                "{name}.{field}: {text}"
            );
        }
        let paths = &document["paths"];
        let query = |path: &str, name: &str| {
            paths[path]["get"]["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|parameter| parameter["name"] == name)
                .unwrap()["schema"]
                .clone()
        };
        let apps = "/admin/v1/tenants/{tenant}/apps";
        assert_eq!(query(apps, "type")["enum"], schemas["AppType"]["enum"]);
        assert_eq!(query(apps, "limit")["maximum"], MAX_PAGE);
        assert_eq!(query("/admin/v1/audit", "limit")["minimum"], 1);
        assert_eq!(
            query("/admin/v1/audit", "order")["enum"],
            names(&["oldest", "newest"])
        );
        // Bodies that may be left out are not required; the others are.
        let required = |path: &str, method: &str| {
            paths[path][method]["requestBody"]["required"].as_bool() == Some(true)
        };
        assert!(required(apps, "post"));
        assert!(required("/admin/v1/tenants", "post"));
        assert!(!required(
            "/admin/v1/tenants/{tenant}/apps/{client_id}",
            "patch"
        ));
        assert!(!required(
            "/admin/v1/tenants/{tenant}/apps/{client_id}/disable",
            "post"
        ));
        assert!(!required("/admin/v1/tenants/{tenant}/keys/rotate", "post"));
    }

    #[test]
    fn every_operation_is_documented_with_its_errors() {
        let document: serde_json::Value = serde_json::from_str(&openapi_json()).unwrap();
        assert_eq!(document["openapi"], "3.1.0");
        let paths = document["paths"].as_object().unwrap();
        assert!(paths.len() >= 9, "{paths:?}");
        for (path, item) in paths {
            assert!(path.starts_with("/admin/v1/"), "{path}");
            for (method, operation) in item.as_object().unwrap() {
                let responses = operation["responses"].as_object().unwrap();
                for status in ["401", "403", "503"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path} lacks {status}"
                    );
                }
            }
        }
        // Operation ids are unique, and every path parameter appears in its path.
        let mut ids = std::collections::HashSet::new();
        for (path, item) in paths {
            for operation in item.as_object().unwrap().values() {
                let id = operation["operationId"].as_str().unwrap();
                assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
                for parameter in operation["parameters"].as_array().into_iter().flatten() {
                    let name = parameter["name"].as_str().unwrap();
                    let in_path = path.contains(&format!("{{{name}}}"));
                    assert_eq!(parameter["in"] == "path", in_path, "{id}: parameter {name}");
                }
            }
        }
        // Every reference points at a schema the document defines.
        let schemas = document["components"]["schemas"].as_object().unwrap();
        let text = openapi_json();
        for reference in text.split("\"$ref\": \"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "dangling reference to {name}");
        }
    }
}
