// app.js — sign-in and the page router (#/upload, #/dashboard[/CENTRE], #/queries[/CENTRE],
// #/overview).  Each page is a module with render(args) that fills <main id="app">.
import * as api from './api.js';
import { h, show, note } from './dom.js';
import * as upload from './upload.js';
import * as dashboard from './dashboard.js';
import * as queries from './queries.js';
import * as overview from './overview.js';

const pages = { upload, dashboard, queries, overview };

function signInPage(message) {
  const user = h('input', { id: 'user', name: 'user', autocomplete: 'username', required: true });
  const pass = h('input', { id: 'password', name: 'password', type: 'password',
                            autocomplete: 'current-password', required: true });
  const tok = h('input', { id: 'token', name: 'token', autocomplete: 'off',
                           placeholder: 'hm_…' });
  const status = h('div', { id: 'signin-status' }, message ? note('error', message) : null);
  const form = h('form', { id: 'signin', onsubmit: async (e) => {
    e.preventDefault();
    status.replaceChildren(note('info', 'Signing in…'));
    const res = tok.value.trim() ? await api.signInToken(tok.value.trim())
                                 : await api.signIn(user.value, pass.value);
    if (!res.ok) {
      status.replaceChildren(note('error', res.status === 401
        ? 'Wrong user name or password.' : api.problem(res)));
      return;
    }
    pass.value = '';
    tok.value = '';
    signedIn();
  } },
    h('h1', {}, 'Sign in'),
    h('label', { for: 'user' }, 'User'), user,
    h('label', { for: 'password' }, 'Password'), pass,
    h('details', {}, h('summary', {}, 'Or an API token'),
      h('label', { for: 'token' }, 'Token (from harmonic user token)'), tok),
    h('button', { type: 'submit' }, 'Sign in'),
    status);
  document.getElementById('nav').hidden = true;
  document.getElementById('signout').hidden = true;
  document.getElementById('who').textContent = '';
  show(form);
  user.focus();
}

function header() {
  const me = api.session();
  document.getElementById('who').textContent =
    `${me.user} (${me.role.replace('_', ' ')}${me.centre ? `, ${me.centre}` : ''})`;
  document.getElementById('nav').hidden = false;
  document.getElementById('signout').hidden = false;
  // Links a role cannot use are left out (the server refuses them anyway).
  for (const a of document.querySelectorAll('#nav a')) {
    const p = a.dataset.page;
    a.hidden = (p === 'upload' && !api.isManager()) || (p === 'overview' && !api.isReader());
  }
}

function defaultPage() {
  return api.isReader() ? '#/overview' : '#/dashboard';
}

async function route() {
  if (!api.session()) return signInPage();
  header();
  const [, name, ...args] = (location.hash || '').split('/');
  const page = pages[name];
  if (!page) {
    location.hash = defaultPage();
    return;
  }
  for (const a of document.querySelectorAll('#nav a'))
    a.classList.toggle('current', a.dataset.page === name);
  show(note('info', 'Loading…'));
  try {
    await page.render(args.map(decodeURIComponent));
  } catch (e) {
    show(note('error', `This page failed: ${e.message}`));
  }
}

function signedIn() {
  if (!location.hash || location.hash === '#/' || location.hash === '#/signin')
    location.hash = defaultPage();
  else
    route();
}

window.addEventListener('hashchange', route);
document.getElementById('signout').addEventListener('click', async () => {
  await api.signOut();
  location.hash = '#/signin';
  signInPage();
});

// A session cookie from before a reload still works.
const res = await api.resume();
if (res.ok) signedIn();
else signInPage();
