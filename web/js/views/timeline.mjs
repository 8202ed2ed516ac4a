// SPDX-License-Identifier: Apache-2.0
// Gatherings and the timeline of one gathering (warnings, notifications, acknowledgements, alerts, incidents).

import { h, replace, notice } from '../dom.mjs';
import { fmtTime, fmtDuration, fmtInt, humanise } from '../format.mjs';
import { notAvailable } from '../ui.mjs';

export const title = 'Timeline';

export async function mount(root, ctx, gid) {
  const body = h('div', h('p.muted', 'Loading…'));
  root.append(h('div.view-head', h('div', gid ? h('p.crumbs', h('a', { href: '#/timeline' }, 'Gatherings'), ' / ') : null, h('h1', gid ? 'Timeline' : 'Gatherings and timelines'))), body);
  if (gid) return timeline(body, ctx, gid);
  let list;
  try {
    list = (await ctx.api.get('/gatherings')).gatherings || [];
  } catch (e) {
    replace(body, e.notAvailable ? notAvailable('Gatherings') : notice('error', 'Could not load the gatherings.', e.reason || e.message));
    return null;
  }
  if (!list.length) {
    replace(body, h('p.empty', 'No gatherings yet. They are added with POST /api/v1/gatherings.'));
    return null;
  }
  const zones = new Map();
  for (const v of new Set(list.map((g) => g.venue))) zones.set(v, await ctx.venueZone(v));
  list.sort((a, b) => String(b.starts_at).localeCompare(String(a.starts_at)));
  replace(body, h('section.card', h('table.table',
    h('thead', h('tr', ['Gathering', 'Venue', 'Kind', 'Starts', 'Ends', 'Expected'].map((t, i) => h(i === 5 ? 'th.num' : 'th', { scope: 'col' }, t)))),
    h('tbody', list.map((g) => h('tr',
      h('th', { scope: 'row' }, h('a', { href: `#/timeline/${encodeURIComponent(g.id)}` }, g.name || g.id)),
      h('td', h('a', { href: `#/venue/${encodeURIComponent(g.venue)}` }, g.venue)),
      h('td', humanise(g.kind)),
      h('td', fmtTime(g.starts_at, g.timezone || zones.get(g.venue), { date: true })),
      h('td', fmtTime(g.ends_at, g.timezone || zones.get(g.venue), { date: true })),
      h('td.num', fmtInt(g.expected_attendance))))))));
  return null;
}

async function timeline(body, ctx, gid) {
  let t;
  try {
    t = await ctx.api.get(`/gatherings/${encodeURIComponent(gid)}/timeline`);
  } catch (e) {
    replace(body, e.notAvailable ? notAvailable('The gathering timeline') : notice('error', 'Could not load the timeline.', e.reason || e.message));
    return null;
  }
  const tz = t.venue ? await ctx.venueZone(t.venue) : undefined;
  const entries = t.entries || t.events || t.timeline || [];
  const gname = t.name || t.gathering?.name || gid;
  // time_to_acknowledge: { warnings: {count, median_s, max_s}, alerts: {...}, by_person: { who: {...} } }
  const tta = t.time_to_acknowledge || null;
  const ttaText = (x) => (x && x.count ? `${fmtInt(x.count)} acknowledged, median ${fmtDuration(x.median_s)}, longest ${fmtDuration(x.max_s)}` : 'none acknowledged');
  const detailText = (d) => {
    if (!d || typeof d !== 'object') return '';
    const bits = [];
    for (const k of ['kind', 'exit', 'posture', 'action', 'rule', 'zone', 'gathering']) if (typeof d[k] === 'string' && d[k]) bits.push(`${humanise(k)} ${d[k]}`);
    if (typeof d.specificity === 'number') bits.push(`specificity ${d.specificity.toFixed(2)}`);
    if (typeof d.note === 'string' && d.note) bits.push(`“${d.note}”`);
    return bits.join(', ');
  };
  replace(body,
    h('section.card', h('h2.card-title', gname),
      t.gathering?.starts_at ? h('p.muted', `${fmtTime(t.gathering.starts_at, tz, { date: true })} – ${fmtTime(t.gathering.ends_at, tz, { date: true })}`) : null,
      tta ? h('dl.facts',
        h('dt', 'Warnings: time to acknowledge'), h('dd', ttaText(tta.warnings)),
        h('dt', 'Alerts: time to acknowledge'), h('dd', ttaText(tta.alerts)),
        Object.entries(tta.by_person || {}).map(([who, x]) => [h('dt', who), h('dd', ttaText(x))]))
        : t.stats ? h('dl.facts', Object.entries(t.stats).map(([k, v]) => [h('dt', humanise(k)), h('dd', /_s$/.test(k) ? fmtDuration(v) : String(v))])) : null,
      entries.length ? h('ol.timeline', entries.map((e) => h('li',
        h('time', { datetime: e.at || e.time }, fmtTime(e.at || e.time, tz, { date: true })), ' ',
        h('strong', humanise(e.kind || e.type || e.action)), ' ',
        e.subject ? h('code', e.subject) : '', ' ',
        e.summary || e.message || e.note || detailText(e.detail), e.by || e.actor ? h('span.muted', ` – ${e.by || e.actor}`) : null)))
        : h('p.empty', 'Nothing recorded for this gathering yet.')));
  return null;
}
