// The preview monitor: the timeline composited in the page (canvas + one media element per clip +
// Web Audio gains), from each asset's light proxy when it has one. When paused on a frame the browser
// cannot draw exactly (titles: the renderer's font), the server's exact still is shown over it.

import { formatTimecode } from "../format.js";
import { h } from "../ui.js";
import { audioLayers, pictureBox, textAnimated, textBox, visualLayers } from "./compose.js";
import { r6 } from "./model.js";

const BOX = { width: 640, height: 400 };
const RATES = [1, 2, 4];
const SEEK_TIMEOUT_MS = 4000;
const STILL_DELAY_MS = 350;
const DRIFT = 0.2;
const LEVEL_FLOOR_DB = 60; // the level meter's empty end: −60 dBFS

function mediaUrl(asset) {
  return asset.proxy_url || asset.file_url;
}

function waitFor(element, event, timeout = SEEK_TIMEOUT_MS) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      element.removeEventListener(event, done);
      element.removeEventListener("error", done);
      resolve();
    };
    const timer = setTimeout(done, timeout);
    element.addEventListener(event, done, { once: true });
    element.addEventListener("error", done, { once: true });
  });
}

export class Preview {
  constructor(editor) {
    this.editor = editor;
    this.canvas = document.getElementById("monitor-canvas");
    this.ctx = this.canvas.getContext("2d");
    this.stage = this.canvas.parentElement;
    // Selection handles go on their own canvas above the exact still, so they show over it and never
    // mix into the picture.
    this.handles = h("canvas", { class: "monitor-handles", "aria-hidden": "true" });
    this.stage.append(this.handles);
    this.handlesCtx = this.handles.getContext("2d");
    this.mediaRoot = document.getElementById("monitor-media");
    this.playButton = document.getElementById("play");
    this.note = document.getElementById("monitor-note");
    this.rateLabel = document.getElementById("monitor-rate");
    this.level = document.getElementById("monitor-level");
    this.elements = new Map(); // clip id → { element, assetId, gain }
    this.images = new Map(); // asset id → HTMLImageElement
    this.playing = false;
    this.rate = 1;
    this.generation = 0;
    this.audio = null;
    this.still = null;
    this.frameCount = 0;
    this.playButton.addEventListener("click", () => this.toggle());
    this.resize();
  }

  get time() {
    return Number(this.editor.doc.view.current_time) || 0;
  }

  /** Canvas size: the output's shape, fitted in the monitor's box. */
  resize() {
    const output = this.editor.doc.output || {};
    const width = Number(output.width) || 1280;
    const height = Number(output.height) || 720;
    const scale = Math.min(BOX.width / width, BOX.height / height);
    this.canvas.width = Math.max(2, Math.round(width * scale));
    this.canvas.height = Math.max(2, Math.round(height * scale));
    this.handles.width = this.canvas.width;
    this.handles.height = this.canvas.height;
    this.scale = scale;
    this.canvas.setAttribute("aria-label", `Preview, ${width}×${height}, at ${formatTimecode(this.time)}`);
    this.draw();
  }

  /** The document changed: drop elements of clips that are gone, redraw the paused frame. */
  invalidate() {
    const ids = new Set(this.editor.doc.tracks.flatMap((t) => t.clips.map((c) => c.id)));
    for (const [clipId, entry] of this.elements) {
      const asset = this.editor.assets.get(entry.assetId);
      // Gone, or its proxy became ready since: the next frame makes a fresh element.
      if (!ids.has(clipId) || !asset || mediaUrl(asset) !== entry.src) this._dropElement(clipId);
    }
    const output = this.editor.doc.output || {};
    if (Math.abs(this.canvas.width / this.canvas.height - (Number(output.width) || 1280) / (Number(output.height) || 720)) > 0.01) {
      this.resize();
    }
    if (!this.playing) this.seek(this.time);
  }

  _element(clip, asset) {
    let entry = this.elements.get(clip.id);
    if (entry && entry.assetId !== asset.id) {
      this._dropElement(clip.id);
      entry = null;
    }
    if (!entry) {
      const tag = asset.kind === "audio" ? "audio" : "video";
      const element = h(tag, { preload: "auto", playsinline: true, muted: true, src: mediaUrl(asset) });
      element.muted = true;
      this.mediaRoot.append(element);
      entry = { element, assetId: asset.id, src: mediaUrl(asset), gain: null };
      this.elements.set(clip.id, entry);
      if (this.audio) this._connect(entry);
    }
    return entry;
  }

  _dropElement(clipId) {
    const entry = this.elements.get(clipId);
    if (!entry) return;
    entry.element.pause();
    entry.element.removeAttribute("src");
    entry.element.load();
    entry.element.remove();
    this.elements.delete(clipId);
  }

