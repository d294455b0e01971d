// Every console page checked by axe-core (no serious or critical violation) in the light and
// the dark theme, at desktop and phone width, with a screenshot of each page at both widths;
// and the page's Content-Security-Policy shown to be in force, with no page reporting an error.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, DESKTOP, PHONE, assertAccessible, launch, request, screenshot, signIn, textOf, unique,
  visit, watch,
} from './harness.mjs';

const tenant = unique('a11y');
let browser;
let clientId = '';

// The pages, each as [screenshot name, how to get there from a signed-in page].
const PAGES = [
  ['tenants', (page) => visit(page, '#/tenants', 'Tenants')],
  ['tenant', (page) => visit(page, `#/tenants/${tenant}`, `Tenant ${tenant}`)],
  ['tenant-new', (page) => visit(page, '#/tenants/new', 'New tenant')],
  ['apps', (page) => visit(page, `#/tenants/${tenant}/apps`, `Apps of ${tenant}`)],
  ['app-new', (page) => visit(page, `#/tenants/${tenant}/apps/new`, 'New app')],
  ['app', async (page) => {
    await visit(page, `#/tenants/${tenant}/apps/${clientId}`, /Billing/);
    await page.getByText('Edit settings').click();
  }],
  ['keys', (page) => visit(page, `#/tenants/${tenant}/keys`, `Signing keys of ${tenant}`)],
  ['audit', (page) => visit(page, '#/audit', 'Audit trail')],
];

describe('the console for everyone', () => {
  before(async () => {
    browser = await launch();
    // The data every page shows: a tenant with a few apps, made through the admin API.
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page);
    const made = await page.evaluate(async ([name, host]) => {
      const session = await (await fetch('/console/session')).json();
      const post = async (path, body) => (await fetch(path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token },
        body: JSON.stringify(body),
      })).json();
      await post('/admin/v1/tenants', { name, domains: [host] });
      const apps = [];
      for (const [appName, type] of [['Billing', 'm2m'], ['Storefront', 'spa'], ['Warehouse', 'web']]) {
        apps.push(await post(`/admin/v1/tenants/${name}/apps`, {
          name: appName, type, scopes: ['orders:read', 'orders:write'], default_scopes: ['orders:read'],
          audiences: ['https://api.example.com'], claims: { tier: 'gold' },
        }));
      }
      return apps[0].client_id;
    }, [tenant, `${tenant}.test`]);
    clientId = made;
    await context.close();
  });

  after(async () => {
    await browser?.close();
  });

  for (const colorScheme of ['light', 'dark']) {
    for (const [width, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
      test(`every page has no serious accessibility violation, ${colorScheme} at ${width} width`, async () => {
        const context = await browser.newContext({ viewport, colorScheme });
        const page = await context.newPage();
        const watcher = watch(page);
        await page.goto(`${BASE}/console`);
        await page.getByRole('heading', { level: 1, name: 'Sign in to the latchkey console' }).waitFor();
        await assertAccessible(page, `sign-in (${colorScheme}, ${width})`);
        if (colorScheme === 'light') await screenshot(page, `signin-${width}`);
        await signIn(page);
        for (const [name, go] of PAGES) {
          await go(page);
          await assertAccessible(page, `${name} (${colorScheme}, ${width})`);
          await screenshot(page, colorScheme === 'light' ? `${name}-${width}` : `${name}-${width}-dark`);
        }
        // A confirmation dialog, open.
        await visit(page, `#/tenants/${tenant}/apps/${clientId}`, /Billing/);
        await page.getByRole('button', { name: 'Rotate secret' }).click();
        await page.getByRole('dialog').waitFor();
        await assertAccessible(page, `dialog (${colorScheme}, ${width})`);
        if (colorScheme === 'light') await screenshot(page, `dialog-${width}`);
        await page.keyboard.press('Escape');
        await page.getByRole('dialog').waitFor({ state: 'detached' });
        watcher.assertClean();
        await context.close();
      });
    }
  }

  test('the console is usable by keyboard alone: sign in and reach an app', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await page.goto(`${BASE}/console`);
    await page.getByRole('heading', { level: 1, name: 'Sign in to the latchkey console' }).waitFor();
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('name') || document.activeElement?.textContent);
    assert.equal(await focused(), 'client_id');
    await page.keyboard.type(process.env.LATCHKEY_ADMIN_CLIENT_ID);
    await page.keyboard.press('Tab');
    await page.keyboard.type(process.env.LATCHKEY_ADMIN_CLIENT_SECRET);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Tenants' }).waitFor();
    // Tab to the tenant's link, and follow it with Enter.
    for (let step = 0; step < 40 && (await focused()) !== tenant; step += 1) await page.keyboard.press('Tab');
    assert.equal(await focused(), tenant);
    const ring = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.equal(ring, 'solid', 'the focused link shows a focus ring');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: `Tenant ${tenant}` }).waitFor();
    await context.close();
  });

  test('the content security policy is sent and enforced, and no page reports an error', async () => {
    const answer = await request('GET', '/console');
    assert.equal(answer.status, 200);
    const policy = answer.headers['content-security-policy'];
    assert.match(policy, /default-src 'none'/);
    assert.match(policy, /script-src 'self'/);
    const context = await browser.newContext();
    const page = await context.newPage();
    const watcher = watch(page);
    await signIn(page);
    for (const [, go] of PAGES) await go(page);
    watcher.assertClean();
    // An inline script is refused, and the refusal is reported as a CSP violation.
    const ran = await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.inlineRan = true';
      document.body.append(script);
      return window.inlineRan === true;
    });
    assert.equal(ran, false);
    await page.waitForFunction(() => true);
    assert.ok(watcher.problems.some((problem) => /Content Security Policy/.test(problem)), watcher.problems.join('\n'));
    assert.match(await textOf(page.locator('h1')), /Audit trail/);
    await context.close();
  });
});
