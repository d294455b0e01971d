// A tenant's apps: the list (search by name, filters by type and enabled, a page at a time
// through the API's cursors, so thousands of apps cost one page each), creating an app, and
// the settings form that creating and editing share.

import { api, seg, withQuery } from './api.js';
import { append, checkboxGroup, field, h, table, words } from './dom.js';
import { apiForm, integerOf, jsonOf } from './forms.js';
import { crumbs } from './layout.js';
import { showNewSecret } from './app-page.js';

const PAGE_SIZE = 50;

export const APP_TYPES = [['m2m', 'm2m (machine to machine)'], ['web', 'web'], ['spa', 'spa (single-page app)'], ['native', 'native']];
export const GRANT_TYPES = [
  ['client_credentials', 'client_credentials'],
  ['authorization_code', 'authorization_code'],
  ['refresh_token', 'refresh_token'],
  ['urn:ietf:params:oauth:grant-type:device_code', 'device_code'],
];

function tenantCrumbs(context, tenant, rest) {
  const base = `#/tenants/${seg(tenant)}`;
  const head = context.session.reach === 'all_tenants' ? [['Tenants', '#/tenants']] : [];
  return crumbs([...head, [tenant, base], ...rest]);
}

export { tenantCrumbs };

/** `#/tenants/NAME/apps?name=&type=&enabled=`: the cursors of earlier pages stay in memory. */
export async function appsPage(context, tenant) {
  const base = `#/tenants/${seg(tenant)}/apps`;
  const filters = {
    name: context.query.get('name') || '',
    type: context.query.get('type') || '',
    enabled: context.query.get('enabled') || '',
  };
  const search = {
    name: field({ label: 'Name contains', name: 'name', type: 'search', value: filters.name, autocomplete: 'off' }),
    type: field({ label: 'Type', name: 'type', type: 'select', value: filters.type, options: [['', 'Any type'], ...APP_TYPES] }),
    enabled: field({
      label: 'State', name: 'enabled', type: 'select', value: filters.enabled,
      options: [['', 'Enabled or disabled'], ['true', 'Enabled'], ['false', 'Disabled']],
    }),
  };
  const results = h('div.results');
  const form = apiForm({
    label: 'Search apps',
    className: 'filters',
    fields: search,
    submit: 'Search',
    onSubmit: async () => {
      const query = new URLSearchParams();
      for (const [name, entry] of Object.entries(search)) {
        if (entry.input.value.trim()) query.set(name, entry.input.value.trim());
      }
      const text = query.toString();
      context.go(text ? `${base}?${text}` : base);
    },
  });
  const cursors = [null];
  let index = 0;
  const load = async () => {
    const page = await api('GET', withQuery(`/admin/v1/tenants/${seg(tenant)}/apps`,
      { ...filters, limit: PAGE_SIZE, cursor: cursors[index] }));
    if (!context.isCurrent()) return;
    cursors.length = index + 1;
    if (page.next_cursor) cursors.push(page.next_cursor);
    const previous = h('button.secondary', {
      type: 'button', disabled: index === 0,
      on: { click: () => { index -= 1; turn(); } },
    }, 'Previous page');
    const next = h('button.secondary', {
      type: 'button', disabled: !page.next_cursor,
      on: { click: () => { index += 1; turn(); } },
    }, 'Next page');
    const filtered = filters.name || filters.type || filters.enabled;
    results.replaceChildren(
      page.apps.length === 0
        ? h('p', filtered ? 'No app matches these filters.' : 'This tenant has no apps yet.')
        : table(`Apps, page ${index + 1}, by name`, [
          ['Name', (app) => h('a', { href: `${base}/${seg(app.client_id)}` }, app.name)],
          ['Client Id', (app) => h('code', app.client_id)],
          ['Type', (app) => app.type],
          ['State', (app) => h(app.enabled ? 'span.badge.on' : 'span.badge.off', app.enabled ? 'enabled' : 'disabled')],
          ['Scopes', (app) => app.scopes.join(' ') || '—'],
        ], page.apps),
      h('nav.pager', { 'aria-label': 'Pages of apps' }, previous, h('span', `Page ${index + 1}`), next));
  };
  const turn = async () => {
    try {
      await load();
      results.querySelector('caption')?.scrollIntoView?.({ block: 'nearest' });
    } catch (error) {
      results.replaceChildren(h('p.form-error', { role: 'alert' }, error.message));
    }
  };
  append(context.view, 
    tenantCrumbs(context, tenant, [['Apps']]),
    h('div.title', h('h1', `Apps of ${tenant}`), h('a.button', { href: `${base}/new` }, 'New app')),
    form,
    results);
  await load();
}

