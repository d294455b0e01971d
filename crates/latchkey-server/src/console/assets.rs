//! The console's files (`crates/latchkey-server/console/`), embedded in the binary by
//! rust-embed, so the console needs nothing but latchkey to run and nothing from the network.
//! Debug builds read the folder at each request instead, so a page can be edited and reloaded.

use crate::http::error::OAuthError;
use axum::body::Body;
use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::Embed)]
#[folder = "console/"]
struct Files;

/// `GET /console`: the page.
pub(super) async fn index() -> Response {
    serve("index.html")
}

/// `GET /console/FILE`: a script, a style sheet or an image.
pub(super) async fn file(Path(name): Path<String>) -> Response {
    serve(&name)
}

/// A file's answer; a 404 for anything not a console file of a known type.
fn serve(name: &str) -> Response {
    let found = content_type(name)
        .filter(|_| is_plain_name(name))
        .and_then(|kind| Some((kind, Files::get(name)?)));
    let Some((kind, file)) = found else {
        return OAuthError::NotFound.into_response();
    };
    let mut answer = (StatusCode::OK, Body::from(file.data)).into_response();
    let headers = answer.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    // The files change with the binary: a browser asks again rather than keep an old script
    // beside a new server.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    answer
}

/// A path below the folder, never above it or absolute, whatever the file system beneath
/// (in debug builds the files are read from disk).
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .split('/')
            .all(|part| !part.is_empty() && !part.starts_with('.'))
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"._-/".contains(&byte))
}

fn content_type(name: &str) -> Option<&'static str> {
    let (_, extension) = name.rsplit_once('.')?;
    Some(match extension {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_below_the_folder_are_served() {
        for name in ["index.html", "app.js", "pages/apps.js", "console.css"] {
            assert!(is_plain_name(name), "{name}");
        }
        for name in [
            "",
            "../Cargo.toml",
            "pages/../../Cargo.toml",
            "/etc/passwd",
            ".hidden.js",
            "a//b.js",
            "a\\b.js",
            "a%2e.js",
        ] {
            assert!(!is_plain_name(name), "{name}");
        }
    }

    #[test]
    fn every_file_is_of_a_type_the_console_serves() {
        let names: Vec<_> = Files::iter().collect();
        assert!(names.iter().any(|name| name == "index.html"), "{names:?}");
        for name in names {
            assert!(content_type(&name).is_some(), "{name} would be a 404");
            assert!(is_plain_name(&name), "{name} would be a 404");
        }
    }

    /// A page loads at most every file there is, so their sum bounds every page's weight.
    #[test]
    fn every_page_weighs_under_150_kb_before_compression() {
        let total: usize = Files::iter()
            .filter_map(|name| Files::get(&name))
            .map(|file| file.data.len())
            .sum();
        assert!(
            total < 150 * 1024,
            "the console's files weigh {total} bytes"
        );
    }

    /// The key page lists the algorithms itself (a select needs them before any request):
    /// every one the server signs with must be there.
    #[test]
    fn the_key_page_offers_every_signing_algorithm() {
        let page = Files::get("keys.js").expect("keys.js");
        let text = std::str::from_utf8(&page.data).unwrap();
        for alg in latchkey_keys::Algorithm::ALL {
            assert!(text.contains(&format!("'{}'", alg.as_str())), "{alg:?}");
        }
    }

    /// The Content-Security-Policy forbids inline script: a page holding one would not run.
    #[test]
    fn the_pages_hold_no_inline_script_or_style() {
        for name in Files::iter().filter(|name| name.ends_with(".html")) {
            let page = Files::get(&name).unwrap();
            let text = std::str::from_utf8(&page.data)
                .unwrap()
                .to_ascii_lowercase();
            for script in text.split("<script").skip(1) {
                let tag = script.split('>').next().unwrap_or_default();
                assert!(tag.contains("src="), "{name}: an inline <script>");
            }
            assert!(!text.contains("<style"), "{name}: an inline <style>");
            assert!(!text.contains(" style="), "{name}: a style attribute");
            assert!(!text.contains(" onclick="), "{name}: an event attribute");
        }
    }
}
