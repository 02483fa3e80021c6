// overview.js — the pooled cohort for analysts and admins (GET /api/v1/pooled/overview):
// patients and person-years per centre, and two bar charts drawn with uPlot (copied from
// web/node_modules at build time; without it the numbers are shown as tables only).
import * as api from './api.js';
import { h, show, note } from './dom.js';

let uPlot = null;
async function loadUplot() {
  if (uPlot) return uPlot;
  try {
    uPlot = (await import('/web/uPlot.esm.js')).default;
  } catch {
    uPlot = null;
  }
  return uPlot;
}

// Bin labels: "0.1–0.2", …, "≥ 1000".
function labels(edges) {
  return edges.map((e, i) => (i + 1 < edges.length ? `${e}–${edges[i + 1]}` : `≥ ${e}`));
}

// One series: bars.  Several (organs): step outlines over the same bins, so no organ
// hides another.
function barChart(U, el, title, names, series, unit) {
  const colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
  const one = series.length === 1;
  const paths = one ? U.paths.bars({ size: [0.8, 80] }) : U.paths.stepped({ align: 1 });
  // Steps need the bin's right edge too: x runs over bin starts, one more at the end.
  const x = names.map((_, i) => (one ? i : i - 0.5));
  const ys = series.map((s) => s.counts.slice());
  if (!one) {
    x.push(names.length - 0.5);
    ys.forEach((y) => y.push(y[y.length - 1]));
  }
  const opts = {
    title, width: 760, height: 320,
    scales: { x: { time: false, range: [-0.5, names.length - 0.5] } },
    axes: [
      { splits: () => names.map((_, i) => i), values: (u, splits) => splits.map((i) => names[i]),
        label: unit, rotate: -45, size: 80 },
      { label: 'count' },
    ],
    series: [{ label: 'bin', value: (u, v) => names[Math.round(v)] ?? '' },
             ...series.map((s, i) => ({ label: s.label, stroke: colours[i % 5],
                                        fill: one ? colours[i % 5] + 'aa' : undefined,
                                        width: 2, paths, points: { show: false } }))],
  };
  return new U(opts, [x, ...ys], el);
}

function centresTable(d) {
  const row = (c, cls) => h('tr', { class: cls, dataset: { centre: c.centre_code || 'total' } },
    h('td', {}, c.centre_code || 'all centres'),
    h('td', { class: 'num patients' }, c.patients),
    h('td', { class: 'num' }, c.patients_followed),
    h('td', { class: 'num py' }, Number(c.person_years).toFixed(1)));
  return h('table', { id: 'centres' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Centre'), h('th', {}, 'Patients'),
                               h('th', {}, 'With follow-up'), h('th', {}, 'Person-years'))),
    h('tbody', {}, d.centres.map((c) => row(c, '')), row(d.totals, 'total')));
}

function countsTable(id, names, series) {
  return h('table', { id, class: 'counts' },
    h('thead', {}, h('tr', {}, h('th', {}, 'bin'), series.map((s) => h('th', {}, s.label)))),
    h('tbody', {}, names.map((n, i) => h('tr', {}, h('td', {}, n),
      series.map((s) => h('td', { class: 'num' }, s.counts[i]))))));
}

export async function render() {
  const title = h('h1', {}, 'Pooled cohort');
  if (!api.isReader()) {
    show(title, note('info', 'The pooled overview is for analysts and admins.'));
    return;
  }
  const res = await api.call('GET', '/api/v1/pooled/overview');
  if (!res.ok) {
    show(title, note('error', api.problem(res)));
    return;
  }
  const d = res.data;
  const doseNames = labels(d.dose.edges_mgy);
  const organs = Object.entries(d.dose.counts).map(([label, counts]) => ({ label, counts }));
  const fuNames = labels(d.followup.edges_years);
  const fu = [{ label: 'patients', counts: d.followup.counts }];
  const doseEl = h('div', { id: 'dose-chart', class: 'chart' });
  const fuEl = h('div', { id: 'followup-chart', class: 'chart' });
  show(title, centresTable(d),
    h('h2', {}, 'Organ doses per procedure (best estimate)'), doseEl,
    h('details', {}, h('summary', {}, 'Numbers'), countsTable('dose-counts', doseNames, organs)),
    h('h2', {}, 'Follow-up per patient'), fuEl,
    h('details', {}, h('summary', {}, 'Numbers'), countsTable('followup-counts', fuNames, fu)));
  const U = await loadUplot();
  if (!U) {
    doseEl.append(note('info', 'Charts need uPlot (npm ci in web/, then rebuild).'));
    return;
  }
  barChart(U, doseEl, 'Procedures by organ dose', doseNames, organs, 'mGy');
  barChart(U, fuEl, 'Patients by years of follow-up', fuNames, fu, 'years');
}
