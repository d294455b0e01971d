//! Who may use the admin API: a bearer token latchkey issued itself, still active, granting
//! the `latchkey:admin` scope to an app that is still allowed it. An admin app of the `default`
//! tenant manages every tenant; one of any other tenant manages only its own.

use crate::introspection::{self, IntrospectionContext, TokenClaims};

/// The scope that makes an app an administrator.
pub const ADMIN_SCOPE: &str = "latchkey:admin";

/// How far an admin token reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminReach {
    /// Every tenant (an admin app of the `default` tenant).
    AllTenants,
    /// Only the tenant that issued the token.
    OwnTenant,
}

/// Why an admin request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminDenied {
    /// The token is not active: expired, revoked, its app disabled, deleted or its tokens
    /// revoked (401 `invalid_token`).
    InactiveToken,
    /// The token or its app lacks `latchkey:admin` (403 `insufficient_scope`).
    InsufficientScope,
}

/// Decides an admin token whose signature verified with a key of the tenant in `context`.
/// `context.owner` is the app named by the token's `sub` (and the requester: an app may
/// always see its own token). The app must still be allowed the admin scope, so withdrawing it
/// ends admin access at once rather than when the token expires.
pub fn authorize(
    claims: &TokenClaims,
    context: &IntrospectionContext<'_>,
    default_tenant: bool,
) -> Result<AdminReach, AdminDenied> {
    if !introspection::decide(claims, context).active {
        return Err(AdminDenied::InactiveToken);
    }
    let granted = claims.scope.iter().any(|scope| scope == ADMIN_SCOPE);
    let still_allowed = context.owner.is_some_and(|owner| {
        owner
            .scopes
            .iter()
            .any(|scope| scope.as_str() == ADMIN_SCOPE)
    });
    if !(granted && still_allowed) {
        return Err(AdminDenied::InsufficientScope);
    }
    Ok(if default_tenant {
        AdminReach::AllTenants
    } else {
        AdminReach::OwnTenant
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scope;
    use crate::introspection::tests::{claims, client};

    fn admin_claims() -> TokenClaims {
        let mut claims = claims();
        claims.scope = vec![ADMIN_SCOPE.into()];
        claims
    }

    fn admin_app() -> crate::Client {
        let mut owner = client("owner");
        owner.scopes = vec![Scope::parse(ADMIN_SCOPE).unwrap()].into();
        owner
    }

    fn decide(
        claims: &TokenClaims,
        owner: &crate::Client,
        now: i64,
        default: bool,
    ) -> Result<AdminReach, AdminDenied> {
        let context = IntrospectionContext {
            issuer: "https://issuer",
            now,
            requester: owner,
            owner: Some(owner),
            revoked: false,
        };
        authorize(claims, &context, default)
    }

    #[test]
    fn default_tenant_admins_reach_every_tenant_others_their_own() {
        assert_eq!(
            decide(&admin_claims(), &admin_app(), 1100, true),
            Ok(AdminReach::AllTenants)
        );
        assert_eq!(
            decide(&admin_claims(), &admin_app(), 1100, false),
            Ok(AdminReach::OwnTenant)
        );
    }

    #[test]
    fn a_token_without_the_admin_scope_is_insufficient() {
        assert_eq!(
            decide(&claims(), &admin_app(), 1100, true),
            Err(AdminDenied::InsufficientScope)
        );
    }

    #[test]
    fn withdrawing_the_scope_from_the_app_ends_admin_access_at_once() {
        let mut owner = admin_app();
        owner.scopes = Box::default();
        assert_eq!(
            decide(&admin_claims(), &owner, 1100, true),
            Err(AdminDenied::InsufficientScope)
        );
    }

    #[test]
    fn expired_or_disabled_is_an_inactive_token() {
        assert_eq!(
            decide(&admin_claims(), &admin_app(), 1300, true),
            Err(AdminDenied::InactiveToken)
        );
        let mut owner = admin_app();
        owner.enabled = false;
        assert_eq!(
            decide(&admin_claims(), &owner, 1100, true),
            Err(AdminDenied::InactiveToken)
        );
    }
}
