// SPDX-License-Identifier: Apache-2.0
// One venue, live: floor plan per level, zones, egress-now gauge, alerts, posture, incidents.

import { h, s, replace, notice } from '../dom.mjs';
import { fmtInt, fmt1, fmt2, fmtDuration, fmtTime, fmtTrend, humanise, zoneName } from '../format.mjs';
import { openStream } from '../sse.mjs';
import { createPlan, levelsOf, LOS, NO_DATA, SENSOR_STATUS } from '../plan.mjs';
import { alertList, formDialog, notAvailable, postureBadge } from '../ui.mjs';

export const title = 'Venue';
const POLL_MS = 2000;

export async function mount(root, ctx, id) {
  const enc = encodeURIComponent(id);
  root.append(h('p.muted', 'Loading venue…'));
  let doc;
  try {
    doc = await ctx.venueDoc(id);
  } catch (e) {
    replace(root, e.status === 404 ? notice('error', `There is no venue "${id}" (or your token may not see it).`, h('p', h('a', { href: '#/venues' }, 'Back to the venues')))
      : notice('error', 'Could not load the venue.', e.reason || e.message));
    return null;
  }
  const header = doc.vigil || {};
  const tz = header.timezone || undefined;
  const name = header.name || id;
  document.title = `${name} · Vigil`;
  const can = ctx.who?.can || {};
  const derivedZones = doc.derived?.zones || {};
  const totalCapacity = Object.values(derivedZones).reduce((a, z) => a + (z.capacity || 0), 0);
  const limit = header.egress_limit_s ?? 480;

  // ---- layout ----
  const live = h('span.badge.live-connecting', { role: 'status' }, 'Connecting…');
  const updated = h('span.muted.small');
  const occupancyEl = h('p.figure', '–');
  const occupancySub = h('p.muted.small', totalCapacity ? `of ${fmtInt(totalCapacity)} capacity` : '');
  const postureEl = h('p.figure');
  const egressBox = h('div.egress');
  const levelBar = h('div.level-bar', { role: 'group', 'aria-label': 'Level' });
  const planBox = h('div.plan-box');
  const drawBar = h('div.draw-bar', { role: 'region', 'aria-label': 'Drawing a hazard', hidden: true });
  const inspector = h('p.inspector', { 'aria-live': 'polite' }, 'Hover over or tab to a zone for its figures; Enter selects it and shows its recommended exits.');
  const alertsBox = h('div', h('p.muted', 'Loading alerts…'));
  const postureBox = h('div');
  const incidentsBox = h('div');
  const evacEl = h('p.evacuation', { role: 'status', hidden: true }, h('strong', 'Evacuation in progress'), ' – routes and the estimate are for everyone leaving now.');
  const incidentLog = h('ul.incident-log');
  const zonesBody = h('tbody');
  const sensorsBox = h('div');

  replace(root,
    h('div.view-head',
      h('div', h('p.crumbs', h('a', { href: '#/venues' }, 'Venues'), ' / '), h('h1', name)),
      h('p.head-meta', humanise(header.use), ' · times in ', zoneName(tz), ' · ', live, ' ', updated)),
    h('div.venue-grid',
      h('section.card.plan-card', { 'aria-labelledby': 'plan-h' },
        h('div.card-head', h('h2#plan-h.card-title', 'Floor plan'), levelBar),
        drawBar, planBox, inspector, legend()),
      h('div.side',
        h('div.summary',
          h('section.card.summary-card', { 'aria-labelledby': 'occ-h' }, h('h2#occ-h.card-title', 'Occupancy'), occupancyEl, occupancySub),
          h('section.card.summary-card', { 'aria-labelledby': 'pos-h' }, h('h2#pos-h.card-title', 'Posture'), postureEl, postureBox),
          h('section.card.summary-card.egress-card', { 'aria-labelledby': 'egr-h' }, h('h2#egr-h.card-title', 'Egress now'), egressBox)),
        h('section.card', { 'aria-labelledby': 'al-h' }, h('h2#al-h.card-title', 'Alerts at this venue'), alertsBox),
        h('section.card', { 'aria-labelledby': 'inc-h' }, h('h2#inc-h.card-title', 'Incidents'), evacEl, incidentsBox, incidentLog))),
    h('section.card', { 'aria-labelledby': 'zt-h' }, h('h2#zt-h.card-title', 'Zones'),
      h('div.table-wrap', h('table.table.zones-table',
        h('thead', h('tr', ['Zone', 'Level', 'People', 'Capacity', '% of capacity', 'Density /m²', 'Service', 'Trend', 'Recommended exits']
          .map((t, i) => h(i >= 2 && i <= 5 ? 'th.num' : 'th', { scope: 'col' }, t)))),
        zonesBody))),
    h('section.card', { 'aria-labelledby': 'sn-h' }, h('h2#sn-h.card-title', 'Sensors'), sensorsBox));

  // ---- plan per level ----
  const levels = levelsOf(doc);
  const plans = new Map();
  let level = levels[0] ?? 0;
  let state = null;
  let selectedZone = null;
  // Open hazards drawn on the plan (red), on their level.
  let openHazards = [];
  function paintHazards() {
    const plan = plans.get(level);
    if (!plan) return;
    plan.hazardLayer ||= plan.overlay('hazards');
    plan.hazardLayer.replaceChildren(...openHazards.filter((i) => (i.level ?? 0) === level).map((i) =>
      s('path.hazard', { d: `M${i.polygon.map(([x, y]) => `${x},${-y}`).join('L')}Z` })));
  }
  const inspect = (zid) => {
    const plan = plans.get(level);
    if (plan && zid) inspector.textContent = plan.zoneInfo(zid);
  };
  const inspectorHint = inspector.textContent;
  function showLevel(l) {
    if (l !== level) inspector.textContent = inspectorHint;
    if (plans.get(level)?.isDrawing()) plans.get(level).stopDrawing();
    drawBar.hidden = true;
    level = l;
    for (const b of levelBar.querySelectorAll('button')) b.setAttribute('aria-pressed', String(+b.dataset.level === l));
    if (!plans.has(l)) plans.set(l, createPlan(doc, l, { tz, onInspect: inspect, onSelect: (z) => { selectedZone = z; if (z) inspect(z); } }));
    const plan = plans.get(l);
    if (state) plan.update(state);
    paintHazards();
    replace(planBox, plan.el);
    planBox.dataset.level = String(l);
  }
  for (const l of levels) {
    levelBar.append(h('button.btn.btn-seg', { type: 'button', 'data-level': l, 'aria-pressed': 'false', onclick: () => showLevel(l) }, `Level ${l}`));
  }
  if (levels.length < 2) levelBar.hidden = true;
  showLevel(level);

  // ---- zones table rows ----
  const zoneFeatures = (doc.features || []).filter((f) => f.properties?.kind === 'zone');
  const rows = new Map();
  for (const f of zoneFeatures) {
    const p = f.properties;
    const cells = { occ: h('td.num.occupancy'), pct: h('td.num'), dens: h('td.num'), los: h('td'), trend: h('td'), rec: h('td') };
    const goto = h('button.link-button', { type: 'button', onclick: () => {
      showLevel(p.level ?? 0);
      const plan = plans.get(p.level ?? 0);
      const z = plan.zones.get(p.id);
      if (z) { z.g.focus(); plan.select(p.id); selectedZone = p.id; }
    } }, p.name || p.id);
    const tr = h('tr', { 'data-zone': p.id }, h('th', { scope: 'row' }, goto), h('td', String(p.level ?? 0)), cells.occ,
      h('td.num', fmtInt(derivedZones[p.id]?.capacity ?? p.capacity)), cells.pct, cells.dens, cells.los, cells.trend, cells.rec);
    rows.set(p.id, { tr, cells });
    zonesBody.append(tr);
  }

  // ---- state ----
  function applyState(st) {
    if (!st || (st.venue && st.venue !== id)) return;
    state = st;
    updated.textContent = `updated ${fmtTime(st.at, tz)}`;
    occupancyEl.textContent = fmtInt(st.occupancy);
    replace(postureEl, postureBadge(st.posture));
    plans.get(level)?.update(st);
    for (const [zid, { tr, cells }] of rows) {
      const z = st.zones?.[zid];
      cells.occ.textContent = z ? fmtInt(z.occupancy) : '–';
      cells.pct.textContent = z ? `${fmt1(z.capacity_pct)} %` : '–';
      cells.dens.textContent = z ? fmt2(z.density_p_m2) : '–';
      replace(cells.los, z?.level_of_service ? h(`span.los-chip.los-${z.level_of_service}`, z.level_of_service) : '–');
      cells.trend.textContent = z ? fmtTrend(z.trend_p_per_min) : '–';
      cells.rec.textContent = (st.egress?.zones?.[zid] || []).join(', ') || '–';
      tr.classList.toggle('over', (z?.capacity_pct ?? 0) >= 100);
      tr.classList.toggle('near', (z?.capacity_pct ?? 0) >= 90 && (z?.capacity_pct ?? 0) < 100);
    }
    evacEl.hidden = !st.evacuation;
    renderEgress(st.egress);
    renderSensors(st.sensors || {});
  }

  function renderEgress(eg) {
    if (!eg || eg.time_s === undefined || eg.time_s === null) {
      replace(egressBox, h('p.figure.muted', 'No estimate yet'),
        h('p.muted.small', `Limit ${fmtDuration(limit)}. The server has not computed an egress time for the current occupancy.`));
      return;
    }
    const lim = eg.limit_s ?? limit;
    const ratio = eg.time_s / lim;
    const over = ratio > 1;
    const scale = Math.max(1.25, ratio * 1.05);
    const fill = h('div.gauge-fill');
    fill.style.width = `${Math.min(100, (ratio / scale) * 100)}%`;
    const mark = h('div.gauge-limit');
    mark.style.left = `${(1 / scale) * 100}%`;
    const bar = h('div.gauge', { role: 'img', 'aria-label': `Estimated egress time ${fmtDuration(eg.time_s)} against a limit of ${fmtDuration(lim)}${over ? ': over the limit' : ''}` }, fill, mark);
    bar.classList.toggle('over', over);
    bar.classList.toggle('near', !over && ratio > 0.85);
    replace(egressBox,
      h('p.figure', { class: over ? 'text-bad' : '' }, fmtDuration(eg.time_s), h('span.small.muted', ` / limit ${fmtDuration(lim)}`)),
      bar,
      h('p.muted.small', over ? h('strong.text-bad', 'Over the egress limit. ') : null,
        `${fmtInt(ratio * 100)} % of the limit`, eg.method ? ` · ${humanise(eg.method)} method` : '',
        eg.agent_time_s ? ` · simulated ${fmtDuration(eg.agent_time_s)}` : '',
        eg.guided_time_s ? ` · with guidance ${fmtDuration(eg.guided_time_s)}` : '',
        eg.bottlenecks?.length ? ` · bottlenecks ${eg.bottlenecks.join(', ')}` : ''),
      eg.cut_off ? h('p.text-bad', h('strong', `${fmtInt(eg.cut_off)} people cannot reach any open exit.`)) : null);
  }

  function renderSensors(ss) {
    const entries = Object.entries(ss);
    const byStatus = {};
    for (const [, v] of entries) byStatus[v.status] = (byStatus[v.status] || 0) + 1;
    const bad = entries.filter(([, v]) => v.status !== 'ok').sort(([a], [b]) => a.localeCompare(b));
    replace(sensorsBox,
      h('p', SENSOR_STATUS.map(([k, label]) => h('span.sensor-count', h(`span.dot.dot-${k}`, { 'aria-hidden': 'true' }), ` ${fmtInt(byStatus[k] || 0)} ${label}`))),
      bad.length ? h('details', h('summary', `${bad.length} sensor${bad.length === 1 ? '' : 's'} not reporting normally`),
        h('ul.sensor-list', bad.map(([sid, v]) => h('li', h('code', sid), ` ${humanise(v.status)}, last reading ${v.last_seen ? fmtTime(v.last_seen, tz) : 'never'}`)))) : null);
  }

  // ---- alerts ----
  let alertsSeq = 0;
  async function loadAlerts() {
    const seq = ++alertsSeq;
    try {
      const list = (await ctx.api.get(`/alerts?venue=${enc}`)).alerts || [];
      if (seq !== alertsSeq) return;
      const open = list.filter((a) => a.state !== 'resolved');
      const recent = list.filter((a) => a.state === 'resolved').slice(-5);
      replace(alertsBox, alertList([...open, ...recent], ctx, { tzFor: () => tz, showVenue: false, onChange: loadAlerts, empty: 'No open alerts.' }));
    } catch (e) {
      replace(alertsBox, notice('error', 'Could not load the alerts.', e.reason || e.message));
    }
  }

  // ---- posture ----
  if (can.posture) {
    postureBox.append(h('button.btn', { type: 'button', id: 'change-posture', onclick: () => formDialog({
      title: 'Change posture',
      intro: `${name} is at posture "${humanise(state?.posture || 'unknown')}".`,
      fields: [
        { name: 'posture', label: 'New posture', kind: 'select', value: state?.posture || 'normal',
          options: [['normal', 'Normal'], ['elevated', 'Elevated'], ['high', 'High']] },
        { name: 'note', label: 'Reason', kind: 'textarea', required: true, hint: 'Recorded in the audit log with your name.' },
      ],
      confirm: 'Set posture',
      onSubmit: async (v) => {
        await ctx.api.put(`/venues/${enc}/posture`, { posture: v.posture, note: v.note });
        replace(postureEl, postureBadge(v.posture));
      },
    }) }, 'Change posture…'));
  }

  // ---- incidents ----
  // The list comes from GET /venues/{id}/incidents (open ones first, with Close… for operators),
  // reloaded when an `incident` event arrives on the stream and after each report or close.
  const incidentWhat = (inc) => `${humanise(inc.kind)}${inc.exit ? ` at ${inc.exit}` : ''}${inc.level !== undefined && inc.kind === 'hazard' ? ` (level ${inc.level})` : ''}`;
  let incidentsSeq = 0;
  async function loadIncidents() {
    const seq = ++incidentsSeq;
    let list;
    try {
      list = (await ctx.api.get(`/venues/${enc}/incidents`)).incidents || [];
    } catch (e) {
      if (seq === incidentsSeq) replace(incidentLog, e.notAvailable ? null : h('li', notice('error', 'Could not load the incidents.', e.reason || e.message)));
      return;
    }
    if (seq !== incidentsSeq) return;
    const open = list.filter((i) => !i.closed_at).reverse();
    const closed = list.filter((i) => i.closed_at).slice(-5).reverse();
    openHazards = open.filter((i) => i.kind === 'hazard' && Array.isArray(i.polygon));
    paintHazards();
    replace(incidentLog, [...open, ...closed].map((inc) => h('li', { 'data-incident': inc.id, class: inc.closed_at ? 'closed' : 'open' },
      h('time', { datetime: inc.at || '' }, fmtTime(inc.at, tz)), ' ', h('strong', incidentWhat(inc)),
      inc.note ? `: ${inc.note}` : '', inc.by ? h('span.muted', ` – ${inc.by}`) : null,
      inc.closed_at ? h('span.muted', ` · closed ${fmtTime(inc.closed_at, tz)}${inc.closed_by ? ` by ${inc.closed_by}` : ''}${inc.close_note ? `: ${inc.close_note}` : ''}`)
        : can.incidents ? [' ', h('button.btn.btn-small.close-incident', { type: 'button', onclick: () => formDialog({
          title: 'Close incident',
          intro: `${incidentWhat(inc)}${inc.note ? `: ${inc.note}` : ''}. Routing guidance and the egress estimate are recomputed without it.`,
          fields: [{ name: 'note', label: 'Note', kind: 'textarea', required: true }],
          confirm: 'Close incident',
          onSubmit: async (v) => {
            const r = await ctx.api.post(`/venues/${enc}/incidents/${encodeURIComponent(inc.id)}/close`, { note: v.note });
            afterIncident(r);
          },
        }) }, 'Close…')] : null)));
    if (!list.length) incidentLog.append(h('li.muted', 'No incidents reported.'));
  }
  // The answer of a report or close carries the recomputed estimate: show it at once.
  function afterIncident(r) {
    if (r?.egress && state) applyState({ ...state, egress: r.egress, evacuation: r.incident?.kind === 'evacuation' ? true : state.evacuation });
    loadIncidents();
    poll();
  }
  loadIncidents();
  (async () => {
    if (!can.incidents) {
      replace(incidentsBox, h('p.muted', 'Your role can see incidents but not report them.'));
      return;
    }
    let offered;
    try {
      offered = await ctx.api.offers(`/venues/${enc}/incidents`, 'POST');
    } catch {
      offered = false;
    }
    if (!offered) {
      replace(incidentsBox, notAvailable('Incident reporting (blocked exit, hazard, evacuation)'));
      return;
    }
    const byKind = (k) => (doc.features || []).filter((f) => f.properties?.kind === k)
      .map((f) => [f.properties.id, `${f.properties.id}${f.properties.name ? ` – ${f.properties.name}` : ''}${k === 'door' ? ' (door)' : ''}`]);
    const exitOpts = [...byKind('exit'), ...byKind('door')];
    const zoneOpts = zoneFeatures.map((f) => [f.properties.id, f.properties.name || f.properties.id]);
    const report = (kind) => formDialog({
      title: { exit_blocked: 'Report a blocked exit', hazard: 'Report a hazard', evacuation: 'Start an evacuation' }[kind],
      intro: kind === 'evacuation' ? 'Routes and the clearance time are recomputed for everyone at once.' : 'Routing guidance and the egress estimate are recomputed at once.',
      fields: [
        kind === 'exit_blocked' ? { name: 'exit', label: 'Exit or door', kind: 'select', options: exitOpts, required: true } : null,
        kind === 'hazard' ? { name: 'zone', label: 'Where (zone)', kind: 'select', options: zoneOpts, required: true } : null,
        { name: 'note', label: 'Note', kind: 'textarea', required: true },
      ].filter(Boolean),
      confirm: kind === 'evacuation' ? 'Start evacuation' : 'Report',
      danger: kind === 'evacuation',
      onSubmit: async (v) => {
        const body = { kind, note: v.note };
        if (v.exit) body.exit = v.exit;
        if (v.zone) {
          const zf = zoneFeatures.find((f) => f.properties.id === v.zone);
          body.polygon = zf?.geometry.coordinates[0];
          body.level = zf?.properties.level ?? 0;
        }
        afterIncident(await ctx.api.post(`/venues/${enc}/incidents`, body));
      },
    });
    // A hazard drawn freehand on the plan of the level shown: corners by click (or keyboard),
    // then the note in the dialog; the outline is sent as the incident's polygon.
    const drawHazard = (opener) => {
      const plan = plans.get(level);
      const drawLevel = level;
      const status = h('span.draw-status', { 'aria-live': 'polite' });
      const done = () => { drawBar.hidden = true; replace(drawBar); };
      const finishBtn = h('button.btn.btn-primary.btn-small#draw-finish', { type: 'button', onclick: () => plan.isDrawing() && handle.finish() }, 'Finish');
      replace(drawBar,
        h('p.draw-help', h('strong', `Drawing a hazard on level ${drawLevel}. `),
          'Click its corners on the plan; double-click or press Enter to finish, Escape to cancel. ',
          'With the keyboard: arrows move the cursor (Shift: 5 m), Space adds a corner, Backspace removes the last.'),
        h('div.button-row', status, finishBtn,
          h('button.btn.btn-small#draw-undo', { type: 'button', onclick: () => handle.undo() }, 'Undo corner'),
          h('button.btn.btn-small#draw-cancel', { type: 'button', onclick: () => handle.cancel() }, 'Cancel')));
      drawBar.hidden = false;
      const handle = plan.startDrawing({
        onChange: (pts, problem) => {
          status.textContent = problem || `${pts.length} corner${pts.length === 1 ? '' : 's'}`;
          finishBtn.disabled = pts.length < 3;
        },
        onCancel: () => { done(); opener?.focus(); },
        onFinish: (ring) => {
          done();
          opener?.focus();
          let a = 0;
          for (let i = 1; i < ring.length; i++) a += ring[i - 1][0] * ring[i][1] - ring[i][0] * ring[i - 1][1];
          formDialog({
            title: 'Report a hazard',
            intro: `The drawn area on level ${drawLevel} (${ring.length - 1} corners, ${fmt1(Math.abs(a) / 2)} m²) becomes impassable; routing guidance and the egress estimate are recomputed at once.`,
            fields: [{ name: 'note', label: 'Note', kind: 'textarea', required: true }],
            confirm: 'Report',
            onSubmit: async (v) => {
              afterIncident(await ctx.api.post(`/venues/${enc}/incidents`, { kind: 'hazard', polygon: ring, level: drawLevel, note: v.note }));
            },
          });
        },
      });
    };
    replace(incidentsBox, h('div.button-row',
      h('button.btn#report-exit-blocked', { type: 'button', onclick: () => report('exit_blocked') }, 'Blocked exit…'),
      h('button.btn#report-hazard', { type: 'button', onclick: () => report('hazard') }, 'Hazard…'),
      h('button.btn#draw-hazard', { type: 'button', title: 'Draw the hazard area on the plan of the level shown', onclick: (ev) => drawHazard(ev.currentTarget) }, 'Draw hazard…'),
      h('button.btn.btn-danger#report-evacuation', { type: 'button', onclick: () => report('evacuation') }, 'Evacuation…')));
  })();

  // ---- live ----
  let pollTimer = null;
  async function poll() {
    try {
      applyState(await ctx.api.get(`/venues/${enc}/state`));
    } catch (e) {
      if (!state) replace(egressBox, notice('error', 'No live state.', e.reason || e.message));
    }
  }
  const startPolling = () => { if (!pollTimer) pollTimer = setInterval(poll, POLL_MS); };
  const stopPolling = () => { clearInterval(pollTimer); pollTimer = null; };
  poll();
  loadAlerts();
  const closeStream = openStream(`/stream?venue=${enc}`, {
    token: ctx.token,
    on: {
      state: applyState,
      alert: () => { loadAlerts(); ctx.refreshBanner(); },
      incident: () => loadIncidents(),
      warning: () => ctx.refreshBanner(),
    },
    onStatus: (st) => {
      live.className = `badge live-${st}`;
      live.textContent = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting (polling)', unavailable: 'Polling (no live stream)' }[st] || st;
      if (st === 'live') { stopPolling(); poll(); } else startPolling();
    },
  });
  const alertTimer = setInterval(loadAlerts, 10000);

  return () => { closeStream(); stopPolling(); clearInterval(alertTimer); };
}

function legend() {
  return h('div.legend', { 'aria-label': 'Legend' },
    h('p.legend-title', 'Level of service'),
    h('ul.legend-list', LOS.map(([k, label, c]) => h('li', swatch(c), ` ${k} ${label}`)), h('li', swatch(NO_DATA), ' no reading')),
    h('p.legend-title', 'Sensors'),
    h('ul.legend-list', SENSOR_STATUS.map(([k, label]) => h('li', h(`span.dot.dot-${k}`, { 'aria-hidden': 'true' }), ` ${label}`))),
    h('p.legend-title', 'Exits'),
    h('ul.legend-list', h('li', h('span.exit-swatch', { 'aria-hidden': 'true' }), ' exit, with its width'),
      h('li', h('span.exit-swatch.recommended', { 'aria-hidden': 'true' }), ' recommended for the selected zone'),
      h('li', h('span.door-swatch.bottleneck', { 'aria-hidden': 'true' }), ' bottleneck')));
}

function swatch(colour) {
  const el = h('span.swatch', { 'aria-hidden': 'true' });
  el.style.background = colour;
  return el;
}
