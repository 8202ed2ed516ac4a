// SPDX-License-Identifier: Apache-2.0
// All alerts the token may see, filtered by state and venue, with acknowledge / resolve.

import { h, replace, notice } from '../dom.mjs';
import { alertList } from '../ui.mjs';

export const title = 'Alerts';
const POLL_MS = 3000;

export function mount(root, ctx) {
  const stateSel = h('select#alert-state', { name: 'state' },
    [['open', 'Open (unacknowledged and acknowledged)'], ['firing', 'Unacknowledged'], ['acknowledged', 'Acknowledged'], ['resolved', 'Resolved'], ['all', 'All']]
      .map(([v, l]) => h('option', { value: v }, l)));
  const venueSel = h('select#alert-venue', { name: 'venue' }, h('option', { value: '' }, 'All venues'));
  const body = h('div', h('p.muted', 'Loading alerts…'));
  const count = h('p.muted.small', { 'aria-live': 'polite' });
  root.append(
    h('div.view-head', h('h1', 'Alerts'), count),
    h('form.filters', { onsubmit: (e) => e.preventDefault() },
      h('div.field.inline', h('label', { for: 'alert-state' }, 'Show'), stateSel),
      h('div.field.inline', h('label', { for: 'alert-venue' }, 'Venue'), venueSel)),
    h('section.card', body));
  if (!(ctx.who?.can?.acknowledge)) {
    body.before(h('p.muted.role-note', 'Your role can see alerts but not acknowledge or resolve them.'));
  }

  const zones = new Map();
  ctx.api.get('/venues').then((r) => {
    for (const v of r.venues || []) venueSel.append(h('option', { value: v.id }, v.name || v.id));
  }).catch(() => {});

  let seq = 0;
  async function load() {
    const my = ++seq;
    const st = stateSel.value;
    const q = new URLSearchParams();
    if (venueSel.value) q.set('venue', venueSel.value);
    if (st !== 'all' && st !== 'open') q.set('state', st);
    let list;
    try {
      list = (await ctx.api.get(`/alerts${q.size ? `?${q}` : ''}`)).alerts || [];
    } catch (e) {
      if (my === seq) replace(body, notice('error', 'Could not load the alerts.', e.reason || e.message));
      return;
    }
    if (st === 'open') list = list.filter((a) => a.state !== 'resolved');
    for (const v of new Set(list.map((a) => a.venue))) if (!zones.has(v)) zones.set(v, await ctx.venueZone(v));
    if (my !== seq) return;
    // Do not rebuild while a dialog is open or a button has focus mid-action.
    if (document.getElementById('dialog').open) return;
    const focusedId = document.activeElement?.dataset?.alert;
    const focusedClass = document.activeElement?.classList?.contains('ack') ? 'ack' : 'resolve';
    count.textContent = `${list.length} alert${list.length === 1 ? '' : 's'}`;
    replace(body, alertList(list, ctx, { tzFor: (v) => zones.get(v), onChange: load, empty: 'No alerts match.' }));
    if (focusedId) body.querySelector(`button.${focusedClass}[data-alert="${CSS.escape(focusedId)}"]`)?.focus();
  }
  stateSel.addEventListener('change', load);
  venueSel.addEventListener('change', load);
  load();
  const timer = setInterval(load, POLL_MS);
  return () => clearInterval(timer);
}
