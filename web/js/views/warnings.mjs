// SPDX-License-Identifier: Apache-2.0
// CAP 1.2 warnings matched to gatherings, with specificity and acknowledgement of matches.

import { h, replace, notice } from '../dom.mjs';
import { fmtTime, fmt2, humanise } from '../format.mjs';
import { formDialog, notAvailable } from '../ui.mjs';

export const title = 'Warnings';

// The actions the server accepts (POST /warnings/{id}/matches/{gathering}/ack); no_action and other need a note.
const ACTIONS = [['raised_posture', 'Raised posture'], ['added_screening', 'Added screening'],
  ['cancelled', 'Cancelled the gathering'], ['no_action', 'No action needed (say why)'], ['other', 'Other (say what)']];
const NOTE_NEEDED = new Set(['no_action', 'other']);

// The server's warning objects may carry the CAP fields at the top or in a `cap` member (the
// parsed CAP alert: identifier, sender, sent, status, msgType, info[] with event, headline,
// urgency, severity, certainty, expires...). Read both.
const capOf = (w) => w.cap || w.alert || w;
const info0 = (w) => (capOf(w).info || [])[0] || {};
const wTitle = (w) => w.headline || info0(w).headline || w.event || info0(w).event || capOf(w).identifier || w.id;
const wSent = (w) => w.sent || capOf(w).sent || w.received_at;
const wExpires = (w) => w.expires || info0(w).expires;
/** specificity: a number, or { score, parts: [{ name, score, weight, explanation }] }. */
const specScore = (m) => (m && typeof m.specificity === 'object' && m.specificity ? m.specificity.score : m?.specificity);
function specParts(m) {
  const parts = (m.specificity && typeof m.specificity === 'object' && m.specificity.parts) || m.parts || [];
  if (Array.isArray(parts)) return parts.map((p) => [p.name, p.score ?? p.value, p.explanation || p.why || '', p.weight]);
  return Object.entries(parts).map(([k, v]) => (typeof v === 'object' && v ? [k, v.score ?? v.value, v.explanation || v.why || v.reason || '', v.weight] : [k, v, '', undefined]));
}
const ackOf = (m) => m.acknowledgement || m.ack || (m.acknowledged_at ? { by: m.acknowledged_by, at: m.acknowledged_at, action: m.action, note: m.note } : null);

export async function mount(root, ctx, id) {
  const body = h('div', h('p.muted', 'Loading warnings…'));
  root.append(h('div.view-head', h('div', id ? h('p.crumbs', h('a', { href: '#/warnings' }, 'Warnings'), ' / ') : null, h('h1', id ? 'Warning' : 'Warnings'))), body);
  if (id) return detail(body, ctx, id);

  let list;
  try {
    list = await ctx.api.get('/warnings');
  } catch (e) {
    replace(body, e.notAvailable ? notAvailable('Warnings (CAP 1.2, matched to gatherings)') : notice('error', 'Could not load the warnings.', e.reason || e.message));
    return null;
  }
  const warnings = list.warnings || [];
  replace(body,
    ctx.who?.can?.warnings_post ? postForm(ctx) : null,
    warnings.length ? h('table.table',
      h('thead', h('tr', ['Warning', 'Sent', 'State', 'Matches', 'Highest specificity', 'Unacknowledged'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', warnings.map((w) => h('tr', { 'data-warning': w.id },
        h('th', { scope: 'row' }, h('a', { href: `#/warnings/${encodeURIComponent(w.id)}` }, wTitle(w))),
        h('td', fmtTime(wSent(w), undefined, { date: true })),
        // The list carries no CAP body (so no expiry): the warning's state (active, updated, cancelled).
        h('td', w.state ? humanise(w.state) : fmtTime(wExpires(w), undefined, { date: true })),
        h('td.num', String(w.matches?.length ?? w.match_count ?? '–')),
        h('td', specificityBar(w.max_specificity ?? (w.matches?.length ? Math.max(...w.matches.map((m) => specScore(m) ?? 0)) : null))),
        h('td.num', String(w.unacknowledged ?? (w.matches ? w.matches.filter((m) => (m.state ? m.state === 'pending' : !ackOf(m))).length : '–')))))))
      : h('p.empty', 'No warnings received.'));
  return null;
}

