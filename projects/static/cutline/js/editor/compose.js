// What the preview shows at a moment: which clips, where, how opaque, how loud. Pure (node --test
// checks it); it follows the render's compositing model (jobs/render/plan.py) so the preview and the
// render agree: tracks stack in document order, a fade ramps in from what is below (and dips the
// clip before it out when they touch), a crossfade ramps the later clip in over the earlier one.

import { trackAudible } from "./edit.js";
import { clipEnd, clipLength, usesDuration } from "./model.js";

const EPSILON = 1e-6;

/** (x, y, width, height) of a `source`-sized picture fitted into `canvas` (as compiler.place does). */
export function fitRect(fit, source, canvas) {
  const [cw, ch] = canvas;
  const [sw, sh] = source;
  if (fit === "stretch" || !sw || !sh) return [0, 0, cw, ch];
  const scale = fit === "cover" ? Math.max(cw / sw, ch / sh) : Math.min(cw / sw, ch / sh);
  const width = sw * scale;
  const height = sh * scale;
  return [(cw - width) / 2, (ch - height) / 2, width, height];
}

function ramp(clip, track, asset, time) {
  const start = Number(clip.start) || 0;
  const end = clipEnd(clip, asset);
  let alpha = 1;
  const transition = clip.transition;
  if (transition && transition.type && Number(transition.duration) > 0) {
    alpha = Math.min(alpha, Math.max(0, (time - start) / Number(transition.duration)));
  }
  // A "fade" on the clip that starts where this one ends dips this one out over the same length.
  for (const other of track.clips) {
    const t = other.transition;
    if (other === clip || !t || t.type !== "fade") continue;
    if (Math.abs(Number(other.start) - end) < 0.001 && Number(t.duration) > 0) {
      alpha = Math.min(alpha, Math.max(0, (end - time) / Number(t.duration)));
    }
  }
  return alpha;
}

/**
 * The pictures on screen at `time`, bottom first: { clip, track, asset, kind, sourceTime, alpha }.
 * Text clips have kind "text"; hidden tracks are left out, as the render leaves them out.
 */
export function visualLayers(doc, time, assets) {
  const layers = [];
  for (const track of doc.tracks || []) {
    if (track.kind === "audio" || track.kind === "captions" || track.hidden) continue;
    const ordered = [...track.clips].sort((a, b) => Number(a.start) - Number(b.start));
    for (const clip of ordered) {
      const asset = assets.get(clip.asset_id);
      const start = Number(clip.start) || 0;
      if (time < start - EPSILON || time >= clipEnd(clip, asset) - EPSILON) continue;
      if (track.kind !== "text" && !asset) continue;
      const kind = track.kind === "text" ? "text" : asset.kind === "image" ? "image" : "video";
      const sourceTime = kind === "video" ? Number(clip.in || 0) + (time - start) : time - start;
      layers.push({ clip, track, asset, kind, sourceTime, alpha: ramp(clip, track, asset, time) });
    }
  }
  return layers;
}

/** The sounds playing at `time`: { clip, track, asset, sourceTime, gain } (gain 0 when muted). */
export function audioLayers(doc, time, assets) {
  const sounds = [];
  for (const track of doc.tracks || []) {
    if (track.kind !== "video" && track.kind !== "audio") continue;
    const audible = trackAudible(doc, track);
    for (const clip of track.clips) {
      const asset = assets.get(clip.asset_id);
      if (!asset || asset.kind === "image" || (track.kind === "video" && asset.has_audio === false)) continue;
      const start = Number(clip.start) || 0;
      const length = clipLength(clip, asset);
      if (time < start - EPSILON || time >= start + length - EPSILON) continue;
      const local = time - start;
      let gain = audible ? Math.max(0, Number(clip.volume ?? 1)) : 0;
      if (track.kind === "audio") {
        const fadeIn = Number(clip.fade_in) || 0;
        const fadeOut = Number(clip.fade_out) || 0;
        if (fadeIn > 0) gain *= Math.min(1, local / fadeIn);
        if (fadeOut > 0) gain *= Math.min(1, (length - local) / fadeOut);
      } else {
        gain *= ramp(clip, track, asset, time); // a video clip's sound follows its picture's ramps
      }
      const sourceTime = usesDuration(clip, asset) ? local : Number(clip.in || 0) + local;
      sounds.push({ clip, track, asset, sourceTime, gain });
    }
  }
  return sounds;
}

/** Where a title's ink box goes (text.py text_box): top/bottom leave 5 % of the height. */
export function textOrigin(position, box, frame) {
  const [w, h] = box;
  const [fw, fh] = frame;
  const margin = Math.round(fh * 0.05);
  let x = (fw - w) / 2;
  let y = (fh - h) / 2;
  if (position && typeof position === "object") {
    x = Number(position.x ?? 0.5) * fw - w / 2;
    y = Number(position.y ?? 0.5) * fh - h / 2;
  } else if (position === "top") {
    y = margin;
  } else if (position === "bottom") {
    y = fh - h - margin;
  }
  return [Math.min(Math.max(0, x), Math.max(0, fw - w)), Math.min(Math.max(0, y), Math.max(0, fh - h))];
}

// --- schema 2: transform and keyframes (docs/timeline.md; jobs/render/motion.py does the same) --------

export const DEFAULT_TRANSFORM = { x: 0.5, y: 0.5, scale: 1, rotation: 0, opacity: 1,
  crop: { left: 0, top: 0, right: 0, bottom: 0 } };
