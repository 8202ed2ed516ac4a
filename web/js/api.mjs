// SPDX-License-Identifier: Apache-2.0
// The operations API (/api/v1): JSON over fetch with the bearer token.

export const BASE = '/api/v1';

export class ApiError extends Error {
  constructor(status, body, method, path) {
    const reason = (body && (body.error || body.message)) || `HTTP ${status}`;
    super(`${method} ${path}: ${reason}`);
    this.status = status;
    this.body = body;
    this.reason = reason;
  }

  /**
   * The server does not offer this endpoint (yet). With the dashboard served, an unknown path
   * falls to the static-file route (GET only): 404 for a GET, 405 for any other method.
   */
  get notAvailable() {
    return this.status === 404 || this.status === 405 || this.status === 501;
  }

  /** Field errors of a 400: "note: required; ...". */
  get details() {
    const errs = (this.body && this.body.errors) || [];
    return errs.map((e) => (e.path ? `${e.path}: ${e.error}` : e.error)).join('; ');
  }
}

export function createApi({ token, onUnauthorised }) {
  async function call(method, path, body, { contentType } = {}) {
    const headers = { Authorization: `Bearer ${token()}`, Accept: 'application/json' };
    let payload;
    if (body !== undefined) {
      if (typeof body === 'string') {
        headers['Content-Type'] = contentType || 'text/plain';
        payload = body;
      } else {
        headers['Content-Type'] = 'application/json';
        payload = JSON.stringify(body);
      }
    }
    let res;
    try {
      res = await fetch(BASE + path, { method, headers, body: payload, cache: 'no-store', credentials: 'omit' });
    } catch (e) {
      throw new ApiError(0, { error: `server unreachable (${e.message})` }, method, path);
    }
    const text = await res.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = { error: text.slice(0, 200) };
      }
    }
    if (res.status === 401 && onUnauthorised) onUnauthorised();
    if (!res.ok) throw new ApiError(res.status, data, method, path);
    return data;
  }

  return {
    get: (p) => call('GET', p),
    post: (p, b, o) => call('POST', p, b ?? {}, o),
    put: (p, b, o) => call('PUT', p, b, o),
    /**
     * Whether the server offers `method path`, without side effects. GET: a GET that is not
     * 404/405/501. Other methods: an OPTIONS request, whose 405 answer lists in Allow the
     * methods the path has (the router answers it before any handler or authentication).
     */
    async offers(p, method = 'GET') {
      if (method === 'GET') {
        try {
          await call('GET', p);
          return true;
        } catch (e) {
          if (e.status === 0) throw e;
          return !e.notAvailable;
        }
      }
      const res = await fetch(BASE + p, { method: 'OPTIONS', headers: { Authorization: `Bearer ${token()}` }, cache: 'no-store', credentials: 'omit' });
      const allow = res.headers.get('Allow');
      if (allow !== null) return allow.split(',').map((m) => m.trim().toUpperCase()).includes(method);
      return res.ok;
    },
    /** whoami with a token that is not (yet) the session's. */
    async whoamiWith(tok) {
      const res = await fetch(`${BASE}/whoami`, { headers: { Authorization: `Bearer ${tok}` }, cache: 'no-store', credentials: 'omit' });
      const text = await res.text();
      let data = null;
      try {
        data = text ? JSON.parse(text) : null;
      } catch {
        data = { error: text.slice(0, 200) };
      }
      if (!res.ok) throw new ApiError(res.status, data, 'GET', '/whoami');
      return data;
    },
  };
}
