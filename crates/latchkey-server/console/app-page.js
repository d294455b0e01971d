// One app's page: its configuration (the Client Id with a copy button), editing it, enabling
// and disabling, rotating its secret, revoking its tokens, deleting it, and the "Try it" panel.
// A secret the API mints is shown here once and dropped when the page is left.

import { api, seg } from './api.js';
import { append, chips, confirmDialog, copyButton, details, field, h, when } from './dom.js';
import { apiForm, changes } from './forms.js';
import { secretPanel } from './layout.js';
import { appBody, appFields, tenantCrumbs } from './apps.js';
import { tryItPanel } from './try-it.js';

// The answer to creating an app, handed to the page the console goes to next and taken (and
// forgotten) by it at once.
let handedOver = null;

/** Has the next page of app `clientId` show `secret` once (and the creation's warnings). */
export function showNewSecret(clientId, secret, warnings) {
  handedOver = { clientId, secret, warnings: warnings || [] };
}

/** `#/tenants/NAME/apps/CLIENT_ID`. */
export async function appPage(context, tenant, clientId) {
  const handed = handedOver && handedOver.clientId === clientId ? handedOver : null;
  handedOver = null;
  const path = `/admin/v1/tenants/${seg(tenant)}/apps/${seg(clientId)}`;
  const [first, tenantView] = await Promise.all([
    api('GET', path),
    api('GET', `/admin/v1/tenants/${seg(tenant)}`),
  ]);
  let app = first;
  const secretSlot = h('div');
  let secretShown = null;
  const showSecret = (secret, extra) => {
    secretShown?.clear();
    secretShown = secretPanel(clientId, secret, extra);
    secretSlot.append(secretShown.panel);
  };
  context.onLeave(() => secretShown?.clear());
  if (handed?.secret) showSecret(handed.secret);
  else if (handed) secretSlot.append(h('p.notice', 'This app has no client secret: it authenticates with its keys.'));

  const heading = h('h1');
  const summary = h('div');
  const actionError = h('p.form-error', { role: 'alert', hidden: true });
  const toggle = h('button.secondary', { type: 'button' });
  const draw = () => {
    heading.replaceChildren(app.name, ' ',
      h(app.enabled ? 'span.badge.on' : 'span.badge.off', app.enabled ? 'enabled' : 'disabled'));
    toggle.textContent = app.enabled ? 'Disable app' : 'Enable app';
    summary.replaceChildren(details([
      ['Client Id', h('span.copyable', h('code#client-id', app.client_id), ' ', copyButton('Copy Client Id', () => app.client_id))],
      ['Type', app.type],
      ['Tenant', app.tenant],
      ['State', app.enabled ? 'enabled: it may get tokens' : 'disabled: token requests are refused'],
      ['Scopes', chips(app.scopes)],
      ['Default scopes', chips(app.default_scopes)],
      ['Grant types', chips(app.grant_types)],
      ['Audiences', chips(app.audiences)],
      ['Custom claims', Object.keys(app.claims || {}).length ? h('pre', JSON.stringify(app.claims, null, 2)) : 'none'],
      ['Token lifetime', `${app.token_ttl} s`],
      ['Token reuse', app.token_reuse_percent ? `${app.token_reuse_percent}% of its life` : 'off'],
      ['Introspect permission', app.introspect ? "may introspect other apps' tokens" : 'its own tokens only'],
      ['Rate limit', app.rate_limit ? `${app.rate_limit}${app.rate_limit_monitor ? ' (monitor only)' : ''}` : 'none'],
      ['Client secret', app.has_secret ? 'set (never shown again)' : 'none'],
      app.previous_secret_expires_at ? ['Previous secret works until', when(app.previous_secret_expires_at)] : null,
      app.tokens_revoked_before ? ['Tokens revoked up to', when(app.tokens_revoked_before)] : null,
      ['Created', when(app.created_at)],
      ['Updated', when(app.updated_at)],
    ]));
  };
  draw();
  const reload = async () => {
    app = await api('GET', path);
    draw();
  };
  const act = async (work) => {
    actionError.hidden = true;
    try {
      await work();
    } catch (error) {
      actionError.textContent = error.message;
      actionError.hidden = false;
    }
  };

  toggle.addEventListener('click', () => act(async () => {
    if (app.enabled) {
      const revoke = h('input', { type: 'checkbox', id: 'disable-revoke', name: 'revoke_tokens', value: 'true' });
      const answer = await confirmDialog({
        title: `Disable ${app.name}?`,
        message: 'Its token requests are refused, and so are its tokens while it stays disabled.',
        confirm: 'Disable app',
        danger: true,
        fields: [h('div.check', revoke, h('label', { for: 'disable-revoke' }, 'Also revoke every token it holds, for good'))],
      });
      if (!answer) return;
      app = await api('POST', `${path}/disable`, { revoke_tokens: Boolean(answer.get('revoke_tokens')) });
      context.say(`${app.name} is disabled.`);
    } else {
      app = await api('POST', `${path}/enable`);
      context.say(`${app.name} is enabled.`);
    }
    draw();
  }));

  const rotate = h('button.secondary', {
    type: 'button',
    on: {
      click: () => act(async () => {
        const grace = field({
          label: 'Grace period, in seconds (optional)', name: 'grace_seconds', type: 'number', min: 0,
          inputmode: 'numeric', hint: 'How long the old secret keeps working beside the new one. Empty: it stops now.',
        });
        const answer = await confirmDialog({
          title: `Rotate the secret of ${app.name}?`,
          message: 'A new secret is made and shown once.',
          confirm: 'Rotate secret',
          fields: [grace.wrap],
        });
        if (!answer) return;
        const seconds = String(answer.get('grace_seconds') || '').trim();
        const body = seconds ? { grace_seconds: Number(seconds) } : {};
        const minted = await api('POST', `${path}/rotate-secret`, body);
        showSecret(minted.client_secret, minted.previous_secret_expires_at
          ? h('span', 'The previous secret keeps working until ', when(minted.previous_secret_expires_at), '.')
          : 'The previous secret no longer works.');
        await reload();
        document.getElementById('secret-title')?.focus();
      }),
    },
  }, 'Rotate secret');

  const revokeAll = h('button.secondary', {
    type: 'button',
    on: {
      click: () => act(async () => {
        const answer = await confirmDialog({
          title: `Revoke every token of ${app.name}?`,
          message: 'Every token it got until now stops working at once. New requests still get tokens.',
          confirm: 'Revoke all tokens',
          danger: true,
        });
        if (!answer) return;
        const revoked = await api('POST', `/admin/v1/tenants/${seg(tenant)}/revocations`, { client_id: clientId });
        await reload();
        context.say(`Every token of ${app.name} issued up to ${new Date(revoked.tokens_revoked_before).toLocaleString()} is revoked.`);
      }),
    },
  }, 'Revoke all tokens');

  const remove = h('button.danger', {
    type: 'button',
    on: {
      click: () => act(async () => {
        const answer = await confirmDialog({
          title: `Delete ${app.name}?`,
          message: 'It can no longer get tokens, and its Client Id is gone for good. This cannot be undone.',
          confirm: 'Delete app',
          danger: true,
        });
        if (!answer) return;
        await api('DELETE', path);
        context.go(`#/tenants/${seg(tenant)}/apps`, `App ${app.name} deleted.`);
      }),
    },
  }, 'Delete app');

  const fields = appFields(app);
  let before = appBody(fields);
  const editForm = apiForm({
    label: 'Edit settings',
    fields,
    submit: 'Save changes',
    onSubmit: async () => {
      const after = appBody(fields);
      app = await api('PATCH', path, changes(before, after));
      before = after;
      draw();
      context.say(`${app.name} saved.`);
    },
  });

  append(context.view, 
    tenantCrumbs(context, tenant, [['Apps', `#/tenants/${seg(tenant)}/apps`], [app.name]]),
    heading,
    secretSlot,
    handed?.warnings.length ? h('ul.warnings', handed.warnings.map((text) => h('li', text))) : null,
    h('section', { 'aria-labelledby': 'config-title' }, h('h2#config-title', 'Configuration'), summary),
    h('section', { 'aria-labelledby': 'actions-title' },
      h('h2#actions-title', 'Actions'),
      actionError,
      h('div.actions.wrap', toggle, app.has_secret || app.type === 'm2m' || app.type === 'web' ? rotate : null,
        revokeAll, remove),
      h('details.edit', h('summary', 'Edit settings'), editForm)),
    tryItPanel(context, app, tenantView));
}
