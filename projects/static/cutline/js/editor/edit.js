// Editing rules on the timeline document: frame snapping, split, edge trim, ripple, and where a clip
// may go without an overlap the server refuses. Pure functions, no DOM: `node --test` checks them.
//
// The overlap rule mirrors projects/timeline/validate.py (`_Validator.overlaps`): clips of one track may
// overlap only when the later one has a crossfade and overlaps the clip just before it by exactly the
// crossfade's length (within EPSILON).

import { addTrack, clipEnd, clipLength, findClip, r6, sortTrack, usesDuration } from "./model.js";

export const EPSILON = 0.001;
const MIN_FRAMES = 1;

/** `time` on the nearest frame boundary of `fps` (times stay whole frames, as the renderer cuts them). */
export function snapToFrame(time, fps) {
  const rate = Number(fps) || 30;
  return r6(Math.round(Number(time) * rate) / rate);
}

export function frameLength(fps) {
  return 1 / (Number(fps) || 30);
}

function placed(clip, assets) {
  const start = Number(clip.start) || 0;
  return { id: clip.id, start, end: start + clipLength(clip, assets.get(clip.asset_id)), transition: clip.transition };
}

/** The overlap problems of `clips` laid on one track, as the server would report them ([] when fine). */
export function overlapProblems(clips, assets) {
  const ordered = clips.map((clip, index) => ({ ...placed(clip, assets), index }))
    .sort((a, b) => a.start - b.start || a.index - b.index);
  const problems = [];
  let furthest = null;
  let previous = null;
  for (const spot of ordered) {
    const transition = spot.transition || {};
    if (transition.type === "crossfade") {
      if (!previous) {
        problems.push({ clipId: spot.id, reason: "crossfade-without-previous" });
      } else if (Math.abs(previous.end - spot.start - Number(transition.duration)) > EPSILON) {
        problems.push({ clipId: spot.id, otherId: previous.id, reason: "crossfade-length" });
      }
      if (furthest && furthest.end > spot.start + EPSILON) {
        problems.push({ clipId: spot.id, otherId: furthest.id, reason: "overlap" });
      }
    } else {
      const reach = [furthest, previous].filter(Boolean).sort((a, b) => b.end - a.end)[0];
      if (reach && reach.end > spot.start + EPSILON) problems.push({ clipId: spot.id, otherId: reach.id, reason: "overlap" });
    }
    if (previous && (!furthest || previous.end > furthest.end)) furthest = previous;
    previous = spot;
  }
  return problems;
}

/** Switches a track kind takes in the document (docs/timeline.md, "Track switches"). */
export const TRACK_SWITCHES = { video: ["muted", "solo", "hidden", "locked"], audio: ["muted", "solo", "locked"],
  text: ["hidden", "locked"], captions: ["hidden", "locked"] };

/**
 * A track's state: its name (editor state in `view.tracks`, never rendered) and its switches `muted`, `solo`,
 * `hidden`, `locked` (document fields: renders obey them too).
 */
export function trackState(doc, trackId) {
  const states = doc.view && doc.view.tracks && typeof doc.view.tracks === "object" ? doc.view.tracks : {};
  const track = (doc.tracks || []).find((t) => t.id === trackId) || {};
  const state = {};
  if (states[trackId] && states[trackId].name) state.name = states[trackId].name;
  for (const key of TRACK_SWITCHES[track.kind] || []) state[key] = Boolean(track[key]);
  return state;
}

/** Set switch `key` of a track in the document: `muted` stays written (schema 1), the others only when on. */
export function setTrackSwitch(doc, trackId, key, on) {
  const track = doc.tracks.find((t) => t.id === trackId);
  if (!track || !(TRACK_SWITCHES[track.kind] || []).includes(key)) return false;
  if (on || key === "muted") track[key] = Boolean(on);
  else delete track[key];
  return true;
}

/** Is anything of the track heard? (Solo: when any track with sound is solo, only solo tracks are.) */
export function trackAudible(doc, track) {
  const soloing = (doc.tracks || []).some((t) => (t.kind === "video" || t.kind === "audio") && t.solo);
  return !track.muted && (!soloing || Boolean(track.solo));
}

