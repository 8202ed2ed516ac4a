// SPDX-License-Identifier: Apache-2.0
// Tiny DOM helpers: h('tag.class', {attrs}, ...children). No innerHTML with data, ever.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(ns, spec, attrs, children) {
  // spec: tag, tag.class.class, tag#id.class, tag.class#id
  const m = spec.match(/^([a-zA-Z][\w-]*)((?:[.#][\w-]+)*)$/);
  if (!m) throw new Error(`bad element spec ${spec}`);
  const el = ns ? document.createElementNS(ns, m[1]) : document.createElement(m[1]);
  const classes = [];
  for (const [, sigil, name] of m[2].matchAll(/([.#])([\w-]+)/g)) {
    if (sigil === '#') el.id = name;
    else classes.push(name);
  }
  if (classes.length) el.setAttribute('class', classes.join(' '));
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children = [attrs, ...children];
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.setAttribute('class', [el.getAttribute('class'), v].filter(Boolean).join(' '));
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' && !ns) el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export const h = (spec, attrs, ...children) => build(null, spec, attrs, children);
export const s = (spec, attrs, ...children) => build(SVG_NS, spec, attrs, children);

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function replace(el, ...children) {
  clear(el);
  return append(el, children);
}

/** A notice box for "this server does not offer X yet" and similar. */
export function notice(kind, title, ...body) {
  return h(`div.notice.notice-${kind}`, { role: kind === 'error' ? 'alert' : 'status' },
    h('p.notice-title', title), ...body.map((b) => (typeof b === 'string' ? h('p', b) : b)));
}
