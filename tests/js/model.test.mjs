// node --test tests/js: the document model (editor/model.js): clips, tracks, lengths, server error paths.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  addAssetClip, addTextClip, addTrack, alignCrossfade, clipEnd, clipLength, findClip, problemsFromErrors, r6, snapStart,
  timelineLength,
} from "../../projects/static/cutline/js/editor/model.js";

const VIDEO = { id: "A", kind: "video", duration: 2.0216 };
const IMAGE = { id: "I", kind: "image", duration: null };
const TONE = { id: "M", kind: "audio", duration: 5 };
const assets = new Map([[VIDEO.id, VIDEO], [IMAGE.id, IMAGE], [TONE.id, TONE]]);

function empty() {
  return { schema: 2, output: { width: 1280, height: 720, fps: 30 }, tracks: [], markers: [], view: {} };
}

test("times keep six decimals so crossfade overlaps stay exact", () => {
  assert.equal(r6(0.1 + 0.2), 0.3);
  assert.equal(r6(1 / 3), 0.333333);
});

test("a video clip plays in..out, an image and a title last `duration`", () => {
  assert.equal(clipLength({ asset_id: "A", in: 0.5, out: 1.5 }, VIDEO), 1);
  assert.equal(clipLength({ asset_id: "I", duration: 3 }, IMAGE), 3);
  assert.equal(clipLength({ text: "Hi", duration: 2 }, undefined), 2);
  assert.equal(clipEnd({ asset_id: "A", start: 1.25, in: 0, out: 1 }, VIDEO), 2.25);
});

test("adding media picks a track of its kind, makes one when there is none, and appends after the last clip", () => {
  const d = empty();
  const first = addAssetClip(d, VIDEO, assets);
  assert.equal(first.track.id, "v1");
  assert.equal(first.track.muted, false);
  // Never past the probed end (the server refuses out > duration): floored to the millisecond.
  assert.deepEqual([first.clip.start, first.clip.in, first.clip.out], [0, 0, 2.021]);
  const second = addAssetClip(d, IMAGE, assets);
  assert.equal(second.track, first.track);
  assert.equal(second.clip.start, 2.021);
  const sound = addAssetClip(d, TONE, assets);
  assert.equal(sound.track.kind, "audio");
  assert.notEqual(sound.clip.id, first.clip.id);
  assert.equal(timelineLength(d, assets), 5.021); // the image ends after the 5 s tone
});

test("text tracks go on top; media tracks go below the first text track", () => {
  const d = empty();
  addTextClip(d, { start: 1, text: "Hello" });
  addTrack(d, "video");
  addTrack(d, "audio");
  assert.deepEqual(d.tracks.map((t) => t.kind), ["video", "audio", "text"]);
  assert.equal("muted" in d.tracks[2], false, "a text track has no sound to mute");
  const { clip } = findClip(d, d.tracks[2].clips[0].id);
  assert.equal(clip.text, "Hello");
});

test("choosing a crossfade moves the clip to overlap the previous one by its length", () => {
  const d = empty();
  const { track, clip: a } = addAssetClip(d, VIDEO, assets);
  const { clip: b } = addAssetClip(d, VIDEO, assets, { start: 3 });
  b.transition = { type: "crossfade", duration: 0.5 };
  assert.equal(alignCrossfade(track, b, assets), true);
  assert.equal(b.start, r6(clipEnd(a, VIDEO) - 0.5));
  a.transition = { type: "crossfade", duration: 0.5 };
  assert.equal(alignCrossfade(track, a, assets), false, "the first clip has nothing to fade from");
});

test("dragging snaps to other clips' edges and the playhead within the tolerance", () => {
  const d = empty();
  addAssetClip(d, VIDEO, assets);
  const { clip } = addAssetClip(d, IMAGE, assets, { start: 5 });
  assert.equal(snapStart(d, clip, assets, 2.1, { tolerance: 0.2 }), 2.021);
  assert.equal(snapStart(d, clip, assets, 4.4, { tolerance: 0.2, playhead: 4.3 }), 4.3);
  assert.equal(snapStart(d, clip, assets, 4.4, { tolerance: 0.05, playhead: 4.3 }), 4.4);
});

test("server error paths point at clips of the document that was sent", () => {
  const sent = { tracks: [{ id: "v1", clips: [{ id: "c1" }, { id: "c2" }] }], markers: [{ time: 1 }] };
  const [clip, track, marker, output] = problemsFromErrors([
    { attr: "timeline.tracks.0.clips.1.out", detail: "out (12.0) is past the end of the asset (10.0 s)" },
    { attr: "timeline.tracks.0.hidden", detail: "hidden must be true or false (got text)" },
    { attr: "timeline.markers.0.label", detail: "too long" },
    { attr: "timeline.output.fps", detail: "fps (120.0) must be at most 60.0" },
  ], sent);
  assert.deepEqual([clip.trackId, clip.clipId, clip.field], ["v1", "c2", "out"]);
  assert.deepEqual([track.trackId, track.clipId, track.field], ["v1", null, "hidden"]);
  assert.deepEqual([marker.markerIndex, marker.field], [0, "label"]);
  assert.equal(output.field, "output.fps");
});
