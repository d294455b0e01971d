// The console's only way to the server: the admin REST API (`/admin/v1/...`) and the console
// session (`/console/session`), both with the session cookie the browser holds (HttpOnly: this
// code never sees it). Every call that changes something carries the session's CSRF token.
// Errors become `ApiError`s with a sentence a person can act on; which form field an error
// concerns is decided here too, from the API's `error_description`.

let csrfToken = null;
let sessionEnded = () => {};

/** Remembers the CSRF token of the signed-in session (null when signed out). */
export function setCsrfToken(token) {
  csrfToken = token;
}

/** Sets what happens when any call answers 401: the session has ended. */
export function onSessionEnded(handler) {
  sessionEnded = handler;
}

/** A refused or failed call. `message` is for people; `field` the API field it concerns. */
export class ApiError extends Error {
  constructor(status, code, description, retryAfter) {
    super(explain(status, code, description, retryAfter));
    this.status = status;
    this.code = code;
    this.description = description;
  }
}

/** Calls `method path` with an optional JSON body; resolves to the JSON answer (null on 204). */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'network', '');
  }
  if (response.status === 204) return null;
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (response.ok) return answer;
  const error = new ApiError(response.status, answer?.error ?? '', answer?.error_description ?? '',
    response.headers.get('Retry-After'));
  if (response.status === 401 && !path.startsWith('/console/session')) sessionEnded();
  throw error;
}

/** `path?query` with the query's empty values left out. */
export function withQuery(path, query) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

/** A path segment, escaped. */
export const seg = encodeURIComponent;

function sentence(text) {
  if (!text) return '';
  const first = text[0].toUpperCase() + text.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

function explain(status, code, description, retryAfter) {
  if (status === 0) return 'The server could not be reached. Check the connection and try again.';
  if (status === 401 && code === 'invalid_client') {
    return 'Sign-in failed: the client id, the secret or the tenant is wrong.';
  }
  if (status === 401) return 'Your session has ended; sign in again.';
  if (code === 'invalid_csrf_token') {
    return 'The page lost its security token for this session. Reload the page and try again.';
  }
  if (code === 'insufficient_scope') {
    return 'This app is not granted the latchkey:admin scope, so it cannot manage latchkey.';
  }
  if (code === 'access_denied' && /own tenant/.test(description)) {
    return 'You are not allowed to see or change this tenant: your admin app manages only its own tenant.';
  }
  if (code === 'access_denied' && /default tenant/.test(description)) {
    return 'You are not allowed to do this: only admin apps of the default tenant may.';
  }
  if (status === 403) return `You are not allowed to do this. ${sentence(description)}`.trim();
  if (status === 429) {
    const wait = retryAfter ? ` Wait ${retryAfter} seconds before trying again.` : ' Wait a while before trying again.';
    return `Too many failed attempts.${wait}`;
  }
  if (status === 503) {
    return `${sentence(description) || 'The server is busy.'} Try again in a few seconds.`;
  }
  if (status >= 500) {
    return 'The server could not complete the request. Try again; if it keeps failing, the server log says why.';
  }
  return sentence(description) || `The request failed (HTTP ${status}).`;
}

// Which field an error description concerns: the first rule whose pattern matches, of those
// naming a field the form has. The words are the API's (crates/latchkey-manage and
// latchkey-protocol's app_settings), most specific first.
const FIELD_RULES = [
  ['default_scopes', /default scope/i],
  ['token_reuse_percent', /token reuse|token_reuse/i],
  ['token_ttl', /token ttl|token_ttl|token lifetime/i],
  ['grant_types', /grant type|grant_types|client_credentials/i],
  ['audiences', /audience/i],
  ['claims', /claim/i],
  ['scopes', /scope/i],
  ['max_assertion_lifetime', /assertion lifetime|max_assertion_lifetime/i],
  ['domains', /domain/i],
  ['issuer', /issuer/i],
  ['token_profile', /token profile|token_profile/i],
  ['grace_seconds', /grace/i],
  ['in_seconds', /in_seconds|a year ahead/i],
  ['alg', /algorithm|\balg\b/i],
  ['jti', /\bjti\b/i],
  ['until', /\buntil\b/i],
  ['since', /\bsince\b/i],
  ['name', /name/i],
  ['client_secret', /secret/i],
];

/** The API field of `fields` (a list of names) that `error` is about, or null. */
export function fieldOf(error, fields) {
  if (!(error instanceof ApiError) || ![400, 409, 422].includes(error.status)) return null;
  const text = error.description;
  // A limit of the whole token (its size) is no one field's fault.
  if (/largest token/.test(text)) return null;
  const named = fields.find((name) => text.includes(`\`${name}\``) || text.includes(`${name}:`));
  if (named) return named;
  for (const [name, pattern] of FIELD_RULES) {
    if (fields.includes(name) && pattern.test(text)) return name;
  }
  return null;
}
