// dashboard.js — a centre's completeness (GET /api/v1/centres/{centre}/completeness, the
// centre's part of `harmonic report --json`): rows and filled share per table, and the
// number of open data queries.  A manager sees its own centre; analysts and admins any
// centre, or "all".
import * as api from './api.js';
import { h, show, note, pct } from './dom.js';

export function centreOf(args) {
  const me = api.session();
  return args[0] || (api.isManager() ? me.centre : 'all');
}

// Analysts and admins choose the centre a page shows (a manager has its own only).
export function centrePicker(page, centre) {
  if (!api.isReader()) return null;
  return h('form', { id: 'pick', onsubmit: (e) => {
    e.preventDefault();
    location.hash = `#/${page}/${encodeURIComponent(e.target.elements.centre.value.trim())}`;
  } }, h('label', { for: 'centre' }, page === 'dashboard' ? 'Centre (or all)' : 'Centre'),
  h('input', { id: 'centre', name: 'centre', value: centre === 'all' && page !== 'dashboard'
                                                       ? '' : centre, required: true }),
  h('button', {}, 'Show'));
}

function centreView(c) {
  const rows = Object.entries(c.tables || {}).map(([name, t]) =>
    h('tr', { dataset: { table: name } },
      h('td', {}, name),
      h('td', { class: 'num rows' }, t.rows),
      h('td', { class: 'num' }, pct(t.completeness_pct))));
  const d = c.dosimetry || {};
  return h('section', { class: 'centre', dataset: { centre: c.centre_code } },
    h('h2', {}, c.centre_code),
    h('table', { class: 'completeness' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Table'), h('th', {}, 'Rows'),
                                 h('th', {}, 'Fields filled'))),
      h('tbody', {}, rows)),
    h('p', {}, `Irradiation events: ${d.events ?? 0}, with imputed inputs: ` +
               `${d.events_imputed ?? 0}.`));
}

export async function render(args) {
  const centre = centreOf(args);
  const res = await api.call('GET', `/api/v1/centres/${encodeURIComponent(centre)}/completeness`);
  const title = h('h1', {}, `Completeness: ${centre}`);
  if (!res.ok) {
    show(title, note('error', api.problem(res)));
    return;
  }
  const q = centre === 'all' ? { ok: false }
    : await api.call('GET', `/api/v1/centres/${encodeURIComponent(centre)}/queries?status=open`);
  const open = q.ok ? q.data.queries.length : null;
  const picker = centrePicker('dashboard', centre);
  const centres = res.data.centres || [];
  show(title, picker,
    open === null ? null
      : h('p', { id: 'open-queries' }, h('a', { href: `#/queries/${centre}` },
          `${open} open data ${open === 1 ? 'query' : 'queries'}`)),
    centres.length ? centres.map(centreView)
                   : note('info', 'No data from this centre yet.'));
}
