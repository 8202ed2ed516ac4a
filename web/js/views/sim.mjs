// SPDX-License-Identifier: Apache-2.0
// Simulation runs (evacuation studies) when the server offers them.

import { h, replace, notice } from '../dom.mjs';
import { fmtTime, fmtDuration, humanise } from '../format.mjs';
import { notAvailable } from '../ui.mjs';

export const title = 'Simulation';

export async function mount(root, ctx) {
  const body = h('div', h('p.muted', 'Loading…'));
  root.append(h('div.view-head', h('h1', 'Simulation')), body);
  let r;
  try {
    r = await ctx.api.get('/simulations');
  } catch (e) {
    replace(body, e.notAvailable
      ? notAvailable('Running simulations from the dashboard',
        h('p', 'Evacuation studies can be run today with the command line: ', h('code', 'vigil simulate SCENARIO.json --out DIR'),
          ', which writes a summary, per-second series and a self-contained report (docs/simulation.md).'))
      : notice('error', 'Could not load the simulation runs.', e.reason || e.message));
    return null;
  }
  const runs = r.runs || r.simulations || [];
  replace(body, runs.length ? h('section.card', h('table.table',
    h('thead', h('tr', ['Run', 'Venue', 'Started', 'State', 'Evacuation time'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', runs.map((x) => h('tr', h('th', { scope: 'row' }, x.name || x.id), h('td', x.venue || '–'),
      h('td', fmtTime(x.started_at || x.created_at, undefined, { date: true })), h('td', humanise(x.state || x.status)),
      h('td', fmtDuration(x.evacuation_time_s ?? x.time_s)))))))
    : h('p.empty', 'No simulation runs yet.'));
  return null;
}
