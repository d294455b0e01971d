//! What a CLI user does about an error: the management layer's errors are neutral (the admin
//! API gives the same ones), and the CLI adds the command or flag that helps.

use latchkey_manage::apps::AppError;
use latchkey_manage::tenants::TenantError;
use latchkey_protocol::app_settings::ClientConfigError;
use latchkey_protocol::federation::FederationError;
use latchkey_store::{StoreError, unavailable};

/// The hint for the first error in `error`'s chain that has one.
pub(crate) fn hint(error: &anyhow::Error) -> Option<&'static str> {
    error.chain().find_map(|cause| {
        if let Some(error) = cause.downcast_ref::<AppError>() {
            app_hint(error)
        } else if let Some(error) = cause.downcast_ref::<TenantError>() {
            tenant_hint(error)
        } else if let Some(error) = cause.downcast_ref::<StoreError>() {
            store_hint(error)
        } else {
            cause
                .downcast_ref::<ClientConfigError>()
                .and_then(settings_hint)
        }
    })
}

fn app_hint(error: &AppError) -> Option<&'static str> {
    match error {
        AppError::Invalid(settings) => settings_hint(settings),
        AppError::NotFound(..) => Some("see `latchkey app list`"),
        AppError::TenantNotFound(_) => Some("see `latchkey tenant list`"),
        AppError::Store(error) => store_hint(error),
        AppError::NothingToAuthenticateWith(_) => Some(
            "add --jwks FILE or --jwks-uri URL to the same command, or a federation with \
             `latchkey app federation add`",
        ),
        AppError::Federation(FederationError::UnknownName(_)) => {
            Some("see `latchkey app federation list ID`")
        }
        AppError::Federation(FederationError::Unconstrained) => {
            Some("such as --claim repository=acme/api")
        }
        _ => None,
    }
}

fn tenant_hint(error: &TenantError) -> Option<&'static str> {
    match error {
        TenantError::NotFound(_) => Some("see `latchkey tenant list`"),
        TenantError::NoDomains(_) => Some("give one with --domain"),
        TenantError::HasApps(_) => Some("delete them first, or delete the tenant with --force"),
        TenantError::Store(error) => store_hint(error),
        _ => None,
    }
}

/// Nothing was written; a running server resumes writing by itself once the cause is gone.
fn store_hint(error: &StoreError) -> Option<&'static str> {
    let StoreError::Unavailable(cause) = error else {
        return None;
    };
    match cause.as_str() {
        unavailable::READ_ONLY => Some(
            "nothing was written; make the database file, the -wal and -shm files beside it and \
             their folder writable by this user again, then run the command again",
        ),
        unavailable::DISK_FULL => Some(
            "nothing was written; free space on the database's disk, then run the command again",
        ),
        unavailable::IO_ERROR => Some(
            "nothing was written; check that the database's disk has space and its files are \
             writable, then run the command again",
        ),
        _ => None,
    }
}

fn settings_hint(error: &ClientConfigError) -> Option<&'static str> {
    match error {
        ClientConfigError::PublicClientCredentials(_) => Some("use --type m2m or web"),
        ClientConfigError::DefaultNotAllowed(_) => Some("add it with --scope"),
        ClientConfigError::KeysForPublicClient(_) => Some("use --type m2m or web"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::hint;
    use anyhow::Context;
    use latchkey_manage::apps::AppError;

    #[test]
    fn a_hint_is_found_under_the_context_the_cli_adds() {
        let error = Err::<(), _>(AppError::NotFound("c".into(), "default".into()))
            .context("could not update the app")
            .unwrap_err();
        assert_eq!(hint(&error), Some("see `latchkey app list`"));
    }

    #[test]
    fn a_read_only_database_says_what_to_make_writable() {
        let error = Err::<(), _>(AppError::Store(latchkey_store::StoreError::Unavailable(
            latchkey_store::unavailable::READ_ONLY.to_owned(),
        )))
        .context("could not create the app")
        .unwrap_err();
        assert!(hint(&error).is_some_and(|hint| hint.contains("writable")));
    }

    #[test]
    fn an_error_without_a_hint_gets_none() {
        assert_eq!(hint(&anyhow::anyhow!("disk on fire")), None);
    }
}
