// What the console's browser tests share: the server they run against (LATCHKEY_URL and a
// `default` admin app, from the environment), a headless Chromium, plain HTTP requests as a
// client or an attacker would send them (node:http, with any Host header), signing in through
// the page, screenshots, and a page watcher that fails a test on any script error or CSP
// violation.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

export const BASE = process.env.LATCHKEY_URL;
export const ADMIN_ID = process.env.LATCHKEY_ADMIN_CLIENT_ID;
export const ADMIN_SECRET = process.env.LATCHKEY_ADMIN_CLIENT_SECRET;
assert.ok(BASE && ADMIN_ID && ADMIN_SECRET,
  'set LATCHKEY_URL, LATCHKEY_ADMIN_CLIENT_ID and LATCHKEY_ADMIN_CLIENT_SECRET');
const SCREENSHOTS = process.env.LATCHKEY_SCREENSHOTS || '';

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 740 };

/** A name no earlier run against the same server used. */
export function unique(prefix) {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** Headless Chromium, with the flags a sandboxed, offline machine needs (and `extra` ones). */
export function launch(extra = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extra],
  });
}

/**
 * Records every script error, failed console message and CSP violation of `page`;
 * `assertClean()` fails when there was one (after dropping those `expected` matches).
 */
export function watch(page) {
  const problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return {
    problems,
    assertClean(expected = () => false) {
      const left = problems.filter((problem) => !expected(problem));
      // 401s the page expects (the start-up session check, a sign-in with a wrong secret)
      // are logged by Chromium as failed resources: they are answers, not errors.
      const real = left.filter((problem) => !/Failed to load resource: the server responded with a status of (401|403|404|409|422)/.test(problem));
      assert.deepEqual(real, [], 'the page reported errors');
      problems.length = 0;
    },
  };
}

/**
 * An HTTP request as a plain client sends it: `{host, headers, form, json, cookie}`.
 * Resolves to `{status, headers, text, json}`.
 */
export function request(method, target, { host, headers = {}, form, json, cookie } = {}) {
  const url = new URL(target, BASE);
  const sent = { ...headers };
  let body = null;
  if (form) {
    body = new URLSearchParams(form).toString();
    sent['content-type'] = 'application/x-www-form-urlencoded';
  } else if (json !== undefined) {
    body = JSON.stringify(json);
    sent['content-type'] = 'application/json';
  }
  if (host) sent.host = host;
  if (cookie) sent.cookie = cookie;
  return new Promise((resolve, reject) => {
    const outgoing = http.request(url, { method, headers: sent }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed = null;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = null;
        }
        resolve({ status: response.statusCode, headers: response.headers, text, json: parsed });
      });
    });
    outgoing.on('error', reject);
    if (body !== null) outgoing.write(body);
    outgoing.end();
  });
}

/** A token request for `clientId` with `secret` to the tenant served at `host`. */
export function tokenRequest(host, clientId, secret) {
  return request('POST', '/oauth2/token', {
    host,
    form: { grant_type: 'client_credentials', client_id: clientId, client_secret: secret },
  });
}

/** Introspects `token` at `host`, authenticated as `clientId` (which may see its own tokens). */
export function introspect(host, clientId, secret, token) {
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64');
  return request('POST', '/oauth2/introspect', {
    host, headers: { authorization: `Basic ${basic}` }, form: { token },
  });
}

/** Signs in through the sign-in form and waits for the first page after it. */
export async function signIn(page, { clientId = ADMIN_ID, secret = ADMIN_SECRET, tenant = 'default', base = BASE } = {}) {
  await page.goto(`${base}/console`);
  await page.getByLabel('Client Id', { exact: true }).fill(clientId);
  await page.getByLabel('Client secret', { exact: true }).fill(secret);
  await page.getByLabel('Tenant', { exact: true }).fill(tenant);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** The console's session cookie as a Cookie header value. */
export async function sessionCookie(context) {
  const cookies = await context.cookies(BASE);
  const found = cookies.find((cookie) => cookie.name === 'latchkey_console');
  assert.ok(found, 'the console session cookie is set');
  return `${found.name}=${found.value}`;
}

/** Goes to a console address (`#/...`) and waits for its heading. */
export async function visit(page, hash, heading) {
  await page.evaluate((address) => { location.hash = address; }, hash);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  await page.waitForFunction(() => !document.querySelector('main[aria-busy]'));
}

/** Writes a screenshot `NAME.png` into LATCHKEY_SCREENSHOTS, when set. */
export async function screenshot(page, name) {
  if (!SCREENSHOTS) return;
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core on the page as it is now and fails on any serious or critical violation,
 * naming the rule and the elements. axe is evaluated through the debugging protocol, which
 * the page's CSP does not govern, so the page keeps its real policy.
 */
export async function assertAccessible(page, where) {
  await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate(() => window.axe.run(document, {
    resultTypes: ['violations'],
  }));
  const bad = results.violations
    .filter((violation) => ['serious', 'critical'].includes(violation.impact))
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes
      .map((node) => node.target.join(' ')).join(', ')}`);
  assert.deepEqual(bad, [], `accessibility violations on ${where}`);
}

/** The text of an element, trimmed. */
export async function textOf(locator) {
  return (await locator.textContent()).trim();
}