export const KEYFRAME_PROPS = ["x", "y", "scale", "rotation", "opacity"];
const EASES = {
  linear: (p) => p,
  ease_in: (p) => p * p,
  ease_out: (p) => p * (2 - p),
  ease_in_out: (p) => p * p * (3 - 2 * p),
  hold: () => 0,
};

/** A keyframe curve at clip-local time `t`: the first value before it starts, the last after it ends. */
export function curveValue(points, t) {
  if (!points || !points.length) return null;
  if (t <= Number(points[0].t)) return Number(points[0].v);
  for (let i = 0; i < points.length - 1; i += 1) {
    const a = points[i];
    const b = points[i + 1];
    if (t < Number(b.t)) {
      const p = (t - Number(a.t)) / (Number(b.t) - Number(a.t));
      return Number(a.v) + (Number(b.v) - Number(a.v)) * (EASES[a.ease] || EASES.linear)(p);
    }
  }
  return Number(points[points.length - 1].v);
}

/** The clip's transform at clip-local time `local`, keyframes applied; `given` says which of x/y were set. */
export function transformAt(clip, local) {
  const base = clip.transform || {};
  const result = { ...DEFAULT_TRANSFORM, ...base, crop: { ...DEFAULT_TRANSFORM.crop, ...(base.crop || {}) } };
  const keys = clip.keyframes || {};
  for (const prop of KEYFRAME_PROPS) {
    const value = curveValue(keys[prop], local);
    if (value != null) result[prop] = value;
  }
  result.givenX = "x" in base || Boolean(keys.x && keys.x.length);
  result.givenY = "y" in base || Boolean(keys.y && keys.y.length);
  return result;
}

/**
 * Where a picture of `source` size is drawn: the cropped source fitted into the frame, scaled about its
 * centre, which sits at (x, y) of the frame when given (else where the fit put it), turned clockwise.
 * Returns { cx, cy, width, height, rotation, opacity, crop } in canvas pixels.
 */
export function pictureBox(clip, local, source, canvas) {
  const t = transformAt(clip, local);
  const [cw, ch] = canvas;
  const keepW = Math.max(0.1, 1 - t.crop.left - t.crop.right);
  const keepH = Math.max(0.1, 1 - t.crop.top - t.crop.bottom);
  const cropped = [source[0] ? source[0] * keepW : 0, source[1] ? source[1] * keepH : 0];
  const [fx, fy, fw, fh] = fitRect(clip.fit || "contain", cropped, canvas);
  return {
    cx: t.givenX ? t.x * cw : fx + fw / 2,
    cy: t.givenY ? t.y * ch : fy + fh / 2,
    width: fw * t.scale,
    height: fh * t.scale,
    rotation: t.rotation,
    opacity: t.opacity,
    crop: t.crop,
  };
}

/**
 * Where a title is drawn: its `ink` box ([width, height]) at the style's position (textOrigin), then the
 * transform as the compiler applies it to titles: centred at (x, y) when given, scaled about its centre,
 * turned. Returns { cx, cy, width, height, rotation, opacity, scale } in canvas pixels.
 */
export function textBox(clip, local, ink, canvas) {
  const t = transformAt(clip, local);
  const [x, y] = textOrigin((clip.style || {}).position || "center", ink, canvas);
  return {
    cx: t.givenX ? t.x * canvas[0] : x + ink[0] / 2,
    cy: t.givenY ? t.y * canvas[1] : y + ink[1] / 2,
    width: ink[0] * t.scale,
    height: ink[1] * t.scale,
    rotation: t.rotation,
    opacity: t.opacity,
    scale: t.scale,
  };
}

/** An animated title (style.animation in/out) is a series of pictures: transforms do not apply to it. */
export function textAnimated(clip) {
  const spec = (clip.style || {}).animation;
  return Boolean(spec && typeof spec === "object" && ((spec.in && spec.in !== "none") || (spec.out && spec.out !== "none")));
}

/** Is canvas point (px, py) inside a (rotated) box? */
export function insideBox(box, px, py) {
  const angle = (-box.rotation * Math.PI) / 180;
  const dx = px - box.cx;
  const dy = py - box.cy;
  const x = dx * Math.cos(angle) - dy * Math.sin(angle);
  const y = dx * Math.sin(angle) + dy * Math.cos(angle);
  return Math.abs(x) <= box.width / 2 && Math.abs(y) <= box.height / 2;
}

/** Set or add the keyframe of `prop` at clip-local `t` (kept in time order); returns the list. */
export function keyframeSet(clip, prop, t, v) {
  clip.keyframes = clip.keyframes || {};
  const list = (clip.keyframes[prop] || []).filter((k) => Math.abs(Number(k.t) - t) > 1e-6);
  list.push({ t, v, ease: "linear" });
  list.sort((a, b) => a.t - b.t);
  clip.keyframes[prop] = list;
  return list;
}

export function keyframeAt(clip, prop, t) {
  return ((clip.keyframes || {})[prop] || []).find((k) => Math.abs(Number(k.t) - t) < 1e-6) || null;
}

export function keyframeRemove(clip, prop, t) {
  const keys = clip.keyframes || {};
  keys[prop] = (keys[prop] || []).filter((k) => Math.abs(Number(k.t) - t) > 1e-6);
  if (!keys[prop].length) delete keys[prop];
  if (!Object.keys(keys).length) delete clip.keyframes;
}
