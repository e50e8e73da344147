import assert from "node:assert/strict";
import { test } from "node:test";

import { audioLayers, fitRect, textOrigin, visualLayers } from "../../projects/static/cutline/js/editor/compose.js";

const assets = new Map([["A", { id: "A", kind: "video", duration: 4, has_audio: true, width: 320, height: 180 }],
  ["M", { id: "M", kind: "audio", duration: 4 }]]);

function doc() {
  return {
    output: { width: 640, height: 360, fps: 30 },
    tracks: [
      { id: "v1", kind: "video", muted: false, clips: [
        { id: "c1", asset_id: "A", start: 0, in: 1, out: 3, volume: 1, transition: null },
        { id: "c2", asset_id: "A", start: 1.5, in: 0, out: 2, volume: 0.5, transition: { type: "crossfade", duration: 0.5 } },
      ] },
      { id: "t1", kind: "text", clips: [{ id: "x1", text: "Hi", start: 0, duration: 1 }] },
      { id: "a1", kind: "audio", muted: false, clips: [
        { id: "m1", asset_id: "M", start: 0, in: 0, out: 4, volume: 1, fade_in: 1, fade_out: 0 }] },
    ],
    view: { current_time: 0, zoom: 1 },
  };
}

test("contain letterboxes, cover fills, stretch ignores the shape", () => {
  assert.deepEqual(fitRect("contain", [320, 180], [360, 640]), [0, 218.75, 360, 202.5]);
  assert.deepEqual(fitRect("cover", [320, 180], [360, 360]), [-140, 0, 640, 360]);
  assert.deepEqual(fitRect("stretch", [320, 180], [360, 640]), [0, 0, 360, 640]);
});

test("layers at a time: bottom first, the source moment, titles on top", () => {
  const layers = visualLayers(doc(), 0.5, assets);
  assert.deepEqual(layers.map((l) => [l.clip.id, l.kind]), [["c1", "video"], ["x1", "text"]]);
  assert.equal(layers[0].sourceTime, 1.5);
});

test("a crossfade ramps the later clip in over the earlier one", () => {
  const layers = visualLayers(doc(), 1.75, assets);
  assert.deepEqual(layers.map((l) => [l.clip.id, l.alpha]), [["c1", 1], ["c2", 0.5]]);
});

test("a hidden track is not drawn", () => {
  const d = doc();
  d.tracks[1].hidden = true;
  assert.deepEqual(visualLayers(d, 0.5, assets).map((l) => l.clip.id), ["c1"]);
  d.tracks[1].hidden = false;
  d.tracks[0].hidden = true;
  assert.deepEqual(visualLayers(d, 0.5, assets).map((l) => l.clip.id), ["x1"]);
  d.view.tracks = { v1: { hidden: false } }; // editor state in the view no longer decides it
  assert.deepEqual(visualLayers(d, 0.5, assets).map((l) => l.clip.id), ["x1"]);
});

test("a hidden video track is still heard", () => {
  const d = doc();
  d.tracks[0].hidden = true;
  assert.deepEqual(audioLayers(d, 0.5, assets).map((s) => [s.clip.id, s.gain]), [["c1", 1], ["m1", 0.5]]);
});

test("audio: fades, volume, mute and solo", () => {
  const d = doc();
  const at = (time) => Object.fromEntries(audioLayers(d, time, assets).map((s) => [s.clip.id, s.gain]));
  assert.deepEqual(at(0.5), { c1: 1, m1: 0.5 });
  d.tracks[0].muted = true;
  assert.deepEqual(at(0.5), { c1: 0, m1: 0.5 });
  d.tracks[0].muted = false;
  d.tracks[2].solo = true;
  assert.deepEqual(at(0.5), { c1: 0, m1: 0.5 });
  d.tracks[0].solo = true; // two solo tracks: both heard
  assert.deepEqual(at(0.5), { c1: 1, m1: 0.5 });
  d.tracks[0].muted = true; // solo and muted: silent, and the other solo track still plays alone
  assert.deepEqual(at(0.5), { c1: 0, m1: 0.5 });
});

test("titles sit as the renderer puts them", () => {
  assert.deepEqual(textOrigin("top", [100, 40], [640, 360]), [270, 18]);
  assert.deepEqual(textOrigin("bottom", [100, 40], [640, 360]), [270, 302]);
  assert.deepEqual(textOrigin({ x: 1, y: 0 }, [100, 40], [640, 360]), [540, 0]);
});

import { curveValue, insideBox, keyframeRemove, keyframeSet, pictureBox } from "../../projects/static/cutline/js/editor/compose.js";

test("keyframe curves ease like the renderer's", () => {
  const points = [{ t: 0, v: 0, ease: "ease_in" }, { t: 2, v: 1, ease: "linear" }];
  assert.equal(curveValue(points, -1), 0);
  assert.equal(curveValue(points, 1), 0.25);
  assert.equal(curveValue(points, 3), 1);
  assert.equal(curveValue([{ t: 0, v: 5, ease: "hold" }, { t: 1, v: 9, ease: "linear" }], 0.9), 5);
});

test("a transformed picture: fitted, scaled about its centre, placed at x/y", () => {
  const clip = { fit: "contain", transform: { x: 0.9, y: 0.1, scale: 0.25 } };
  const box = pictureBox(clip, 0, [320, 180], [640, 360]);
  assert.deepEqual([box.cx, box.cy, box.width, box.height], [576, 36, 160, 90]);
  assert.ok(insideBox(box, 576, 36) && !insideBox(box, 320, 180));
  // untouched x/y: where the fit put it
  assert.deepEqual(pictureBox({ fit: "contain" }, 0, [320, 180], [640, 640]).cy, 320);
});

test("keyframes are set in time order and removed", () => {
  const clip = {};
  keyframeSet(clip, "x", 1, 0.2);
  keyframeSet(clip, "x", 0, 0.1);
  keyframeSet(clip, "x", 1, 0.3);
  assert.deepEqual(clip.keyframes.x.map((k) => [k.t, k.v]), [[0, 0.1], [1, 0.3]]);
  keyframeRemove(clip, "x", 0);
  keyframeRemove(clip, "x", 1);
  assert.equal(clip.keyframes, undefined);
});

import { textAnimated, textBox } from "../../projects/static/cutline/js/editor/compose.js";

test("a title's box: at its style position until x/y are set, then scaled and turned about its centre", () => {
  const title = { id: "x", text: "Hi", start: 0, duration: 2, style: { position: "top" } };
  assert.deepEqual(textBox(title, 0, [100, 40], [640, 360]),
    { cx: 320, cy: 38, width: 100, height: 40, rotation: 0, opacity: 1, scale: 1 });
  title.transform = { x: 0.1, y: 0.2, scale: 2, rotation: 30 };
  assert.deepEqual(textBox(title, 0, [100, 40], [640, 360]),
    { cx: 64, cy: 72, width: 200, height: 80, rotation: 30, opacity: 1, scale: 2 });
  title.keyframes = { x: [{ t: 0, v: 0.1 }, { t: 1, v: 0.5 }] };
  assert.ok(Math.abs(textBox(title, 0.5, [100, 40], [640, 360]).cx - 192) < 1e-9);
});

test("an animated title is not transformed", () => {
  assert.equal(textAnimated({ style: { animation: { in: "fade" } } }), true);
  assert.equal(textAnimated({ style: { animation: { in: "none", out: "none" } } }), false);
  assert.equal(textAnimated({ style: {} }), false);
});
