//! Signing key life cycle: `latchkey key rotate`, other algorithms, and automatic rotation that
//! publishes the next key ahead of use, rotates once per interval and survives restarts. A
//! retiring key stays published until every token it signed has expired.

use crate::harness::*;
use latchkey_server::{Clock, ManualClock};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

const DAY: i64 = 86_400;
/// `RotationPolicy::every_days(30)` publishes the next key this long before it is due.
const PUBLISH_AHEAD: i64 = 600;
/// A retiring key stays published this long after the longest token TTL.
const CLOCK_SKEW: i64 = 60;

fn status_of(keys: &[Value], kid: &str) -> String {
    keys.iter()
        .find(|key| key["kid"] == kid)
        .and_then(|key| key["status"].as_str())
        .unwrap_or("absent")
        .to_owned()
}

fn count_with_status(keys: &[Value], status: &str) -> usize {
    keys.iter().filter(|key| key["status"] == status).count()
}

fn header_alg(token: &str) -> Value {
    let (header, _) = jwt_parts(token);
    let header: Value = serde_json::from_str(&header).expect("a JSON header");
    header["alg"].clone()
}

async fn signing_algs(app: &TestApp) -> Vec<Value> {
    app.get("/.well-known/oauth-authorization-server")
        .await
        .json()["token_signing_alg_values_supported"]
        .as_array()
        .expect("a list of algorithms")
        .clone()
}

/// Polls the token endpoint until tokens carry `kid`.
async fn wait_for_signing_kid(app: &TestApp, owner: &Value, kid: &str) -> String {
    eventually(&format!("tokens signed by {kid}"), async || {
        let token = app.token_for(owner, None).await.access_token();
        if jwt_kid(&token) == kid {
            Ok(token)
        } else {
            Err(jwt_kid(&token))
        }
    })
    .await
}

/// Polls the JWKS until a key other than `known` appears, and returns its kid.
async fn wait_for_another_key(app: &TestApp, known: &str) -> String {
    eventually("a second key in the JWKS", async || {
        let kids = app.jwks_kids().await;
        kids.iter()
            .find(|kid| *kid != known)
            .cloned()
            .ok_or(format!("{kids:?}"))
    })
    .await
}

/// Polls `key list` until `kid` has `status`; returns the list.
async fn wait_for_status(app: &TestApp, kid: &str, status: &str) -> Vec<Value> {
    eventually(&format!("key {kid} to be {status}"), async || {
        let keys = app.key_list().await;
        if status_of(&keys, kid) == status {
            Ok(keys)
        } else {
            Err(format!("{keys:?}"))
        }
    })
    .await
}

#[tokio::test]
async fn manual_rotation_signs_new_tokens_with_a_new_key_and_old_tokens_keep_verifying() {
    let app = spawn_app().await;
    let owner = owner(&app).await;
    let before = app.token_for(&owner, None).await.access_token();
    let old_kid = jwt_kid(&before);

    let rotated = app.cli_json(&["key", "rotate", "--json"]);
    let new_kid = rotated["kid"].as_str().expect("the new kid").to_owned();
    assert_ne!(new_kid, old_kid);
    assert_eq!(rotated["status"], "active");
    let after = wait_for_signing_kid(&app, &owner, &new_kid).await;

    let keys = app.key_list().await;
    assert_eq!(status_of(&keys, &old_kid), "retiring");
    assert_eq!(status_of(&keys, &new_kid), "active");
    let kids = app.jwks_kids().await;
    assert!(
        kids.contains(&old_kid) && kids.contains(&new_kid),
        "{kids:?}"
    );
    let jwks = app.jwks().await;
    for token in [&before, &after] {
        verify_token(&jwks, token, client_id(&owner), ISSUER).expect("verifies against the JWKS");
        assert_eq!(app.introspect(&owner, token).await["active"], true);
    }
}