async function detail(body, ctx, id) {
  let w;
  try {
    w = await ctx.api.get(`/warnings/${encodeURIComponent(id)}`);
  } catch (e) {
    replace(body, e.status === 404 ? notice('info', 'This warning was not found, or warnings are not available on this server yet.') : notice('error', 'Could not load the warning.', e.reason || e.message));
    return null;
  }
  const matches = w.matches || [];
  const can = ctx.who?.can || {};
  // Gathering names for the matches (ids when the list cannot be read).
  const names = new Map();
  try {
    for (const g of (await ctx.api.get('/gatherings')).gatherings || []) names.set(g.id, g.name);
  } catch { /* ids only */ }
  const gName = (m) => m.gathering_name || names.get(m.gathering) || m.gathering;
  replace(body,
    h('section.card', h('h2.card-title', wTitle(w)),
      h('dl.facts', [['Event', w.event || info0(w).event], ['Sender', w.sender || capOf(w).sender], ['Sent', wSent(w) && fmtTime(wSent(w), undefined, { date: true })],
        ['Expires', wExpires(w) && fmtTime(wExpires(w), undefined, { date: true })],
        ['Urgency', w.urgency || info0(w).urgency], ['Severity', w.severity || info0(w).severity], ['Certainty', w.certainty || info0(w).certainty],
        ['Status', w.status || capOf(w).status], ['Message type', w.msg_type || capOf(w).msgType],
        ['State', w.state && `${humanise(w.state)}${w.superseded_by ? ` (by ${w.superseded_by})` : ''}`], ['Received', w.received_at && `${fmtTime(w.received_at, undefined, { date: true })}${w.received_by ? ` from ${w.received_by}` : ''}`]]
        .filter(([, v]) => v).map(([k, v]) => [h('dt', k), h('dd', String(v))])),
      (w.description || info0(w).description) ? h('p', w.description || info0(w).description) : null,
      info0(w).instruction ? h('p', h('strong', 'Instruction: '), info0(w).instruction) : null),
    h('section.card', h('h2.card-title', 'Matched gatherings'),
      matches.length ? h('ul.match-list', matches.map((m) => {
        const ack = ackOf(m);
        const parts = specParts(m);
        return h('li.match', { 'data-gathering': m.gathering, 'data-state': m.state || '' },
          h('div.match-head', h('strong', gName(m)), m.venue ? ` at ${m.venue}` : '', ' ', specificityBar(specScore(m)), ' ', m.state ? h(`span.badge.match-${m.state}`, humanise(m.state)) : null),
          parts.length ? h('table.table.parts', h('caption.visually-hidden', 'How specific the match is'),
            h('thead', h('tr', h('th', { scope: 'col' }, 'Part'), h('th.num', { scope: 'col' }, 'Score'), h('th.num', { scope: 'col' }, 'Weight'), h('th', { scope: 'col' }, 'Why'))),
            h('tbody', parts.map(([name, score, why, weight]) => h('tr', h('th', { scope: 'row' }, humanise(name)), h('td.num', fmt2(score)), h('td.num', weight === undefined ? '–' : fmt2(weight)), h('td', why))))) : null,
          ack ? h('p.muted', `Acknowledged by ${ack.by || ack.acknowledged_by || '?'} at ${fmtTime(ack.at || ack.acknowledged_at, undefined, { date: true })}: ${humanise(ack.action)}${ack.note ? ` – ${ack.note}` : ''}`)
            : can.acknowledge && (!m.state || m.state === 'pending') ? h('button.btn.btn-primary.ack-match', { type: 'button', onclick: () => formDialog({
              title: 'Acknowledge warning match', intro: `${wTitle(w)} → ${gName(m)}`,
              fields: [{ name: 'action', label: 'Action taken', kind: 'select', options: ACTIONS, required: true },
                { name: 'note', label: 'Note', kind: 'textarea', hint: 'Required with "no action" and "other": say why.' }],
              confirm: 'Acknowledge',
              onSubmit: async (v) => {
                if (NOTE_NEEDED.has(v.action) && !String(v.note || '').trim()) throw Object.assign(new Error('note required'), { reason: 'Say why in the note (required with this action).', details: 'note: required' });
                await ctx.api.post(`/warnings/${encodeURIComponent(id)}/matches/${encodeURIComponent(m.gathering)}/ack`, v);
                detail(body, ctx, id);
              },
            }) }, 'Acknowledge with action…') : (!m.state || m.state === 'pending') ? h('p', h('span.badge.state-firing', 'Not acknowledged')) : null);
      })) : h('p.empty', 'No gathering matches this warning.')));
  return null;
}

function specificityBar(v) {
  if (v === undefined || v === null || Number.isNaN(+v)) return h('span.muted', '–');
  const fill = h('span.spec-fill');
  fill.style.width = `${Math.round(Math.max(0, Math.min(1, v)) * 100)}%`;
  return h('span.spec', { role: 'img', 'aria-label': `specificity ${fmt2(v)} of 1` }, h('span.spec-bar', fill), ` ${fmt2(v)}`);
}

function postForm(ctx) {
  const file = h('input#cap-file', { type: 'file', accept: '.xml,.cap,application/cap+xml,application/xml' });
  const text = h('textarea#cap-text', { rows: 6, spellcheck: 'false' });
  const out = h('div', { role: 'status' });
  file.addEventListener('change', async () => { if (file.files[0]) text.value = await file.files[0].text(); });
  return h('details.card', h('summary', 'Post a CAP 1.2 warning'),
    h('form', { onsubmit: async (e) => {
      e.preventDefault();
      if (!text.value.trim()) { replace(out, notice('error', 'Paste a CAP document or choose a file.')); return; }
      try {
        const r = await ctx.api.post('/warnings', text.value, { contentType: 'application/cap+xml' });
        replace(out, notice('info', 'Warning accepted.', r?.id ? h('a', { href: `#/warnings/${encodeURIComponent(r.id)}` }, 'Open it') : ''));
      } catch (err) {
        replace(out, err.notAvailable ? notAvailable('Posting warnings') : notice('error', 'The warning was rejected.', `${err.reason}${err.details ? ` (${err.details})` : ''}`));
      }
    } },
    h('div.field', h('label', { for: 'cap-file' }, 'CAP file'), file),
    h('div.field', h('label', { for: 'cap-text' }, 'or CAP XML'), text),
    h('div.actions', h('button.btn.btn-primary', { type: 'submit' }, 'Post warning')), out));
}
