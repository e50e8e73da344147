// Transform on the canvas: pick a picture or a title in the preview, drag it to move, drag a corner to scale, drag
// the round handle above it to rotate. While dragging only the preview redraws; letting go is one undoable
// step. With keyframes on a property, the gesture sets the keyframe at the playhead.

import { DEFAULT_TRANSFORM, insideBox, keyframeSet, transformAt } from "./compose.js";
import { findClip, r6 } from "./model.js";

const HANDLE = 7; // px, in canvas pixels
const ROTATE_OFFSET = 22;

function corners(box) {
  const angle = (box.rotation * Math.PI) / 180;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const at = (dx, dy) => [box.cx + dx * cos - dy * sin, box.cy + dx * sin + dy * cos];
  const w = box.width / 2;
  const hgt = box.height / 2;
  return { nw: at(-w, -hgt), ne: at(w, -hgt), se: at(w, hgt), sw: at(-w, hgt), rotate: at(0, -hgt - ROTATE_OFFSET) };
}

export class CanvasTransform {
  constructor(preview, editor) {
    this.preview = preview;
    this.editor = editor;
    this.canvas = preview.canvas;
    this.gesture = null;
    preview.overlay = (ctx) => this._drawHandles(ctx);
    this.canvas.addEventListener("pointerdown", (event) => this._down(event));
    this.canvas.addEventListener("pointermove", (event) => this._hover(event));
  }

  _point(event) {
    const rect = this.canvas.getBoundingClientRect();
    return [(event.clientX - rect.left) * (this.canvas.width / rect.width),
      (event.clientY - rect.top) * (this.canvas.height / rect.height)];
  }

  _selected() {
    const id = this.editor.selection && this.editor.selection.clipId;
    if (!id) return null;
    return this.preview.boxesAt().find((entry) => entry.clip.id === id) || null;
  }

  _handleAt(box, x, y) {
    const points = corners(box);
    for (const [name, [hx, hy]] of Object.entries(points)) {
      if (Math.hypot(hx - x, hy - y) <= HANDLE + 3) return name;
    }
    return insideBox(box, x, y) ? "move" : null;
  }

  _hover(event) {
    if (this.gesture) return;
    const selected = this._selected();
    const [x, y] = this._point(event);
    const handle = selected ? this._handleAt(selected.box, x, y) : null;
    const cursors = { move: "move", rotate: "grab", nw: "nwse-resize", se: "nwse-resize", ne: "nesw-resize", sw: "nesw-resize" };
    this.canvas.style.cursor = handle ? cursors[handle] : "default";
  }

  _down(event) {
    if (event.button !== 0 || this.preview.playing) return;
    const [x, y] = this._point(event);
    let target = this._selected();
    let handle = target ? this._handleAt(target.box, x, y) : null;
    if (!handle) {
      // The topmost picture under the pointer becomes the selection.
      target = this.preview.boxesAt().reverse().find((entry) => insideBox(entry.box, x, y)) || null;
      if (!target) return;
      this.editor.select({ clipId: target.clip.id });
      handle = "move";
    }
    if (this.editor._lockedIds().has(target.track.id)) return;
    event.preventDefault();
    this.preview.editing();
    this.canvas.setPointerCapture(event.pointerId);
    const clip = findClip(this.editor.doc, target.clip.id).clip;
    const local = this.preview.time - Number(clip.start || 0);
    this.gesture = { clip, handle, startX: x, startY: y, box: { ...target.box }, local,
      before: JSON.parse(JSON.stringify({ transform: clip.transform, keyframes: clip.keyframes })),
      start: transformAt(clip, local), moved: false };
    const move = (e) => this._move(e);
    const up = (e) => {
      this.canvas.removeEventListener("pointermove", move);
      this.canvas.removeEventListener("pointerup", up);
      this.canvas.removeEventListener("pointercancel", up);
      this._up(e);
    };
    this.canvas.addEventListener("pointermove", move);
    this.canvas.addEventListener("pointerup", up);
    this.canvas.addEventListener("pointercancel", up);
  }