#[tokio::test]
async fn a_retiring_key_is_published_until_the_longest_token_ttl_plus_a_minute_then_leaves() {
    let clock = Arc::new(ManualClock::new(unix_now()));
    let app = spawn_app_with(Setup::with_clock(Arc::clone(&clock))).await;
    let owner = owner(&app).await;
    let long = app.seed_app(new_app("long").token_ttl(900)).await;
    let before = app.token_for(&long, None).await.access_token();
    let old_kid = jwt_kid(&before);

    let new_kid = app.cli_json(&["key", "rotate", "--json"])["kid"]
        .as_str()
        .expect("the new kid")
        .to_owned();
    let retire_at = unix_seconds(&app.listed_key(&old_kid).await["retire_at"]);
    let activated_at = unix_seconds(&app.listed_key(&new_kid).await["activated_at"]);
    assert_eq!(retire_at, activated_at + 900 + CLOCK_SKEW);
    wait_for_signing_kid(&app, &owner, &new_kid).await;

    // The token the old key signed last lives until at most activated_at + 900: published
    // that long, it keeps verifying until it expires.
    advance_to(
        &clock,
        jwt_parts(&before).1["exp"].as_i64().expect("exp") - 1,
    );
    assert_eq!(app.introspect(&long, &before).await["active"], true);
    verify_token(&app.jwks().await, &before, client_id(&long), ISSUER)
        .expect("an unexpired token of the retiring key verifies");

    advance_to(&clock, retire_at + 1);
    app.wait_for_published(&old_kid, false).await;
    assert_eq!(status_of(&app.key_list().await, &old_kid), "retired");
    assert!(app.jwks_kids().await.contains(&new_kid));
}

/// The retiring key's publication is computed from the apps' TTLs at rotation time. A token
/// issued while its app had a longer TTL must keep verifying until it expires even if the TTL
/// was shortened since (README: a retiring key is "published until its tokens expire").
#[tokio::test]
async fn a_retiring_key_stays_published_for_tokens_issued_before_their_app_ttl_was_shortened() {
    let clock = Arc::new(ManualClock::new(unix_now()));
    let app = spawn_app_with(Setup::with_clock(Arc::clone(&clock))).await;
    let owner = app.seed_app(new_app("long").token_ttl(3600)).await;
    let long_lived = app.token_for(&owner, None).await.access_token();
    let old_kid = jwt_kid(&long_lived);
    let exp = jwt_parts(&long_lived).1["exp"].as_i64().expect("exp");

    app.cli_ok(&["app", "update", client_id(&owner), "--token-ttl", "60"]);
    let short_lived = eventually("the shorter TTL to reach the server", async || {
        let reply = app.token_for(&owner, None).await;
        if reply.json()["expires_in"] == 60 {
            Ok(reply.access_token())
        } else {
            Err(format!("{reply:?}"))
        }
    })
    .await;
    app.cli_ok(&["key", "rotate"]);

    // A revocation of a 60 s token witnesses the maintenance pass: the same pass that runs the
    // key life cycle purges it once its token has expired.
    let reply = app
        .post_revoke(client_id(&owner), client_secret(&owner), &short_lived)
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{reply:?}");
    let witness = jwt_parts(&short_lived).1["jti"]
        .as_str()
        .expect("a jti")
        .to_owned();
    advance_to(&clock, exp - 1);
    let store = latchkey_store::open(&app.db_url)
        .await
        .expect("opening the database");
    eventually("a maintenance pass after the clock moved", async || {
        let left = store
            .revocations(std::slice::from_ref(&witness))
            .await
            .map_err(|error| error.to_string())?;
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!("{left:?}"))
        }
    })
    .await;

    let listed = app.listed_key(&old_kid).await;
    assert_eq!(
        listed["status"],
        "retiring",
        "the key that signed a token expiring at {exp} retired at {} (retire_at {}, now {}): \
         {listed}",
        listed["retired_at"],
        listed["retire_at"],
        clock.now()
    );
    assert_eq!(app.introspect(&owner, &long_lived).await["active"], true);
    verify_token(&app.jwks().await, &long_lived, client_id(&owner), ISSUER)
        .expect("an unexpired token verifies against the JWKS");
}

