// dom.js — building elements without HTML strings: every text from the
// scenario or the network goes in as text, never as markup.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function debounce(fn, ms) {
  let t = null;
  const d = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => { t = null; fn(...args); }, ms);
  };
  d.flush = (...args) => { clearTimeout(t); t = null; fn(...args); };
  d.cancel = () => { clearTimeout(t); t = null; };
  return d;
}

export function fmtSeconds(s) {
  if (s === undefined || s === null || Number.isNaN(s)) return '';
  return `${Number(s).toFixed(Number(s) < 10 ? 1 : 0)}s`;
}

// A modal dialog; resolves with the value of the button pressed.
export function dialog(title, body, buttons) {
  return new Promise((resolve) => {
    const close = (v) => { back.remove(); resolve(v); };
    const back = h('div', { class: 'modal-back' },
      h('div', { class: 'modal', role: 'dialog', 'aria-label': title },
        h('h2', {}, title), body,
        h('div', { class: 'modal-buttons' },
          buttons.map((b) => h('button', { class: b.primary ? 'primary' : '', 'data-value': b.value,
            onclick: () => close(b.value) }, b.label)))));
    back.addEventListener('keydown', (e) => { if (e.key === 'Escape') close(null); });
    document.body.append(back);
    const first = back.querySelector('input, textarea, button.primary, button');
    if (first) first.focus();
  });
}
