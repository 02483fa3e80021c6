// queries.js — a centre's open data queries (GET /api/v1/centres/{centre}/queries?status=
// open) and, for its manager, an answer form per query (POST /api/v1/queries/{id}/answer:
// an answer, optionally a corrected value with its reason).
import * as api from './api.js';
import { h, show, note } from './dom.js';
import { centreOf, centrePicker } from './dashboard.js';

function keyText(key) {
  return key && typeof key === 'object'
    ? Object.entries(key).map(([k, v]) => `${k} ${v}`).join(', ') : String(key);
}

function answerForm(q, done) {
  const answer = h('textarea', { name: 'answer', required: true, rows: 2 });
  const value = h('input', { name: 'value', placeholder: 'leave empty: no change' });
  const reason = h('input', { name: 'reason', placeholder: 'needed with a new value' });
  const status = h('div', { class: 'answer-status' });
  return h('form', { class: 'answer', onsubmit: async (e) => {
    e.preventDefault();
    const body = { answer: answer.value };
    if (value.value !== '') body.value = value.value;
    if (reason.value !== '') body.reason = reason.value;
    const res = await api.call('POST', `/api/v1/queries/${q.id}/answer`, { json: body });
    if (res.ok) done(`Query ${q.id} answered${res.data.corrected ? ' and corrected' : ''}.`);
    else status.replaceChildren(note('error', api.problem(res)));
  } },
    h('label', {}, 'Answer', answer),
    h('label', {}, `New value of ${q.field}`, value),
    h('label', {}, 'Reason', reason),
    h('button', { type: 'submit' }, 'Answer'), status);
}

export async function render(args, message) {
  const centre = centreOf(args);
  const title = h('h1', {}, `Open data queries: ${centre}`);
  const picker = centrePicker('queries', centre);
  if (centre === 'all') {
    show(title, picker, note('info', 'Choose a centre.'));
    return;
  }
  const res = await api.call('GET',
    `/api/v1/centres/${encodeURIComponent(centre)}/queries?status=open`);
  if (!res.ok) {
    show(title, picker, note('error', api.problem(res)));
    return;
  }
  const list = res.data.queries;
  const again = (msg) => render(args, msg);
  show(title, picker, message ? note('ok', message) : null,
    list.length ? list.map((q) => h('article', { class: 'query', dataset: { id: q.id } },
      h('h2', {}, `Query ${q.id}: ${q.table}.${q.field}`),
      h('p', { class: 'record' }, `Record: ${keyText(q.key)}`),
      h('blockquote', {}, q.text),
      h('p', { class: 'meta' }, `Opened by ${q.opened_by} at ${q.opened_at}`),
      api.isManager() ? answerForm(q, again) : null))
      : note('info', 'No open queries.'));
}
