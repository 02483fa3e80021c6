// api.js — the one place that talks to the server (openapi/harmonic.yaml).
//
// Signed in with a password, the browser holds the session cookie (HttpOnly: this code
// never sees it) and every request other than GET/HEAD carries the session's CSRF token
// in X-CSRF-Token.  Signed in with an API token instead, the token goes in an
// Authorization header; it is kept in memory only (a reload signs out).

let csrf = null;
let token = null;
let me = null;

export const session = () => me;

// {status, ok, data}: data is the parsed JSON body (or {error: text}).
export async function call(method, path, { json, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (csrf && method !== 'GET' && method !== 'HEAD') h['X-CSRF-Token'] = csrf;
  let payload = body;
  if (json !== undefined) {
    payload = JSON.stringify(json);
    h['Content-Type'] = 'application/json';
  }
  let r;
  try {
    r = await fetch(path, { method, headers: h, body: payload, credentials: 'same-origin',
                            cache: 'no-store' });
  } catch (e) {
    return { status: 0, ok: false, data: { error: `no answer from the server (${e.message})` } };
  }
  const text = await r.text();
  let data;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: text };
  }
  return { status: r.status, ok: r.ok, data };
}

function remember(res) {
  if (!res.ok) return res;
  me = res.data;
  csrf = me.csrf_token || null;
  return res;
}

// POST /api/v1/session: 200 {user, role, centre, csrf_token, expires_at} or 401.
export async function signIn(user, password) {
  token = null;
  return remember(await call('POST', '/api/v1/session', { json: { user, password } }));
}

// The same account description for an API token (hm_...).
export async function signInToken(t) {
  token = t;
  const res = remember(await call('GET', '/api/v1/session'));
  if (!res.ok) token = null;
  return res;
}

// A session that survives a reload (the cookie): GET /api/v1/session.
export async function resume() {
  return remember(await call('GET', '/api/v1/session'));
}

export async function signOut() {
  const res = token ? { ok: true } : await call('DELETE', '/api/v1/session');
  me = null;
  csrf = null;
  token = null;
  return res;
}

export const isReader = () => me && (me.role === 'analyst' || me.role === 'admin');
export const isManager = () => me && me.role === 'centre_manager';

// A readable line for a refused request.
export function problem(res) {
  const what = res.data && res.data.error ? res.data.error : 'request failed';
  return res.status ? `${res.status}: ${what}` : what;
}
