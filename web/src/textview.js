// textview.js — the YAML text beside the diagram: edits here are parsed
// (debounced) and become the document; changes made elsewhere are written
// here. Lines with problems are marked in the gutter.
import { debounce, h } from './dom.js';

export class TextView {
  constructor(onText) {
    this.area = h('textarea', { class: 'yaml-text', spellcheck: 'false', wrap: 'off', 'aria-label': 'scenario YAML' });
    this.gutter = h('pre', { class: 'gutter', 'aria-hidden': 'true' });
    this.status = h('div', { class: 'text-status' });
    this.el = h('div', { class: 'textview' }, h('div', { class: 'text-wrap' }, this.gutter, this.area), this.status);
    this.marks = new Map();
    const changed = debounce(() => onText(this.area.value), 500);
    this.area.addEventListener('input', () => { this.renderGutter(); changed(); });
    this.area.addEventListener('blur', () => changed.flush());
    this.area.addEventListener('scroll', () => { this.gutter.scrollTop = this.area.scrollTop; });
    this.changed = changed;
  }
  set(text) {
    if (this.area.value === text) return;
    const top = this.area.scrollTop;
    this.area.value = text;
    this.area.scrollTop = top;
    this.renderGutter();
  }
  // Lines (1-based) with problems: line -> 'error' | 'warning'.
  mark(lines) { this.marks = lines; this.renderGutter(); }
  renderGutter() {
    const n = this.area.value.split('\n').length;
    let s = '';
    for (let i = 1; i <= n; i++) s += `${this.marks.has(i) ? (this.marks.get(i) === 'error' ? '●' : '○') : ' '}${i}\n`;
    this.gutter.textContent = s;
    this.gutter.scrollTop = this.area.scrollTop;
  }
  goto(line, col = 1) {
    const lines = this.area.value.split('\n');
    let pos = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
    const end = pos + (lines[line - 1] || '').length;
    this.area.focus();
    this.area.setSelectionRange(pos + Math.max(0, col - 1), end);
    const lh = parseFloat(getComputedStyle(this.area).lineHeight) || 16;
    this.area.scrollTop = Math.max(0, (line - 5) * lh);
  }
}
