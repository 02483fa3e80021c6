// dom.js — elements built with text nodes only: data from the server is never parsed as
// HTML (no innerHTML), so a field value cannot inject markup or script.

// h('tag', {attr: value, onclick: fn}, child, ...): children are nodes, strings or arrays.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Replaces the page's content.
export function show(...nodes) {
  const app = document.getElementById('app');
  app.replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined &&
                                                           n !== false));
  return app;
}

// A status line: kind is 'ok', 'error' or 'info'.
export function note(kind, text) {
  return h('p', { class: `note ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

// "12.3 %" or "–" for null.
export function pct(v) {
  return v === null || v === undefined ? '–' : `${Number(v).toFixed(1)} %`;
}
