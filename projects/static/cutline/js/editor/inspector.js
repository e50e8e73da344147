// The side panel: edit the selected clip or marker, or the project's output when nothing is selected.

import { formatSeconds, formatTimecode } from "../format.js";
import { h } from "../ui.js";
import { DEFAULT_TRANSFORM, keyframeAt, keyframeRemove, keyframeSet, textAnimated, transformAt } from "./compose.js";
import { clipLength, r6, usesDuration } from "./model.js";

let fieldCounter = 0;

const OUTPUT_FORMATS = [["mp4", "MP4 (H.264)"], ["mp4_hevc", "MP4 (HEVC)"], ["webm", "WebM (VP9/Opus)"],
  ["mov_prores", "QuickTime ProRes 422"], ["gif", "GIF (up to 30 s)"], ["mp3", "MP3 (sound only)"],
  ["wav", "WAV (sound only)"], ["png", "PNG (one frame)"]];

function numberField({ label, value, field, min = 0, max = null, step = 0.01, onCommit, problems, hint = null }) {
  fieldCounter += 1;
  const id = `field-${field.replace(/\W/g, "-")}-${fieldCounter}`;
  const errors = problems.filter((p) => p.field === field || (p.field && p.field.startsWith(`${field}.`)));
  const input = h("input", {
    id, type: "number", step: String(step), min: min == null ? null : String(min), max: max == null ? null : String(max),
    inputmode: "decimal", dataset: { field }, "aria-invalid": errors.length ? "true" : null,
    "aria-describedby": errors.length ? `${id}-error` : (hint ? `${id}-hint` : null),
  });
  input.value = value == null ? "" : String(value);
  input.addEventListener("change", () => {
    const number = Number(input.value);
    if (input.value.trim() === "" || !Number.isFinite(number)) {
      input.value = value == null ? "" : String(value);
      return;
    }
    onCommit(number);
  });
  return h("div", { class: `field${errors.length ? " invalid" : ""}` },
    h("label", { for: id }, label), input,
    hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null,
    errors.length ? h("p", { class: "field-error", id: `${id}-error` }, errors.map((p) => p.message).join(" ")) : null);
}

function selectField({ label, value, field, options, onCommit, problems }) {
  fieldCounter += 1;
  const id = `field-${field.replace(/\W/g, "-")}-${fieldCounter}`;
  const errors = problems.filter((p) => p.field === field || (p.field && p.field.startsWith(`${field}.`)));
  const select = h("select", { id, dataset: { field }, "aria-invalid": errors.length ? "true" : null },
    options.map(([optionValue, optionLabel]) => h("option", { value: optionValue }, optionLabel)));
  select.value = value;
  select.addEventListener("change", () => onCommit(select.value));
  return h("div", { class: `field${errors.length ? " invalid" : ""}` },
    h("label", { for: id }, label), select,
    errors.length ? h("p", { class: "field-error", id: `${id}-error` }, errors.map((p) => p.message).join(" ")) : null);
}

function textField({ label, value, field, onCommit, problems, type = "text", multiline = false, live = false }) {
  fieldCounter += 1;
  const id = `field-${field.replace(/\W/g, "-")}-${fieldCounter}`;
  const errors = problems.filter((p) => p.field === field);
  const input = multiline
    ? h("textarea", { id, rows: "2", dataset: { field } })
    : h("input", { id, type, dataset: { field } });
  input.value = value == null ? "" : String(value);
  if (errors.length) input.setAttribute("aria-invalid", "true");
  // Colour pickers fire `input` on every drag step: commit once, on change. Live text fields commit as
  // the person types (one undo step per field), so an autosave never finds the text half-committed.
  input.addEventListener(live ? "input" : "change", () => onCommit(input.value));
  return h("div", { class: `field${errors.length ? " invalid" : ""}` },
    h("label", { for: id }, label), input,
    errors.length ? h("p", { class: "field-error" }, errors.map((p) => p.message).join(" ")) : null);
}

export class Inspector {
  constructor(root, editor) {
    this.root = root;
    this.editor = editor;
  }

