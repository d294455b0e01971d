//! Revoked tokens, per tenant, kept until their token expires.

use super::*;

pub(super) async fn revocations_are_kept_until_their_token_expires(store: &dyn Store) {
    store
        .revoke_token(&revocation("j1", 500), None)
        .await
        .unwrap();
    store
        .revoke_token(&revocation("j1", 500), None)
        .await
        .unwrap();
    store
        .revoke_token(&revocation("j2", 900), None)
        .await
        .unwrap();
    assert_eq!(
        store
            .revocations(&["j1".into(), "zz".into()])
            .await
            .unwrap(),
        vec![revocation("j1", 500)]
    );
    assert_eq!(
        store.live_revocations(600).await.unwrap(),
        vec![revocation("j2", 900)]
    );
    assert_eq!(store.purge_revocations(600).await.unwrap(), 1);
    assert_eq!(
        store
            .revocations(&["j1".into(), "j2".into()])
            .await
            .unwrap(),
        vec![revocation("j2", 900)]
    );
}

pub(super) async fn a_jti_revoked_in_two_tenants_is_two_revocations(store: &dyn Store) {
    let other = RevocationRecord {
        tenant: "acme".into(),
        client_id: None,
        expires_at: 700,
        ..revocation("j1", 500)
    };
    store.revoke_token(&other, None).await.unwrap();
    store
        .revoke_token(&revocation("j1", 500), None)
        .await
        .unwrap();
    store.revoke_token(&other, None).await.unwrap();
    let mut found = store.revocations(&["j1".into()]).await.unwrap();
    found.sort_by(|a, b| a.tenant.cmp(&b.tenant));
    assert_eq!(found, vec![other.clone(), revocation("j1", 500)]);
    assert_eq!(store.live_revocations(600).await.unwrap(), vec![other]);
}
