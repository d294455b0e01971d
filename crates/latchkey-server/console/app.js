// The console's entry: finds the session (`GET /console/session`), draws the header and routes
// hash addresses (`#/tenants/NAME/apps/CLIENT_ID`, ...) to pages, so the server serves one
// document and needs no fallback route. A page renders into its own view; leaving it runs the
// page's leave handlers (which drop any secret it showed) before the next page is drawn.

import { api, onSessionEnded, setCsrfToken } from './api.js';
import { h, replace } from './dom.js';
import { signInPage } from './signin.js';
import { newTenantPage, tenantPage, tenantsPage } from './tenants.js';
import { appsPage, newAppPage } from './apps.js';
import { appPage } from './app-page.js';
import { keysPage } from './keys.js';
import { auditPage } from './audit.js';

const main = document.getElementById('main');
const header = document.getElementById('top');

let session = null;
let leaving = [];
let renderCount = 0;
let flashMessage = '';
let expiryTimer = null;

const routes = [
  [/^\/tenants$/, tenantsPage],
  [/^\/tenants\/new$/, newTenantPage],
  [/^\/tenants\/([^/]+)$/, tenantPage],
  [/^\/tenants\/([^/]+)\/apps$/, appsPage],
  [/^\/tenants\/([^/]+)\/apps\/new$/, newAppPage],
  [/^\/tenants\/([^/]+)\/apps\/([^/]+)$/, appPage],
  [/^\/tenants\/([^/]+)\/keys$/, keysPage],
  [/^\/audit$/, auditPage],
];

function homeAddress() {
  return session.reach === 'all_tenants' ? '#/tenants' : `#/tenants/${encodeURIComponent(session.tenant)}`;
}

function leaveCurrentPage() {
  for (const handler of leaving) {
    try {
      handler();
    } catch {
      // A leave handler only clears what it showed; nothing to recover from.
    }
  }
  leaving = [];
}

async function render() {
  leaveCurrentPage();
  renderCount += 1;
  const mine = renderCount;
  if (!session) return;
  const [path, queryText = ''] = location.hash.replace(/^#/, '').split('?');
  const match = routes
    .map(([pattern, page]) => [pattern.exec(path), page])
    .find(([found]) => found);
  if (!match) {
    location.replace(homeAddress());
    return;
  }
  const [found, page] = match;
  const params = found.slice(1).map(decodeURIComponent);
  const view = h('div.view');
  const status = h('p.flash', { role: 'status' });
  const arrived = flashMessage;
  flashMessage = '';
  const context = {
    session,
    view,
    query: new URLSearchParams(queryText),
    isCurrent: () => mine === renderCount,
    onLeave: (handler) => leaving.push(handler),
    go: (address, message = '') => {
      flashMessage = message;
      location.hash = address;
    },
    say: (message) => {
      status.textContent = message;
    },
  };
  updateNav(path);
  main.setAttribute('aria-busy', 'true');
  replace(main, h('p.loading', 'Loading…'));
  try {
    await page(context, ...params);
  } catch (error) {
    replace(view, h('h1', { tabindex: -1 }, 'Something went wrong'),
      h('p.form-error', { role: 'alert' }, error.message));
  }
  if (mine !== renderCount) return;
  main.removeAttribute('aria-busy');
  replace(main, status, view);
  // A live region announces what changes in it, not what it held when it appeared: the message
  // of the step that led here goes in once the region is on the page.
  if (arrived) setTimeout(() => { if (!status.textContent) status.textContent = arrived; }, 50);
  const heading = view.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    document.title = `${heading.textContent} · latchkey console`;
    heading.focus({ preventScroll: false });
  }
}

function navLink(text, address, path, exact = false) {
  const target = address.slice(1);
  const current = path === target || (!exact && path.startsWith(`${target}/`));
  return h('a', { href: address, 'aria-current': current ? 'page' : null }, text);
}

function updateNav(path = '') {
  if (!session) {
    replace(header, h('span.brand', 'latchkey console'));
    return;
  }
  const own = `#/tenants/${encodeURIComponent(session.tenant)}`;
  const links = session.reach === 'all_tenants'
    ? [navLink('Tenants', '#/tenants', path), navLink('Audit trail', '#/audit', path)]
    : [navLink('Tenant', own, path, true), navLink('Apps', `${own}/apps`, path),
      navLink('Keys', `${own}/keys`, path), navLink('Audit trail', '#/audit', path)];
  replace(header,
    h('a.brand', { href: homeAddress() }, 'latchkey console'),
    h('nav', { 'aria-label': 'Main' }, h('ul', links.map((link) => h('li', link)))),
    h('div.who',
      h('span', 'Signed in as ', h('code', session.client_id), ' of tenant ', h('strong', session.tenant)),
      h('button.secondary', { type: 'button', on: { click: signOut } }, 'Sign out')));
}

function startSession(answer) {
  session = answer;
  setCsrfToken(answer.csrf_token);
  clearTimeout(expiryTimer);
  const left = answer.expires_at * 1000 - Date.now();
  // setTimeout holds at most 2^31 - 1 ms; a longer session is checked again then.
  expiryTimer = setTimeout(() => {
    if (answer.expires_at * 1000 <= Date.now()) endSession('Your session has ended; sign in again.');
  }, Math.min(Math.max(left, 0) + 500, 2 ** 31 - 1));
  if (!location.hash || location.hash === '#' || location.hash === '#/') location.replace(homeAddress());
  render();
}

function endSession(message) {
  leaveCurrentPage();
  renderCount += 1;
  session = null;
  setCsrfToken(null);
  clearTimeout(expiryTimer);
  updateNav();
  main.removeAttribute('aria-busy');
  replace(main, signInPage(startSession, message));
  document.title = 'Sign in · latchkey console';
  main.querySelector('input')?.focus();
}

async function signOut() {
  try {
    await api('DELETE', '/console/session');
    endSession('You are signed out.');
  } catch (error) {
    if (error.status === 401) endSession('You are signed out.');
    else alertInMain(error.message);
  }
}

function alertInMain(message) {
  main.prepend(h('p.form-error', { role: 'alert' }, message));
}

onSessionEnded(() => {
  if (session) endSession('Your session has ended; sign in again.');
});

window.addEventListener('hashchange', () => {
  if (session) render();
});

document.querySelector('.skip')?.addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});

(async () => {
  try {
    startSession(await api('GET', '/console/session'));
  } catch (error) {
    endSession(error.status === 401 ? '' : error.message);
  }
})();
