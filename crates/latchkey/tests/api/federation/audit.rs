//! Federated logins in the audit trail: which workload used which app's trust, recorded once
//! per app, rule and subject an hour, not on every request.

use super::*;
use crate::harness::*;

/// The `app.federated_login` events of `client_id`.
fn logins(app: &TestApp, client_id: &str) -> Vec<Value> {
    let events = app.cli_json(&["audit", "list", "--json"]);
    events
        .as_array()
        .expect("the audit trail is a list")
        .iter()
        .filter(|event| event["action"] == "app.federated_login" && event["target"] == client_id)
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_workload_login_is_audited_once_per_app_rule_and_subject_however_often_it_comes() {
    let Payments {
        app,
        issuer,
        id,
        token,
        ..
    } = payments().await;
    // The same workload again, both ways in, while its first login is being recorded.
    for _ in 0..3 {
        app.token_by_assertion(&token, Some(&id))
            .await
            .granted("again");
        app.jwt_bearer_grant(&token, Some(&id), None)
            .await
            .granted("as the grant");
    }
    // A second app trusting the same workload is a login of its own.
    let other = app.create_app("payments-reports", &[]);
    let other_id = client_id(&other).to_owned();
    trust_payments_api(
        &app,
        &other_id,
        issuer.url(),
        &["--claim", "/kubernetes.io/namespace=payments"],
    );
    accepted_as_client(&app, &token, &other_id).await;
    let second = eventually(
        "the second app's federated login in the audit trail",
        async || match logins(&app, &other_id).as_slice() {
            [event] => Ok(event.clone()),
            found => Err(format!("{} events", found.len())),
        },
    )
    .await;
    assert_eq!(second["actor"], other_id.as_str(), "{second}");

    // Every request of the first app was answered before the second app's login, whose
    // event is in: the first app's requests made one event between them.
    let first = logins(&app, &id);
    assert_eq!(first.len(), 1, "{first:?}");
    let details = &first[0]["details"];
    assert_eq!(details["federation"], "payments-api", "{details}");
    assert_eq!(details["issuer"], issuer.url(), "{details}");
    assert_eq!(
        details["subject"], "system:serviceaccount:payments:api",
        "{details}"
    );
    assert_eq!(first[0]["actor"], id.as_str());
}
