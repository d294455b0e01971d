//! `X-Request-Id`: the id of one request in the request log and on its answer. A client (or
//! the proxy in front) that sends a well-formed one has it kept, so that one id follows the
//! request through every log; else latchkey makes one.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use std::cell::Cell;

/// The header.
pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id kept.
const MAX_LEN: usize = 128;

/// The request id a client sent, if it is well-formed: 1 to 128 characters among letters,
/// digits and `-_.:/+=@` (a UUID, a W3C trace id, base64, a proxy's own scheme), so that it
/// can be written into a log line as it is and forge nothing there.
pub(crate) fn sent(headers: &HeaderMap) -> Option<HeaderValue> {
    let value = headers.get(&X_REQUEST_ID)?;
    let bytes = value.as_bytes();
    let well_formed = (1..=MAX_LEN).contains(&bytes.len())
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-_.:/+=@".contains(byte));
    well_formed.then(|| value.clone())
}

thread_local! {
    /// This thread's random prefix and counter: ids unique without a shared counter, which
    /// every request of every thread would contend for.
    static NEXT: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// A new request id: 32 lower-case hex digits (the shape of a W3C trace id), a random
/// per-thread prefix and the thread's count.
pub(crate) fn generate() -> HeaderValue {
    let (prefix, count) = NEXT.with(|next| {
        let (mut prefix, count) = next.get();
        if prefix == 0 {
            prefix = latchkey_keys::random::number() | 1;
        }
        next.set((prefix, count.wrapping_add(1)));
        (prefix, count)
    });
    let mut text = [0u8; 32];
    hex(prefix, &mut text[..16]);
    hex(count, &mut text[16..]);
    HeaderValue::from_bytes(&text).expect("hex digits are a valid header value")
}

fn hex(value: u64, out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (index, slot) in out.iter_mut().enumerate() {
        let shift = 60 - 4 * index;
        *slot = DIGITS[((value >> shift) & 0xf) as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(X_REQUEST_ID, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn a_well_formed_request_id_is_kept() {
        for id in [
            "3f2b9c1e-8d7a-4b6c-9e5f-0a1b2c3d4e5f",
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "abc/def+ghi=",
            "x",
        ] {
            assert_eq!(sent(&with(id)).unwrap(), id);
        }
    }

    #[test]
    fn a_request_id_that_could_forge_a_log_line_or_is_too_long_is_replaced() {
        for id in ["", "a b", "a\"b", "a=b\tc", &"x".repeat(129), "é"] {
            let headers = match HeaderValue::from_bytes(id.as_bytes()) {
                Ok(value) => {
                    let mut headers = HeaderMap::new();
                    headers.insert(X_REQUEST_ID, value);
                    headers
                }
                Err(_) => continue,
            };
            assert_eq!(sent(&headers), None, "{id:?}");
        }
        assert_eq!(sent(&HeaderMap::new()), None);
    }

    #[test]
    fn generated_ids_are_32_hex_digits_and_differ() {
        let first = generate();
        let second = generate();
        assert_ne!(first, second);
        for id in [&first, &second] {
            assert_eq!(id.len(), 32);
            assert!(id.as_bytes().iter().all(u8::is_ascii_hexdigit));
            assert!(sent(&with(id.to_str().unwrap())).is_some());
        }
        assert_eq!(first.as_bytes()[..16], second.as_bytes()[..16]);
    }
}
