// The editor page: owns the timeline document, saves it automatically with optimistic concurrency
// (`version`; a 409 offers a reload, never a silent overwrite) and maps validation errors to clips.

import { api, apiList, describeError } from "../api.js";
import { formatTimecode } from "../format.js";
import { h, installErrorGuard, notify, pageData } from "../ui.js";
import { MediaBin } from "./bin.js";
import { Inspector } from "./inspector.js";
import {
  addAssetClip, addTextClip, addTrack, alignCrossfade, clone, findClip, problemsFromErrors, r6, removeClip,
  sortTrack, timelineLength,
} from "./model.js";
import { RenderPanel } from "./render.js";
import { clampZoom, TimelineView } from "./timeline.js";

const SAVE_DELAY_MS = 600;
const VIEW_SAVE_DELAY_MS = 1500;
const RETRY_DELAY_MS = 5000;

class Editor {
  constructor(config) {
    this.projectId = config.project_id;
    this.projectName = config.project_name;
    this.version = null;
    this.doc = null;
    this.savedDoc = null;
    this.assets = new Map();
    this.selection = null;
    this.problems = [];
    this.saveState = "saved";
    this.revision = 0;
    this.savedRevision = 0;
    this.saving = null;
    this.saveTimer = null;
    this.statusElement = document.getElementById("save-status");
    this.problemsElement = document.getElementById("problems");
    this.conflictElement = document.getElementById("conflict");
  }

  async start() {
    try {
      const [project, assets] = await Promise.all([
        api(`/api/projects/${this.projectId}/`),
        apiList("/api/assets/"),
      ]);
      this._loadProject(project);
      for (const asset of assets) this.assets.set(asset.id, asset);
    } catch (error) {
      document.getElementById("editor-loading").textContent = describeError(error);
      return;
    }
    document.getElementById("editor-loading").remove();
    document.querySelector(".editor").classList.remove("is-loading");
    this.timeline = new TimelineView(document.getElementById("timeline"), this);
    this.inspector = new Inspector(document.getElementById("inspector-body"), this);
    this.bin = new MediaBin(document.getElementById("bin"), this);
    this.renderPanel = new RenderPanel({
      form: document.getElementById("render-form"), drawer: document.getElementById("job-drawer"), editor: this });
    this._wireToolbar();
    window.addEventListener("beforeunload", (event) => {
      if (this.saveState !== "saved") event.preventDefault();
    });
    window.addEventListener("resize", () => this.timeline.render());
    this.renderAll();
    this._setSaveState("saved");
    this.timeline.scrollToTime(this.doc.view.current_time);
    this.renderPanel.load();
    document.body.dataset.editorReady = "true";
  }

  _loadProject(project) {
    this.version = project.version;
    this.projectName = project.name;
    this.doc = clone(project.timeline);
    this.doc.tracks = this.doc.tracks || [];
    this.doc.markers = this.doc.markers || [];
    this.doc.view = { current_time: 0, zoom: 1, ...(this.doc.view || {}) };
    this.savedDoc = clone(project.timeline);
    this.revision = 0;
    this.savedRevision = 0;
  }