#[tokio::test]
async fn rotation_to_es256_and_eddsa_issues_tokens_that_verify_against_the_jwks() {
    let app = spawn_app_with(Setup::default().server_made_key()).await;
    let owner = owner(&app).await;
    let rs256 = app.token_for(&owner, None).await.access_token();
    let mut earlier = vec![("RS256", rs256)];
    for alg in ["ES256", "EdDSA"] {
        let kid = app.cli_json(&["key", "rotate", "--alg", alg, "--json"])["kid"]
            .as_str()
            .expect("a kid")
            .to_owned();
        assert_eq!(app.listed_key(&kid).await["alg"], alg);
        let token = wait_for_signing_kid(&app, &owner, &kid).await;
        assert_eq!(header_alg(&token), alg);
        let jwks = app.jwks().await;
        verify_token(&jwks, &token, client_id(&owner), ISSUER)
            .unwrap_or_else(|error| panic!("{alg}: {error}"));
        assert_eq!(app.introspect(&owner, &token).await["active"], true);
        // Tokens of the earlier algorithms still verify and introspect active.
        for (earlier_alg, earlier_token) in &earlier {
            verify_token(&jwks, earlier_token, client_id(&owner), ISSUER)
                .unwrap_or_else(|error| panic!("{earlier_alg} after {alg}: {error}"));
            assert_eq!(
                app.introspect(&owner, earlier_token).await["active"],
                true,
                "{earlier_alg} after {alg}"
            );
        }
        let algs = signing_algs(&app).await;
        assert_eq!(algs[0], alg, "the active algorithm comes first: {algs:?}");
        for (earlier_alg, _) in &earlier {
            assert!(
                algs.contains(&Value::from(*earlier_alg)),
                "the retiring {earlier_alg} key is still in use: {algs:?}"
            );
        }
        earlier.push((alg, token));
    }
}

#[tokio::test]
async fn discovery_stops_listing_an_algorithm_once_its_last_key_retires() {
    let clock = Arc::new(ManualClock::new(unix_now()));
    let app = spawn_app_with(Setup::with_clock(Arc::clone(&clock)).server_made_key()).await;
    let owner = owner(&app).await;
    let rs256_kid = jwt_kid(&app.token_for(&owner, None).await.access_token());
    let kid = app.cli_json(&["key", "rotate", "--alg", "ES256", "--json"])["kid"]
        .as_str()
        .expect("a kid")
        .to_owned();
    wait_for_signing_kid(&app, &owner, &kid).await;
    assert_eq!(signing_algs(&app).await, ["ES256", "RS256"]);

    advance_to(
        &clock,
        unix_seconds(&app.listed_key(&rs256_kid).await["retire_at"]) + 1,
    );
    app.wait_for_published(&rs256_kid, false).await;
    assert_eq!(signing_algs(&app).await, ["ES256"]);
}

#[tokio::test]
async fn an_unknown_algorithm_is_refused_with_a_message() {
    let app = spawn_app().await;
    let output = app.cli(&["key", "rotate", "--alg", "HS256"]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("RS256, ES256 or EdDSA"),
        "{}",
        describe(&output)
    );
}

#[tokio::test]
async fn automatic_rotation_publishes_ahead_then_rotates_once_per_interval() {
    let clock = Arc::new(ManualClock::new(unix_now()));
    let app = spawn_app_with(Setup::with_clock(Arc::clone(&clock))).await;
    let owner = owner(&app).await;
    let first = app.token_for(&owner, None).await.access_token();
    let first_kid = jwt_kid(&first);
    let activated_at = unix_seconds(&app.listed_key(&first_kid).await["activated_at"]);

    // Ten minutes before the rotation is due, the next key is published but signs nothing.
    advance_to(&clock, activated_at + 30 * DAY - PUBLISH_AHEAD);
    let next_kid = wait_for_another_key(&app, &first_kid).await;
    let keys = app.key_list().await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(status_of(&keys, &next_kid), "next");
    assert_eq!(status_of(&keys, &first_kid), "active");
    assert_eq!(
        jwt_kid(&app.token_for(&owner, None).await.access_token()),
        first_kid
    );

    // Once due (and published for at least ten minutes), the next key signs.
    advance_to(&clock, activated_at + 30 * DAY);
    let second = wait_for_signing_kid(&app, &owner, &next_kid).await;
    let keys = app.key_list().await;
    assert_eq!(status_of(&keys, &first_kid), "retiring");
    assert_eq!(status_of(&keys, &next_kid), "active");
    let promoted_at = unix_seconds(&app.listed_key(&next_kid).await["activated_at"]);
    assert_eq!(promoted_at, activated_at + 30 * DAY);
    assert_eq!(
        unix_seconds(&app.listed_key(&first_kid).await["retire_at"]),
        promoted_at + 300 + CLOCK_SKEW,
        "published until the tokens it signed (default TTL 300) have expired, plus a minute"
    );
    // (Only the token issued by the wall clock can go to `jsonwebtoken`, which checks times by
    // the wall clock; the one issued 30 days ahead by the test clock is checked by the server.)
    verify_token(&app.jwks().await, &first, client_id(&owner), ISSUER)
        .expect("the retiring key's token verifies against the JWKS");
    assert_eq!(app.introspect(&owner, &second).await["active"], true);

    // An hour later nothing has rotated again; the old key has retired (which shows that
    // maintenance ran after the clock moved) and left the JWKS.
    clock.advance(3600);
    let keys = wait_for_status(&app, &first_kid, "retired").await;
    assert_eq!(keys.len(), 2, "no new key: {keys:?}");
    assert_eq!(count_with_status(&keys, "active"), 1, "{keys:?}");
    assert_eq!(count_with_status(&keys, "next"), 0, "{keys:?}");
    assert_eq!(status_of(&keys, &next_kid), "active");
    app.wait_for_published(&first_kid, false).await;
    assert_eq!(app.jwks_kids().await, std::slice::from_ref(&next_kid));
    assert_eq!(
        jwt_kid(&app.token_for(&owner, None).await.access_token()),
        next_kid
    );
}