  render() {
    // Redrawing must not take the field someone is typing in away from them: remember it (value,
    // caret) and put it back, so autosave's redraws never drop characters or focus.
    const active = document.activeElement;
    const typing = active && this.root.contains(active) && active.dataset && active.dataset.field
      ? { field: active.dataset.field, value: active.value, start: active.selectionStart, end: active.selectionEnd,
        scope: this._scope() }
      : null;
    this.root.replaceChildren();
    this._renderBody();
    this.root.append(this._project());
    if (typing && typing.scope === this._scope()) {
      const again = this.root.querySelector(`[data-field="${CSS.escape(typing.field)}"]`);
      if (again) {
        if (again.value !== typing.value) again.value = typing.value;
        again.focus({ preventScroll: true });
        try {
          if (typing.start != null) again.setSelectionRange(typing.start, typing.end);
        } catch {
          // number and colour inputs have no caret
        }
      }
    }
  }

  _scope() {
    const { selection } = this.editor;
    if (!selection) return "output";
    return selection.clipId ? `clip:${selection.clipId}` : `marker:${selection.markerIndex}`;
  }

  _renderBody() {
    const { selection } = this.editor;
    if (selection && selection.clipId) {
      const found = this.editor.findClip(selection.clipId);
      if (found) return this._clip(found);
    }
    if (selection && selection.markerIndex != null && (this.editor.doc.markers || [])[selection.markerIndex]) {
      return this._marker(selection.markerIndex);
    }
    return null;
  }