  _connect(entry) {
    // Once routed through Web Audio the element's own volume is bypassed: the gain node is the volume.
    try {
      const source = this.audio.createMediaElementSource(entry.element);
      entry.gain = this.audio.createGain();
      entry.gain.gain.value = 0;
      source.connect(entry.gain).connect(this.mix);
      entry.element.muted = false;
    } catch {
      entry.gain = null; // already connected, or no Web Audio: stays muted
    }
  }

  _image(asset) {
    let image = this.images.get(asset.id);
    if (!image) {
      image = new Image();
      image.src = mediaUrl(asset);
      image.addEventListener("load", () => { if (!this.playing) this.draw(); });
      this.images.set(asset.id, image);
    }
    return image;
  }

  // --- paused: exact frames --------------------------------------------------------------------------

  /** Show the frame at `time` once every video element has seeked there. */
  async seek(time) {
    const generation = ++this.generation;
    this._hideStill();
    const t = Math.max(0, Number(time) || 0);
    const waits = [];
    for (const layer of visualLayers(this.editor.doc, t, this.editor.assets)) {
      if (layer.kind !== "video") continue;
      const { element } = this._element(layer.clip, layer.asset);
      if (!element.paused) element.pause();
      if (element.readyState < 1) waits.push(waitFor(element, "loadedmetadata").then(() => this._seekElement(element, layer.sourceTime)));
      else waits.push(this._seekElement(element, layer.sourceTime));
    }
    await Promise.all(waits);
    if (generation !== this.generation) return;
    this.draw(t);
    this.canvas.dataset.frameTime = String(r6(t));
    this.canvas.dataset.frames = String(++this.frameCount);
    this._scheduleStill(t, generation);
  }

  async _seekElement(element, sourceTime) {
    const target = Math.max(0, sourceTime);
    if (Math.abs(element.currentTime - target) < 1e-4 && element.readyState >= 2) return;
    const seeked = waitFor(element, "seeked");
    element.currentTime = target;
    await seeked;
    if (element.readyState < 2) await waitFor(element, "loadeddata", 1000);
  }

  /** What the browser cannot draw exactly (titles, in the renderer's own font) comes from the server. */
  _scheduleStill(time, generation) {
    clearTimeout(this.stillTimer);
    const layers = visualLayers(this.editor.doc, time, this.editor.assets);
    const needsExact = layers.some((l) => l.kind === "text" || l.clip.adjust || l.clip.transition_out
      || (l.clip.transition && !["fade", "crossfade"].includes(l.clip.transition.type)));
    this.stillWanted = false;
    if (!needsExact) {
      this.note.textContent = "";
      return;
    }
    this.note.textContent = this.editor.saveState === "saved" ? "Fetching the exact frame…" : "Approximate: titles are drawn exactly once saved.";
    if (this.editor.saveState !== "saved") {
      this.stillWanted = true; // fetched by saved() once the document is on the server
      return;
    }
    this.stillTimer = setTimeout(async () => {
      const url = `/api/projects/${this.editor.projectId}/still?t=${time}&width=${this.canvas.width}`;
      const image = new Image();
      image.className = "monitor-still";
      image.alt = "";
      image.src = url;
      try {
        await image.decode();
      } catch {
        this.note.textContent = "The exact frame could not be made; showing the browser's preview.";
        return;
      }
      if (generation !== this.generation || this.playing) return;
      this._hideStill();
      this.still = image;
      this.stage.append(image);
      this.note.textContent = "Exact frame (as the render will draw it).";
    }, STILL_DELAY_MS);
  }

  _hideStill() {
    clearTimeout(this.stillTimer);
    if (this.still) this.still.remove();
    this.still = null;
  }

  /** The document reached the server: the exact frame that waited for it can be fetched now. */
  saved() {
    if (this.stillWanted && !this.playing) this._scheduleStill(this.time, this.generation);
  }

  /** A canvas gesture began: the exact still no longer shows what is being changed. */
  editing() {
    this._hideStill();
    this.note.textContent = "";
  }

  // --- drawing ---------------------------------------------------------------------------------------

  draw(time = this.time) {
    const ctx = this.ctx;
    const { width, height } = this.canvas;
    const output = this.editor.doc.output || {};
    ctx.globalAlpha = 1;
    ctx.fillStyle = output.background || "#000000";
    ctx.fillRect(0, 0, width, height);
    for (const layer of visualLayers(this.editor.doc, time, this.editor.assets)) {
      if (layer.alpha <= 0) continue;
      ctx.globalAlpha = Math.min(1, layer.alpha);
      if (layer.kind === "text") this._drawText(layer.clip, time - Number(layer.clip.start || 0));
      else if (layer.kind === "image") {
        const image = this._image(layer.asset);
        if (image.complete && image.naturalWidth) this._drawPicture(image, layer, image.naturalWidth, image.naturalHeight);
      } else {
        const { element } = this._element(layer.clip, layer.asset);
        if (element.readyState >= 2) this._drawPicture(element, layer, element.videoWidth, element.videoHeight);
      }
    }
    ctx.globalAlpha = 1;
    this.handlesCtx.clearRect(0, 0, this.handles.width, this.handles.height);
    if (this.overlay) this.overlay(this.handlesCtx, time);
  }