#[tokio::test]
async fn a_restart_in_the_middle_of_a_rotation_neither_repeats_nor_loses_it() {
    let clock = Arc::new(ManualClock::new(unix_now()));
    let mut app = spawn_app_with(Setup::with_clock(Arc::clone(&clock))).await;
    let owner = owner(&app).await;
    let first_kid = jwt_kid(&app.token_for(&owner, None).await.access_token());
    let activated_at = unix_seconds(&app.listed_key(&first_kid).await["activated_at"]);
    advance_to(&clock, activated_at + 30 * DAY - PUBLISH_AHEAD);
    let next_kid = wait_for_another_key(&app, &first_kid).await;

    app.restart().await;
    // The restarted server publishes the same next key and makes no other.
    let kids = app.jwks_kids().await;
    assert!(
        kids.contains(&next_kid) && kids.contains(&first_kid),
        "{kids:?}"
    );
    assert_eq!(
        jwt_kid(&app.token_for(&owner, None).await.access_token()),
        first_kid,
        "the next key does not sign before it is due"
    );

    advance_to(&clock, activated_at + 30 * DAY);
    wait_for_signing_kid(&app, &owner, &next_kid).await;
    let keys = app.key_list().await;
    assert_eq!(
        keys.len(),
        2,
        "the published next key was promoted: {keys:?}"
    );
    assert_eq!(status_of(&keys, &first_kid), "retiring");

    app.restart().await;
    assert_eq!(
        jwt_kid(&app.token_for(&owner, None).await.access_token()),
        next_kid
    );
    // An hour on, the restarted server has run maintenance (the old key retired) and has not
    // rotated again: the schedule counts from the activation stored in the database.
    clock.advance(3600);
    let keys = wait_for_status(&app, &first_kid, "retired").await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(count_with_status(&keys, "active"), 1, "{keys:?}");
    assert_eq!(count_with_status(&keys, "next"), 0, "{keys:?}");
    assert_eq!(
        jwt_kid(&app.token_for(&owner, None).await.access_token()),
        next_kid
    );
}

/// `key rotate --in DURATION --json`: the printed key, its kid and its activation instant.
fn rotate_in(app: &TestApp, duration: &str) -> (Value, String, i64) {
    let output = app.cli(&["key", "rotate", "--in", duration, "--json"]);
    assert!(output.status.success(), "{}", describe(&output));
    let rotated: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    let kid = rotated["kid"].as_str().expect("the new kid").to_owned();
    let at = unix_seconds(&rotated["activate_at"]);
    (rotated, kid, at)
}

/// A token request at a peer server, which must succeed; the token.
async fn token_at_peer(peer: &Node, owner: &Value) -> String {
    peer.http().token_for(owner, None).await.access_token()
}

