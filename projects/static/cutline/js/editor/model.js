// Pure operations on the timeline document (CONTRACT §2). No DOM here, so the rules read in one place.

export const TRACK_PREFIX = { video: "v", audio: "a", text: "t" };
const CLIP_PREFIX = { video: "c", audio: "m", text: "x" };
export const TEXT_DEFAULT_STYLE = { size: 64, color: "#ffffff", position: "center" };

/** Times are kept to the microsecond so crossfade overlaps stay exact after arithmetic. */
export function r6(value) {
  return Math.round(Number(value) * 1e6) / 1e6;
}

export function assetTrackKind(asset) {
  return asset && asset.kind === "audio" ? "audio" : "video";
}

export function usesDuration(clip, asset) {
  return !("asset_id" in clip) || (asset && asset.kind === "image") || (!("in" in clip) && "duration" in clip);
}

export function clipLength(clip, asset) {
  if (usesDuration(clip, asset)) return Math.max(0, Number(clip.duration) || 0);
  return Math.max(0, (Number(clip.out) || 0) - (Number(clip.in) || 0));
}

export function clipEnd(clip, asset) {
  return r6((Number(clip.start) || 0) + clipLength(clip, asset));
}

export function timelineLength(doc, assets) {
  let end = 0;
  for (const track of doc.tracks || []) {
    for (const clip of track.clips || []) end = Math.max(end, clipEnd(clip, assets.get(clip.asset_id)));
  }
  return end;
}

export function findClip(doc, clipId) {
  for (const [trackIndex, track] of (doc.tracks || []).entries()) {
    const clipIndex = (track.clips || []).findIndex((clip) => clip.id === clipId);
    if (clipIndex >= 0) return { track, trackIndex, clip: track.clips[clipIndex], clipIndex };
  }
  return null;
}

function allIds(doc) {
  const ids = new Set();
  for (const track of doc.tracks || []) {
    ids.add(track.id);
    for (const clip of track.clips || []) ids.add(clip.id);
  }
  return ids;
}

function nextId(doc, prefix) {
  const ids = allIds(doc);
  for (let n = 1; ; n += 1) if (!ids.has(`${prefix}${n}`)) return `${prefix}${n}`;
}

export function addTrack(doc, kind) {
  const track = { id: nextId(doc, TRACK_PREFIX[kind]), kind, clips: [] };
  if (kind !== "text") track.muted = false;
  // Text tracks go on top (drawn last), media tracks below the first text track.
  const firstText = doc.tracks.findIndex((t) => t.kind === "text");
  if (kind === "text" || firstText < 0) doc.tracks.push(track);
  else doc.tracks.splice(firstText, 0, track);
  return track;
}

export function trackForKind(doc, kind, preferredId = null) {
  const preferred = doc.tracks.find((t) => t.id === preferredId && t.kind === kind);
  return preferred || doc.tracks.find((t) => t.kind === kind) || addTrack(doc, kind);
}

export function trackEnd(track, assets) {
  return (track.clips || []).reduce((end, clip) => Math.max(end, clipEnd(clip, assets.get(clip.asset_id))), 0);
}

export function sortTrack(track) {
  track.clips.sort((a, b) => (Number(a.start) || 0) - (Number(b.start) || 0));
}

/** A clip for `asset` on a compatible track, at `start` or after the track's last clip. */
export function addAssetClip(doc, asset, assets, { trackId = null, start = null } = {}) {
  const track = trackForKind(doc, assetTrackKind(asset), trackId);
  const at = r6(start == null ? trackEnd(track, assets) : Math.max(0, start));
  let clip;
  if (asset.kind === "image") {
    clip = { id: nextId(doc, CLIP_PREFIX.video), asset_id: asset.id, start: at, duration: 3.0, fit: "contain",
      transition: null };
  } else if (asset.kind === "audio") {
    clip = { id: nextId(doc, CLIP_PREFIX.audio), asset_id: asset.id, start: at, in: 0.0,
      out: floorMs(asset.duration), volume: 1.0, fade_in: 0.0, fade_out: 0.0 };
  } else {
    clip = { id: nextId(doc, CLIP_PREFIX.video), asset_id: asset.id, start: at, in: 0.0,
      out: floorMs(asset.duration), volume: 1.0, fit: "contain", transition: null };
  }
  track.clips.push(clip);
  sortTrack(track);
  return { track, clip };
}

