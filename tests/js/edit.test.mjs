// node --test tests/js: the editor's pure modules (document rules, history, collisions).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  copyClips, deleteClip, fitsOn, lockedTrackIds, moveTrack, overlapProblems, pasteClips, placeClip, setTrackSwitch,
  snapToFrame, splitClip, trackState, trimClip, trimLimit,
} from "../../projects/static/cutline/js/editor/edit.js";
import { History } from "../../projects/static/cutline/js/editor/history.js";

const VIDEO = { id: "A", kind: "video", duration: 4.0 };
const IMAGE = { id: "I", kind: "image", duration: null };
const assets = new Map([[VIDEO.id, VIDEO], [IMAGE.id, IMAGE]]);

function doc() {
  return {
    schema: 1, output: { width: 1280, height: 720, fps: 30 },
    tracks: [
      { id: "v1", kind: "video", muted: false, clips: [
        { id: "c1", asset_id: "A", start: 0, in: 0, out: 2, volume: 1, fit: "contain", transition: null },
        { id: "c2", asset_id: "A", start: 2, in: 1, out: 3, volume: 1, fit: "contain", transition: null },
      ] },
      { id: "t1", kind: "text", clips: [{ id: "x1", text: "Hi", start: 0, duration: 3, style: {} }] },
    ],
    markers: [], view: { current_time: 0, zoom: 1 },
  };
}

test("times snap to whole frames", () => {
  assert.equal(snapToFrame(1.01, 30), 1);
  assert.equal(snapToFrame(1.02, 30), 1.033333);
  assert.equal(snapToFrame(0.49, 25), 0.48);
});

test("split at the playhead makes two clips that play the same source seconds", () => {
  const d = doc();
  const right = splitClip(d, "c1", 0.5, assets);
  assert.equal(right.id, "c3");
  const [left, second] = d.tracks[0].clips;
  assert.deepEqual([left.in, left.out, second.start, second.in, second.out], [0, 0.5, 0.5, 0.5, 2]);
  assert.deepEqual(overlapProblems(d.tracks[0].clips, assets), []);
});

test("split outside a clip or on its edge does nothing", () => {
  const d = doc();
  assert.equal(splitClip(d, "c1", 2.5, assets), null);
  assert.equal(splitClip(d, "c1", 0, assets), null);
  assert.equal(d.tracks[0].clips.length, 2);
});

test("split of a text clip shares its duration", () => {
  const d = doc();
  const right = splitClip(d, "x1", 1, assets);
  assert.equal(d.tracks[1].clips[0].duration, 1);
  assert.equal(right.duration, 2);
  assert.equal(right.start, 1);
});

test("the validator's overlap rule: only an exact crossfade may overlap", () => {
  const d = doc();
  const clips = d.tracks[0].clips;
  clips[1].start = 1.5;
  assert.equal(overlapProblems(clips, assets)[0].reason, "overlap");
  clips[1].transition = { type: "crossfade", duration: 0.5 };
  assert.deepEqual(overlapProblems(clips, assets), []);
  clips[1].transition = { type: "crossfade", duration: 0.4 };
  assert.equal(overlapProblems(clips, assets)[0].reason, "crossfade-length");
});

test("dropping on an occupied spot moves the clip to a new track rather than overlapping", () => {
  const d = doc();
  const clip = { id: "c9", asset_id: "A", start: 0, in: 0, out: 1, volume: 1, fit: "contain", transition: null };
  assert.equal(fitsOn(d.tracks[0], clip, 1, assets), false);
  const landed = placeClip(d, clip, { trackId: "v1", start: 1, assets });
  assert.notEqual(landed.id, "v1");
  assert.equal(landed.kind, "video");
  for (const track of d.tracks) assert.deepEqual(overlapProblems(track.clips, assets), []);
});

test("a free spot keeps the track, and a locked track is never chosen", () => {
  const d = doc();
  const clip = d.tracks[0].clips[1];
  assert.equal(placeClip(d, clip, { trackId: "v1", start: 3, assets }).id, "v1");
  assert.equal(clip.start, 3);
  d.tracks.splice(1, 0, { id: "v2", kind: "video", muted: false, clips: [] });
  const other = { id: "c7", asset_id: "A", start: 0, in: 0, out: 1, transition: null };
  const landed = placeClip(d, other, { trackId: "v1", start: 0.5, assets, lockedIds: new Set(["v2"]) });
  assert.ok(!["v1", "v2"].includes(landed.id));
});

