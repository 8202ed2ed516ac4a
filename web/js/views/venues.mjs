// SPDX-License-Identifier: Apache-2.0
// Venues overview: occupancy, posture and open alerts per venue.

import { h, replace, notice } from '../dom.mjs';
import { fmtInt, humanise } from '../format.mjs';
import { postureBadge } from '../ui.mjs';

export const title = 'Venues';
const POLL_MS = 3000;

export function mount(root, ctx) {
  const body = h('div', { 'aria-live': 'off' }, h('p.muted', 'Loading venues…'));
  const updated = h('p.muted.small');
  root.append(h('div.view-head', h('h1', 'Venues'), updated), body);

  async function load() {
    let list;
    try {
      list = (await ctx.api.get('/venues')).venues || [];
    } catch (e) {
      replace(body, notice('error', 'Could not load the venues.', e.reason || e.message));
      return;
    }
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    if (!list.length) {
      replace(body, notice('info', 'No venues yet.',
        ctx.who?.can?.admin ? 'Upload one with PUT /api/v1/venues/{id} (a venue file, see docs/venue-format.md).'
          : 'Ask an administrator to add your venue, or to give you a token for it.'));
      return;
    }
    list.sort((a, b) => (b.open_alerts || 0) - (a.open_alerts || 0) || String(a.name).localeCompare(String(b.name)));
    replace(body, h('table.table.venues-table',
      h('caption.visually-hidden', 'Venues with their occupancy, posture and open alerts'),
      h('thead', h('tr', h('th', { scope: 'col' }, 'Venue'), h('th', { scope: 'col' }, 'Use'),
        h('th.num', { scope: 'col' }, 'Occupancy'), h('th', { scope: 'col' }, 'Posture'),
        h('th.num', { scope: 'col' }, 'Open alerts'))),
      h('tbody', list.map((v) => h('tr', { 'data-venue': v.id },
        h('th', { scope: 'row' }, h('a', { href: `#/venue/${encodeURIComponent(v.id)}` }, v.name || v.id),
          h('span.muted.small.block', v.id)),
        h('td', humanise(v.use)),
        h('td.num.occupancy', fmtInt(v.occupancy)),
        h('td', postureBadge(v.posture)),
        h('td.num', v.open_alerts ? h('span.badge.sev-critical', fmtInt(v.open_alerts)) : h('span.muted', v.open_alerts === 0 ? '0' : '–')))))));
  }
  load();
  const timer = setInterval(load, POLL_MS);
  return () => clearInterval(timer);
}