  _clip({ track, clip }) {
    const editor = this.editor;
    const asset = editor.assets.get(clip.asset_id);
    const problems = editor.problems.filter((p) => p.clipId === clip.id);
    const update = (mutate) => editor.updateClip(clip.id, mutate);
    const isText = "text" in clip;
    const title = isText ? `Text clip ${clip.id}` : `${asset ? asset.name : "Missing media"} (${clip.id})`;
    const body = [];
    if (problems.some((p) => !p.field)) {
      body.push(h("p", { class: "field-error" }, problems.filter((p) => !p.field).map((p) => p.message).join(" ")));
    }
    if (!isText && !asset) {
      body.push(h("p", { class: "field-error" }, "The media of this clip is no longer in your library."));
    }
    body.push(numberField({ label: "Start on the timeline (s)", value: clip.start, field: "start", problems,
      onCommit: (v) => editor.moveClip(clip.id, { start: v }) }));
    if (isText) {
      body.push(textField({ label: "Text", value: clip.text, field: "text", problems, multiline: true, live: true,
        onCommit: (v) => editor.updateClip(clip.id, (c) => { c.text = v; },
          { label: "Edit text", coalesce: `${clip.id}.text`, quiet: true }) }));
      body.push(numberField({ label: "Duration (s)", value: clip.duration, field: "duration", min: 0.1, problems,
        onCommit: (v) => update((c) => { c.duration = v; }) }));
      const style = clip.style || {};
      body.push(numberField({ label: "Text size (px)", value: style.size, field: "style.size", min: 8, step: 1,
        problems, onCommit: (v) => update((c) => { c.style = { ...(c.style || {}), size: Math.round(v) }; }) }));
      body.push(textField({ label: "Text colour", value: style.color || "#ffffff", field: "style.color", type: "color",
        problems, onCommit: (v) => update((c) => { c.style = { ...(c.style || {}), color: v }; }) }));
      const position = typeof style.position === "string" ? style.position : "center";
      body.push(selectField({ label: "Position", value: position, field: "style.position", problems,
        options: [["top", "Top"], ["center", "Centre"], ["bottom", "Bottom"]],
        onCommit: (v) => update((c) => { c.style = { ...(c.style || {}), position: v }; }) }));
    } else if (usesDuration(clip, asset)) {
      body.push(numberField({ label: "Duration (s)", value: clip.duration, field: "duration", min: 0.1, problems,
        onCommit: (v) => update((c) => { c.duration = v; }) }));
    } else {
      const max = asset ? Number(asset.duration) : null;
      body.push(numberField({ label: "In: source start (s)", value: clip.in, field: "in", max, problems,
        onCommit: (v) => update((c) => { c.in = v; }) }));
      body.push(numberField({ label: "Out: source end (s)", value: clip.out, field: "out", max, problems,
        hint: asset ? `The media lasts ${formatSeconds(asset.duration)}.` : null,
        onCommit: (v) => update((c) => { c.out = v; }) }));
    }
    if (!isText && track.kind !== "text" && (track.kind === "audio" || (asset && asset.kind !== "image"))) {
      body.push(numberField({ label: "Volume (1 = original)", value: clip.volume ?? 1, field: "volume", max: 2,
        step: 0.05, problems, onCommit: (v) => update((c) => { c.volume = v; }) }));
    }
    if (track.kind === "audio") {
      body.push(numberField({ label: "Fade in (s)", value: clip.fade_in ?? 0, field: "fade_in", problems,
        onCommit: (v) => update((c) => { c.fade_in = v; }) }));
      body.push(numberField({ label: "Fade out (s)", value: clip.fade_out ?? 0, field: "fade_out", problems,
        onCommit: (v) => update((c) => { c.fade_out = v; }) }));
    }
    if (track.kind === "video") {
      body.push(selectField({ label: "Fit in the frame", value: clip.fit || "contain", field: "fit", problems,
        options: [["contain", "Contain (letterbox)"], ["cover", "Cover (crop)"], ["stretch", "Stretch"]],
        onCommit: (v) => update((c) => { c.fit = v; }) }));
      const transition = clip.transition || null;
      body.push(selectField({ label: "Transition in", value: transition ? transition.type : "none",
        field: "transition", problems,
        options: [["none", "None (cut)"], ["fade", "Fade from black"], ["crossfade", "Crossfade from previous clip"]],
        onCommit: (v) => editor.setTransition(clip.id, v === "none" ? null : v, transition ? transition.duration : 0.5) }));
      if (transition) {
        body.push(numberField({ label: "Transition length (s)", value: transition.duration, field: "transition.duration",
          min: 0.05, step: 0.05, problems,
          hint: transition.type === "crossfade" ? "The clip moves so it overlaps the previous one by this long." : null,
          onCommit: (v) => editor.setTransition(clip.id, transition.type, v) }));
      }
    }
    if ((track.kind === "video" && asset) || (isText && !textAnimated(clip))) body.push(this._transform(clip, { isText }));
    const sameKind = editor.doc.tracks.filter((t) => t.kind === track.kind);
    if (sameKind.length > 1) {
      body.push(selectField({ label: "Track", value: track.id, field: "track", problems: [],
        options: sameKind.map((t) => [t.id, `Track ${t.id}`]),
        onCommit: (v) => editor.moveClip(clip.id, { trackId: v }) }));
    }
    const length = clipLength(clip, asset);
    this.root.append(
      h("h2", { id: "inspector-title" }, title),
      h("p", { class: "muted" }, `Plays ${formatTimecode(clip.start)} to ${formatTimecode(Number(clip.start) + length)}`
        + ` (${formatSeconds(length)}).`),
      h("form", { class: "inspector-form", "aria-labelledby": "inspector-title", onsubmit: (e) => e.preventDefault() },
        ...body),
      h("div", { class: "inspector-actions" },
        h("button", { type: "button", class: "danger", onclick: () => editor.deleteClip(clip.id) }, "Delete clip")),
    );
  }