test("moving a crossfaded clip away drops the crossfade it no longer has", () => {
  const d = doc();
  const clips = d.tracks[0].clips;
  clips[1].start = 1.5;
  clips[1].transition = { type: "crossfade", duration: 0.5 };
  placeClip(d, clips[1], { trackId: "v1", start: 3, assets });
  assert.equal(d.tracks[0].clips[1].transition, null);
  assert.deepEqual(overlapProblems(d.tracks[0].clips, assets), []);
});

test("edge trim never goes past the source, a neighbour, or below a frame", () => {
  const d = doc();
  // c2 plays source 1..3 of a 4 s asset at 2..4: its end can reach 5 at most.
  assert.equal(trimLimit(d, "c2", "end", 9, assets).time, 5);
  // its start can go back only to where c1 ends (2), though the source would allow 1.
  assert.equal(trimLimit(d, "c2", "start", 0, assets).time, 2);
  // c1's end cannot run into c2.
  assert.equal(trimLimit(d, "c1", "end", 3, assets).time, 2);
  // never shorter than one frame.
  assert.equal(trimLimit(d, "c1", "end", -1, assets).time, snapToFrame(1 / 30, 30));
});

test("edge trim snaps to nearby edges, else to frames", () => {
  const d = doc();
  const limited = trimLimit(d, "c2", "end", 4.47, assets, { tolerance: 0.1, edges: [4.5] });
  assert.deepEqual(limited, { time: 4.5, snapped: true });
  assert.equal(trimLimit(d, "c2", "end", 4.471, assets).time, 4.466667);
});

test("trimming the start moves in and start together", () => {
  const d = doc();
  trimClip(d, "c2", "start", 2.5, assets);
  const c2 = d.tracks[0].clips[1];
  assert.deepEqual([c2.start, c2.in, c2.out], [2.5, 1.5, 3]);
});

test("ripple trim and ripple delete close the gap", () => {
  const d = doc();
  const limited = trimLimit(d, "c1", "end", 1.5, assets, { ripple: true });
  trimClip(d, "c1", "end", limited.time, assets, { ripple: true });
  assert.equal(d.tracks[0].clips[1].start, 1.5);
  deleteClip(d, "c1", assets, { ripple: true });
  assert.equal(d.tracks[0].clips[0].start, 0);
});

test("deleting the clip a crossfade fades from removes the crossfade", () => {
  const d = doc();
  d.tracks[0].clips[1].start = 1.5;
  d.tracks[0].clips[1].transition = { type: "crossfade", duration: 0.5 };
  deleteClip(d, "c1", assets);
  assert.equal(d.tracks[0].clips[0].transition, null);
});

test("copy and paste give new ids and never overlap", () => {
  const d = doc();
  const entries = copyClips(d, ["c1", "c2"]);
  const pasted = pasteClips(d, entries, 1, assets);
  assert.deepEqual(pasted.map((c) => c.id), ["c3", "c4"]);
  for (const track of d.tracks) assert.deepEqual(overlapProblems(track.clips, assets), []);
});

test("tracks reorder", () => {
  const d = doc();
  moveTrack(d, "t1", 0);
  assert.deepEqual(d.tracks.map((t) => t.id), ["t1", "v1"]);
});

test("undo and redo restore whole steps and keep the view", () => {
  const d = doc();
  const history = new History();
  history.perform(d, "Split", (x) => splitClip(x, "c1", 1, assets));
  history.perform(d, "Delete", (x) => deleteClip(x, "c2", assets));
  d.view.current_time = 7;
  assert.equal(d.tracks[0].clips.length, 2);
  assert.equal(history.undo(d), "Delete");
  assert.equal(history.undo(d), "Split");
  assert.equal(d.tracks[0].clips.length, 2);
  assert.equal(d.tracks[0].clips[0].out, 2);
  assert.equal(d.view.current_time, 7);
  assert.equal(history.redo(d), "Split");
  assert.equal(d.tracks[0].clips.length, 3);
  assert.equal(history.redoLabel, "Delete");
});