  /** A video frame or image with the clip's fit, crop, scale, position, rotation and opacity. */
  _drawPicture(source, layer, sourceWidth, sourceHeight) {
    const local = this.time - Number(layer.clip.start || 0);
    const box = pictureBox(layer.clip, local, [sourceWidth, sourceHeight], [this.canvas.width, this.canvas.height]);
    const { crop } = box;
    const ctx = this.ctx;
    ctx.save();
    ctx.globalAlpha *= Math.max(0, Math.min(1, box.opacity));
    ctx.translate(box.cx, box.cy);
    if (box.rotation) ctx.rotate((box.rotation * Math.PI) / 180);
    ctx.drawImage(source, crop.left * sourceWidth, crop.top * sourceHeight,
      sourceWidth * (1 - crop.left - crop.right), sourceHeight * (1 - crop.top - crop.bottom),
      -box.width / 2, -box.height / 2, box.width, box.height);
    ctx.restore();
    layer.box = box;
  }

  /** The boxes drawn at the paused time, topmost last: what the canvas gestures hit-test. */
  boxesAt(time = this.time) {
    const boxes = [];
    for (const layer of visualLayers(this.editor.doc, time, this.editor.assets)) {
      const local = time - Number(layer.clip.start || 0);
      if (layer.kind === "text") {
        // An animated title is a series of pictures the transform does not apply to (docs/text-and-captions.md).
        if (!textAnimated(layer.clip)) boxes.push({ clip: layer.clip, track: layer.track, box: this._textLayout(layer.clip, local).box });
        continue;
      }
      let size = null;
      if (layer.kind === "image") {
        const image = this._image(layer.asset);
        size = [image.naturalWidth || layer.asset.width, image.naturalHeight || layer.asset.height];
      } else {
        const entry = this.elements.get(layer.clip.id);
        size = [(entry && entry.element.videoWidth) || layer.asset.width, (entry && entry.element.videoHeight) || layer.asset.height];
      }
      boxes.push({ clip: layer.clip, track: layer.track,
        box: pictureBox(layer.clip, local, size, [this.canvas.width, this.canvas.height]) });
    }
    return boxes;
  }

  /** A title's lines, font size and box (centre, size, turn, opacity: its transform at `local` applied). */
  _textLayout(clip, local) {
    const ctx = this.ctx;
    const style = clip.style || {};
    const size = Math.max(4, Math.round((Number(style.size) || 48) * this.scale));
    const stroke = Math.max(1, Math.round(size / 24));
    ctx.save();
    ctx.font = `${size}px Aileron, "Helvetica Neue", Arial, sans-serif`;
    const lines = String(clip.text || " ").split("\n");
    const ink = [Math.max(...lines.map((line) => ctx.measureText(line).width)) + 2 * stroke, lines.length * size * 1.15];
    ctx.restore();
    return { size, stroke, lines, box: textBox(clip, local, ink, [this.canvas.width, this.canvas.height]) };
  }

  /** Where a title's centre is now, in fractions of the frame (the default of its transform's x and y). */
  textCentre(clip, local) {
    const { box } = this._textLayout(clip, local);
    return [r6(box.cx / this.canvas.width), r6(box.cy / this.canvas.height)];
  }

  _drawText(clip, local) {
    const ctx = this.ctx;
    const style = clip.style || {};
    const { size, stroke, lines, box } = this._textLayout(clip, local);
    const scale = box.scale;
    ctx.save();
    ctx.globalAlpha *= Math.max(0, Math.min(1, box.opacity));
    ctx.translate(box.cx, box.cy);
    if (box.rotation) ctx.rotate((box.rotation * Math.PI) / 180);
    ctx.scale(scale, scale);
    ctx.font = `${size}px Aileron, "Helvetica Neue", Arial, sans-serif`;
    ctx.textBaseline = "top";
    ctx.textAlign = "center";
    ctx.lineWidth = stroke * 2;
    ctx.strokeStyle = "#000";
    ctx.fillStyle = style.color || "#ffffff";
    const top = -box.height / scale / 2;
    lines.forEach((line, index) => {
      ctx.strokeText(line, 0, top + index * size * 1.15);
      ctx.fillText(line, 0, top + index * size * 1.15);
    });
    ctx.restore();
  }

  // --- playing ---------------------------------------------------------------------------------------