function floorMs(seconds) {
  // Never past the end of the asset: the server refuses `out` beyond its probed duration.
  return Math.max(0.001, Math.floor((Number(seconds) || 1) * 1000) / 1000);
}

export function addTextClip(doc, { start = 0, text = "Title", trackId = null } = {}) {
  const track = trackForKind(doc, "text", trackId);
  const clip = { id: nextId(doc, CLIP_PREFIX.text), text, start: r6(Math.max(0, start)), duration: 3.0,
    style: { ...TEXT_DEFAULT_STYLE } };
  track.clips.push(clip);
  sortTrack(track);
  return { track, clip };
}

export function removeClip(doc, clipId) {
  const found = findClip(doc, clipId);
  if (!found) return false;
  found.track.clips.splice(found.clipIndex, 1);
  return true;
}

export function previousClip(track, clip, assets) {
  let best = null;
  for (const other of track.clips) {
    if (other === clip || Number(other.start) > Number(clip.start)) continue;
    if (Number(other.start) === Number(clip.start) && track.clips.indexOf(other) > track.clips.indexOf(clip)) continue;
    if (!best || Number(other.start) >= Number(best.start)) best = other;
  }
  return best && clipEnd(best, assets.get(best.asset_id)) > 0 ? best : null;
}

/**
 * A crossfade needs the previous clip of the track to overlap this one by exactly its duration
 * (CONTRACT §2), so choosing one moves the clip there. Returns false when there is no previous clip.
 */
export function alignCrossfade(track, clip, assets) {
  const transition = clip.transition;
  if (!transition || transition.type !== "crossfade") return true;
  const previous = previousClip(track, clip, assets);
  if (!previous) return false;
  clip.start = r6(Math.max(0, clipEnd(previous, assets.get(previous.asset_id)) - Number(transition.duration)));
  sortTrack(track);
  return true;
}

/** Where a clip may go when dragged: snap to other clip edges and the playhead within `tolerance` s. */
export function snapStart(doc, clip, assets, proposed, { tolerance, playhead = null }) {
  const length = clipLength(clip, assets.get(clip.asset_id));
  const edges = [0];
  if (playhead != null) edges.push(playhead);
  for (const track of doc.tracks) {
    for (const other of track.clips) {
      if (other === clip) continue;
      edges.push(Number(other.start), clipEnd(other, assets.get(other.asset_id)));
    }
  }
  let best = proposed;
  let bestDistance = tolerance;
  for (const edge of edges) {
    for (const candidate of [edge, edge - length]) {
      const distance = Math.abs(candidate - proposed);
      if (distance < bestDistance) {
        best = candidate;
        bestDistance = distance;
      }
    }
  }
  return r6(Math.max(0, best));
}

const ATTR_PATTERN = /(?:^|\.)tracks\.(\d+)(?:\.clips\.(\d+))?(?:\.(.+))?$/;
const MARKER_PATTERN = /(?:^|\.)markers\.(\d+)(?:\.(.+))?$/;

/**
 * Turn the server's validation errors into problems the editor can point at. Paths index into the
 * document that was sent (`sent`), so ids are looked up there, not in the possibly edited current one.
 */
export function problemsFromErrors(errors, sent) {
  return (errors || []).map((error) => {
    const attr = error.attr || "";
    const problem = { message: error.detail, attr, trackId: null, clipId: null, field: null, markerIndex: null };
    const match = attr.match(ATTR_PATTERN);
    if (match && sent) {
      const track = (sent.tracks || [])[Number(match[1])];
      problem.trackId = track ? track.id : null;
      if (match[2] != null) {
        const clip = track && (track.clips || [])[Number(match[2])];
        problem.clipId = clip ? clip.id : null;
        problem.field = match[3] || null;
      } else {
        problem.field = match[3] || null;
      }
      return problem;
    }
    const marker = attr.match(MARKER_PATTERN);
    if (marker) {
      problem.markerIndex = Number(marker[1]);
      problem.field = marker[2] || null;
    } else if (attr.startsWith("timeline.") || attr.startsWith("output")) {
      problem.field = attr.replace(/^timeline\./, "");
    }
    return problem;
  });
}

export function clone(value) {
  return JSON.parse(JSON.stringify(value));
}