export function lockedTrackIds(doc) {
  return new Set((doc.tracks || []).filter((t) => t.locked).map((t) => t.id));
}

/** Problems the clip `id` takes part in when `clips` lie on one track. */
function problemsWith(clips, id, assets) {
  return overlapProblems(clips, assets).filter((p) => p.clipId === id || p.otherId === id);
}

/**
 * A crossfade needs its clip to overlap the previous one by exactly its length. After a trim, a move or a
 * delete changed that overlap, the crossfade follows it (or goes, when nothing overlaps any more), so the
 * track stays one the server accepts.
 */
export function repairCrossfades(track, assets) {
  for (let guard = 0; guard < track.clips.length + 1; guard += 1) {
    const broken = overlapProblems(track.clips, assets)
      .find((p) => p.reason === "crossfade-length" || p.reason === "crossfade-without-previous");
    if (!broken) return;
    const clip = track.clips.find((c) => c.id === broken.clipId);
    const previous = track.clips.find((c) => c.id === broken.otherId);
    const overlap = previous ? r6(clipEnd(previous, assets.get(previous.asset_id)) - Number(clip.start)) : 0;
    const length = clipLength(clip, assets.get(clip.asset_id));
    clip.transition = overlap > 1e-3 && overlap <= length + EPSILON ? { ...clip.transition, duration: overlap } : null;
  }
}

/** Does `clip` at `start` fit on `track` (it takes part in no overlap problem there)? */
export function fitsOn(track, clip, start, assets) {
  const candidate = { ...clip, start: r6(start) };
  const others = track.clips.filter((other) => other.id !== clip.id);
  return problemsWith([...others, candidate], clip.id, assets).length === 0;
}

/**
 * Put `clip` (already in the document, or a new object) at `start` on track `trackId`. If that spot is
 * taken, the clip goes to the first other track of the same kind where it fits at the same time, else
 * to a new track: a gesture never produces an overlap the server refuses. A crossfade that no longer
 * lines up after a move is dropped, and crossfades from the clip's old place are repaired. Returns the
 * track it landed on.
 */
export function placeClip(doc, clip, { trackId, start, assets, lockedIds = new Set() }) {
  const at = r6(Math.max(0, start));
  const found = findClip(doc, clip.id);
  const home = found ? found.track : null;
  const target = doc.tracks.find((track) => track.id === trackId) || home;
  const kind = target ? target.kind : null;
  if (found) {
    home.clips.splice(home.clips.indexOf(found.clip), 1);
    repairCrossfades(home, assets);
  }
  const moved = { ...clip, start: at };
  if (moved.transition && moved.transition.type === "crossfade" && target
      && problemsWith([...target.clips, moved], clip.id, assets).some((p) => p.clipId === clip.id && p.reason !== "overlap")) {
    moved.transition = null;
  }
  const candidates = [target, ...doc.tracks.filter((track) => track !== target)]
    .filter((track) => track && track.kind === kind && !lockedIds.has(track.id));
  let landing = candidates.find((track) => fitsOn(track, moved, at, assets));
  if (!landing) {
    if (moved.transition && moved.transition.type === "crossfade") moved.transition = null;
    landing = addTrack(doc, kind);
  }
  Object.assign(clip, moved);
  if (!moved.transition && "transition" in clip) clip.transition = null;
  landing.clips.push(clip);
  sortTrack(landing);
  return landing;
}

