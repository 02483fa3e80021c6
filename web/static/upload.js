// upload.js — a centre manager submits one CSV table: the raw file is the request body
// (POST /api/v1/centres/{centre}/tables/{table}, X-Harmonic-Reason), and the validation
// report the server sends back (the same as `harmonic import --report-json`) is shown
// row by row and field by field.
import * as api from './api.js';
import { h, show, note } from './dom.js';

// Tables that centres submit, in dictionary order (tables.json is written at build time
// from data/dictionary.csv: every table not computed by harmonic).
async function tables() {
  try {
    const r = await fetch('/web/tables.json', { cache: 'no-cache' });
    if (r.ok) return await r.json();
  } catch { /* fall through */ }
  return ['centre', 'patient', 'procedure', 'followup', 'organ_dose'];
}

// The report: a summary, then one table row per issue, grouped by CSV line.
export function reportView(rep, httpStatus) {
  const issues = (rep.issues || []).slice().sort((a, b) => a.line - b.line);
  const ok = httpStatus === 200;
  const summary = h('p', { id: 'report-summary', class: `note ${ok ? 'ok' : 'error'}` },
    ok ? `Stored: ${rep.rows_stored} of ${rep.rows_read} rows of ${rep.table} ` +
         `(${rep.warnings} warnings).`
       : `Refused: ${rep.errors} errors in ${rep.rows_read} rows; nothing was stored ` +
         '(a submission is all or nothing).');
  if (!issues.length) return h('section', { id: 'report' }, summary);
  const body = [];
  let last = null;
  for (const is of issues) {
    const first = is.line !== last;
    last = is.line;
    body.push(h('tr', { class: `issue ${is.severity}`,
                        dataset: { line: is.line, field: is.field || '' } },
      h('td', { class: 'line' }, first ? (is.line > 0 ? `line ${is.line}` : 'file') : ''),
      h('td', { class: 'field' }, is.field || '–'),
      h('td', { class: 'severity' }, is.severity),
      h('td', { class: 'message' }, is.message)));
  }
  return h('section', { id: 'report' }, summary,
    h('table', { class: 'issues' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Row'), h('th', {}, 'Field'),
                                 h('th', {}, 'Severity'), h('th', {}, 'Problem'))),
      h('tbody', {}, body)));
}

export async function render() {
  const me = api.session();
  if (!api.isManager()) {
    show(h('h1', {}, 'Upload'), note('info', 'Only a centre manager submits tables.'));
    return;
  }
  const names = await tables();
  const table = h('select', { id: 'table', name: 'table' },
    names.map((t) => h('option', { value: t, selected: t === 'patient' }, t)));
  const file = h('input', { id: 'file', name: 'file', type: 'file', accept: '.csv,text/csv',
                            required: true });
  const reason = h('input', { id: 'reason', name: 'reason', required: true,
                              placeholder: 'e.g. monthly submission' });
  const out = h('div', { id: 'upload-result' });
  const button = h('button', { type: 'submit' }, 'Submit');
  const form = h('form', { id: 'upload', onsubmit: async (e) => {
    e.preventDefault();
    if (!file.files.length) return;
    // HTTP header values are Latin-1: anything else cannot be sent as the reason.
    if (!/^[\x20-\x7e\u00a0-\u00ff]*$/.test(reason.value)) {
      out.replaceChildren(note('error', 'The reason must be plain text (Latin-1).'));
      return;
    }
    button.disabled = true;
    out.replaceChildren(note('info', `Sending ${file.files[0].name}…`));
    const res = await api.call('POST',
      `/api/v1/centres/${encodeURIComponent(me.centre)}/tables/${encodeURIComponent(table.value)}`,
      { body: file.files[0], headers: { 'Content-Type': 'text/csv',
                                        'X-Harmonic-Reason': reason.value } });
    button.disabled = false;
    if ((res.status === 200 || res.status === 422) && res.data && res.data.issues)
      out.replaceChildren(reportView(res.data, res.status));
    else
      out.replaceChildren(note('error', api.problem(res)));
  } },
    h('label', { for: 'table' }, 'Table'), table,
    h('label', { for: 'file' }, 'CSV file'), file,
    h('label', { for: 'reason' }, 'Reason (kept in the audit trail)'), reason,
    button);
  show(h('h1', {}, `Upload a table for ${me.centre}`), form, out);
}
