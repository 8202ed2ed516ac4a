// SPDX-License-Identifier: Apache-2.0
// Sign in by pasting a token (made with `vigil token create`); kept in sessionStorage only.

import { h, replace, notice } from '../dom.mjs';

export const title = 'Sign in';

export function mount(root, ctx) {
  const message = ctx.takeSignOutMessage();
  const error = h('div.form-error', { role: 'alert' });
  const input = h('input#token', { type: 'password', name: 'token', autocomplete: 'off', spellcheck: 'false',
    required: true, 'aria-describedby': 'token-hint' });
  const button = h('button.btn.btn-primary', { type: 'submit' }, 'Sign in');
  const form = h('form.signin', { novalidate: true },
    h('h1', 'Sign in to Vigil'),
    message ? notice('info', message) : null,
    h('div.field',
      h('label', { for: 'token' }, 'Access token'),
      h('p.hint#token-hint', 'Paste the token you were given (made with ', h('code', 'vigil token create'),
        '). It is kept in this browser tab only and forgotten when the tab closes.'),
      input),
    error,
    h('div.actions', button));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const token = input.value.trim();
    if (!token) {
      replace(error, 'Enter a token.');
      input.focus();
      return;
    }
    button.disabled = true;
    replace(error);
    try {
      await ctx.signIn(token);
    } catch (e) {
      replace(error, e.status === 401 ? 'This token is not recognised (unknown or revoked).'
        : e.status === 403 ? 'This token may not use the dashboard.' : `Could not sign in: ${e.reason || e.message}`);
      button.disabled = false;
      input.select();
    }
  });
  root.append(h('section.panel.signin-panel', form));
  input.focus();
}
