// Pieces every page shares: the breadcrumb trail and the once-shown secret.

import { copyButton, h } from './dom.js';

/** A breadcrumb trail of [text, address] steps; the last one, the current page, has none. */
export function crumbs(steps) {
  return h('nav.crumbs', { 'aria-label': 'Breadcrumb' }, h('ol', steps.map(([text, address], index) =>
    h('li', address && index < steps.length - 1
      ? h('a', { href: address }, text)
      : h('span', { 'aria-current': 'page' }, text)))));
}

/**
 * A freshly minted secret, shown once with a copy button. `clear()` empties it (the page calls
 * it when left, so the secret stays nowhere); the "I have stored it" button does too.
 */
export function secretPanel(clientId, secret, extra) {
  let shown = secret;
  const value = h('code#new-secret.secret', shown);
  const panel = h('section.secret-panel', { 'aria-labelledby': 'secret-title' },
    h('h2#secret-title', { tabindex: -1 }, 'New client secret'),
    h('p.warning', h('strong', 'You will not see this secret again.'),
      ' Copy it now and keep it somewhere safe, such as a secret manager.'),
    h('p', 'Client Id ', h('code', clientId)),
    h('div.secret-row', value, copyButton('Copy secret', () => shown ?? '')),
    extra ? h('p', extra) : null,
    h('div.actions', h('button.secondary', { type: 'button', on: { click: () => { clear(); document.querySelector('main h1')?.focus(); } } }, 'I have stored it, hide it')));
  const clear = () => {
    shown = null;
    value.textContent = '';
    panel.remove();
  };
  return { panel, clear };
}