  _move(event) {
    const g = this.gesture;
    if (!g) return;
    const [x, y] = this._point(event);
    if (!g.moved && Math.hypot(x - g.startX, y - g.startY) < 2) return;
    g.moved = true;
    const { width, height } = this.canvas;
    const changes = {};
    if (g.handle === "move") {
      changes.x = r6(Math.min(2, Math.max(-1, (g.box.cx + x - g.startX) / width)));
      changes.y = r6(Math.min(2, Math.max(-1, (g.box.cy + y - g.startY) / height)));
    } else if (g.handle === "rotate") {
      const angle = (Math.atan2(y - g.box.cy, x - g.box.cx) * 180) / Math.PI + 90;
      changes.rotation = Math.round(event.shiftKey ? Math.round(angle / 15) * 15 : angle);
      if (!g.start.givenX) Object.assign(changes, { x: r6(g.box.cx / width), y: r6(g.box.cy / height) });
    } else {
      const from = Math.hypot(g.startX - g.box.cx, g.startY - g.box.cy) || 1;
      const to = Math.hypot(x - g.box.cx, y - g.box.cy);
      changes.scale = r6(Math.min(10, Math.max(0.01, g.start.scale * (to / from))));
      if (!g.start.givenX) Object.assign(changes, { x: r6(g.box.cx / width), y: r6(g.box.cy / height) });
    }
    this._apply(g.clip, g.local, changes);
    this.preview.draw();
  }

  /** Write `changes` into the clip: into the keyframe at the playhead for keyframed properties. */
  _apply(clip, local, changes) {
    const t = r6(Math.max(0, local));
    const base = { ...DEFAULT_TRANSFORM, ...(clip.transform || {}) };
    for (const [prop, value] of Object.entries(changes)) {
      const keyed = clip.keyframes && clip.keyframes[prop] && clip.keyframes[prop].length;
      if (keyed) keyframeSet(clip, prop, t, value);
      else base[prop] = value;
    }
    clip.transform = base;
  }

  _up() {
    const g = this.gesture;
    this.gesture = null;
    if (!g || !g.moved) return;
    // Put the clip back as it was, then make the same change as one undoable step.
    const after = JSON.parse(JSON.stringify({ transform: g.clip.transform, keyframes: g.clip.keyframes }));
    restore(g.clip, g.before);
    const label = g.handle === "move" ? "Move on canvas" : g.handle === "rotate" ? "Rotate" : "Scale";
    this.editor.updateClip(g.clip.id, (clip) => restore(clip, after), { label });
  }

  _drawHandles(ctx) {
    if (this.preview.playing) return;
    const selected = this._selected();
    if (!selected) return;
    const { box } = selected;
    const points = corners(box);
    ctx.save();
    ctx.strokeStyle = "#ffd166";
    ctx.fillStyle = "#ffd166";
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(...points.nw);
    for (const name of ["ne", "se", "sw", "nw"]) ctx.lineTo(...points[name]);
    ctx.stroke();
    for (const name of ["nw", "ne", "se", "sw"]) ctx.fillRect(points[name][0] - HANDLE / 2, points[name][1] - HANDLE / 2, HANDLE, HANDLE);
    const top = [(points.nw[0] + points.ne[0]) / 2, (points.nw[1] + points.ne[1]) / 2];
    ctx.beginPath();
    ctx.moveTo(...top);
    ctx.lineTo(...points.rotate);
    ctx.stroke();
    ctx.beginPath();
    ctx.arc(points.rotate[0], points.rotate[1], HANDLE / 2 + 1, 0, Math.PI * 2);
    ctx.fill();
    ctx.restore();
  }
}

function restore(clip, saved) {
  for (const key of ["transform", "keyframes"]) {
    if (saved[key] === undefined) delete clip[key];
    else clip[key] = JSON.parse(JSON.stringify(saved[key]));
  }
}

