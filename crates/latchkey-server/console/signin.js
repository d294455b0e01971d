// The sign-in form: an admin app's client id and secret, and its tenant. The server answers
// with the session (its cookie, which scripts cannot read, and a CSRF token); the secret is
// not kept once the request is sent.

import { api } from './api.js';
import { field, h } from './dom.js';
import { apiForm } from './forms.js';

/** The sign-in view; `started(session)` is called once signed in. */
export function signInPage(started, message) {
  const fields = {
    client_id: field({ label: 'Client Id', name: 'client_id', autocomplete: 'username', required: true }),
    client_secret: field({
      label: 'Client secret', name: 'client_secret', type: 'password',
      autocomplete: 'current-password', required: true,
    }),
    tenant: field({
      label: 'Tenant', name: 'tenant', value: 'default', required: true,
      hint: 'The tenant the admin app belongs to.',
    }),
  };
  const form = apiForm({
    label: 'Sign in',
    fields,
    submit: 'Sign in',
    onSubmit: async () => {
      const body = {
        client_id: fields.client_id.input.value.trim(),
        client_secret: fields.client_secret.input.value,
        tenant: fields.tenant.input.value.trim() || 'default',
      };
      const session = await api('POST', '/console/session', body);
      fields.client_secret.input.value = '';
      started(session);
    },
  });
  return h('div.view.signin',
    h('h1', 'Sign in to the latchkey console'),
    message ? h('p.notice', { role: 'status' }, message) : null,
    h('p', 'Sign in with an admin app: an app granted the ', h('code', 'latchkey:admin'), ' scope.'),
    form);
}
