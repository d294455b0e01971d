// Building the page: elements from data (text only, never HTML, so nothing an API answer holds
// can run as script), labelled form fields with their error slots, the confirmation dialog and
// the copy button. No page logic lives here.

let uniqueId = 0;

/** A fresh id for tying a label, a hint or an error to its field. */
export function freshId(prefix) {
  uniqueId += 1;
  return `${prefix}-${uniqueId}`;
}

/**
 * `h('tag.class#id', {attributes, on: {event: handler}}, ...children)`: children are nodes,
 * strings (as text), or null/false (skipped); arrays are flattened.
 */
export function h(spec, props, ...children) {
  const [, tag, rest] = /^([a-z0-9]+)(.*)$/.exec(spec);
  const node = document.createElement(tag);
  for (const part of rest.match(/[.#][^.#]+/g) || []) {
    if (part[0] === '.') node.classList.add(part.slice(1));
    else node.id = part.slice(1);
  }
  if (props && (typeof props !== 'object' || props instanceof Node || Array.isArray(props))) {
    children.unshift(props);
    props = null;
  }
  for (const [name, value] of Object.entries(props || {})) {
    if (name === 'on') {
      for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    } else if (name === 'class') {
      for (const cls of String(value).split(/\s+/).filter(Boolean)) node.classList.add(cls);
    } else if (value === true) {
      node.setAttribute(name, '');
    } else if (value !== false && value !== null && value !== undefined) {
      node.setAttribute(name, String(value));
    }
  }
  appendAll(node, children);
  return node;
}

/** Appends children as `h` takes them (null and false skipped, arrays flattened). */
export function append(node, ...children) {
  appendAll(node, children);
}

function appendAll(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) appendAll(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `node`. */
export function replace(node, ...children) {
  node.replaceChildren();
  appendAll(node, children);
}

/**
 * A labelled field: `{label, name, type, value, hint, options, rows, ...attributes}`.
 * `type` is an input type, `select` (with `options` as [value, text] pairs), `textarea` or
 * `checkbox`. Returns `{wrap, input, error}`; `input.dataset.field` is the API field it edits.
 */
export function field({ label, name, type = 'text', value, hint, options, ...attributes }) {
  const id = freshId(`f-${name}`);
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  let input;
  if (type === 'select') {
    input = h('select', { id, name, ...attributes },
      options.map(([optionValue, text]) => h('option', { value: optionValue }, text)));
    if (value !== undefined && value !== null) input.value = String(value);
  } else if (type === 'textarea') {
    input = h('textarea', { id, name, rows: 3, ...attributes });
    input.value = value ?? '';
  } else if (type === 'checkbox') {
    input = h('input', { id, name, type, ...attributes });
    input.checked = Boolean(value);
  } else {
    input = h('input', { id, name, type, ...attributes });
    if (value !== undefined && value !== null) input.value = String(value);
  }
  input.dataset.field = name;
  if (hintId) input.setAttribute('aria-describedby', hintId);
  const error = h('p.field-error', { id: errorId, hidden: true });
  const hintNode = hint ? h('p.hint', { id: hintId }, hint) : null;
  const labelNode = h('label', { for: id }, label);
  const wrap = type === 'checkbox'
    ? h('div.field.check', input, labelNode, hintNode, error)
    : h('div.field', labelNode, hintNode, input, error);
  return { wrap, input, error };
}

/** A group of checkboxes under one legend, for a list field such as grant types. */
export function checkboxGroup({ legend, name, options, values, hint }) {
  const id = freshId(`g-${name}`);
  const boxes = options.map(([optionValue, text]) => {
    const boxId = freshId(`c-${name}`);
    const box = h('input', { type: 'checkbox', id: boxId, value: optionValue });
    box.checked = values.includes(optionValue);
    return { box, node: h('div.check', box, h('label', { for: boxId }, text)) };
  });
  const error = h('p.field-error', { id: `${id}-error`, hidden: true });
  const wrap = h('fieldset.field', { id, 'aria-describedby': hint ? `${id}-hint` : null },
    h('legend', legend), hint ? h('p.hint', { id: `${id}-hint` }, hint) : null,
    boxes.map((entry) => entry.node), error);
  wrap.dataset.field = name;
  return {
    wrap,
    input: wrap,
    error,
    values: () => boxes.filter((entry) => entry.box.checked).map((entry) => entry.box.value),
  };
}

/** Splits a text field of space, comma or newline separated words into a list. */
export function words(text) {
  return text.split(/[\s,]+/).filter(Boolean);
}

/** A button that copies `text()` to the clipboard and says so. */
export function copyButton(label, text) {
  const said = h('span.copied', { role: 'status' });
  const button = h('button.secondary', {
    type: 'button',
    on: {
      click: async () => {
        try {
          await navigator.clipboard.writeText(text());
          said.textContent = 'Copied';
        } catch {
          said.textContent = 'Copying is not allowed here: select the text and copy it';
        }
      },
    },
  }, label);
  return h('span.copy', button, ' ', said);
}

/**
 * Asks for confirmation in a modal `<dialog>`: `{title, message, confirm, danger, fields}`,
 * `fields` being extra form fields (such as a grace period). Resolves to the form's
 * `FormData` when confirmed, or null; focus goes back to what had it before.
 */
export function confirmDialog({ title, message, confirm, danger = false, fields = [] }) {
  const opener = document.activeElement;
  const titleId = freshId('dialog-title');
  return new Promise((resolve) => {
    const form = h('form', { method: 'dialog' },
      h('h2', { id: titleId }, title),
      message ? h('p', message) : null,
      fields,
      h('div.actions',
        h('button', { type: 'submit', value: 'confirm', class: danger ? 'danger' : '' }, confirm),
        // A destructive choice is never the one Enter takes by default.
        h('button.secondary', { type: 'submit', value: 'cancel', formnovalidate: true, autofocus: danger && fields.length === 0 }, 'Cancel')));
    const dialog = h('dialog', { 'aria-labelledby': titleId }, form);
    dialog.addEventListener('close', () => {
      const confirmed = dialog.returnValue === 'confirm';
      const data = new FormData(form);
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(confirmed ? data : null);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A definition list of [term, value] rows; a value may be a node. */
export function details(rows) {
  return h('dl.props', rows.filter(Boolean).map(([term, value]) => [
    h('dt', term), h('dd', value === null || value === undefined || value === '' ? '—' : value),
  ]));
}

/** A local date and time for an RFC 3339 time (the exact time in its tooltip). */
export function when(text) {
  if (!text) return '—';
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return text;
  return h('time', { datetime: text, title: text }, date.toLocaleString());
}

/** A list of words as code chips, or a dash. */
export function chips(list) {
  if (!list || list.length === 0) return '—';
  return h('span.chips', list.map((item) => h('code.chip', item)));
}

/**
 * A table that reads as a list of cards on a narrow screen: `columns` are [heading, cell]
 * pairs, `cell(row)` returning text or a node.
 */
export function table(caption, columns, rows) {
  return h('table.list',
    h('caption', caption),
    h('thead', h('tr', columns.map(([heading]) => h('th', { scope: 'col' }, heading)))),
    h('tbody', rows.map((row) => h('tr', columns.map(([heading, cell]) => {
      const td = h('td', cell(row));
      td.dataset.label = heading;
      return td;
    })))));
}
