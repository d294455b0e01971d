// The "Try it" panel of an app: the curl command for its token endpoint, a token decoded
// here in the browser (nothing is sent anywhere to decode it), a token fetched from this
// console's own origin when that origin is one of the tenant's hosts, and revoking a token by
// its `jti`. The secret typed here is sent to the token endpoint only, and cleared on leaving.

import { api, seg } from './api.js';
import { copyButton, field, h } from './dom.js';

/** The tenant's token endpoint base: its issuer, else https://FIRST-DOMAIN, else this origin. */
export function tenantBase(tenant) {
  if (tenant.issuer) return tenant.issuer.replace(/\/+$/, '');
  if (tenant.domains.length > 0) return `https://${tenant.domains[0]}`;
  return location.origin;
}

// A word as the shell reads it: bare when it holds only safe characters, else single-quoted.
function shellWord(text) {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** The curl command that gets a token for `app` from `tenant`. */
export function curlCommand(app, tenant) {
  const lines = [
    `curl -X POST ${shellWord(`${tenantBase(tenant)}/oauth2/token`)}`,
    '-d grant_type=client_credentials',
    `-d ${shellWord(`client_id=${app.client_id}`)}`,
    '-d client_secret=YOUR_SECRET',
  ];
  if (app.default_scopes.length > 0) lines.push(`-d ${shellWord(`scope=${app.default_scopes.join(' ')}`)}`);
  return lines.join(' \\\n  ');
}

function base64UrlJson(part) {
  const base64 = part.replaceAll('-', '+').replaceAll('_', '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
}

/** A JWT's header and claims, decoded without checking its signature; throws when not a JWT. */
export function decodeJwt(token) {
  const parts = token.trim().split('.');
  if (parts.length !== 3) throw new Error('This is not a JWT: a JWT has three parts separated by dots.');
  try {
    return { header: base64UrlJson(parts[0]), claims: base64UrlJson(parts[1]) };
  } catch {
    throw new Error('This is not a JWT: its header or claims are not base64url-encoded JSON.');
  }
}

function timeOf(seconds) {
  return typeof seconds === 'number' ? new Date(seconds * 1000).toLocaleString() : '—';
}

/** The panel, for `app` of `tenant` (a TenantView). */
export function tryItPanel(context, app, tenant) {
  const command = curlCommand(app, tenant);
  const token = field({
    label: 'Access token', name: 'token', type: 'textarea', spellcheck: false, autocomplete: 'off',
    hint: 'Paste a token to see its header and claims. It is decoded here, in this page; it is not sent anywhere.',
  });
  token.input.rows = 4;
  const decoded = h('div.decoded', { 'aria-live': 'polite' });
  const revokeError = h('p.form-error', { role: 'alert', hidden: true });
  let jti = null;
  const revoke = h('button.secondary', { type: 'button', disabled: true }, 'Revoke this token');
  const decode = () => {
    revokeError.hidden = true;
    const text = token.input.value.trim();
    jti = null;
    revoke.disabled = true;
    if (!text) {
      decoded.replaceChildren();
      return;
    }
    try {
      const { header, claims } = decodeJwt(text);
      jti = typeof claims.jti === 'string' ? claims.jti : null;
      revoke.disabled = !jti;
      decoded.replaceChildren(
        h('p', `Issued ${timeOf(claims.iat)}, expires ${timeOf(claims.exp)}`,
          claims.exp && claims.exp * 1000 < Date.now() ? ' (expired)' : '', '. The signature is not checked here.'),
        h('h3', 'Header'), h('pre#token-header', JSON.stringify(header, null, 2)),
        h('h3', 'Claims'), h('pre#token-claims', JSON.stringify(claims, null, 2)));
    } catch (error) {
      decoded.replaceChildren(h('p.form-error', error.message));
    }
  };
  token.input.addEventListener('input', decode);
  revoke.addEventListener('click', async () => {
    revokeError.hidden = true;
    try {
      await api('POST', `/admin/v1/tenants/${seg(app.tenant)}/revocations`, { jti });
      context.say(`Token ${jti} is revoked.`);
    } catch (error) {
      revokeError.textContent = error.message;
      revokeError.hidden = false;
    }
  });

  const fetchPart = h('div.fetch');
  const reachable = tenant.name === 'default' || tenant.domains.includes(location.hostname.toLowerCase());
  if (reachable) {
    const secret = field({
      label: 'Client secret', name: 'client_secret', type: 'password', autocomplete: 'off',
      hint: 'Sent only to this server\'s token endpoint, and forgotten when you leave this page.',
    });
    const fetchError = h('p.form-error', { role: 'alert', hidden: true });
    const form = h('form', { 'aria-label': 'Get a token', novalidate: true },
      fetchError, secret.wrap, h('div.actions', h('button', { type: 'submit' }, 'Get a token')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      fetchError.hidden = true;
      const body = new URLSearchParams({
        grant_type: 'client_credentials', client_id: app.client_id, client_secret: secret.input.value,
      });
      try {
        const response = await fetch('/oauth2/token', { method: 'POST', body, credentials: 'omit' });
        const answer = await response.json().catch(() => ({}));
        if (!response.ok) {
          throw new Error(`The token endpoint refused: ${answer.error || `HTTP ${response.status}`}${answer.error_description ? ` (${answer.error_description})` : ''}.`);
        }
        token.input.value = answer.access_token;
        decode();
      } catch (error) {
        fetchError.textContent = error instanceof TypeError ? 'The server could not be reached.' : error.message;
        fetchError.hidden = false;
      }
    });
    context.onLeave(() => {
      secret.input.value = '';
    });
    fetchPart.append(h('h3', 'Get a token here'), form);
  } else {
    fetchPart.append(h('p.notice',
      `This console is open at ${location.hostname}, which is not one of the hosts of tenant ${tenant.name}: `,
      'a token request from here would reach another tenant. Run the curl command above and paste the ',
      h('code', 'access_token'), ' it answers into the field below.'));
  }
  context.onLeave(() => {
    token.input.value = '';
    decoded.replaceChildren();
  });

  return h('section.try', { 'aria-labelledby': 'try-title' },
    h('h2#try-title', 'Try it'),
    h('p', 'Get a token for this app with curl (put its secret in place of YOUR_SECRET):'),
    h('pre.command', h('code#curl-command', command)),
    copyButton('Copy command', () => command),
    fetchPart,
    h('h3', 'Decode a token'),
    token.wrap,
    decoded,
    revokeError,
    h('div.actions', revoke));
}
