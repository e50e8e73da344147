// Undo/redo over whole-document snapshots. Every edit goes through `History.perform`, so undo covers
// Delete, drags, trims, splits and inspector changes alike. The editor state in `view` (playhead,
// zoom) is not part of a step: undoing a trim does not move the playhead back.

const DEFAULT_LIMIT = 200;

function snapshot(doc) {
  const copy = JSON.parse(JSON.stringify(doc));
  delete copy.view;
  return copy;
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class History {
  constructor({ limit = DEFAULT_LIMIT } = {}) {
    this.limit = limit;
    this.done = [];
    this.undone = [];
  }

  /**
   * Run `mutate(doc)`; when it changed the document, remember the step under `label`.
   * Returns what `mutate` returned. A mutation that throws leaves the document as it was. Steps with
   * the same `coalesce` key in a row merge into one.
   */
  perform(doc, label, mutate, { coalesce = null } = {}) {
    const before = snapshot(doc);
    let result;
    try {
      result = mutate(doc);
    } catch (error) {
      restore(doc, before);
      throw error;
    }
    const after = snapshot(doc);
    if (!same(before, after)) {
      // Typing in one field is one step, not one per key.
      const last = this.done[this.done.length - 1];
      if (coalesce && last && last.coalesce === coalesce && !this.undone.length) {
        last.after = after;
        return result;
      }
      this.done.push({ label, before, after, coalesce });
      if (this.done.length > this.limit) this.done.shift();
      this.undone = [];
    }
    return result;
  }

  get canUndo() {
    return this.done.length > 0;
  }

  get canRedo() {
    return this.undone.length > 0;
  }

  get undoLabel() {
    return this.canUndo ? this.done[this.done.length - 1].label : null;
  }

  get redoLabel() {
    return this.canRedo ? this.undone[this.undone.length - 1].label : null;
  }

  /** Put `doc` back as it was before the last step; returns that step's label (null when none). */
  undo(doc) {
    const step = this.done.pop();
    if (!step) return null;
    restore(doc, step.before);
    this.undone.push(step);
    return step.label;
  }

  redo(doc) {
    const step = this.undone.pop();
    if (!step) return null;
    restore(doc, step.after);
    this.done.push(step);
    return step.label;
  }

  clear() {
    this.done = [];
    this.undone = [];
  }
}

/** Replace `doc`'s contents in place (the editor keeps one object), keeping its `view`. */
export function restore(doc, saved) {
  const view = doc.view;
  for (const key of Object.keys(doc)) delete doc[key];
  Object.assign(doc, JSON.parse(JSON.stringify(saved)));
  if (view !== undefined) doc.view = view;
}
