// The timeline: one row per track, clips drawn to scale with filmstrip frames, a ruler with markers,
// a playhead, zoom. It only draws and reports gestures; the editor owns the document.

import { formatTimecode } from "../format.js";
import { h } from "../ui.js";
import { trimLimit } from "./edit.js";
import { clipEnd, clipLength, r6, snapStart } from "./model.js";

export const BASE_PX_PER_SECOND = 60;
export const MIN_ZOOM = 0.1;
export const MAX_ZOOM = 20;
const HEAD_WIDTH = 150;
const LANE_HEIGHT = 56;
const TICK_STEPS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600];

export function clampZoom(zoom) {
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, Number(zoom) || 1));
}

function tickStep(pxPerSecond) {
  return TICK_STEPS.find((step) => step * pxPerSecond >= 70) || 600;
}

function clipLabel(clip, asset) {
  if ("text" in clip) return clip.text || "(empty text)";
  return asset ? asset.name : "Missing media";
}

export class TimelineView {
  /** `editor` gives doc, assets (Map), selection, problems and the callbacks used below. */
  constructor(root, editor) {
    this.root = root;
    this.editor = editor;
    this.scroll = root.querySelector(".tl-scroll");
    this.canvas = h("div", { class: "tl-canvas" });
    this.scroll.append(this.canvas);
    this.drag = null;
    this.scroll.addEventListener("keydown", (event) => this._onKey(event));
    this.scroll.addEventListener("wheel", (event) => {
      if (!event.ctrlKey) return;
      event.preventDefault();
      this.editor.setZoom(this.zoom * (event.deltaY < 0 ? 1.25 : 0.8));
    }, { passive: false });
  }

  get zoom() {
    return clampZoom((this.editor.doc.view || {}).zoom);
  }

  get pps() {
    return BASE_PX_PER_SECOND * this.zoom;
  }

  render() {
    const { doc, assets } = this.editor;
    const focusedClip = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.clipId : null;
    const pps = this.pps;
    const length = this.editor.length();
    const visibleSeconds = Math.max(length + 10, (this.scroll.clientWidth - HEAD_WIDTH) / pps, 10);
    const laneWidth = Math.ceil(visibleSeconds * pps);
    this.canvas.replaceChildren();
    this.canvas.style.width = `${HEAD_WIDTH + laneWidth}px`;
    this.canvas.append(this._ruler(laneWidth, visibleSeconds));
    if (!doc.tracks.length) {
      this.canvas.append(h("p", { class: "tl-empty" },
        "No tracks yet. Add media from the bin, or add a text clip or a track above."));
    }
    // Listed top to bottom as they stack: the last track of the document is drawn on top, so it comes first.
    doc.tracks.map((track, index) => this._track(track, index, laneWidth, assets)).reverse()
      .forEach((row) => this.canvas.append(row));
    const time = Number((doc.view || {}).current_time) || 0;
    this.canvas.append(h("div", { class: "tl-playhead", style: { left: `${HEAD_WIDTH + time * pps}px` },
      "aria-hidden": "true" }));
    if (focusedClip) {
      const again = this.canvas.querySelector(`[data-clip-id="${CSS.escape(focusedClip)}"]`);
      if (again) again.focus({ preventScroll: true });
    }
  }

