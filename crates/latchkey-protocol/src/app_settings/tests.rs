//! Unit tests of the app settings rules: validation, patches, the token size bound and custom claims.

use super::*;

fn scopes(list: &[&str]) -> Vec<Scope> {
    list.iter().map(|s| Scope::parse(s).unwrap()).collect()
}

fn with(app_type: ClientType, patch: AppSettingsPatch) -> Result<(), ClientConfigError> {
    validate(&AppSettings::new(app_type).patched(patch))
}

#[test]
fn a_new_app_gets_its_types_grant_types_and_the_default_ttl_and_is_valid() {
    for kind in ClientType::ALL {
        let settings = AppSettings::new(kind);
        assert_eq!(settings.grant_types, kind.default_grant_types());
        assert_eq!(settings.token_ttl, DEFAULT_TOKEN_TTL);
        assert_eq!(validate(&settings), Ok(()), "{kind}");
    }
}

#[test]
fn a_patch_replaces_what_it_names_drops_repeats_and_compacts_claims() {
    let read = scopes(&["read"]);
    let before = AppSettings::new(ClientType::M2m).patched(AppSettingsPatch {
        scopes: Some(scopes(&["read", "write", "read"])),
        token_reuse_percent: Some(Some(80)),
        ..AppSettingsPatch::default()
    });
    assert_eq!(before.scopes, scopes(&["read", "write"]));
    let claims = serde_json::json!({ "tier": "gold", "n": [1, 2] });
    let after = before.clone().patched(AppSettingsPatch {
        default_scopes: Some(read.clone()),
        token_reuse_percent: Some(None),
        custom_claims: claims.as_object().cloned(),
        ..AppSettingsPatch::default()
    });
    assert_eq!(after.scopes, before.scopes);
    assert_eq!(after.default_scopes, read);
    assert_eq!(after.token_reuse_percent, None);
    assert_eq!(
        after.custom_claims.as_deref(),
        Some(r#"{"n":[1,2],"tier":"gold"}"#)
    );
    let cleared = after.patched(AppSettingsPatch {
        custom_claims: Some(Map::new()),
        ..AppSettingsPatch::default()
    });
    assert_eq!(cleared.custom_claims, None);
    assert!(AppSettingsPatch::default().is_empty());
}

#[test]
fn public_clients_cannot_have_client_credentials() {
    let client_credentials = || AppSettingsPatch {
        grant_types: Some(vec![GrantType::ClientCredentials]),
        ..AppSettingsPatch::default()
    };
    for kind in [ClientType::Spa, ClientType::Native] {
        assert_eq!(
            with(kind, client_credentials()),
            Err(ClientConfigError::PublicClientCredentials(kind))
        );
    }
    assert!(with(ClientType::Web, client_credentials()).is_ok());
}

#[test]
fn default_scopes_must_be_allowed() {
    let got = with(
        ClientType::M2m,
        AppSettingsPatch {
            scopes: Some(scopes(&["a"])),
            default_scopes: Some(scopes(&["b"])),
            ..AppSettingsPatch::default()
        },
    );
    assert_eq!(got, Err(ClientConfigError::DefaultNotAllowed("b".into())));
}

#[test]
fn ttl_must_be_in_range() {
    let ttl = |seconds| {
        with(
            ClientType::M2m,
            AppSettingsPatch {
                token_ttl: Some(seconds),
                ..AppSettingsPatch::default()
            },
        )
    };
    assert_eq!(ttl(0), Err(ClientConfigError::TokenTtl));
    assert_eq!(ttl(MAX_TOKEN_TTL + 1), Err(ClientConfigError::TokenTtl));
    assert_eq!(ttl(MIN_TOKEN_TTL), Ok(()));
    assert_eq!(ttl(MAX_TOKEN_TTL), Ok(()));
}

#[test]
fn token_reuse_share_must_be_a_percentage() {
    let reuse = |percent| {
        with(
            ClientType::M2m,
            AppSettingsPatch {
                token_reuse_percent: Some(Some(percent)),
                ..AppSettingsPatch::default()
            },
        )
    };
    assert_eq!(reuse(0), Err(ClientConfigError::TokenReuse));
    assert_eq!(reuse(101), Err(ClientConfigError::TokenReuse));
    assert_eq!(reuse(80), Ok(()));
}

#[test]
fn settings_with_audiences_or_claims_out_of_bounds_are_refused() {
    let mut settings = AppSettings::new(ClientType::M2m);
    settings.audiences = vec!["not a uri".into()];
    assert!(matches!(
        validate(&settings),
        Err(ClientConfigError::BadAudience(_))
    ));
    let mut settings = AppSettings::new(ClientType::M2m);
    settings.custom_claims = Some(r#"{"sub":"x"}"#.into());
    assert_eq!(
        validate(&settings),
        Err(ClientConfigError::RegisteredClaim("sub".into()))
    );
}

#[test]
fn an_app_has_at_most_200_scopes() {
    let many = |count: usize| {
        let names: Vec<String> = (0..count).map(|i| format!("s{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        with(
            ClientType::M2m,
            AppSettingsPatch {
                scopes: Some(scopes(&names)),
                ..AppSettingsPatch::default()
            },
        )
    };
    assert_eq!(many(MAX_SCOPES), Ok(()));
    assert_eq!(many(MAX_SCOPES + 1), Err(ClientConfigError::TooManyScopes));
}

#[test]
fn settings_whose_largest_token_would_not_fit_introspection_are_refused() {
    let mut settings = AppSettings::new(ClientType::M2m);
    assert!(largest_token_bytes(&settings) < 5 * 1024);
    // The largest custom claims and the longest audience do not fit together.
    settings.custom_claims = Some(format!(r#"{{"x":"{}"}}"#, "y".repeat(MAX_CLAIMS_BYTES - 8)));
    assert_eq!(validate(&settings), Ok(()));
    settings.audiences = vec![format!("https://a/{}", "x".repeat(MAX_AUDIENCE_BYTES - 10))];
    assert!(matches!(
        validate(&settings),
        Err(ClientConfigError::TokenTooLarge(bytes)) if bytes > MAX_TOKEN_BYTES
    ));
    // Only the longest audience counts: a token names one at most.
    settings.custom_claims = None;
    let one = largest_token_bytes(&settings);
    settings.audiences.push("urn:a:b".into());
    assert_eq!(largest_token_bytes(&settings), one);
    assert!(
        ClientConfigError::TokenTooLarge(20_000)
            .to_string()
            .contains("introspection accepts")
    );
}

#[test]
fn the_bound_grows_with_every_setting_a_token_carries() {
    let base = AppSettings::new(ClientType::M2m);
    let bound = largest_token_bytes(&base);
    let mut with_scope = base.clone();
    with_scope.scopes = scopes(&[&"s".repeat(300)]);
    assert!(largest_token_bytes(&with_scope) >= bound + 400);
    let mut with_claims = base.clone();
    with_claims.custom_claims = Some(format!(r#"{{"x":"{}"}}"#, "y".repeat(300)));
    assert!(largest_token_bytes(&with_claims) >= bound + 400);
    let mut with_audience = base;
    with_audience.audiences = vec![format!("urn:{}", "q\"\\".repeat(100))];
    // Quotes and backslashes are escaped in the token: counted twice.
    assert!(largest_token_bytes(&with_audience) >= bound + 500);
}

#[test]
fn audiences_are_absolute_uris_without_fragments() {
    let list = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert!(check_audiences(&list(&["https://api.test/v1", "urn:example:orders"])).is_ok());
    for bad in [
        "api.test",
        "https://a#frag",
        "https://a b",
        ":x",
        "1http://a",
        "https:",
    ] {
        assert!(
            matches!(
                check_audiences(&list(&[bad])),
                Err(ClientConfigError::BadAudience(_))
            ),
            "{bad:?}"
        );
    }
    let long = format!("https://a/{}", "x".repeat(MAX_AUDIENCE_BYTES));
    assert!(check_audiences(&[long]).is_err());
    let many: Vec<String> = (0..=MAX_AUDIENCES).map(|i| format!("urn:a:{i}")).collect();
    assert_eq!(
        check_audiences(&many),
        Err(ClientConfigError::TooManyAudiences)
    );
}

#[test]
fn custom_claims_are_an_object_without_registered_names() {
    assert_eq!(
        normalize_custom_claims(r#"{ "tier" : "gold", "n": [1, 2] }"#)
            .unwrap()
            .as_deref(),
        Some(r#"{"n":[1,2],"tier":"gold"}"#)
    );
    assert_eq!(normalize_custom_claims("{}"), Ok(None));
    for bad in ["[]", "3", "\"x\"", "not json"] {
        assert_eq!(
            normalize_custom_claims(bad),
            Err(ClientConfigError::ClaimsNotObject),
            "{bad}"
        );
    }
    for name in REGISTERED_CLAIMS {
        assert_eq!(
            normalize_custom_claims(&format!(r#"{{"{name}": 1}}"#)),
            Err(ClientConfigError::RegisteredClaim(name.to_owned()))
        );
    }
    let big = format!(r#"{{"x": "{}"}}"#, "y".repeat(MAX_CLAIMS_BYTES));
    assert_eq!(
        normalize_custom_claims(&big),
        Err(ClientConfigError::ClaimsTooLarge)
    );
}