  /** The loudest sample of the mix just heard (0 … 1; 0 before any sound has played). */
  outputPeak() {
    if (!this.analyser) return 0;
    const samples = new Float32Array(this.analyser.fftSize);
    this.analyser.getFloatTimeDomainData(samples);
    return samples.reduce((peak, v) => Math.max(peak, Math.abs(v)), 0);
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  play(rate = 1) {
    const length = this.editor.length();
    if (length <= 0) return;
    if (rate > 0 && this.time >= length - 1e-3) this.editor.doc.view.current_time = 0;
    if (!this.audio && window.AudioContext) {
      this.audio = new AudioContext();
      // Every clip's gain feeds one mix; an analyser on it lets the page (and the tests) see what is heard.
      this.mix = this.audio.createGain();
      this.analyser = this.audio.createAnalyser();
      this.analyser.fftSize = 2048;
      this.mix.connect(this.analyser);
      this.mix.connect(this.audio.destination);
      for (const entry of this.elements.values()) this._connect(entry);
    }
    if (this.audio && this.audio.state === "suspended") this.audio.resume().catch(() => {});
    this._hideStill();
    this.note.textContent = "";
    this.rate = rate;
    this.playing = true;
    this.generation += 1;
    this.clockStart = performance.now();
    this.timeStart = this.time;
    this.playButton.textContent = "Pause";
    this.playButton.setAttribute("aria-pressed", "true");
    this.rateLabel.textContent = rate === 1 ? "" : `${rate > 0 ? "▶" : "◀"} ×${Math.abs(rate)}`;
    this.stage.dataset.playing = "true";
    const tick = () => {
      if (!this.playing) return;
      this._tick();
      this.frameRequest = requestAnimationFrame(tick);
    };
    this.frameRequest = requestAnimationFrame(tick);
  }

  pause() {
    if (!this.playing) return;
    this.playing = false;
    cancelAnimationFrame(this.frameRequest);
    for (const entry of this.elements.values()) {
      entry.element.pause();
      if (entry.gain) entry.gain.gain.value = 0;
    }
    this.level.value = 0;
    this.playButton.textContent = "Play";
    this.playButton.setAttribute("aria-pressed", "false");
    this.rateLabel.textContent = "";
    delete this.stage.dataset.playing;
    this.editor.setTime(this.time, { scroll: false }); // saves the view and shows the exact frame
  }

  /** J / L: play backwards / forwards, faster each press (K or Space stops). */
  faster(direction) {
    const current = this.playing ? this.rate : 0;
    const speed = Math.sign(current) === direction ? RATES[Math.min(RATES.length - 1, RATES.indexOf(Math.abs(current)) + 1)] : 1;
    if (this.playing) this.pause();
    this.play(direction * speed);
  }

  _tick() {
    const length = this.editor.length();
    let time = this.timeStart + (this.rate * (performance.now() - this.clockStart)) / 1000;
    const atEdge = time >= length || time <= 0;
    time = Math.min(length, Math.max(0, time));
    this.editor.doc.view.current_time = r6(time);
    const active = new Set();
    for (const layer of visualLayers(this.editor.doc, time, this.editor.assets)) {
      if (layer.kind !== "video") continue;
      active.add(layer.clip.id);
      this._follow(this._element(layer.clip, layer.asset).element, layer.sourceTime);
    }
    for (const sound of audioLayers(this.editor.doc, time, this.editor.assets)) {
      active.add(sound.clip.id);
      const entry = this._element(sound.clip, sound.asset);
      this._follow(entry.element, sound.sourceTime);
      if (entry.gain) entry.gain.gain.value = Math.min(2, sound.gain);
    }
    for (const [clipId, entry] of this.elements) {
      if (active.has(clipId)) continue;
      if (!entry.element.paused) entry.element.pause();
      if (entry.gain) entry.gain.gain.value = 0;
    }
    this.draw(time);
    this.canvas.dataset.frames = String(++this.frameCount);
    const peak = this.outputPeak();
    this.level.value = peak > 0 ? Math.max(0, 1 + (20 * Math.log10(peak)) / LEVEL_FLOOR_DB) : 0; // a meter in dB
    this.editor.timeline.movePlayhead(time);
    document.getElementById("current-time").textContent = formatTimecode(time);
    if (atEdge) this.pause();
  }

  /** Keep an element near `sourceTime`: play it along (forwards), seek it when it drifts or runs backwards. */
  _follow(element, sourceTime) {
    if (this.rate < 0) {
      if (!element.paused) element.pause();
      if (Math.abs(element.currentTime - sourceTime) > 1 / 30 && !element.seeking) element.currentTime = sourceTime;
      return;
    }
    if (element.playbackRate !== this.rate) element.playbackRate = this.rate;
    if (Math.abs(element.currentTime - sourceTime) > DRIFT && !element.seeking) element.currentTime = sourceTime;
    if (element.paused) element.play().catch(() => {});
  }
}