  /** Position, size, turn, opacity and crop (schema 2 `transform`), with keyframe toggles at the playhead. */
  _transform(clip, { isText = false } = {}) {
    const editor = this.editor;
    const local = r6(Math.max(0, Number(editor.doc.view.current_time) - Number(clip.start || 0)));
    // A title without x/y sits where its style.position puts it: that is its x/y until one is set.
    const centre = isText && editor.preview ? editor.preview.textCentre(clip, local) : [DEFAULT_TRANSFORM.x, DEFAULT_TRANSFORM.y];
    const defaults = { ...DEFAULT_TRANSFORM, x: centre[0], y: centre[1] };
    const valueAt = (c, prop) => {
      const value = transformAt(c, local);
      if (prop === "x" && !value.givenX) return centre[0];
      if (prop === "y" && !value.givenY) return centre[1];
      return value[prop];
    };
    const now = { ...transformAt(clip, local), x: valueAt(clip, "x"), y: valueAt(clip, "y") };
    const problems = editor.problems.filter((p) => p.clipId === clip.id);
    const set = (prop, value) => editor.updateClip(clip.id, (c) => {
      const keyed = c.keyframes && c.keyframes[prop] && c.keyframes[prop].length;
      if (keyed) keyframeSet(c, prop, local, value);
      else c.transform = { ...defaults, ...(c.transform || {}), [prop]: value };
    }, { label: `Change ${prop}` });
    const keyToggle = (prop, label) => {
      const on = Boolean(keyframeAt(clip, prop, local));
      return h("button", { type: "button", class: `tl-toggle small${on ? " on" : ""}`, "aria-pressed": on ? "true" : "false",
        "aria-label": `Keyframe ${label} at the playhead`, title: `Keyframe ${label} at the playhead`,
        onclick: () => editor.updateClip(clip.id, (c) => {
          if (keyframeAt(c, prop, local)) keyframeRemove(c, prop, local);
          else keyframeSet(c, prop, local, valueAt(c, prop));
        }, { label: on ? `Remove ${label} keyframe` : `Add ${label} keyframe` }) }, "◆");
    };
    const row = (prop, label, field) => h("div", { class: "transform-row" }, field, keyToggle(prop, label));
    const crop = now.crop;
    const setCrop = (side, value) => editor.updateClip(clip.id, (c) => {
      const base = { ...defaults, ...(c.transform || {}) };
      base.crop = { ...DEFAULT_TRANSFORM.crop, ...(base.crop || {}), [side]: value };
      c.transform = base;
    }, { label: "Crop" });
    return h("fieldset", { class: "transform-fields" },
      h("legend", {}, "Position and look"),
      h("p", { class: "hint" }, `Drag the ${isText ? "title" : "picture"} in the preview to move it; corners scale, the round handle turns it.`),
      row("x", "X", numberField({ label: "X (0 left – 1 right)", value: r6(now.x), field: "transform.x", min: -1, max: 2, step: 0.01, problems,
        onCommit: (v) => set("x", v) })),
      row("y", "Y", numberField({ label: "Y (0 top – 1 bottom)", value: r6(now.y), field: "transform.y", min: -1, max: 2, step: 0.01, problems,
        onCommit: (v) => set("y", v) })),
      row("scale", "scale", numberField({ label: "Scale", value: r6(now.scale), field: "transform.scale", min: 0.01, max: 10, step: 0.05, problems,
        onCommit: (v) => set("scale", v) })),
      row("rotation", "rotation", numberField({ label: "Rotation (°)", value: r6(now.rotation), field: "transform.rotation", min: -3600, max: 3600, step: 1,
        problems, onCommit: (v) => set("rotation", v) })),
      row("opacity", "opacity", numberField({ label: "Opacity", value: r6(now.opacity), field: "transform.opacity", min: 0, max: 1, step: 0.05, problems,
        onCommit: (v) => set("opacity", v) })),
      h("div", { class: "crop-fields" }, ["left", "top", "right", "bottom"].map((side) => numberField({
        label: `Crop ${side}`, value: crop[side], field: `transform.crop.${side}`, min: 0, max: 0.9, step: 0.01, problems,
        onCommit: (v) => setCrop(side, v) }))));
  }

  _marker(index) {
    const editor = this.editor;
    const marker = editor.doc.markers[index];
    const problems = editor.problems.filter((p) => p.markerIndex === index);
    this.root.append(
      h("h2", { id: "inspector-title" }, `Marker ${marker.label || index + 1}`),
      h("form", { class: "inspector-form", "aria-labelledby": "inspector-title", onsubmit: (e) => e.preventDefault() },
        textField({ label: "Label", value: marker.label, field: "label", problems,
          onCommit: (v) => editor.updateMarker(index, (m) => { m.label = v; }) }),
        numberField({ label: "Time (s)", value: marker.time, field: "time", problems,
          onCommit: (v) => editor.updateMarker(index, (m) => { m.time = Math.max(0, v); }) })),
      h("div", { class: "inspector-actions" },
        h("button", { type: "button", class: "secondary", onclick: () => editor.setTime(marker.time) }, "Go to marker"),
        h("button", { type: "button", class: "danger", onclick: () => editor.deleteMarker(index) }, "Delete marker")),
    );
  }

