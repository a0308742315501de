// history.js — undo and redo over the scenario's text: every change, from
// the diagram, a form or the YAML view, is one entry, so one undo works
// the same whichever view made the change.
export class History {
  constructor(limit = 200) {
    this.items = [];
    this.index = -1;
    this.limit = limit;
  }
  reset(text) { this.items = [text]; this.index = 0; }
  push(text) {
    if (this.items[this.index] === text) return;
    this.items.splice(this.index + 1);
    this.items.push(text);
    if (this.items.length > this.limit) this.items.shift();
    this.index = this.items.length - 1;
  }
  canUndo() { return this.index > 0; }
  canRedo() { return this.index < this.items.length - 1; }
  undo() { return this.canUndo() ? this.items[--this.index] : null; }
  redo() { return this.canRedo() ? this.items[++this.index] : null; }
}