#[tokio::test]
async fn a_rotation_scheduled_with_in_publishes_the_key_at_once_and_every_server_signs_with_it_from_the_instant()
 {
    let clock = Arc::new(ManualClock::new(unix_now()));
    let setup = Setup::with_clock(Arc::clone(&clock)).without_maintenance();
    let app = spawn_app_with(setup).await;
    let peer = app.start_peer().await;
    let owner = owner(&app).await;
    let old_kid = jwt_kid(&app.token_for(&owner, None).await.access_token());

    let (rotated, new_kid, at) = rotate_in(&app, "10m");
    assert_eq!(rotated["status"], "next");
    assert!(
        (at - unix_now() - 600).abs() <= 2,
        "activates in 10 minutes: {rotated}"
    );
    let listed = app.listed_key(&new_kid).await;
    assert_eq!(listed["activate_at"], rotated["activate_at"]);
    app.wait_for_published(&new_kid, true).await;

    advance_to(&clock, at - 1);
    assert_eq!(
        jwt_kid(&app.token_for(&owner, None).await.access_token()),
        old_kid
    );
    assert_eq!(jwt_kid(&token_at_peer(&peer, &owner).await), old_kid);

    advance_to(&clock, at);
    wait_for_signing_kid(&app, &owner, &new_kid).await;
    eventually("the peer to sign with the scheduled key", async || {
        let kid = jwt_kid(&token_at_peer(&peer, &owner).await);
        (kid == new_kid).then_some(()).ok_or(kid)
    })
    .await;
    let keys = wait_for_status(&app, &new_kid, "active").await;
    assert_eq!(status_of(&keys, &old_kid), "retiring");
    assert_eq!(count_with_status(&keys, "active"), 1);
    assert!(app.jwks_kids().await.contains(&old_kid));
}

#[tokio::test]
async fn a_server_started_after_the_instant_of_a_scheduled_rotation_signs_with_the_new_key_at_once()
{
    let clock = Arc::new(ManualClock::new(unix_now()));
    let mut app = spawn_app_with(Setup::with_clock(Arc::clone(&clock))).await;
    let owner = owner(&app).await;
    let (_, new_kid, at) = rotate_in(&app, "10m");
    app.wait_for_published(&new_kid, true).await;

    advance_to(&clock, at + 5);
    app.restart().await;

    assert_eq!(
        jwt_kid(&app.token_for(&owner, None).await.access_token()),
        new_kid
    );
}

#[tokio::test]
async fn a_rotation_scheduled_two_seconds_ahead_switches_at_the_instant_in_real_time() {
    let app = spawn_app_with(Setup::default().without_maintenance()).await;
    let owner = owner(&app).await;
    let old_kid = jwt_kid(&app.token_for(&owner, None).await.access_token());

    let output = app.cli(&["key", "rotate", "--in", "2s", "--json"]);
    assert!(output.status.success(), "{}", describe(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--in 10m"),
        "a rotation sooner than the JWKS caches allow warns: {}",
        describe(&output)
    );
    let rotated: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    let new_kid = rotated["kid"].as_str().expect("the new kid").to_owned();
    let at = unix_seconds(&rotated["activate_at"]);

    // A few seconds past the instant at most; every token on the way is signed by the key its
    // time calls for.
    let limit = Duration::from_secs(u64::try_from(at + 3 - unix_now()).unwrap_or(0));
    eventually_within(limit, "tokens signed by the scheduled key", async || {
        let token = app.token_for(&owner, None).await.access_token();
        let (_, claims) = jwt_parts(&token);
        let iat = claims["iat"].as_i64().expect("an iat");
        let kid = jwt_kid(&token);
        if kid == new_kid {
            assert!(iat >= at, "signed by the new key at {iat}, before {at}");
            Ok(())
        } else {
            assert_eq!(kid, old_kid);
            assert!(iat <= at, "signed by the old key at {iat}, after {at}");
            Err(format!("signed by {kid} at {iat}"))
        }
    })
    .await;
}

#[tokio::test]
async fn key_rotate_without_in_warns_that_cached_jwks_do_not_know_the_key_yet() {
    let app = spawn_app().await;
    let output = app.cli(&["key", "rotate"]);
    assert!(output.status.success(), "{}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("New tokens are now signed with key"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cached the JWKS") && stderr.contains("--in 10m"),
        "{stderr}"
    );
}
