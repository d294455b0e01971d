// The audit trail, newest first: filters by tenant, action and time (kept in the address, so
// a filtered view can be linked and survives a reload), and paging back through older events
// with the API's `before` / `next_before`.

import { api, withQuery } from './api.js';
import { append, field, h, table, when } from './dom.js';
import { apiForm } from './forms.js';
import { crumbs } from './layout.js';

const PAGE_SIZE = 50;

// The actions the server records (crates/latchkey-manage), offered as suggestions.
const ACTIONS = [
  'app.create', 'app.update', 'app.delete', 'app.enable', 'app.disable', 'app.rotate_secret',
  'app.secret.remove', 'app.federation.add', 'app.federation.remove', 'tenant.create',
  'tenant.update', 'tenant.delete', 'key.rotate', 'token.revoke', 'token.revoke_all',
];

// An RFC 3339 time as a datetime-local input shows it (this browser's time zone), and back.
function toLocalInput(text) {
  const date = new Date(text);
  if (!text || Number.isNaN(date.getTime())) return '';
  return new Date(date.getTime() - date.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
}

function fromLocalInput(text) {
  if (!text) return '';
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString().replace('.000Z', 'Z');
}

/** `#/audit?tenant=&action=&since=&until=`. */
export async function auditPage(context) {
  const all = context.session.reach === 'all_tenants';
  const filters = {
    tenant: all ? context.query.get('tenant') || '' : context.session.tenant,
    action: context.query.get('action') || '',
    since: context.query.get('since') || '',
    until: context.query.get('until') || '',
  };
  const tenants = all ? (await api('GET', '/admin/v1/tenants')).tenants.map((tenant) => tenant.name) : [];
  const fields = {
    tenant: all
      ? field({
        label: 'Tenant', name: 'tenant', type: 'select', value: filters.tenant,
        options: [['', 'All tenants'], ...tenants.map((name) => [name, name])],
      })
      : field({ label: 'Tenant', name: 'tenant', value: filters.tenant, readOnly: true }),
    action: field({
      label: 'Action', name: 'action', value: filters.action, list: 'audit-actions', autocomplete: 'off',
      hint: 'Exact, such as app.create.',
    }),
    since: field({ label: 'From (your time)', name: 'since', type: 'datetime-local', step: 1, value: toLocalInput(filters.since) }),
    until: field({ label: 'Until (your time)', name: 'until', type: 'datetime-local', step: 1, value: toLocalInput(filters.until) }),
  };
  const form = apiForm({
    label: 'Filter the audit trail',
    className: 'filters',
    fields,
    extra: [h('datalist#audit-actions', ACTIONS.map((action) => h('option', { value: action })))],
    submit: 'Filter',
    onSubmit: async () => {
      const query = new URLSearchParams();
      if (all && fields.tenant.input.value) query.set('tenant', fields.tenant.input.value);
      if (fields.action.input.value.trim()) query.set('action', fields.action.input.value.trim());
      const since = fromLocalInput(fields.since.input.value);
      const until = fromLocalInput(fields.until.input.value);
      if (since) query.set('since', since);
      if (until) query.set('until', until);
      const text = query.toString();
      context.go(text ? `#/audit?${text}` : '#/audit');
    },
  });
  const results = h('div.results');
  const befores = [null];
  let index = 0;
  const load = async () => {
    const page = await api('GET', withQuery('/admin/v1/audit', {
      ...filters, order: 'newest', before: befores[index], limit: PAGE_SIZE,
    }));
    if (!context.isCurrent()) return;
    befores.length = index + 1;
    if (page.next_before) befores.push(page.next_before);
    const newer = h('button.secondary', {
      type: 'button', disabled: index === 0, on: { click: () => { index -= 1; turn(); } },
    }, 'Newer events');
    const older = h('button.secondary', {
      type: 'button', disabled: !page.next_before, on: { click: () => { index += 1; turn(); } },
    }, 'Older events');
    results.replaceChildren(
      page.events.length === 0
        ? h('p', 'No events match these filters.')
        : table(`Audit events, newest first, page ${index + 1}`, [
          ['When', (event) => when(event.at)],
          ['Tenant', (event) => event.tenant],
          ['Actor', (event) => h('code', event.actor)],
          ['Action', (event) => h('code.action', event.action)],
          ['Target', (event) => event.target],
          ['Details', (event) => {
            const count = Object.keys(event.details || {}).length;
            return count === 0 ? '—' : h('details.event',
              h('summary', count === 1 ? '1 setting' : `${count} settings`),
              h('pre', JSON.stringify(event.details, null, 2)));
          }],
        ], page.events),
      h('nav.pager', { 'aria-label': 'Pages of events' }, newer, h('span', `Page ${index + 1}`), older));
  };
  const turn = async () => {
    try {
      await load();
    } catch (error) {
      results.replaceChildren(h('p.form-error', { role: 'alert' }, error.message));
    }
  };
  append(context.view, crumbs([['Audit trail']]), h('h1', 'Audit trail'), form, results);
  await turn();
}