/** Split `clipId` at timeline `time`; returns the new right-hand clip, or null when `time` is not inside it. */
export function splitClip(doc, clipId, time, assets, { fps = 30 } = {}) {
  const found = findClip(doc, clipId);
  if (!found) return null;
  const { track, clip } = found;
  const asset = assets.get(clip.asset_id);
  const start = Number(clip.start);
  const end = clipEnd(clip, asset);
  const at = snapToFrame(time, fps);
  const minimum = frameLength(fps) * MIN_FRAMES - 1e-9;
  if (at - start < minimum || end - at < minimum) return null;
  // Not inside a crossfade: the two halves could not both keep it.
  const covered = track.clips.some((other) => other !== clip && Number(other.start) < at + EPSILON
    && clipEnd(other, assets.get(other.asset_id)) > at - EPSILON);
  if (covered) return null;
  const offset = r6(at - start);
  const right = JSON.parse(JSON.stringify(clip));
  right.id = nextClipId(doc, clip.id);
  right.start = at;
  if ("transition" in right) right.transition = null;
  if (usesDuration(clip, asset)) {
    right.duration = r6(Number(clip.duration) - offset);
    clip.duration = offset;
  } else {
    const cut = r6(Number(clip.in) + offset);
    right.in = cut;
    clip.out = cut;
  }
  if ("fade_out" in clip) {
    right.fade_in = 0;
    clip.fade_out = 0;
  }
  if (clip.transition && Number(clip.transition.duration) > offset) {
    clip.transition = { ...clip.transition, duration: offset };
  }
  track.clips.splice(track.clips.indexOf(clip) + 1, 0, right);
  sortTrack(track);
  repairCrossfades(track, assets);
  return right;
}

function nextClipId(doc, basedOn) {
  const prefix = String(basedOn).replace(/\d+$/, "") || "c";
  const ids = new Set();
  for (const track of doc.tracks) for (const clip of track.clips) ids.add(clip.id);
  for (let n = 1; ; n += 1) if (!ids.has(`${prefix}${n}`)) return `${prefix}${n}`;
}

export function newClipId(doc, basedOn) {
  return nextClipId(doc, basedOn);
}

/**
 * Where an edge may go: `edge` is "start" or "end", `proposed` a timeline time. Never past the source
 * (in ≥ 0, out ≤ the asset's duration), never shorter than a frame, never over a neighbour unless
 * `ripple` pushes the later clips along. Snaps to `edges` within `tolerance`, then to frames.
 * Returns { time, snapped } without changing anything.
 */
export function trimLimit(doc, clipId, edge, proposed, assets, { fps = 30, tolerance = 0, edges = [], ripple = false } = {}) {
  const found = findClip(doc, clipId);
  if (!found) return null;
  const { track, clip } = found;
  const asset = assets.get(clip.asset_id);
  const start = Number(clip.start);
  const end = clipEnd(clip, asset);
  const frame = frameLength(fps);
  let time = Number(proposed);
  let snapped = null;
  for (const candidate of edges) {
    if (Math.abs(candidate - time) <= tolerance && (snapped == null || Math.abs(candidate - time) < Math.abs(snapped - time))) {
      snapped = candidate;
    }
  }
  if (snapped != null) time = snapped;
  else time = snapToFrame(time, fps);
  const fromSource = !usesDuration(clip, asset);
  const sourceEnd = asset && asset.kind !== "image" ? Math.floor(Number(asset.duration) * 1000) / 1000 : Infinity;
  const neighbours = track.clips.filter((other) => other !== clip);
  if (edge === "start") {
    let low = 0;
    if (fromSource) low = Math.max(low, start - Number(clip.in));
    const crossfades = clip.transition && clip.transition.type === "crossfade";
    for (const other of neighbours) {
      const otherEnd = clipEnd(other, assets.get(other.asset_id));
      if (Number(other.start) >= start - EPSILON) continue;
      // A crossfading clip may reach back into the clip it fades from, but not past that clip's start.
      if (crossfades && otherEnd > start + EPSILON) low = Math.max(low, Number(other.start) + frame);
      else if (otherEnd <= start + EPSILON) low = Math.max(low, otherEnd);
    }
    time = Math.min(Math.max(time, low), end - frame);
  } else {
    let high = Infinity;
    if (fromSource) high = Math.min(high, start + (sourceEnd - Number(clip.in)));
    if (!ripple) {
      for (const other of neighbours) {
        const crossfades = other.transition && other.transition.type === "crossfade";
        if (Number(other.start) >= end - EPSILON - (crossfades ? Number(other.transition.duration) : 0)) {
          high = Math.min(high, crossfades ? Number(other.start) + Number(other.transition.duration) : Number(other.start));
        }
      }
    }
    time = Math.max(Math.min(time, high), start + frame);
  }
  return { time: r6(time), snapped: snapped != null && Math.abs(snapped - time) < 1e-6 };
}

