// The console end to end, as an operator uses it: each test is one step of a story (sign in,
// create a tenant and an app, use its credentials, disable, rotate, revoke, rotate a key, read
// the audit trail, sign out), and checks what the step did through plain HTTP requests to the
// server, not only through the page. The steps share one browser and run in order.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN_ID, BASE, introspect, launch, request, sessionCookie, signIn, textOf, tokenRequest,
  unique, visit, watch,
} from './harness.mjs';

const tenant = unique('shop');
const host = `${tenant}.test`;
const appName = 'Orders service';
const app = { clientId: '', secret: '', token: '', rotatedSecret: '' };

let browser;
let context;
let page;
let watcher;

async function confirmInDialog(name, fill) {
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  if (fill) await fill(dialog);
  await dialog.getByRole('button', { name, exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
}

describe('the console', () => {
  before(async () => {
    browser = await launch();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
    page = await context.newPage();
    watcher = watch(page);
  });

  after(async () => {
    await browser?.close();
  });

  test('sign in with an admin app of default shows the tenants', async () => {
    await signIn(page);
    await page.getByRole('heading', { level: 1, name: 'Tenants' }).waitFor();
    assert.match(await textOf(page.locator('header .who')), new RegExp(`Signed in as ${ADMIN_ID} of tenant default`));
    assert.ok(await page.getByRole('link', { name: 'default', exact: true }).isVisible());
    watcher.assertClean();
  });

  test('a wrong secret is refused with a message and no session', async () => {
    const other = await browser.newContext();
    const otherPage = await other.newPage();
    await otherPage.goto(`${BASE}/console`);
    await otherPage.getByLabel('Client Id', { exact: true }).fill(ADMIN_ID);
    await otherPage.getByLabel('Client secret', { exact: true }).fill('not-the-secret');
    await otherPage.getByRole('button', { name: 'Sign in' }).click();
    const alert = otherPage.getByRole('alert');
    await alert.filter({ hasText: 'Sign-in failed' }).waitFor();
    assert.equal((await other.cookies(BASE)).filter((cookie) => cookie.name === 'latchkey_console').length, 0);
    await other.close();
  });

  test('create a tenant with a domain', async () => {
    await page.getByRole('link', { name: 'New tenant' }).click();
    await page.getByRole('heading', { level: 1, name: 'New tenant' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill(tenant);
    await page.getByLabel('Domains', { exact: true }).fill(host);
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByRole('heading', { level: 1, name: `Tenant ${tenant}` }).waitFor();
    const stored = await request('GET', '/.well-known/openid-configuration', { host });
    assert.equal(stored.status, 200);
    assert.equal(stored.json.issuer, `https://${host}`);
  });

  test('a refused tenant setting is shown next to its field', async () => {
    await visit(page, '#/tenants/new', 'New tenant');
    await page.getByLabel('Name', { exact: true }).fill('Not A Name');
    await page.getByLabel('Domains', { exact: true }).fill(unique('x'));
    await page.getByRole('button', { name: 'Create tenant' }).click();
    const name = page.getByLabel('Name', { exact: true });
    await page.waitForFunction(() => document.querySelector('[aria-invalid="true"]'));
    assert.equal(await name.getAttribute('aria-invalid'), 'true');
    const described = (await name.getAttribute('aria-describedby')).split(' ');
    const error = page.locator(`[id="${described.at(-1)}"]`);
    assert.match(await textOf(error), /tenant name .* is invalid/i);
  });

  test('create an app in the tenant and copy its credentials from the page', async () => {
    await visit(page, `#/tenants/${tenant}/apps`, `Apps of ${tenant}`);
    await page.getByRole('link', { name: 'New app' }).click();
    await page.getByRole('heading', { level: 1, name: 'New app' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill(appName);
    await page.getByLabel('Scopes', { exact: true }).fill('orders:read orders:write');
    await page.getByLabel('Default scopes', { exact: true }).fill('orders:read');
    await page.getByLabel("May introspect other apps' tokens").check();
    await page.getByRole('button', { name: 'Create app' }).click();
    await page.getByRole('heading', { level: 2, name: 'New client secret' }).waitFor();
    assert.match(await textOf(page.locator('.secret-panel')), /You will not see this secret again/);
    app.clientId = await textOf(page.locator('#client-id'));
    app.secret = await textOf(page.locator('#new-secret'));
    assert.ok(app.clientId.length > 0 && app.secret.length > 0);
    await page.getByRole('button', { name: 'Copy secret' }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), app.secret);
    await page.getByRole('button', { name: 'Copy Client Id' }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), app.clientId);
    const curl = await textOf(page.locator('#curl-command'));
    assert.equal(curl, [
      `curl -X POST https://${host}/oauth2/token`,
      '-d grant_type=client_credentials',
      `-d client_id=${app.clientId}`,
      '-d client_secret=YOUR_SECRET',
      "-d scope=orders:read",
    ].join(' \\\n  '));
    assert.match(await textOf(page.locator('.try')), /not one of the hosts of tenant/);
    watcher.assertClean();
  });

  test('the secret is not shown again once the page is left', async () => {
    await visit(page, `#/tenants/${tenant}/apps`, `Apps of ${tenant}`);
    await page.getByRole('link', { name: appName }).click();
    await page.getByRole('heading', { level: 2, name: 'Configuration' }).waitFor();
    assert.equal(await page.locator('#new-secret').count(), 0);
    assert.ok(!(await page.content()).includes(app.secret), 'the secret is nowhere in the page');
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    assert.ok(!stored.includes(app.secret));
  });

  test('the copied credentials get a token over HTTP', async () => {
    const answer = await tokenRequest(host, app.clientId, app.secret);
    assert.equal(answer.status, 200, answer.text);
    app.token = answer.json.access_token;
    assert.equal(app.token.split('.').length, 3);
  });

  test('a pasted token is decoded in the page', async () => {
    await page.getByLabel('Access token', { exact: true }).fill(app.token);
    const claims = JSON.parse(await textOf(page.locator('#token-claims')));
    assert.equal(claims.iss, `https://${host}`);
    assert.equal(claims.sub, app.clientId);
    const header = JSON.parse(await textOf(page.locator('#token-header')));
    assert.ok(header.kid && header.alg);
    await page.getByLabel('Access token', { exact: true }).fill('');
  });

  test('a console opened on the tenant\'s own host gets a token from the page', async () => {
    // The browser resolves the tenant's domain to this server, as a deployment's DNS would.
    const port = new URL(BASE).port;
    const tenantBrowser = await launch([`--host-resolver-rules=MAP ${host} 127.0.0.1`]);
    try {
      const tenantPage = await (await tenantBrowser.newContext()).newPage();
      const tenantWatcher = watch(tenantPage);
      await signIn(tenantPage, { base: `http://${host}:${port}` });
      await visit(tenantPage, `#/tenants/${tenant}/apps/${app.clientId}`, new RegExp(appName));
      await tenantPage.getByLabel('Client secret', { exact: true }).fill(app.secret);
      await tenantPage.getByRole('button', { name: 'Get a token' }).click();
      await tenantPage.locator('#token-claims').waitFor();
      const claims = JSON.parse(await textOf(tenantPage.locator('#token-claims')));
      assert.deepEqual([claims.iss, claims.sub], [`https://${host}`, app.clientId]);
      await tenantPage.getByLabel('Client secret', { exact: true }).fill('wrong');
      await tenantPage.getByRole('button', { name: 'Get a token' }).click();
      await tenantPage.getByRole('alert').filter({ hasText: 'invalid_client' }).waitFor();
      // Chromium notes that it ignores the server's Cross-Origin-Opener-Policy on a plain-HTTP
      // origin that is not loopback (it applies over HTTPS): a notice, not a page error.
      tenantWatcher.assertClean((problem) => /Cross-Origin-Opener-Policy header has been ignored/.test(problem));
    } finally {
      await tenantBrowser.close();
    }
  });

  test('an app without latchkey:admin cannot sign in, and is told why', async () => {
    const cookie = await sessionCookie(context);
    const csrf = await page.evaluate(async () => (await (await fetch('/console/session')).json()).csrf_token);
    const plain = await request('POST', '/admin/v1/tenants/default/apps', {
      cookie, headers: { 'x-csrf-token': csrf }, json: { name: unique('not-admin') },
    });
    assert.equal(plain.status, 201, plain.text);
    const other = await browser.newContext();
    const otherPage = await other.newPage();
    await otherPage.goto(`${BASE}/console`);
    await otherPage.getByLabel('Client Id', { exact: true }).fill(plain.json.client_id);
    await otherPage.getByLabel('Client secret', { exact: true }).fill(plain.json.client_secret);
    await otherPage.getByRole('button', { name: 'Sign in' }).click();
    await otherPage.getByRole('alert').filter({ hasText: 'not granted the latchkey:admin scope' }).waitFor();
    await other.close();
  });

  test('a disabled app is refused tokens with invalid_client, and enabled gets them again', async () => {
    await page.getByRole('button', { name: 'Disable app' }).click();
    await confirmInDialog('Disable app');
    await page.getByRole('heading', { level: 1, name: /disabled/ }).waitFor();
    const refused = await tokenRequest(host, app.clientId, app.secret);
    assert.equal(refused.status, 401, refused.text);
    assert.equal(refused.json.error, 'invalid_client');
    await page.getByRole('button', { name: 'Enable app' }).click();
    await page.getByRole('heading', { level: 1, name: /enabled/ }).waitFor();
    const again = await tokenRequest(host, app.clientId, app.secret);
    assert.equal(again.status, 200, again.text);
    // Focus came back to the button that opened the dialog.
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Disable app');
  });

  test('a secret rotated with a grace period is shown once, and both secrets work', async () => {
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await confirmInDialog('Rotate secret', (dialog) =>
      dialog.getByLabel('Grace period, in seconds (optional)').fill('300'));
    await page.getByRole('heading', { level: 2, name: 'New client secret' }).waitFor();
    app.rotatedSecret = await textOf(page.locator('#new-secret'));
    assert.notEqual(app.rotatedSecret, app.secret);
    assert.match(await textOf(page.locator('.secret-panel')), /previous secret keeps working until/);
    for (const secret of [app.secret, app.rotatedSecret]) {
      const answer = await tokenRequest(host, app.clientId, secret);
      assert.equal(answer.status, 200, answer.text);
    }
    await page.getByRole('button', { name: 'I have stored it, hide it' }).click();
    assert.equal(await page.locator('#new-secret').count(), 0);
  });

  test('revoking all tokens of the app makes the earlier token inactive', async () => {
    const before = await introspect(host, app.clientId, app.rotatedSecret, app.token);
    assert.equal(before.json.active, true, before.text);
    await page.getByRole('button', { name: 'Revoke all tokens' }).click();
    await confirmInDialog('Revoke all tokens');
    await page.getByRole('status').filter({ hasText: 'is revoked' }).waitFor();
    const after = await introspect(host, app.clientId, app.rotatedSecret, app.token);
    assert.deepEqual(after.json, { active: false });
  });

  test('rotating the signing key adds an active key and retires the old one', async () => {
    await visit(page, `#/tenants/${tenant}/keys`, `Signing keys of ${tenant}`);
    const rows = page.locator('table.list tbody tr');
    assert.equal(await rows.count(), 1);
    const oldKid = await textOf(rows.first().locator('td').first());
    await page.getByLabel('Algorithm').selectOption('ES256');
    await page.getByRole('button', { name: 'Rotate key' }).click();
    await confirmInDialog('Rotate key');
    await page.getByRole('status').filter({ hasText: 'is rotated' }).waitFor();
    assert.equal(await rows.count(), 2);
    const first = rows.first().locator('td');
    assert.notEqual(await textOf(first.nth(0)), oldKid);
    assert.equal(await textOf(first.nth(1)), 'active');
    assert.equal(await textOf(first.nth(2)), 'ES256');
    assert.equal(await textOf(rows.nth(1).locator('td').nth(0)), oldKid);
    assert.equal(await textOf(rows.nth(1).locator('td').nth(1)), 'retiring');
    const jwks = await request('GET', '/oauth2/jwks', { host });
    assert.equal(jwks.json.keys.length, 2);
  });

  test('the audit trail shows what was done, newest first, and filters by action', async () => {
    await visit(page, `#/audit?tenant=${tenant}`, 'Audit trail');
    const actions = await page.locator('table.list tbody tr td:nth-child(4)').allTextContents();
    assert.deepEqual(actions.map((text) => text.trim()), [
      'key.rotate', 'token.revoke_all', 'app.rotate_secret', 'app.enable', 'app.disable',
      'app.create', 'tenant.create',
    ]);
    await page.getByLabel('Action', { exact: true }).fill('app.create');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForFunction(() => location.hash.includes('action=app.create'));
    await page.waitForFunction(() => !document.querySelector('main[aria-busy]'));
    const filtered = await page.locator('table.list tbody tr td:nth-child(4)').allTextContents();
    assert.deepEqual(filtered.map((text) => text.trim()), ['app.create']);
    const targets = await page.locator('table.list tbody tr td:nth-child(5)').allTextContents();
    assert.deepEqual(targets.map((text) => text.trim()), [app.clientId]);
  });

  test('a CSRF attempt with the session cookie but no token is refused 403 and changes nothing', async () => {
    const cookie = await sessionCookie(context);
    const path = `/admin/v1/tenants/${tenant}/apps`;
    const count = async () => (await request('GET', path, { cookie })).json.apps.length;
    const apps = await count();
    const forged = await request('POST', path, { cookie, json: { name: 'forged' } });
    assert.equal(forged.status, 403, forged.text);
    assert.equal(forged.json.error, 'invalid_csrf_token');
    const fromPage = await page.evaluate(async (target) => {
      const response = await fetch(target, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"name":"forged"}',
      });
      return { status: response.status, body: await response.json() };
    }, path);
    assert.equal(fromPage.status, 403);
    assert.equal(fromPage.body.error, 'invalid_csrf_token');
    const deleted = await request('DELETE', `${path}/${app.clientId}`, { cookie });
    assert.equal(deleted.status, 403);
    assert.equal(await count(), apps);
  });

  test('a tenant admin sees only its tenant and is refused another tenant with a message', async () => {
    await visit(page, `#/tenants/${tenant}/apps/new`, 'New app');
    await page.getByLabel('Name', { exact: true }).fill('Shop admin');
    await page.getByLabel('Scopes', { exact: true }).fill('latchkey:admin');
    await page.getByRole('button', { name: 'Create app' }).click();
    await page.getByRole('heading', { level: 2, name: 'New client secret' }).waitFor();
    const adminId = await textOf(page.locator('#client-id'));
    const adminSecret = await textOf(page.locator('#new-secret'));

    const shopContext = await browser.newContext();
    const shop = await shopContext.newPage();
    const shopWatcher = watch(shop);
    await signIn(shop, { clientId: adminId, secret: adminSecret, tenant });
    await shop.getByRole('heading', { level: 1, name: `Tenant ${tenant}` }).waitFor();
    assert.equal(await shop.getByRole('link', { name: 'Tenants', exact: true }).count(), 0);
    await visit(shop, '#/tenants', 'Tenants');
    const names = await shop.locator('table.list tbody tr td:first-child').allTextContents();
    assert.deepEqual(names.map((text) => text.trim()), [tenant]);
    assert.equal(await shop.getByRole('link', { name: 'New tenant' }).count(), 0);
    await visit(shop, '#/tenants/default/apps', 'Something went wrong');
    assert.match(await textOf(shop.getByRole('alert')), /not allowed to see or change this tenant/);
    const cookie = await sessionCookie(shopContext);
    const refused = await request('GET', '/admin/v1/tenants/default/apps', { cookie });
    assert.equal(refused.status, 403);
    shopWatcher.assertClean();
    await shopContext.close();
  });

  test('sign out ends the session: the same cookie is refused 401 everywhere', async () => {
    const cookie = await sessionCookie(context);
    assert.equal((await request('GET', '/console/session', { cookie })).status, 200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in to the latchkey console' }).waitFor();
    assert.match(await textOf(page.getByRole('status')), /You are signed out/);
    assert.equal((await request('GET', '/admin/v1/tenants', { cookie })).status, 401);
    assert.equal((await request('GET', '/console/session', { cookie })).status, 401);
    watcher.assertClean();
  });

  test('a session that ends while the page is open leads to sign-in with a message', async () => {
    await signIn(page);
    const cookie = await sessionCookie(context);
    const csrf = await page.evaluate(async () => (await (await fetch('/console/session')).json()).csrf_token);
    const ended = await request('DELETE', '/console/session', { cookie, headers: { 'x-csrf-token': csrf } });
    assert.equal(ended.status, 204);
    await page.evaluate(() => { location.hash = '#/audit'; });
    await page.getByRole('heading', { level: 1, name: 'Sign in to the latchkey console' }).waitFor();
    assert.match(await textOf(page.getByRole('status')), /Your session has ended; sign in again/);
  });
});
