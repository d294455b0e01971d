// Tenants: the list, creating one, and one tenant's page (its settings, editing them, deleting
// it). Creating, editing and deleting are for admins of `default`; the API refuses the others
// and the console does not offer them.

import { api, seg } from './api.js';
import { append, confirmDialog, details, field, h, table, when, words } from './dom.js';
import { apiForm, changes, integerOf } from './forms.js';
import { crumbs } from './layout.js';

/** `#/tenants`. */
export async function tenantsPage(context) {
  const { tenants } = await api('GET', '/admin/v1/tenants');
  const all = context.session.reach === 'all_tenants';
  append(context.view, 
    crumbs([['Tenants']]),
    h('div.title', h('h1', 'Tenants'),
      all ? h('a.button', { href: '#/tenants/new' }, 'New tenant') : null),
    tenants.length === 0
      ? h('p', 'No tenants.')
      : table('Tenants, by name', [
        ['Name', (tenant) => h('a', { href: `#/tenants/${seg(tenant.name)}` }, tenant.name)],
        ['Domains', (tenant) => tenant.domains.join(', ') || '—'],
        ['Issuer', (tenant) => tenant.issuer || '—'],
        ['Token profile', (tenant) => tenant.token_profile],
        ['Created', (tenant) => when(tenant.created_at)],
      ], tenants));
}

function tenantFields(tenant) {
  // The API shows the issuer in force; the one a tenant gets from its first domain is no
  // choice of its own, so the field stays empty for it (and an edit leaves it derived).
  const derived = tenant && tenant.domains.length > 0 && tenant.issuer === `https://${tenant.domains[0]}`;
  return {
    domains: field({
      label: 'Domains', name: 'domains', value: tenant ? tenant.domains.join(' ') : '',
      hint: 'Hosts the tenant answers on, separated by spaces (such as auth.example.com). The first gives its issuer.',
      autocomplete: 'off',
    }),
    issuer: field({
      label: 'Issuer (optional)', name: 'issuer', value: derived ? '' : tenant?.issuer ?? '', type: 'url',
      hint: 'Leave empty for https:// and the first domain.', autocomplete: 'off',
    }),
    token_profile: field({
      label: 'Token profile', name: 'token_profile', type: 'select', value: tenant?.token_profile ?? 'seed',
      options: [['seed', 'seed (the default)'], ['rfc9068', 'RFC 9068 (typ at+jwt)']],
    }),
    publish_scopes: field({
      label: 'List its scopes in discovery', name: 'publish_scopes', type: 'checkbox',
      value: tenant ? tenant.publish_scopes : true,
    }),
    max_assertion_lifetime: field({
      label: 'Longest client assertion lifetime, in seconds (optional)', name: 'max_assertion_lifetime',
      type: 'number', min: 1, max: 3600, inputmode: 'numeric',
      value: tenant && tenant.max_assertion_lifetime !== 3600 ? tenant.max_assertion_lifetime : '',
      hint: 'At most 3600, the default.',
    }),
  };
}

function tenantBody(fields) {
  const issuer = fields.issuer.input.value.trim();
  return {
    domains: words(fields.domains.input.value),
    issuer: issuer || null,
    token_profile: fields.token_profile.input.value,
    publish_scopes: fields.publish_scopes.input.checked,
    max_assertion_lifetime: integerOf('max_assertion_lifetime', fields.max_assertion_lifetime.input,
      'The longest assertion lifetime'),
  };
}

/** `#/tenants/new`. */
export async function newTenantPage(context) {
  const name = field({
    label: 'Name', name: 'name', required: true, autocomplete: 'off',
    hint: 'Lower-case letters, digits, - or _, starting with a letter or digit.',
  });
  const fields = { name, ...tenantFields(null) };
  const form = apiForm({
    label: 'New tenant',
    fields,
    submit: 'Create tenant',
    onSubmit: async () => {
      const tenant = await api('POST', '/admin/v1/tenants', { name: name.input.value.trim(), ...tenantBody(fields) });
      context.go(`#/tenants/${seg(tenant.name)}`, `Tenant ${tenant.name} created, with its first signing key.`);
    },
  });
  append(context.view, crumbs([['Tenants', '#/tenants'], ['New tenant']]), h('h1', 'New tenant'), form);
}

/** `#/tenants/NAME`. */
export async function tenantPage(context, name) {
  const tenant = await api('GET', `/admin/v1/tenants/${seg(name)}`);
  const all = context.session.reach === 'all_tenants';
  const base = `#/tenants/${seg(name)}`;
  const summary = h('div');
  const drawSummary = (shown) => summary.replaceChildren(details([
    ['Name', shown.name],
    ['Domains', shown.domains.join(', ')],
    ['Issuer', shown.issuer],
    ['Token profile', shown.token_profile],
    ['Scopes in discovery', shown.publish_scopes ? 'listed' : 'not listed'],
    ['Longest client assertion', `${shown.max_assertion_lifetime} s`],
    ['Created', when(shown.created_at)],
    ['Updated', when(shown.updated_at)],
  ]));
  drawSummary(tenant);
  append(context.view, 
    crumbs(all ? [['Tenants', '#/tenants'], [tenant.name]] : [[tenant.name]]),
    h('h1', `Tenant ${tenant.name}`),
    h('ul.links',
      h('li', h('a', { href: `${base}/apps` }, 'Apps')),
      h('li', h('a', { href: `${base}/keys` }, 'Signing keys')),
      h('li', h('a', { href: `#/audit?tenant=${seg(tenant.name)}` }, 'Audit trail'))),
    summary);
  if (!all) return;
  const fields = tenantFields(tenant);
  let before = tenantBody(fields);
  const form = apiForm({
    label: 'Edit tenant',
    fields,
    submit: 'Save changes',
    onSubmit: async () => {
      const after = tenantBody(fields);
      const updated = await api('PATCH', `/admin/v1/tenants/${seg(name)}`, changes(before, after));
      before = after;
      drawSummary(updated);
      context.say(`Tenant ${name} saved.`);
    },
  });
  const force = h('input', { type: 'checkbox', id: 'delete-force', name: 'force', value: 'true' });
  const deleteButton = h('button.danger', {
    type: 'button',
    on: {
      click: async () => {
        force.checked = false;
        const answer = await confirmDialog({
          title: `Delete tenant ${name}?`,
          message: 'Its apps stop getting tokens, and its signing keys are deleted. This cannot be undone.',
          confirm: 'Delete tenant',
          danger: true,
          fields: [h('div.check', force, h('label', { for: 'delete-force' }, 'Also delete its apps'))],
        });
        if (!answer) return;
        try {
          await api('DELETE', `/admin/v1/tenants/${seg(name)}${answer.get('force') ? '?force=true' : ''}`);
          context.go('#/tenants', `Tenant ${name} deleted.`);
        } catch (error) {
          // The API's advice names its query parameter; the dialog's word for it is the box.
          dangerError.textContent = error.message.replace(/,? or delete the tenant with force=true/,
            ', or tick "Also delete its apps"');
          dangerError.hidden = false;
        }
      },
    },
  }, 'Delete tenant');
  const dangerError = h('p.form-error', { role: 'alert', hidden: true });
  append(context.view, 
    h('section', { 'aria-labelledby': 'edit-tenant' }, h('h2#edit-tenant', 'Edit'), form),
    name === 'default' ? null
      : h('section', { 'aria-labelledby': 'delete-tenant' }, h('h2#delete-tenant', 'Delete'),
        dangerError, deleteButton));
}
