// The console's pure pieces, imported in the page from the server as the console loads them:
// which form field an API error description concerns (with the API's own sentences), the
// curl command of the Try it panel, and the token decoder.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch } from './harness.mjs';

let browser;
let page;

// Calls `name(...args)` exported by the console module `file`, in the page.
function call(file, name, ...args) {
  return page.evaluate(async ([path, exported, values]) => {
    const module = await import(path);
    return module[exported](...values);
  }, [`/console/${file}`, name, args]);
}

// The field `fieldOf` picks among `fields` for an error answered with `status` and `description`.
function fieldFor(status, description, fields) {
  return page.evaluate(async ([code, text, names]) => {
    const { ApiError, fieldOf } = await import('/console/api.js');
    return fieldOf(new ApiError(code, 'invalid_settings', text), names);
  }, [status, description, fields]);
}

const APP_FIELDS = ['name', 'type', 'scopes', 'default_scopes', 'grant_types', 'audiences', 'claims',
  'token_ttl', 'token_reuse_percent', 'introspect'];
const TENANT_FIELDS = ['name', 'domains', 'issuer', 'token_profile', 'publish_scopes', 'max_assertion_lifetime'];

describe('the console modules', () => {
  before(async () => {
    browser = await launch();
    page = await browser.newPage();
    await page.goto(`${BASE}/console`);
  });

  after(async () => {
    await browser?.close();
  });

  test('an app setting the API refuses is matched to its field', async () => {
    const cases = [
      ['default scope "b" is not one of the app\'s scopes', 'default_scopes'],
      ['token TTL must be between 1 and 86400 seconds', 'token_ttl'],
      ['token reuse must be a percentage from 1% to 100% of the token\'s life', 'token_reuse_percent'],
      ['a spa app is a public client and cannot use client_credentials (m2m and web apps can)', 'grant_types'],
      ['audience "x" is invalid: use an absolute URI (such as https://api.example.com or urn:example:orders)', 'audiences'],
      ['claim "sub" is set by latchkey and cannot be overridden: choose another name', 'claims'],
      ['custom claims must be a JSON object, such as {"tier": "gold"}', 'claims'],
      ['an app may have at most 100 scopes', 'scopes'],
      ['app name must be 1 to 200 characters with no control characters', 'name'],
      ['the largest token these settings allow would be about 9000 bytes, over the 8192 bytes introspection accepts: use fewer or shorter scopes, shorter audiences or smaller custom claims', null],
    ];
    for (const [description, expected] of cases) {
      assert.equal(await fieldFor(422, description, APP_FIELDS), expected, description);
    }
  });

  test('a tenant setting the API refuses is matched to its field', async () => {
    const cases = [
      ['tenant name "Bad" is invalid: use 1 to 63 lower-case letters, digits, \'-\' or \'_\'', 'name'],
      ['domain "a b" is invalid: not a host name', 'domains'],
      ['tenant "shop" needs at least one domain: requests find their tenant by Host', 'domains'],
      ['issuer "ftp://x" is invalid: use an https:// (or http://) URL with a host and no query or fragment', 'issuer'],
      ['a max assertion lifetime of 7200 s is out of range: give 1s to 1h (the most is 1h, the default)', 'max_assertion_lifetime'],
    ];
    for (const [description, expected] of cases) {
      assert.equal(await fieldFor(422, description, TENANT_FIELDS), expected, description);
    }
  });

  test('an error that is not about a setting goes to the top of the form', async () => {
    assert.equal(await fieldFor(403, 'an admin app manages only its own tenant', APP_FIELDS), null);
    assert.equal(await fieldFor(503, 'the database is unavailable: full', APP_FIELDS), null);
  });

  test('the curl command names the tenant host, the app and its default scopes', async () => {
    const app = { client_id: 'abc123', default_scopes: ['orders:read', 'orders:write'] };
    const tenant = (issuer, domains) => ({ name: 'shop', issuer, domains });
    assert.equal(await call('try-it.js', 'curlCommand', app, tenant(null, ['shop.test'])), [
      'curl -X POST https://shop.test/oauth2/token',
      '-d grant_type=client_credentials',
      '-d client_id=abc123',
      '-d client_secret=YOUR_SECRET',
      "-d 'scope=orders:read orders:write'",
    ].join(' \\\n  '));
    const withIssuer = await call('try-it.js', 'curlCommand', { ...app, default_scopes: [] },
      tenant('https://auth.example.com/shop/', ['shop.test']));
    assert.match(withIssuer, /^curl -X POST https:\/\/auth\.example\.com\/shop\/oauth2\/token \\/);
    assert.doesNotMatch(withIssuer, /scope=/);
    const bare = await call('try-it.js', 'curlCommand', app, tenant(null, []));
    assert.match(bare, new RegExp(`^curl -X POST ${BASE}/oauth2/token`));
  });

  test('a token is decoded locally, and what is not a JWT is said so', async () => {
    const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const token = `${part({ alg: 'ES256', kid: 'k1' })}.${part({ sub: 'app', name: 'Zoë ✓' })}.c2ln`;
    assert.deepEqual(await call('try-it.js', 'decodeJwt', token), {
      header: { alg: 'ES256', kid: 'k1' }, claims: { sub: 'app', name: 'Zoë ✓' },
    });
    for (const bad of ['not a token', 'a.b', `${part({})}.!!!.sig`]) {
      const message = await page.evaluate(async (text) => {
        const { decodeJwt } = await import('/console/try-it.js');
        try {
          decodeJwt(text);
          return 'decoded';
        } catch (error) {
          return error.message;
        }
      }, bad);
      assert.match(message, /^This is not a JWT/, bad);
    }
  });
});