  _wireToolbar() {
    const on = (id, handler) => document.getElementById(id).addEventListener("click", handler);
    on("zoom-in", () => this.setZoom(this.timeline.zoom * 1.5));
    on("zoom-out", () => this.setZoom(this.timeline.zoom / 1.5));
    on("zoom-fit", () => {
      const width = this.timeline.scroll.clientWidth - 170;
      this.setZoom(width / 60 / Math.max(1, this.length()));
    });
    on("add-text", () => {
      const { clip } = addTextClip(this.doc, { start: this.doc.view.current_time, trackId: this._selectedTrackId("text") });
      this.changed();
      this.select({ clipId: clip.id });
      this._focusInspector('[data-field="text"]');
    });
    on("add-marker", () => {
      const time = r6(this.doc.view.current_time);
      this.doc.markers.push({ time, label: `Marker ${this.doc.markers.length + 1}` });
      this.doc.markers.sort((a, b) => a.time - b.time);
      this.changed();
      this.select({ markerIndex: this.doc.markers.findIndex((m) => m.time === time) });
    });
    document.getElementById("add-track-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const kind = event.target.querySelector("select").value;
      addTrack(this.doc, kind);
      this.changed();
    });
    document.getElementById("conflict-reload").addEventListener("click", () => this.reloadLatest());
  }

  _focusInspector(selector) {
    const field = document.querySelector(`#inspector-body ${selector}`);
    if (field) field.focus();
  }

  _selectedTrackId(kind) {
    if (!this.selection || !this.selection.clipId) return null;
    const found = this.findClip(this.selection.clipId);
    return found && found.track.kind === kind ? found.track.id : null;
  }

  // --- what the views call ---------------------------------------------------------------------

  findClip(clipId) {
    return findClip(this.doc, clipId);
  }

  length() {
    return timelineLength(this.doc, this.assets);
  }

  select(selection) {
    this.selection = selection;
    this.timeline.render();
    this.inspector.render();
  }

  setTime(time) {
    this.doc.view.current_time = r6(Math.max(0, time));
    this.timeline.render();
    this.timeline.scrollToTime(this.doc.view.current_time);
    document.getElementById("current-time").textContent = formatTimecode(this.doc.view.current_time);
    this.changed({ view: true });
  }

  setZoom(zoom) {
    this.doc.view.zoom = Math.round(clampZoom(zoom) * 1000) / 1000;
    document.getElementById("zoom-level").textContent = `${Math.round(this.doc.view.zoom * 100)} %`;
    this.timeline.render();
    this.changed({ view: true });
  }

  addAssetToTrack(assetId, trackId = null, start = null) {
    const asset = this.assets.get(assetId);
    if (!asset) return;
    const preferred = trackId || this._selectedTrackId(asset.kind === "audio" ? "audio" : "video");
    const { track, clip } = addAssetClip(this.doc, asset, this.assets, { trackId: preferred, start });
    if (trackId && track.id !== trackId) notify(`${asset.name} went to track ${track.id}: it does not fit on ${trackId}.`);
    this.changed();
    this.select({ clipId: clip.id });
    this.timeline.scrollToTime(clip.start);
  }

  moveClip(clipId, { start = null, trackId = null }) {
    const found = this.findClip(clipId);
    if (!found) return;
    let { track } = found;
    if (trackId && trackId !== track.id) {
      const target = this.doc.tracks.find((t) => t.id === trackId && t.kind === track.kind);
      if (target) {
        track.clips.splice(found.clipIndex, 1);
        target.clips.push(found.clip);
        track = target;
      }
    }
    if (start != null) found.clip.start = r6(Math.max(0, start));
    sortTrack(track);
    this.changed();
    this.renderAll();
  }

  updateClip(clipId, mutate) {
    const found = this.findClip(clipId);
    if (!found) return;
    mutate(found.clip);
    this.changed();
    this.renderAll();
  }

  setTransition(clipId, type, duration) {
    const found = this.findClip(clipId);
    if (!found) return;
    const before = found.clip.transition;
    found.clip.transition = type ? { type, duration: r6(Math.max(0.05, Number(duration) || 0.5)) } : null;
    if (type === "crossfade" && !alignCrossfade(found.track, found.clip, this.assets)) {
      found.clip.transition = before;
      notify("A crossfade needs another clip before this one on the same track.", { kind: "error" });
      this.renderAll();
      return;
    }
    this.changed();
    this.renderAll();
  }

  deleteClip(clipId) {
    if (!removeClip(this.doc, clipId)) return;
    if (this.selection && this.selection.clipId === clipId) this.selection = null;
    this.problems = this.problems.filter((p) => p.clipId !== clipId);
    this.changed();
    this.renderAll();
    notify("Clip deleted.");
  }

  setTrackMuted(trackId, muted) {
    const track = this.doc.tracks.find((t) => t.id === trackId);
    if (!track) return;
    track.muted = muted;
    this.changed();
  }

  removeTrack(trackId) {
    const index = this.doc.tracks.findIndex((t) => t.id === trackId && !t.clips.length);
    if (index < 0) return;
    this.doc.tracks.splice(index, 1);
    this.changed();
    this.renderAll();
  }

  updateMarker(index, mutate) {
    mutate(this.doc.markers[index]);
    this.changed();
    this.renderAll();
  }

  deleteMarker(index) {
    this.doc.markers.splice(index, 1);
    this.selection = null;
    this.changed();
    this.renderAll();
  }

  updateOutput(mutate) {
    this.doc.output = { ...(this.doc.output || {}) };
    mutate(this.doc.output);
    this.changed();
    this.renderAll();
  }

  assetAdded(asset) {
    this.assets = new Map([[asset.id, asset], ...this.assets]);
    this.bin.render();
  }

  assetRemoved(assetId) {
    this.assets.delete(assetId);
    this.bin.render();
    this.timeline.render();
  }

  renderAll() {
    document.getElementById("current-time").textContent = formatTimecode(this.doc.view.current_time);
    document.getElementById("zoom-level").textContent = `${Math.round(clampZoom(this.doc.view.zoom) * 100)} %`;
    this.timeline.render();
    this.inspector.render();
    this.bin.render();
    this._renderProblems();
  }

  // --- saving ----------------------------------------------------------------------------------

  changed({ view = false } = {}) {
    this.revision += 1;
    if (this.saveState === "conflict") return;
    this._setSaveState("dirty");
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.save(), view ? VIEW_SAVE_DELAY_MS : SAVE_DELAY_MS);
  }

  async save() {
    clearTimeout(this.saveTimer);
    if (this.saveState === "conflict") return;
    if (this.saving) {
      await this.saving;
      if (this.revision !== this.savedRevision && this.saveState !== "conflict") return this.save();
      return;
    }
    if (this.revision === this.savedRevision && this.saveState === "saved") return;
    this.saving = this._saveOnce().finally(() => { this.saving = null; });
    await this.saving;
    if (this.saveState === "dirty") return this.save();
  }

  async _saveOnce() {
    const sent = clone(this.doc);
    const revision = this.revision;
    this._setSaveState("saving");
    try {
      const project = await api(`/api/projects/${this.projectId}/`, {
        method: "PATCH", body: { timeline: sent, version: this.version } });
      this.version = project.version;
      this.savedDoc = clone(project.timeline);
      this.savedRevision = revision;
      const hadProblems = this.problems.length > 0;
      this.problems = [];
      if (this.revision === revision) {
        // Take the server's canonical document (defaults filled) when nothing changed meanwhile.
        const canonical = { ...clone(project.timeline), view: this.doc.view };
        const differs = JSON.stringify(canonical) !== JSON.stringify(this.doc);
        this.doc = canonical;
        this._setSaveState("saved");
        if (differs || hadProblems) this.renderAll();
      } else {
        this._setSaveState("dirty");
        if (hadProblems) this.renderAll();
      }
    } catch (error) {
      if (error.status === 409) {
        this._setSaveState("conflict");
      } else if (error.status === 400 && error.errors && error.errors.length) {
        this.savedRevision = revision;
        this.showProblems(error.errors, { sent });
        this._setSaveState(this.revision === revision ? "invalid" : "dirty");
      } else {
        this._saveError = describeError(error);
        this._setSaveState("error");
        this.saveTimer = setTimeout(() => this.save(), RETRY_DELAY_MS);
      }
    }
  }

  /** Wait for pending changes to reach the server; true when the saved document is the current one. */
  async flushSave() {
    if (this.saveState === "dirty" || this.saveState === "error") await this.save();
    else if (this.saving) await this.saving;
    if (this.saveState === "dirty") await this.save();
    return this.saveState === "saved";
  }

  async reloadLatest() {
    try {
      const project = await api(`/api/projects/${this.projectId}/`);
      this._loadProject(project);
      this.selection = null;
      this.problems = [];
      this._setSaveState("saved");
      this.renderAll();
      notify("Loaded the latest version of this project.");
    } catch (error) {
      notify(describeError(error), { kind: "error" });
    }
  }

  showProblems(errors, { sent }) {
    this.problems = problemsFromErrors(errors, sent);
    this.renderAll();
  }

  _setSaveState(state) {
    this.saveState = state;
    const count = this.problems.length;
    const labels = {
      saved: "All changes saved",
      dirty: "Unsaved changes…",
      saving: "Saving…",
      conflict: "Not saved: changed elsewhere",
      invalid: `Not saved: ${count} problem${count === 1 ? "" : "s"} to fix`,
      error: `Not saved: ${this._saveError || "the server did not answer"} Retrying…`,
    };
    this.statusElement.textContent = labels[state];
    this.statusElement.dataset.state = state;
    this.conflictElement.hidden = state !== "conflict";
    if (state === "conflict") this.conflictElement.querySelector("button").focus();
  }

  _renderProblems() {
    const element = this.problemsElement;
    element.replaceChildren();
    element.hidden = !this.problems.length;
    if (!this.problems.length) return;
    element.append(h("h2", {}, "The server could not save these changes:"));
    element.append(h("ul", {}, this.problems.map((problem) => {
      const where = problem.clipId ? `Clip ${problem.clipId}` : problem.markerIndex != null
        ? `Marker ${problem.markerIndex + 1}` : problem.trackId ? `Track ${problem.trackId}` : null;
      return h("li", {},
        where ? h("strong", {}, `${where}: `) : null, problem.message,
        problem.clipId ? h("button", { type: "button", class: "link small",
          onclick: () => {
            this.select({ clipId: problem.clipId });
            this._focusInspector(problem.field ? `[data-field="${CSS.escape(problem.field)}"]` : "input");
          } }, " Show") : null);
    })));
  }
}

installErrorGuard();
const editor = new Editor(pageData("editor-config"));
window.cutlineEditor = editor; // for people debugging in the console and for the browser tests
editor.start();