test("a step that changes nothing is not recorded, a new step clears redo", () => {
  const d = doc();
  const history = new History();
  history.perform(d, "Nothing", () => null);
  assert.equal(history.canUndo, false);
  history.perform(d, "Split", (x) => splitClip(x, "c1", 1, assets));
  history.undo(d);
  history.perform(d, "Move", (x) => { x.tracks[0].clips[0].start = 0.5; });
  assert.equal(history.canRedo, false);
});

test("a step that throws leaves the document untouched", () => {
  const d = doc();
  const history = new History();
  assert.throws(() => history.perform(d, "Broken", (x) => { x.tracks = []; throw new Error("no"); }));
  assert.equal(d.tracks.length, 2);
});

test("typing in one field is one undo step", () => {
  const d = doc();
  const history = new History();
  for (const text of ["C", "Ca", "Cap"]) history.perform(d, "Edit text", (x) => { x.tracks[1].clips[0].text = text; }, { coalesce: "x1.text" });
  assert.equal(history.done.length, 1);
  history.undo(d);
  assert.equal(d.tracks[1].clips[0].text, "Hi");
});

function crossfaded() {
  const d = doc();
  d.tracks[0].clips[1].start = 1.5;
  d.tracks[0].clips[1].transition = { type: "crossfade", duration: 0.5 };
  return d;
}

test("trimming a crossfaded pair keeps the crossfade exact", () => {
  const d = crossfaded();
  const limited = trimLimit(d, "c1", "end", 1.8, assets);
  trimClip(d, "c1", "end", limited.time, assets);
  assert.deepEqual(d.tracks[0].clips[1].transition, { type: "crossfade", duration: 0.3 });
  assert.deepEqual(overlapProblems(d.tracks[0].clips, assets), []);
  // the crossfading clip's start may reach back into c1, as far as its source allows (in = 1 at 1.5 s)
  assert.equal(trimLimit(d, "c2", "start", -5, assets).time, 0.5);
  trimClip(d, "c2", "start", 1.0, assets);
  assert.deepEqual(overlapProblems(d.tracks[0].clips, assets), []);
});

test("moving the clip a crossfade fades from leaves a valid track", () => {
  const d = crossfaded();
  placeClip(d, d.tracks[0].clips[0], { trackId: "v1", start: 6, assets });
  for (const track of d.tracks) assert.deepEqual(overlapProblems(track.clips, assets), []);
});

test("no split inside a crossfade; next to it the track stays valid", () => {
  const d = crossfaded();
  assert.equal(splitClip(d, "c1", 1.7, assets), null);
  assert.ok(splitClip(d, "c1", 1.0, assets));
  assert.ok(splitClip(d, "c2", 2.5, assets));
  assert.deepEqual(overlapProblems(d.tracks[0].clips, assets), []);
});

test("track switches live in the document: on is written, off is left out (muted stays)", () => {
  const d = doc();
  d.view.tracks = { v1: { name: "B-roll", locked: true } }; // a leftover from when locks were view state
  assert.deepEqual(trackState(d, "v1"), { name: "B-roll", muted: false, solo: false, hidden: false, locked: false });
  assert.equal(setTrackSwitch(d, "v1", "hidden", true), true);
  assert.equal(setTrackSwitch(d, "v1", "locked", true), true);
  assert.equal(d.tracks[0].hidden, true);
  assert.deepEqual([...lockedTrackIds(d)], ["v1"]);
  setTrackSwitch(d, "v1", "hidden", false);
  setTrackSwitch(d, "v1", "muted", false);
  assert.equal("hidden" in d.tracks[0], false);
  assert.equal(d.tracks[0].muted, false);
  assert.equal(setTrackSwitch(d, "t1", "solo", true), false, "a text track has no sound to solo");
  assert.equal("solo" in d.tracks[1], false);
  assert.deepEqual(trackState(d, "t1"), { hidden: false, locked: false });
});

test("a switch is one undo step", () => {
  const d = doc();
  const history = new History();
  history.perform(d, "Hide track", (x) => setTrackSwitch(x, "t1", "hidden", true));
  assert.equal(d.tracks[1].hidden, true);
  history.undo(d);
  assert.equal("hidden" in d.tracks[1], false);
  history.redo(d);
  assert.equal(d.tracks[1].hidden, true);
});
