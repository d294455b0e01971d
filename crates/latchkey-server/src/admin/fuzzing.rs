//! The admin API's request bodies as the fuzz targets reach them: read from bytes as
//! `JsonBody` reads them, then checked as their handlers check them before any database
//! call, with the answer's status and error code. Not part of the API.

use super::bodies::{
    AppPatch, DisableBody, NewAppBody, NewFederationBody, NewTenantBody, RevocationBody,
    RevocationTarget, RotateKeyBody, RotateSecretBody, TenantPatch,
};
use super::error::AdminError;
use super::extract::read_json;
use latchkey_manage::apps::{self, NewApp};
use latchkey_manage::federations;
use latchkey_manage::revocations::RevokeError;
use latchkey_manage::tenants;
use latchkey_protocol::ClientType;

/// Each body the admin API accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// `POST /admin/v1/tenants`.
    NewTenant,
    /// `PATCH /admin/v1/tenants/{tenant}`.
    TenantPatch,
    /// `POST /admin/v1/tenants/{tenant}/apps`.
    NewApp,
    /// `PATCH /admin/v1/tenants/{tenant}/apps/{client_id}`.
    AppPatch,
    /// `POST .../apps/{client_id}/rotate-secret`.
    RotateSecret,
    /// `POST .../apps/{client_id}/disable`.
    Disable,
    /// `POST /admin/v1/tenants/{tenant}/keys/rotate`.
    RotateKey,
    /// `POST /admin/v1/tenants/{tenant}/revocations`.
    Revocation,
    /// `POST .../apps/{client_id}/federations`.
    NewFederation,
}

impl Body {
    /// Every body.
    pub const ALL: [Body; 9] = [
        Body::NewTenant,
        Body::TenantPatch,
        Body::NewApp,
        Body::AppPatch,
        Body::RotateSecret,
        Body::Disable,
        Body::RotateKey,
        Body::Revocation,
        Body::NewFederation,
    ];
}

/// A refused body: the answer's status and `error` code, and its description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status.
    pub status: u16,
    /// The `error` field.
    pub error: &'static str,
    /// The `error_description` field.
    pub description: String,
}

impl From<AdminError> for Refusal {
    fn from(error: AdminError) -> Refusal {
        let (status, error, description) = error.parts();
        Refusal {
            status: status.as_u16(),
            error,
            description,
        }
    }
}

/// Reads `bytes` as `body` and checks it as its handler does.
pub fn check(body: Body, bytes: &[u8]) -> Result<(), Refusal> {
    checked(body, bytes).map_err(Refusal::from)
}

fn checked(body: Body, bytes: &[u8]) -> Result<(), AdminError> {
    match body {
        Body::NewTenant => {
            let body: NewTenantBody = read_json(bytes)?;
            tenants::check_name(&body.name)?;
            if let Some(issuer) = &body.issuer {
                tenants::check_issuer(issuer)?;
            }
            tenants::normalize_domains(&body.name, &body.domains)?;
        }
        Body::TenantPatch => {
            let body: TenantPatch = read_json(bytes)?;
            if let Some(domains) = &body.domains {
                tenants::normalize_domains("tenant", domains)?;
            }
            if let Some(Some(issuer)) = &body.issuer {
                tenants::check_issuer(issuer)?;
            }
        }
        Body::NewApp => {
            let body: NewAppBody = read_json(bytes)?;
            apps::record(body.into_new_app("tenant".into())?, "app".into(), None, 0)?;
        }
        Body::AppPatch => {
            // The changes applied to a new app's settings, as `apps::update` applies them to
            // the stored ones, and checked by the same rules.
            let changes = read_json::<AppPatch>(bytes)?.into_changes()?;
            let new = NewApp {
                tenant: "tenant".into(),
                name: changes.name.unwrap_or_else(|| "app".into()),
                app_type: ClientType::M2m,
                settings: changes.settings,
            };
            apps::record(new, "app".into(), None, 0)?;
        }
        Body::RotateSecret => {
            read_json::<RotateSecretBody>(bytes)?;
        }
        Body::Disable => {
            read_json::<DisableBody>(bytes)?;
        }
        Body::RotateKey => {
            read_json::<RotateKeyBody>(bytes)?.algorithm()?;
        }
        Body::Revocation => {
            if let RevocationTarget::Jti(jti) = read_json::<RevocationBody>(bytes)?.target()? {
                // What `revocations::revoke_jti` checks first.
                latchkey_keys::random::canonical_uuid(&jti).ok_or(RevokeError::NotAJti)?;
            }
        }
        Body::NewFederation => {
            // What `federations::add` checks before it reads the app.
            federations::checked_rule(read_json::<NewFederationBody>(bytes)?.into_rule())?;
        }
    }
    Ok(())
}