  _ruler(laneWidth, seconds) {
    const pps = this.pps;
    const step = tickStep(pps);
    const ruler = h("div", { class: "tl-ruler", style: { width: `${laneWidth}px` },
      title: "Click or drag to move the playhead" });
    for (let t = 0, i = 0; t <= seconds + 1e-9; i += 1, t = r6(i * step)) {
      ruler.append(h("span", { class: "tl-tick", style: { left: `${t * pps}px` } },
        step >= 1 || i % 2 === 0 ? formatTimecode(t).replace(/\.00$/, "") : ""));
    }
    const problems = this.editor.problems;
    (this.editor.doc.markers || []).forEach((marker, index) => {
      const selected = this.editor.selection && this.editor.selection.markerIndex === index;
      const invalid = problems.some((p) => p.markerIndex === index);
      ruler.append(h("button", {
        type: "button",
        class: `tl-marker${selected ? " selected" : ""}${invalid ? " has-error" : ""}`,
        style: { left: `${Number(marker.time) * pps}px` },
        "aria-label": `Marker ${marker.label || index + 1} at ${formatTimecode(marker.time)}`,
        "aria-pressed": selected ? "true" : "false",
        onclick: (event) => {
          event.stopPropagation();
          this.editor.select({ markerIndex: index });
        },
        onpointerdown: (event) => event.stopPropagation(),
      }, marker.label || `Marker ${index + 1}`));
    });
    ruler.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      // Seeking redraws the ruler and may scroll the view, so the gesture is followed on the window and
      // the time is read from the (persistent) canvas's position at each move: the playhead stays under
      // the pointer even when the view scrolls under it.
      const seek = (clientX) => {
        const left = this.canvas.getBoundingClientRect().left + HEAD_WIDTH;
        this.editor.setTime(Math.max(0, (clientX - left) / this.pps));
      };
      const move = (e) => seek(e.clientX);
      const up = () => {
        window.removeEventListener("pointermove", move);
        window.removeEventListener("pointerup", up);
        window.removeEventListener("pointercancel", up);
      };
      window.addEventListener("pointermove", move);
      window.addEventListener("pointerup", up);
      window.addEventListener("pointercancel", up);
      seek(event.clientX);
    });
    return h("div", { class: "tl-row tl-ruler-row" },
      h("div", { class: "tl-head tl-corner" }, formatTimecode((this.editor.doc.view || {}).current_time)),
      ruler);
  }

  _track(track, index, laneWidth, assets) {
    const editor = this.editor;
    const kindLabel = { video: "Video", audio: "Audio", text: "Text" }[track.kind] || track.kind;
    const state = editor.trackState(track.id);
    const name = state.name || `${kindLabel} ${track.id}`;
    const count = editor.doc.tracks.length;
    const toggle = (label, key, pressed, title) => h("button", { type: "button", class: `tl-toggle small${pressed ? " on" : ""}`,
      "aria-pressed": pressed ? "true" : "false", "aria-label": `${title} ${name}`, title: `${title} ${name}`,
      onclick: () => editor.setTrackSwitch(track.id, key, !pressed) },
    label);
    const nameInput = h("input", { class: "tl-track-name-input", value: name, "aria-label": `Name of track ${track.id}`,
      dataset: { trackName: track.id } });
    nameInput.addEventListener("change", () => editor.setTrackName(track.id, nameInput.value.trim()));
    nameInput.addEventListener("keydown", (event) => { if (event.key === "Enter") nameInput.blur(); });
    const head = h("div", { class: `tl-head kind-${track.kind}`, draggable: "true", dataset: { trackId: track.id } },
      h("span", { class: `tl-track-kind kind-${track.kind}`, "aria-hidden": "true" }, kindLabel[0]),
      nameInput,
      h("div", { class: "tl-track-tools" },
        track.kind !== "text" ? toggle("M", "muted", Boolean(track.muted), "Mute") : null,
        track.kind !== "text" ? toggle("S", "solo", Boolean(state.solo), "Solo") : null,
        track.kind !== "audio" ? toggle("H", "hidden", Boolean(state.hidden), "Hide") : null,
        toggle("L", "locked", Boolean(state.locked), "Lock"),
        h("button", { type: "button", class: "tl-toggle small", disabled: index === 0, "aria-label": `Move ${name} down`,
          title: "Move down (drawn earlier)", onclick: () => editor.moveTrack(track.id, index - 1) }, "↓"),
        h("button", { type: "button", class: "tl-toggle small", disabled: index === count - 1, "aria-label": `Move ${name} up`,
          title: "Move up (drawn on top)", onclick: () => editor.moveTrack(track.id, index + 1) }, "↑"),
        !track.clips.length ? h("button", { type: "button", class: "tl-toggle small", "aria-label": `Remove empty track ${track.id}`,
          title: "Remove this empty track", onclick: () => editor.removeTrack(track.id) }, "×") : null));
    head.addEventListener("dragstart", (event) => {
      if (event.target !== head) return;
      event.dataTransfer.setData("application/x-cutline-track", track.id);
      event.dataTransfer.effectAllowed = "move";
    });
    head.addEventListener("dragover", (event) => {
      if (![...event.dataTransfer.types].includes("application/x-cutline-track")) return;
      event.preventDefault();
      head.classList.add("drop-target");
    });
    head.addEventListener("dragleave", () => head.classList.remove("drop-target"));
    head.addEventListener("drop", (event) => {
      const moving = event.dataTransfer.getData("application/x-cutline-track");
      if (!moving) return;
      event.preventDefault();
      editor.moveTrack(moving, index);
    });
    const lane = h("div", { class: `tl-lane lane-${track.kind}${state.hidden ? " is-hidden" : ""}${state.locked ? " is-locked" : ""}`,
      style: { width: `${laneWidth}px` },
      dataset: { trackId: track.id, trackKind: track.kind }, role: "list", "aria-label": `Track ${name}` });
    lane.addEventListener("dragover", (event) => {
      if (![...event.dataTransfer.types].includes("application/x-cutline-asset")) return;
      event.preventDefault();
      lane.classList.add("drop-target");
    });
    lane.addEventListener("dragleave", () => lane.classList.remove("drop-target"));
    lane.addEventListener("drop", (event) => {
      lane.classList.remove("drop-target");
      const assetId = event.dataTransfer.getData("application/x-cutline-asset");
      if (!assetId) return;
      event.preventDefault();
      const rect = lane.getBoundingClientRect();
      editor.addAssetToTrack(assetId, track.id, Math.max(0, (event.clientX - rect.left) / this.pps));
    });
    lane.addEventListener("pointerdown", (event) => {
      if (event.target === lane) editor.select(null);
    });
    for (const clip of track.clips) lane.append(this._clip(track, clip, assets.get(clip.asset_id)));
    return h("div", { class: "tl-row tl-track",
      dataset: { trackIndex: String(index), trackId: track.id } }, head, lane);
  }

  _clip(track, clip, asset) {
    const pps = this.pps;
    const length = clipLength(clip, asset);
    const width = Math.max(6, length * pps);
    const selected = this.editor.selection && this.editor.selection.clipId === clip.id;
    const picked = selected || this.editor.extraSelection.has(clip.id);
    const problems = this.editor.problems.filter((p) => p.clipId === clip.id);
    const label = clipLabel(clip, asset);
    const element = h("div", {
      class: `tl-clip clip-${track.kind}${picked ? " selected" : ""}${problems.length ? " has-error" : ""}`,
      style: { left: `${Number(clip.start) * pps}px`, width: `${width}px` },
      role: "listitem",
      tabindex: "0",
      dataset: { clipId: clip.id },
      "aria-label": `${label}, clip ${clip.id}, starts at ${formatTimecode(clip.start)}, lasts ${length.toFixed(2)} s`
        + (problems.length ? `, has ${problems.length} problem${problems.length > 1 ? "s" : ""}` : ""),
      "aria-current": selected ? "true" : null,
      title: problems.length ? problems.map((p) => p.message).join("\n") : label,
    });
    if (asset && (asset.filmstrip_url || asset.thumbnail_url) && track.kind === "video") {
      element.append(this._filmstrip(clip, asset, width));
    } else if (asset && asset.thumbnail_url && track.kind === "audio") {
      // An audio asset's thumbnail is its waveform: show the part the clip plays.
      element.append(h("div", { class: "tl-waveform", "aria-hidden": "true", style: {
        backgroundImage: `url("${asset.thumbnail_url}")`,
        backgroundSize: `${(Number(asset.duration) || length) * pps}px 100%`,
        backgroundPosition: `-${(Number(clip.in) || 0) * pps}px 0`,
      } }));
    }
    const transition = clip.transition;
    if (transition && transition.type) {
      element.append(h("span", {
        class: `tl-transition transition-${transition.type}`,
        style: { width: `${Math.min(width, Number(transition.duration || 0) * pps)}px` },
        title: `${transition.type === "crossfade" ? "Crossfade" : "Fade"} ${Number(transition.duration).toFixed(2)} s`,
      }));
    }
    element.append(h("span", { class: "tl-clip-label" }, label));
    if (problems.length) element.append(h("span", { class: "tl-clip-error", "aria-hidden": "true" }, "!"));
    for (const edge of ["start", "end"]) {
      const handle = h("span", { class: `tl-trim tl-trim-${edge}`, "aria-hidden": "true", title: `Drag to trim the ${edge}` });
      handle.addEventListener("pointerdown", (event) => this._startTrim(event, clip, edge, element));
      element.append(handle);
    }
    element.addEventListener("pointerdown", (event) => this._startDrag(event, track, clip, asset, element));
    element.addEventListener("click", (event) => {
      if (!this.drag || !this.drag.moved) this.editor.select({ clipId: clip.id }, { add: event.shiftKey || event.ctrlKey || event.metaKey });
    });
    return element;
  }

  /** Every clip edge and the playhead: where trims and moves snap. */
  _snapEdges(except) {
    const edges = [0, Number(this.editor.doc.view.current_time) || 0];
    for (const track of this.editor.doc.tracks) {
      for (const other of track.clips) {
        if (other === except) continue;
        edges.push(Number(other.start), clipEnd(other, this.editor.assets.get(other.asset_id)));
      }
    }
    return edges;
  }

  _startTrim(event, clip, edge, element) {
    if (event.button !== 0) return;
    event.stopPropagation();
    event.preventDefault();
    const editor = this.editor;
    const pps = this.pps;
    const asset = editor.assets.get(clip.asset_id);
    const startX = event.clientX;
    const original = edge === "start" ? Number(clip.start) : clipEnd(clip, asset);
    const edges = this._snapEdges(clip);
    const badge = h("span", { class: "tl-trim-badge", role: "status" });
    element.append(badge);
    element.classList.add("trimming");
    this.drag = { moved: false };
    const drag = this.drag;
    let result = null;
    const move = (e) => {
      drag.moved = true;
      result = trimLimit(editor.doc, clip.id, edge, original + (e.clientX - startX) / pps, editor.assets,
        { fps: editor.fps, tolerance: 8 / pps, edges, ripple: editor.ripple });
      if (!result) return;
      const start = edge === "start" ? result.time : Number(clip.start);
      const end = edge === "end" ? result.time : clipEnd(clip, asset);
      element.style.left = `${start * pps}px`;
      element.style.width = `${Math.max(6, (end - start) * pps)}px`;
      badge.textContent = `${edge === "start" ? "In" : "Out"} ${formatTimecode(result.time)} · ${(end - start).toFixed(2)} s`;
      badge.classList.toggle("snapped", result.snapped);
    };
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      window.removeEventListener("pointercancel", up);
      if (drag.moved && result && Math.abs(result.time - original) > 1e-6) {
        editor.selection = { clipId: clip.id };
        editor.trimClip(clip.id, edge, result.time);
      } else {
        badge.remove();
        element.classList.remove("trimming");
      }
      setTimeout(() => { this.drag = null; }, 0);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    window.addEventListener("pointercancel", up);
  }

  /** Frames of the asset's filmstrip sprite, each showing the source moment under it. */
  _filmstrip(clip, asset, width) {
    const strip = h("div", { class: "tl-filmstrip", "aria-hidden": "true" });
    const frames = Number(asset.filmstrip_frames) || 0;
    const aspect = asset.width && asset.height ? asset.width / asset.height : 16 / 9;
    const tileHeight = LANE_HEIGHT - 4;
    const tileWidth = Math.max(16, Math.round(tileHeight * aspect));
    if (!asset.filmstrip_url || frames < 1 || asset.kind === "image") {
      strip.style.backgroundImage = `url("${asset.thumbnail_url}")`;
      strip.style.backgroundSize = `${tileWidth}px ${tileHeight}px`;
      return strip;
    }
    const count = Math.min(80, Math.max(1, Math.ceil(width / tileWidth)));
    const duration = Number(asset.duration) || 1;
    const pps = this.pps;
    for (let k = 0; k < count; k += 1) {
      const sourceTime = Number(clip.in || 0) + ((k + 0.5) * tileWidth) / pps;
      const index = Math.min(frames - 1, Math.max(0, Math.floor((sourceTime / duration) * frames)));
      strip.append(h("span", {
        class: "tl-frame",
        style: {
          width: `${tileWidth}px`,
          backgroundImage: `url("${asset.filmstrip_url}")`,
          backgroundSize: `${frames * tileWidth}px ${tileHeight}px`,
          backgroundPosition: `-${index * tileWidth}px 0`,
        },
      }));
    }
    return strip;
  }

  _startDrag(event, track, clip, asset, element) {
    if (event.button !== 0) return;
    const startX = event.clientX;
    const original = Number(clip.start) || 0;
    const pps = this.pps;
    this.drag = { moved: false };
    const drag = this.drag;
    let proposed = original;
    let targetTrackId = track.id;
    const move = (e) => {
      const dx = e.clientX - startX;
      if (!drag.moved && Math.abs(dx) < 4 && Math.abs(e.clientY - event.clientY) < 8) return;
      drag.moved = true;
      element.classList.add("dragging");
      proposed = snapStart(this.editor.doc, clip, this.editor.assets, original + dx / pps, {
        tolerance: 8 / pps, playhead: Number((this.editor.doc.view || {}).current_time) || 0 });
      element.style.left = `${proposed * pps}px`;
      element.dataset.dragTime = formatTimecode(proposed);
      const under = document.elementsFromPoint(e.clientX, e.clientY).find((node) => node.classList
        && node.classList.contains("tl-lane"));
      targetTrackId = under && under.dataset.trackKind === track.kind ? under.dataset.trackId : track.id;
      this.canvas.querySelectorAll(".tl-lane.drop-target").forEach((lane) => lane.classList.remove("drop-target"));
      if (under && targetTrackId !== track.id) under.classList.add("drop-target");
    };
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      window.removeEventListener("pointercancel", up);
      if (drag.moved) {
        this.editor.selection = { clipId: clip.id }; // the dragged clip is the one being worked on
        this.editor.moveClip(clip.id, { start: proposed, trackId: targetTrackId });
        setTimeout(() => { this.drag = null; }, 0);
      } else {
        this.drag = null;
      }
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    window.addEventListener("pointercancel", up);
  }

  _onKey(event) {
    const editor = this.editor;
    const clipId = event.target.dataset ? event.target.dataset.clipId : null;
    const step = event.shiftKey ? 1 : 0.1;
    const frame = 1 / editor.fps;
    if (clipId) {
      const found = editor.findClip(clipId);
      if (!found) return;
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        editor.select({ clipId });
      } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
        event.preventDefault();
        const delta = event.key === "ArrowLeft" ? -step : step;
        editor.moveClip(clipId, { start: Math.max(0, Number(found.clip.start) + delta) });
      } else if (event.key === "Delete" || event.key === "Backspace") {
        event.preventDefault();
        editor.deleteClip(clipId);
      }
      return;
    }
    const time = Number((editor.doc.view || {}).current_time) || 0;
    if (event.key === "ArrowLeft") editor.setTime(Math.max(0, time - (event.shiftKey ? 1 : frame)));
    else if (event.key === "ArrowRight") editor.setTime(time + (event.shiftKey ? 1 : frame));
    else if (event.key === "+" || event.key === "=") editor.setZoom(this.zoom * 1.25);
    else if (event.key === "-") editor.setZoom(this.zoom * 0.8);
    else return;
    event.preventDefault();
  }

  /** While playing: move the playhead without redrawing the tracks. */
  movePlayhead(time) {
    const line = this.canvas.querySelector(".tl-playhead");
    if (line) line.style.left = `${HEAD_WIDTH + time * this.pps}px`;
    const corner = this.canvas.querySelector(".tl-corner");
    if (corner) corner.textContent = formatTimecode(time);
    this.scrollToTime(time);
  }

  scrollToTime(time) {
    const x = Number(time) * this.pps;
    const left = this.scroll.scrollLeft;
    const visible = this.scroll.clientWidth - HEAD_WIDTH;
    if (x < left || x > left + visible - 20) this.scroll.scrollLeft = Math.max(0, x - visible / 3);
  }
}
