//! Apps this server cannot serve (types and grant types that need an authorization endpoint)
//! are created with a warning: a `warning:` line on the CLI's stderr, `warnings` in the admin
//! API's answer. Apps it can serve get none.

use crate::harness::*;
use reqwest::Method;
use serde_json::json;

fn warning_lines(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|line| line.starts_with("warning:"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_cli_warns_on_stderr_when_it_creates_an_app_that_can_get_no_token() {
    let app = spawn_app().await;
    for (args, mentions) in [
        (
            vec!["--name", "site", "--type", "web"],
            "authorization_code",
        ),
        (vec!["--name", "browser", "--type", "spa"], "spa"),
        (vec!["--name", "phone", "--type", "native"], "native"),
        (
            vec!["--name", "coded", "--grant-type", "authorization_code"],
            "authorization_code",
        ),
        (
            vec![
                "--name",
                "both",
                "--grant-type",
                "client_credentials",
                "--grant-type",
                "authorization_code",
            ],
            "authorization_code",
        ),
    ] {
        let mut full = vec!["app", "create"];
        full.extend_from_slice(&args);
        full.push("--json");
        let output = app.cli(&full);
        assert!(output.status.success(), "{}", describe(&output));
        let warnings = warning_lines(&output.stderr);
        assert_eq!(warnings.len(), 1, "{args:?}: {}", describe(&output));
        assert!(warnings[0].contains(mentions), "{args:?}: {warnings:?}");
        // Still created, and stdout is still one JSON document.
        let created: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("--json output");
        let shown = app.cli_json(&["app", "show", client_id(&created), "--json"]);
        assert_eq!(shown["name"], args[1]);
    }
    for args in [
        vec!["app", "create", "--name", "worker"],
        vec![
            "app",
            "create",
            "--name",
            "portal",
            "--type",
            "web",
            "--grant-type",
            "client_credentials",
        ],
    ] {
        let output = app.cli(&args);
        assert!(output.status.success(), "{}", describe(&output));
        assert_eq!(warning_lines(&output.stderr), Vec::<String>::new());
    }
}

#[tokio::test]
async fn the_admin_api_answers_warnings_when_it_creates_an_app_that_can_get_no_token() {
    let admins = admins().await;
    let apps = "/admin/v1/tenants/default/apps";
    for body in [
        json!({"name": "site", "type": "web"}),
        json!({"name": "browser", "type": "spa"}),
        json!({"name": "coded", "grant_types": ["authorization_code"]}),
    ] {
        let reply = admins.as_root(Method::POST, apps, Some(&body)).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        let created = reply.json();
        let warnings = created["warnings"].as_array().expect("a warnings list");
        assert_eq!(warnings.len(), 1, "{created}");
        assert!(
            warnings[0]
                .as_str()
                .is_some_and(|text| text.contains("can get no token"))
        );
        let shown = admins
            .as_root(
                Method::GET,
                &format!("{apps}/{}", client_id(&created)),
                None,
            )
            .await;
        assert_eq!(shown.status, 200, "{shown:?}");
        assert!(shown.json().get("warnings").is_none(), "{shown:?}");
    }
    let plain = admins
        .as_root(Method::POST, apps, Some(&json!({"name": "worker"})))
        .await
        .json();
    assert!(plain.get("warnings").is_none(), "{plain}");
}
