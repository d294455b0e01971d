// The console over many apps and their settings: paging through a tenant's apps with the API's
// cursors, searching and filtering them, editing an app (and a refused setting shown at its
// field), getting a token from the page and revoking it by its jti, and editing and deleting a
// tenant behind a confirmation.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, introspect, launch, request, signIn, textOf, unique, visit, watch } from './harness.mjs';

const tenant = unique('many');
const APPS = 120;
let browser;
let page;
let watcher;

const names = async () => (await page.locator('table.list tbody tr td:first-child').allTextContents())
  .map((text) => text.trim());

async function settled() {
  await page.waitForFunction(() => !document.querySelector('main[aria-busy]'));
}

describe('the console with many apps', () => {
  before(async () => {
    browser = await launch();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    watcher = watch(page);
    await signIn(page);
    // The apps, through the admin API as the page's session: app-000 to app-119, every tenth a
    // web app, app-007 disabled.
    await page.evaluate(async ([name, count]) => {
      const session = await (await fetch('/console/session')).json();
      const call = async (method, path, body) => {
        const response = await fetch(path, {
          method,
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token },
          body: JSON.stringify(body),
        });
        if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
        return response.json();
      };
      await call('POST', '/admin/v1/tenants', { name, domains: [`${name}.test`] });
      for (let index = 0; index < count; index += 1) {
        const app = await call('POST', `/admin/v1/tenants/${name}/apps`, {
          name: `app-${String(index).padStart(3, '0')}`, type: index % 10 === 0 ? 'web' : 'm2m',
        });
        if (index === 7) await call('POST', `/admin/v1/tenants/${name}/apps/${app.client_id}/disable`, {});
      }
    }, [tenant, APPS]);
  });

  after(async () => {
    await browser?.close();
  });

  test('the apps list pages through every app, forward and back', async () => {
    await visit(page, `#/tenants/${tenant}/apps`, `Apps of ${tenant}`);
    const first = await names();
    assert.equal(first.length, 50);
    assert.equal(first[0], 'app-000');
    assert.equal(first[49], 'app-049');
    assert.ok(await page.getByRole('button', { name: 'Previous page' }).isDisabled());
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Page 2', { exact: true }).waitFor();
    assert.equal((await names())[0], 'app-050');
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Page 3', { exact: true }).waitFor();
    const last = await names();
    assert.deepEqual([last.length, last[0], last.at(-1)], [APPS - 100, 'app-100', `app-${APPS - 1}`]);
    assert.ok(await page.getByRole('button', { name: 'Next page' }).isDisabled());
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText('Page 2', { exact: true }).waitFor();
    assert.equal((await names())[0], 'app-050');
  });

  test('the apps list searches by name and filters by type and state', async () => {
    await page.getByLabel('Name contains').fill('app-11');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForFunction(() => location.hash.includes('name=app-11'));
    await settled();
    assert.deepEqual(await names(), Array.from({ length: 10 }, (_, index) => `app-11${index}`));
    await page.getByLabel('Name contains').fill('');
    await page.getByLabel('Type').selectOption('web');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForFunction(() => location.hash.includes('type=web'));
    await settled();
    assert.equal((await names()).length, APPS / 10);
    assert.ok((await page.locator('table.list tbody tr td:nth-child(3)').allTextContents()).every((type) => type === 'web'));
    await page.getByLabel('Type').selectOption('');
    await page.getByLabel('State').selectOption('false');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForFunction(() => location.hash.includes('enabled=false'));
    await settled();
    assert.deepEqual(await names(), ['app-007']);
    await page.getByLabel('Name contains').fill('no such app');
    await page.getByLabel('State').selectOption('');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No app matches these filters.').waitFor();
  });

  test('editing an app saves its settings, and a refused one is shown at its field', async () => {
    await visit(page, `#/tenants/${tenant}/apps?name=app-001`, `Apps of ${tenant}`);
    await page.getByRole('link', { name: 'app-001' }).click();
    await page.getByRole('heading', { level: 2, name: 'Configuration' }).waitFor();
    await page.getByText('Edit settings').click();
    await page.getByLabel('Scopes', { exact: true }).fill('reports:read');
    await page.getByLabel('Default scopes', { exact: true }).fill('reports:write');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const defaults = page.getByLabel('Default scopes', { exact: true });
    await page.waitForFunction(() => document.querySelector('[aria-invalid="true"]'));
    assert.equal(await defaults.getAttribute('aria-invalid'), 'true');
    const errorId = (await defaults.getAttribute('aria-describedby')).split(' ').at(-1);
    assert.match(await textOf(page.locator(`[id="${errorId}"]`)), /Default scope "reports:write" is not one of the app's scopes/);
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.field), 'default_scopes');

    await defaults.fill('reports:read');
    await page.getByLabel('Token lifetime, in seconds').fill('900');
    await page.getByLabel('Custom claims (JSON)').fill('{"tier": "gold"}');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: 'app-001 saved' }).waitFor();
    assert.equal(await defaults.getAttribute('aria-invalid'), null);
    const clientId = await textOf(page.locator('#client-id'));
    const cookie = (await page.context().cookies(BASE)).map((entry) => `${entry.name}=${entry.value}`).join('; ');
    const stored = await request('GET', `/admin/v1/tenants/${tenant}/apps/${clientId}`, { cookie });
    assert.deepEqual([stored.json.scopes, stored.json.default_scopes, stored.json.token_ttl, stored.json.claims],
      [['reports:read'], ['reports:read'], 900, { tier: 'gold' }]);
    assert.equal(stored.json.name, 'app-001', 'a field left alone is not changed');
  });

  test('the audit trail pages back through older events and forward again', async () => {
    await visit(page, `#/audit?tenant=${tenant}`, 'Audit trail');
    const rows = () => page.locator('table.list tbody tr');
    const actions = async () => (await rows().locator('td:nth-child(4)').allTextContents()).map((text) => text.trim());
    const times = async () => rows().locator('td:first-child time').evaluateAll(
      (nodes) => nodes.map((node) => Date.parse(node.getAttribute('datetime'))));
    const first = await actions();
    assert.equal(first.length, 50);
    assert.equal(first[0], 'app.update', 'the edit of the test before is the newest event');
    const seen = [...(await times())];
    await page.getByRole('button', { name: 'Older events' }).click();
    await page.getByText('Page 2', { exact: true }).waitFor();
    assert.equal((await actions()).length, 50);
    seen.push(...(await times()));
    await page.getByRole('button', { name: 'Older events' }).click();
    await page.getByText('Page 3', { exact: true }).waitFor();
    const last = await actions();
    // 120 app.create, one app.disable, one app.update and the tenant.create.
    assert.equal(last.length, APPS + 3 - 100);
    assert.equal(last.at(-1), 'tenant.create');
    assert.ok(await page.getByRole('button', { name: 'Older events' }).isDisabled());
    seen.push(...(await times()));
    assert.deepEqual(seen, [...seen].sort((a, b) => b - a), 'newest first across pages');
    await page.getByRole('button', { name: 'Newer events' }).click();
    await page.getByText('Page 2', { exact: true }).waitFor();
    assert.equal((await actions()).length, 50);
  });

  test('the audit trail filters by a time range', async () => {
    await visit(page, `#/audit?tenant=${tenant}`, 'Audit trail');
    await page.getByLabel('Until (your time)').fill('2001-01-01T00:00:00');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No events match these filters.').waitFor();
    assert.match(await page.evaluate(() => decodeURIComponent(location.hash)), /until=2001-01-01T\d\d:00:00Z/);
    await page.getByLabel('Until (your time)').fill('');
    await page.getByLabel('From (your time)').fill('2001-01-01T00:00:00');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForFunction(() => location.hash.includes('since='));
    await settled();
    assert.equal(await page.locator('table.list tbody tr').count(), 50);
  });

  test('a token got from the page can be revoked by its jti', async () => {
    // The console's own origin reaches the default tenant, so the page offers to get a token.
    await visit(page, '#/tenants/default/apps/new', 'New app');
    await page.getByLabel('Name', { exact: true }).fill(unique('try-it'));
    await page.getByRole('button', { name: 'Create app' }).click();
    await page.getByRole('heading', { level: 2, name: 'New client secret' }).waitFor();
    const clientId = await textOf(page.locator('#client-id'));
    const secret = await textOf(page.locator('#new-secret'));
    await page.getByLabel('Client secret', { exact: true }).fill(secret);
    await page.getByRole('button', { name: 'Get a token' }).click();
    await page.locator('#token-claims').waitFor();
    const claims = JSON.parse(await textOf(page.locator('#token-claims')));
    assert.equal(claims.sub, clientId);
    const token = await page.getByLabel('Access token', { exact: true }).inputValue();
    const host = new URL(BASE).host;
    assert.equal((await introspect(host, clientId, secret, token)).json.active, true);
    await page.getByRole('button', { name: 'Revoke this token' }).click();
    await page.getByRole('status').filter({ hasText: `Token ${claims.jti} is revoked` }).waitFor();
    assert.deepEqual((await introspect(host, clientId, secret, token)).json, { active: false });
    // Leaving the page drops the secret and the token from it.
    await visit(page, '#/tenants/default', 'Tenant default');
    await page.goBack();
    await page.getByRole('heading', { level: 2, name: 'Configuration' }).waitFor();
    assert.equal(await page.getByLabel('Client secret', { exact: true }).inputValue(), '');
    assert.ok(!(await page.content()).includes(secret));
  });

  test('a tenant is edited, and deleted with its apps only after confirming', async () => {
    await visit(page, `#/tenants/${tenant}`, `Tenant ${tenant}`);
    await page.getByLabel('Domains').fill(`${tenant}.test api.${tenant}.test`);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: `Tenant ${tenant} saved` }).waitFor();
    const discovery = await request('GET', '/.well-known/openid-configuration', { host: `api.${tenant}.test` });
    assert.equal(discovery.json.issuer, `https://${tenant}.test`, 'the new domain serves the tenant');

    await page.getByRole('button', { name: 'Delete tenant' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Delete tenant');
    await page.getByRole('button', { name: 'Delete tenant' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete tenant' }).click();
    await page.getByRole('alert').filter({ hasText: /apps/ }).waitFor();
    const kept = await request('GET', '/.well-known/openid-configuration', { host: `${tenant}.test` });
    assert.equal(kept.json.issuer, `https://${tenant}.test`, 'a tenant with apps is not deleted without force');

    await page.getByRole('button', { name: 'Delete tenant' }).click();
    await page.getByRole('dialog').getByLabel('Also delete its apps').check();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete tenant' }).click();
    await page.getByRole('heading', { level: 1, name: 'Tenants' }).waitFor();
    await page.getByRole('status').filter({ hasText: `Tenant ${tenant} deleted` }).waitFor();
    assert.equal(await page.getByRole('link', { name: tenant, exact: true }).count(), 0);
    watcher.assertClean();
  });
});