/** Move one edge of a clip to `time` (already limited by `trimLimit`); `ripple` shifts later clips. */
export function trimClip(doc, clipId, edge, time, assets, { ripple = false } = {}) {
  const found = findClip(doc, clipId);
  if (!found) return false;
  const { track, clip } = found;
  const asset = assets.get(clip.asset_id);
  const start = Number(clip.start);
  const end = clipEnd(clip, asset);
  const at = r6(time);
  const fromSource = !usesDuration(clip, asset);
  if (edge === "start") {
    const delta = r6(at - start);
    clip.start = at;
    if (fromSource) clip.in = r6(Number(clip.in) + delta);
    else clip.duration = r6(Number(clip.duration) - delta);
  } else {
    const delta = r6(at - end);
    if (fromSource) clip.out = r6(Number(clip.out) + delta);
    else clip.duration = r6(Number(clip.duration) + delta);
    if (ripple) shiftAfter(track, clip, end, delta);
  }
  if (clip.transition && Number(clip.transition.duration) > clipLength(clip, asset)) clip.transition = null;
  if ("fade_in" in clip) {
    const length = clipLength(clip, asset);
    if (Number(clip.fade_in) + Number(clip.fade_out) > length) {
      clip.fade_in = 0;
      clip.fade_out = 0;
    }
  }
  sortTrack(track);
  repairCrossfades(track, assets);
  return true;
}

function shiftAfter(track, clip, from, delta) {
  for (const other of track.clips) {
    if (other !== clip && Number(other.start) >= from - EPSILON - crossfadeLength(other)) {
      other.start = r6(Math.max(0, Number(other.start) + delta));
    }
  }
}

function crossfadeLength(clip) {
  return clip.transition && clip.transition.type === "crossfade" ? Number(clip.transition.duration) : 0;
}

/** Remove a clip; with `ripple` the later clips of its track close the gap. */
export function deleteClip(doc, clipId, assets, { ripple = false } = {}) {
  const found = findClip(doc, clipId);
  if (!found) return false;
  const { track, clip } = found;
  const start = Number(clip.start);
  const end = clipEnd(clip, assets.get(clip.asset_id));
  track.clips.splice(track.clips.indexOf(clip), 1);
  if (ripple) {
    const gap = r6(end - start);
    for (const other of track.clips) {
      if (Number(other.start) >= end - EPSILON - crossfadeLength(other)) other.start = r6(Math.max(0, Number(other.start) - gap));
    }
  }
  // The clip after a removed one cannot crossfade from it any more (or fades from what is now before it).
  repairCrossfades(track, assets);
  return true;
}

/** Copies of clips for the clipboard, with their offset from the earliest one. */
export function copyClips(doc, clipIds) {
  const picked = [];
  for (const id of clipIds) {
    const found = findClip(doc, id);
    if (found) picked.push({ trackId: found.track.id, kind: found.track.kind, clip: JSON.parse(JSON.stringify(found.clip)) });
  }
  const origin = Math.min(...picked.map((p) => Number(p.clip.start)));
  return picked.map((p) => ({ ...p, offset: r6(Number(p.clip.start) - origin) }));
}

/** Paste clipboard entries at `time`: new ids, same tracks when they fit, else another or a new track. */
export function pasteClips(doc, entries, time, assets) {
  const pasted = [];
  for (const entry of entries) {
    const clip = JSON.parse(JSON.stringify(entry.clip));
    clip.id = nextClipId(doc, clip.id);
    if (clip.transition) clip.transition = null;
    let track = doc.tracks.find((t) => t.id === entry.trackId && t.kind === entry.kind);
    if (!track) track = doc.tracks.find((t) => t.kind === entry.kind) || addTrack(doc, entry.kind);
    placeClip(doc, clip, { trackId: track.id, start: time + entry.offset, assets });
    pasted.push(clip);
  }
  return pasted;
}

/** Move track `trackId` to position `index` (list order is stacking order). */
export function moveTrack(doc, trackId, index) {
  const from = doc.tracks.findIndex((t) => t.id === trackId);
  if (from < 0) return false;
  const [track] = doc.tracks.splice(from, 1);
  doc.tracks.splice(Math.max(0, Math.min(doc.tracks.length, index)), 0, track);
  return from !== index;
}