/** The settings fields of an app, filled from `app` (or the defaults for a new one). */
export function appFields(app) {
  const list = (values) => (values || []).join(' ');
  return {
    name: field({ label: 'Name', name: 'name', value: app?.name ?? '', required: true, autocomplete: 'off' }),
    scopes: field({
      label: 'Scopes', name: 'scopes', value: list(app?.scopes), autocomplete: 'off',
      hint: 'The scopes it may ask for, separated by spaces (such as orders:read orders:write).',
    }),
    default_scopes: field({
      label: 'Default scopes', name: 'default_scopes', value: list(app?.default_scopes), autocomplete: 'off',
      hint: 'Granted when a request names none; each one of its scopes.',
    }),
    grant_types: checkboxGroup({
      legend: 'Grant types', name: 'grant_types', options: GRANT_TYPES,
      values: app ? app.grant_types : ['client_credentials'],
      hint: 'latchkey serves client_credentials; the others are recorded for other servers.',
    }),
    audiences: field({
      label: 'Audiences', name: 'audiences', type: 'textarea', value: (app?.audiences || []).join('\n'),
      hint: 'Absolute URIs a token request may name with resource, one a line.',
    }),
    claims: field({
      label: 'Custom claims (JSON)', name: 'claims', type: 'textarea',
      value: app && Object.keys(app.claims || {}).length ? JSON.stringify(app.claims, null, 2) : '',
      hint: 'A JSON object added to every token, such as {"tier": "gold"}. Empty for none.',
      spellcheck: false,
    }),
    token_ttl: field({
      label: 'Token lifetime, in seconds', name: 'token_ttl', type: 'number', min: 1, max: 86400,
      value: app?.token_ttl ?? 300, inputmode: 'numeric', hint: '1 to 86400 (a day).',
    }),
    token_reuse_percent: field({
      label: 'Token reuse, in percent of its life (optional)', name: 'token_reuse_percent', type: 'number',
      min: 1, max: 100, value: app?.token_reuse_percent ?? '', inputmode: 'numeric',
      hint: 'Answer repeated requests with the same token while it has this much of its life left. Empty: off.',
    }),
    introspect: field({
      label: "May introspect other apps' tokens", name: 'introspect', type: 'checkbox', value: app?.introspect,
    }),
  };
}

/** The body the API takes for these fields. */
export function appBody(fields) {
  return {
    name: fields.name.input.value.trim(),
    scopes: words(fields.scopes.input.value),
    default_scopes: words(fields.default_scopes.input.value),
    grant_types: fields.grant_types.values(),
    audiences: words(fields.audiences.input.value),
    claims: jsonOf('claims', fields.claims.input),
    token_ttl: integerOf('token_ttl', fields.token_ttl.input, 'The token lifetime'),
    token_reuse_percent: integerOf('token_reuse_percent', fields.token_reuse_percent.input, 'Token reuse'),
    introspect: fields.introspect.input.checked,
  };
}

/** `#/tenants/NAME/apps/new`. */
export async function newAppPage(context, tenant) {
  const fields = appFields(null);
  const type = field({ label: 'Type', name: 'type', type: 'select', value: 'm2m', options: APP_TYPES });
  const all = { name: fields.name, type, ...fields };
  const form = apiForm({
    label: 'New app',
    fields: all,
    submit: 'Create app',
    onSubmit: async () => {
      const body = { ...appBody(fields), type: type.input.value };
      // A public type's own default grant types, unless others were chosen on purpose.
      const untouched = body.grant_types.join() === 'client_credentials' && ['spa', 'native'].includes(body.type);
      if (body.grant_types.length === 0 || untouched) delete body.grant_types;
      const app = await api('POST', `/admin/v1/tenants/${seg(tenant)}/apps`, body);
      showNewSecret(app.client_id, app.client_secret, app.warnings);
      context.go(`#/tenants/${seg(tenant)}/apps/${seg(app.client_id)}`, `App ${app.name} created.`);
    },
  });
  append(context.view, 
    tenantCrumbs(context, tenant, [['Apps', `#/tenants/${seg(tenant)}/apps`], ['New app']]),
    h('h1', 'New app'),
    form);
}
