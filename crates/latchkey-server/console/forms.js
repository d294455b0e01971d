// A form that sends itself through the API and shows what the API refused next to the field
// concerned (`aria-invalid`, and the message tied with `aria-describedby`), or at the form's
// top when no field is named.

import { ApiError, fieldOf } from './api.js';
import { h } from './dom.js';

/**
 * `{label, fields: {name: field}, extra, submit, onSubmit}`: `fields` are `field()`s keyed
 * by API name, `onSubmit()` does the work and may throw an `ApiError`. Returns the form.
 */
export function apiForm({ label, fields, extra = [], submit, onSubmit, className = '' }) {
  const top = h('div.form-error', { role: 'alert', hidden: true });
  const button = h('button', { type: 'submit' }, submit);
  const form = h('form', { 'aria-label': label, novalidate: true, class: className },
    top,
    Object.values(fields).map((entry) => entry.wrap),
    extra,
    h('div.actions', button));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(top, fields);
    button.disabled = true;
    try {
      await onSubmit();
    } catch (error) {
      showError(top, fields, error);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function clearErrors(top, fields) {
  top.hidden = true;
  top.textContent = '';
  for (const entry of Object.values(fields)) {
    entry.input.removeAttribute('aria-invalid');
    entry.error.hidden = true;
    entry.error.textContent = '';
    const described = (entry.input.getAttribute('aria-describedby') || '')
      .split(' ').filter((id) => id && id !== entry.error.id);
    if (described.length) entry.input.setAttribute('aria-describedby', described.join(' '));
    else entry.input.removeAttribute('aria-describedby');
  }
}

/** Shows `error` beside its field (focused), else at the form's top. */
export function showError(top, fields, error) {
  const message = error instanceof Error ? error.message : String(error);
  const name = error instanceof LocalError ? error.field : fieldOf(error, Object.keys(fields));
  const entry = name ? fields[name] : null;
  if (!entry) {
    top.textContent = message;
    top.hidden = false;
    top.scrollIntoView?.({ block: 'nearest' });
    return;
  }
  entry.error.textContent = message;
  entry.error.hidden = false;
  entry.input.setAttribute('aria-invalid', 'true');
  const described = (entry.input.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
  entry.input.setAttribute('aria-describedby', [...described, entry.error.id].join(' '));
  if (entry.input.tagName === 'FIELDSET') entry.input.querySelector('input')?.focus();
  else entry.input.focus();
}

/** A mistake found before sending, about one field. */
export class LocalError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

/** The integer in a number field, null when empty; a `LocalError` when not a whole number. */
export function integerOf(name, input, what) {
  const text = input.value.trim();
  // A number field holding what is not a number reads as empty: that is a mistake, not a blank.
  if (input.validity?.badInput) throw new LocalError(name, `${what} must be a whole number.`);
  if (text === '') return null;
  if (!/^\d+$/.test(text)) throw new LocalError(name, `${what} must be a whole number.`);
  return Number(text);
}

/** The JSON object in a text field, null when empty; a `LocalError` when not JSON. */
export function jsonOf(name, input) {
  const text = input.value.trim();
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new LocalError(name, 'Custom claims must be a JSON object, such as {"tier": "gold"}.');
  }
}

/** The fields of `after` whose value differs from `before`'s: what a PATCH should send. */
export function changes(before, after) {
  return Object.fromEntries(Object.entries(after)
    .filter(([name, value]) => JSON.stringify(value) !== JSON.stringify(before[name])));
}

export { ApiError };
