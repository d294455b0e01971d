//! `application/x-www-form-urlencoded` request bodies, as every endpoint here receives them.
//!
//! Rules (RFC 6749 §3.1, §3.2): a repeated known parameter is an error; unknown parameters are
//! ignored; a parameter sent without a value is treated as absent.

use crate::error::TokenError;
use zeroize::Zeroize;

/// The only request content type the endpoints accept (RFC 6749 §4.4.2, RFC 7662 §2.1).
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Refuses any content type but the form type (parameters such as `charset` aside).
pub fn check_content_type(content_type: Option<&str>) -> Result<(), TokenError> {
    let essence = content_type
        .and_then(|value| value.split(';').next())
        .unwrap_or("")
        .trim();
    if essence.eq_ignore_ascii_case(FORM_CONTENT_TYPE) {
        Ok(())
    } else {
        Err(TokenError::InvalidRequest(
            "Content-Type must be application/x-www-form-urlencoded",
        ))
    }
}

fn repeated(name: &str) -> &'static str {
    match name {
        "grant_type" => "grant_type is repeated",
        "client_id" => "client_id is repeated",
        "client_secret" => "client_secret is repeated",
        "scope" => "scope is repeated",
        "token" => "token is repeated",
        "token_type_hint" => "token_type_hint is repeated",
        "resource" => "resource is repeated",
        "audience" => "audience is repeated",
        _ => "a parameter is repeated",
    }
}

/// Reads the values of `names` from a body, in the same order.
pub fn parse<const N: usize>(
    body: &[u8],
    names: [&'static str; N],
) -> Result<[Option<String>; N], TokenError> {
    let mut values: [Option<String>; N] = std::array::from_fn(|_| None);
    let mut seen = [false; N];
    for (name, value) in form_urlencoded::parse(body) {
        let Some(index) = names.iter().position(|known| *known == name) else {
            continue;
        };
        if std::mem::replace(&mut seen[index], true) {
            // A refused body may hold a secret already decoded: wipe what was read.
            values.iter_mut().flatten().for_each(Zeroize::zeroize);
            if let std::borrow::Cow::Owned(mut value) = value {
                value.zeroize();
            }
            return Err(TokenError::InvalidRequest(repeated(names[index])));
        }
        if !value.is_empty() {
            values[index] = Some(value.into_owned());
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_parameters_are_read_in_order() {
        let [a, b] = parse(b"b=2&x=9&a=1", ["a", "b"]).unwrap();
        assert_eq!((a.as_deref(), b.as_deref()), (Some("1"), Some("2")));
    }

    #[test]
    fn empty_value_is_absent_but_still_counts_as_sent() {
        assert_eq!(parse(b"a=", ["a"]).unwrap(), [None]);
        assert!(parse(b"a=&a=1", ["a"]).is_err());
    }

    #[test]
    fn repeated_parameter_names_itself() {
        assert_eq!(
            parse(b"token=a&token=b", ["token"]),
            Err(TokenError::InvalidRequest("token is repeated"))
        );
    }

    #[test]
    fn content_type_check_ignores_case_and_parameters() {
        assert!(
            check_content_type(Some("application/x-www-form-urlencoded;charset=UTF-8")).is_ok()
        );
        assert!(check_content_type(Some("APPLICATION/X-WWW-FORM-URLENCODED")).is_ok());
        assert!(check_content_type(Some("application/json")).is_err());
        assert!(check_content_type(None).is_err());
    }
}
