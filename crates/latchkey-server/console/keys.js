// A tenant's signing keys: their status (next, active, retiring, retired), algorithm and
// dates, and rotating to a new key, at once or scheduled.

import { api, seg } from './api.js';
import { append, confirmDialog, field, h, table, when } from './dom.js';
import { apiForm, integerOf } from './forms.js';
import { tenantCrumbs } from './apps.js';

// The API's `Alg` enum.
const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];

/** `#/tenants/NAME/keys`. */
export async function keysPage(context, tenant) {
  const path = `/admin/v1/tenants/${seg(tenant)}/keys`;
  const list = h('div');
  const draw = (keys) => list.replaceChildren(keys.length === 0 ? h('p', 'No signing keys.') : table('Signing keys, newest first', [
    ['Key id', (key) => h('code', key.kid)],
    ['Status', (key) => h(`span.badge.key-${key.status}`, key.status)],
    ['Algorithm', (key) => key.alg],
    ['Created', (key) => when(key.created_at)],
    ['Signs from', (key) => when(key.activated_at || key.activate_at)],
    ['Leaves the JWKS', (key) => when(key.retired_at || key.retire_at)],
  ], keys));
  draw((await api('GET', path)).keys);
  const fields = {
    alg: field({
      label: 'Algorithm', name: 'alg', type: 'select', value: '',
      options: [['', 'Same as the active key'], ...ALGORITHMS.map((alg) => [alg, alg])],
    }),
    in_seconds: field({
      label: 'Start signing in, seconds (optional)', name: 'in_seconds', type: 'number', min: 0, inputmode: 'numeric',
      hint: 'Empty or 0: at once. 600 lets every verifier fetch the new key first.',
    }),
  };
  const form = apiForm({
    label: 'Rotate the signing key',
    fields,
    submit: 'Rotate key',
    onSubmit: async () => {
      const body = {};
      if (fields.alg.input.value) body.alg = fields.alg.input.value;
      const seconds = integerOf('in_seconds', fields.in_seconds.input, 'The delay');
      if (seconds !== null) body.in_seconds = seconds;
      const confirmed = await confirmDialog({
        title: `Rotate the signing key of ${tenant}?`,
        message: seconds
          ? `A new key is published now and signs from ${seconds} seconds on; the current one then retires.`
          : 'A new key signs from now on; the current one retires, and stays in the JWKS until its tokens expire.',
        confirm: 'Rotate key',
      });
      if (!confirmed) return;
      const key = await api('POST', `${path}/rotate`, body);
      draw((await api('GET', path)).keys);
      context.say(`The signing key of ${tenant} is rotated: the new key is ${key.kid} (${key.status}).`);
    },
  });
  append(context.view, 
    tenantCrumbs(context, tenant, [['Signing keys']]),
    h('h1', `Signing keys of ${tenant}`),
    list,
    h('section', { 'aria-labelledby': 'rotate-title' }, h('h2#rotate-title', 'Rotate'), form));
}