  _project() {
    const editor = this.editor;
    const output = editor.doc.output || {};
    const problems = editor.problems.filter((p) => !p.clipId && p.markerIndex == null).map((p) => ({
      ...p, field: (p.field || "").replace(/^output\./, ""),
    }));
    const setOutput = (key, value) => editor.updateOutput((o) => { o[key] = value; });
    const nothingSelected = !editor.selection;
    const width = Number(output.width) || 1280;
    const height = Number(output.height) || 720;
    const presets = h("div", { class: "output-presets", role: "group", "aria-label": "Frame shape" },
      ASPECTS.map(([label, w, h2]) => {
        const pressed = Math.abs(width / height - w / h2) < 0.01;
        return h("button", { type: "button", class: "small", "aria-pressed": pressed ? "true" : "false",
          onclick: () => editor.updateOutput((o) => Object.assign(o, aspectSize(o, w, h2))) }, label);
      }));
    const details = h("details", { class: "output-panel", open: nothingSelected || this.outputOpen ? true : null },
      h("summary", {}, h("h2", { id: "output-title", style: { display: "inline", fontSize: "1.05rem" } },
        `Output · ${width}×${height}`)),
      nothingSelected ? h("p", { class: "muted" }, "Select a clip or a marker to edit it. The “Project settings” render preset uses these.") : null,
      presets,
      h("form", { class: "inspector-form", "aria-labelledby": "output-title", onsubmit: (e) => e.preventDefault() },
        numberField({ label: "Width (px)", value: output.width, field: "width", min: 16, step: 2, problems,
          onCommit: (v) => setOutput("width", Math.round(v)) }),
        numberField({ label: "Height (px)", value: output.height, field: "height", min: 16, step: 2, problems,
          onCommit: (v) => setOutput("height", Math.round(v)) }),
        numberField({ label: "Frames per second", value: output.fps, field: "fps", min: 1, max: 60, step: 1, problems,
          onCommit: (v) => setOutput("fps", v) }),
        textField({ label: "Background", value: output.background || "#000000", field: "background", type: "color",
          problems, onCommit: (v) => setOutput("background", v) }),
        // Output formats (docs/text-and-captions.md; GET /api/presets lists them, and the shapes above).
        selectField({ label: "Format", value: output.format || "mp4", field: "format", options: OUTPUT_FORMATS,
          problems, onCommit: (v) => setOutput("format", v) }),
        output.format === "png"
          ? numberField({ label: "Still at (s)", value: output.still_at || 0, field: "still_at", problems,
            onCommit: (v) => setOutput("still_at", Math.max(0, v)) })
          : null),
      h("h3", {}, "Markers"),
      (editor.doc.markers || []).length
        ? h("ul", { class: "marker-list" }, editor.doc.markers.map((marker, index) => h("li", {},
          h("button", { type: "button", class: "link", onclick: () => editor.select({ markerIndex: index }) },
            `${marker.label || `Marker ${index + 1}`} at ${formatTimecode(marker.time)}`))))
        : h("p", { class: "muted" }, "No markers. “Add marker” puts one at the playhead."));
    details.addEventListener("toggle", () => { if (!nothingSelected) this.outputOpen = details.open; });
    return details;
  }
}

/** The aspect presets: the short side stays (720 or 1080 and so on), the long side follows the shape. */
export const ASPECTS = [["16:9", 16, 9], ["9:16", 9, 16], ["1:1", 1, 1], ["4:5", 4, 5]];

export function aspectSize(output, w, h) {
  const short = Math.min(Number(output.width) || 1280, Number(output.height) || 720);
  const even = (value) => Math.max(16, Math.round(value / 2) * 2);
  return w >= h ? { width: even((short * w) / h), height: even(short) } : { width: even(short), height: even((short * h) / w) };
}
