// SPDX-License-Identifier: Apache-2.0
// Shared pieces: badges, the alert list with acknowledge/resolve, the form dialog.

import { h, replace, notice } from './dom.mjs';
import { fmtTime, humanise } from './format.mjs';

export function describeAlert(a) {
  return `${a.venue}${a.zone ? ` / ${a.zone}` : ''}: ${a.message || humanise(a.rule)}`;
}

export const postureBadge = (p) => h(`span.badge.posture-${p || 'unknown'}`, humanise(p || 'unknown'));
/** The server says `warn` (older drafts of the contract: `warning`). */
export const severityName = (s) => (s === 'warn' ? 'warning' : s || 'unknown');
export const severityBadge = (s) => h(`span.badge.sev-${severityName(s)}`, severityName(s));
export const stateBadge = (s) => h(`span.badge.state-${s}`, s === 'firing' ? 'unacknowledged' : humanise(s));

/**
 * A modal form in the page's <dialog>. fields: [{name, label, kind: 'textarea'|'select'|'text',
 * options: [[value, label]], required, value, hint}]. onSubmit(values) may throw an ApiError,
 * shown in the dialog. Resolves true when submitted, false when cancelled.
 */
export function formDialog({ title, intro, fields, confirm, onSubmit, danger = false }) {
  const dialog = document.getElementById('dialog');
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const error = h('div.form-error', { role: 'alert' });
    const inputs = {};
    const rows = fields.map((f, i) => {
      const id = `dlg-${f.name}-${i}`;
      let input;
      if (f.kind === 'select') {
        input = h('select', { id, name: f.name, required: f.required },
          f.options.map(([v, l]) => h('option', { value: v, selected: v === f.value }, l)));
      } else if (f.kind === 'textarea') {
        input = h('textarea', { id, name: f.name, rows: 3, required: f.required, maxlength: 2000 });
        if (f.value) input.value = f.value;
      } else {
        input = h('input', { id, name: f.name, type: 'text', required: f.required, value: f.value });
      }
      inputs[f.name] = input;
      return h('div.field', h('label', { for: id }, f.label, f.required ? h('span.req', ' (required)') : null),
        f.hint ? h('p.hint', f.hint) : null, input);
    });
    const submit = h(`button.btn.${danger ? 'btn-danger' : 'btn-primary'}`, { type: 'submit' }, confirm);
    const cancel = h('button.btn', { type: 'button', onclick: () => dialog.close('cancel') }, 'Cancel');
    const form = h('form.dialog-form', { method: 'dialog', novalidate: true },
      h('h2#dialog-title', title), intro ? h('p', intro) : null, ...rows, error,
      h('div.actions', submit, cancel));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const values = {};
      for (const [k, el] of Object.entries(inputs)) values[k] = el.value.trim();
      const missing = fields.filter((f) => f.required && !values[f.name]);
      if (missing.length) {
        replace(error, `Please fill in: ${missing.map((f) => f.label.toLowerCase()).join(', ')}.`);
        inputs[missing[0].name].focus();
        return;
      }
      submit.disabled = true;
      replace(error);
      try {
        await onSubmit(values);
        dialog.close('ok');
      } catch (e) {
        replace(error, e.status === 403 ? 'Your role may not do this.'
          : e.notAvailable ? 'This server does not offer this yet.' : `${e.reason || e.message}${e.details ? ` (${e.details})` : ''}`);
        submit.disabled = false;
      }
    });
    replace(dialog, form);
    dialog.addEventListener('close', () => {
      replace(dialog);
      if (opener && opener.isConnected) opener.focus();
      resolve(dialog.returnValue === 'ok');
    }, { once: true });
    dialog.returnValue = '';
    dialog.showModal();
    (Object.values(inputs)[0] || submit).focus();
  });
}

/**
 * The alert list with acknowledge / resolve (for roles that may). opts: { zoneFor(id) -> tz,
 * showVenue, onChange }.
 */
export function alertList(alerts, ctx, { tzFor = () => undefined, showVenue = true, onChange = () => {}, empty = 'No alerts.' } = {}) {
  if (!alerts.length) return h('p.empty', empty);
  const can = ctx.who?.can || {};
  const order = { firing: 0, acknowledged: 1, resolved: 2 };
  const sorted = alerts.slice().sort((a, b) => (order[a.state] - order[b.state])
    || ((b.severity === 'critical') - (a.severity === 'critical')) || String(b.since).localeCompare(String(a.since)));
  return h('ul.alert-list', sorted.map((a) => {
    const tz = tzFor(a.venue);
    const act = (verb) => formDialog({
      title: `${verb === 'ack' ? 'Acknowledge' : 'Resolve'} alert`,
      intro: describeAlert(a),
      fields: [{ name: 'note', label: 'Note', kind: 'textarea', required: true,
        hint: verb === 'ack' ? 'What you are doing about it; it goes to the audit log with your name.' : 'Why it is resolved.' }],
      confirm: verb === 'ack' ? 'Acknowledge' : 'Resolve',
      onSubmit: async ({ note }) => {
        await ctx.api.post(`/alerts/${encodeURIComponent(a.id)}/${verb}`, { note });
        onChange();
        ctx.refreshBanner();
      },
    });
    const buttons = [];
    if (a.state === 'firing' && can.acknowledge) {
      buttons.push(h('button.btn.btn-primary.ack', { type: 'button', 'data-alert': a.id, onclick: () => act('ack') }, 'Acknowledge'));
    }
    if (a.state !== 'resolved' && can.resolve) {
      buttons.push(h('button.btn.resolve', { type: 'button', 'data-alert': a.id, onclick: () => act('resolve') }, 'Resolve'));
    }
    return h(`li.alert-item.alert-${a.state}.alert-sev-${severityName(a.severity)}`, { 'data-alert': a.id, 'data-zone': a.zone || '' },
      h('div.alert-head', severityBadge(a.severity), stateBadge(a.state),
        h('span.alert-what', showVenue ? `${a.venue} · ` : '', a.zone ? `${a.zone} · ` : '', a.sensor ? `sensor ${a.sensor} · ` : '', humanise(a.rule))),
      a.message ? h('p.alert-msg', a.message) : null,
      h('p.alert-meta', 'Since ', h('time', { datetime: a.since }, fmtTime(a.since, tz)),
        a.acknowledged_by ? [' · acknowledged by ', h('strong', a.acknowledged_by), ' at ',
          h('time', { datetime: a.acknowledged_at }, fmtTime(a.acknowledged_at, tz))] : null),
      a.note ? h('p.alert-note', h('span.muted', 'Note: '), a.note) : null,
      a.state === 'resolved' && (a.resolved_by || a.resolved_at) ? h('p.alert-meta', 'Resolved',
        a.resolved_by ? [' by ', h('strong', a.resolved_by)] : ' automatically (the condition cleared)',
        a.resolved_at ? [' at ', h('time', { datetime: a.resolved_at }, fmtTime(a.resolved_at, tz))] : null) : null,
      a.resolution_note ? h('p.alert-note', h('span.muted', 'Resolution: '), a.resolution_note) : null,
      buttons.length ? h('div.alert-actions', buttons) : null);
  }));
}

/** "Not available on this server yet" for a feature whose endpoint answered 404. */
export function notAvailable(what, more) {
  return notice('info', `${what} is not available on this server yet.`,
    more || 'This server does not offer the endpoint. The view will work once the server is updated; nothing needs to change here.');
}
