// What the preview shows at a moment: which clips, where, how opaque, how loud. Pure (node --test
// checks it); it follows the render's compositing model (jobs/render/plan.py) so the preview and the
// render agree: tracks stack in document order, a fade ramps in from what is below (and dips the
// clip before it out when they touch), a crossfade ramps the later clip in over the earlier one.

import { trackState } from "./edit.js";
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
 * Text clips have kind "text"; hidden tracks (editor state) are left out.
 */
export function visualLayers(doc, time, assets) {
  const layers = [];
  for (const track of doc.tracks || []) {
    if (track.kind === "audio" || trackState(doc, track.id).hidden) continue;
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
  const soloing = (doc.tracks || []).some((t) => trackState(doc, t.id).solo);
  const sounds = [];
  for (const track of doc.tracks || []) {
    if (track.kind === "text") continue;
    const audible = !track.muted && (!soloing || trackState(doc, track.id).solo);
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
