// The editor page: owns the timeline document, saves it automatically with optimistic concurrency
// (`version`; a 409 offers a reload, never a silent overwrite) and maps validation errors to clips.

import { api, apiList, describeError } from "../api.js";
import { formatTimecode } from "../format.js";
import { h, installErrorGuard, notify, pageData } from "../ui.js";
import { MediaBin } from "./bin.js";
import { Inspector } from "./inspector.js";
import {
  addAssetClip, addTextClip, addTrack, alignCrossfade, clipEnd, clone, findClip, problemsFromErrors, r6, timelineLength,
} from "./model.js";
import { RenderPanel } from "./render.js";
import {
  copyClips, deleteClip as deleteClipRule, lockedTrackIds, moveTrack, pasteClips, placeClip, setTrackSwitch, snapToFrame,
  splitClip, trackState, trimClip,
} from "./edit.js";
import { History } from "./history.js";
import { Preview } from "./preview.js";
import { CanvasTransform } from "./transform.js";
import { installShortcuts } from "./shortcuts.js";
import { clampZoom, TimelineView } from "./timeline.js";

const SAVE_DELAY_MS = 600;
const VIEW_SAVE_DELAY_MS = 800;
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
    this.extraSelection = new Set(); // more clips picked with Shift/Ctrl+click, beside `selection`
    this.clipboard = [];
    this.ripple = false;
    this.history = new History();
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
    this.preview = new Preview(this);
    this.canvasTransform = new CanvasTransform(this.preview, this);
    this._wireToolbar();
    installShortcuts(this);
    this._renderHistory();
    window.addEventListener("beforeunload", (event) => {
      if (this.saveState !== "saved") event.preventDefault();
    });
    window.addEventListener("resize", () => this.timeline.render());
    this.renderAll();
    this._setSaveState("saved");
    this.timeline.scrollToTime(this.doc.view.current_time);
    this.preview.seek(this.doc.view.current_time);
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
    this.unsavedLabels = new Set();
  }

  _wireToolbar() {
    const on = (id, handler) => document.getElementById(id).addEventListener("click", handler);
    on("zoom-in", () => this.setZoom(this.timeline.zoom * 1.5));
    on("zoom-out", () => this.setZoom(this.timeline.zoom / 1.5));
    on("zoom-fit", () => {
      const width = this.timeline.scroll.clientWidth - 170;
      this.setZoom(width / 60 / Math.max(1, this.length()));
    });
    on("add-text", () => this.addText());
    on("add-marker", () => {
      const time = r6(this.doc.view.current_time);
      this.edit("Add marker", (doc) => {
        doc.markers.push({ time, label: `Marker ${doc.markers.length + 1}` });
        doc.markers.sort((a, b) => a.time - b.time);
      });
      this.select({ markerIndex: this.doc.markers.findIndex((m) => m.time === time) });
    });
    on("undo", () => this.undo());
    on("redo", () => this.redo());
    on("split", () => this.splitAtPlayhead());
    on("duplicate-project", () => this.duplicateProject());
    on("show-shortcuts", () => document.getElementById("shortcuts").showModal());
    const ripple = document.getElementById("ripple");
    ripple.addEventListener("change", () => { this.ripple = ripple.checked; });
    document.getElementById("add-track-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const kind = event.target.querySelector("select").value;
      this.edit("Add track", (doc) => addTrack(doc, kind));
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

  get fps() {
    return Number((this.doc.output || {}).fps) || 30;
  }

  /** Every change to the document: one undoable step, then autosave and redraw. */
  edit(label, mutate, { coalesce = null, quiet = false } = {}) {
    const result = this.history.perform(this.doc, label, mutate, { coalesce });
    this.unsavedLabels.add(label);
    this.changed();
    if (quiet) this.timeline.render();
    else this.renderAll();
    if (this.preview) this.preview.invalidate();
    this._renderHistory();
    return result;
  }

  undo() {
    const label = this.history.undo(this.doc);
    if (label) this._afterHistory(`Undid: ${label}`);
  }

  redo() {
    const label = this.history.redo(this.doc);
    if (label) this._afterHistory(`Redid: ${label}`);
  }

  _afterHistory(message) {
    if (this.selection && this.selection.clipId && !this.findClip(this.selection.clipId)) this.selection = null;
    this.extraSelection = new Set([...this.extraSelection].filter((id) => this.findClip(id)));
    this.unsavedLabels.add(message);
    this.changed();
    this.renderAll();
    if (this.preview) this.preview.invalidate();
    this._renderHistory();
    document.getElementById("history-status").textContent = message;
  }

  _renderHistory() {
    const undo = document.getElementById("undo");
    const redo = document.getElementById("redo");
    undo.disabled = !this.history.canUndo;
    redo.disabled = !this.history.canRedo;
    undo.title = this.history.canUndo ? `Undo ${this.history.undoLabel} (Ctrl+Z)` : "Nothing to undo";
    redo.title = this.history.canRedo ? `Redo ${this.history.redoLabel} (Shift+Ctrl+Z)` : "Nothing to redo";
  }

  select(selection, { add = false } = {}) {
    if (add && selection && selection.clipId && this.selection && this.selection.clipId) {
      if (this.extraSelection.has(selection.clipId)) this.extraSelection.delete(selection.clipId);
      else if (selection.clipId !== this.selection.clipId) this.extraSelection.add(selection.clipId);
    } else {
      this.selection = selection;
      this.extraSelection = new Set();
    }
    this.timeline.render();
    this.inspector.render();
    if (this.preview) this.preview.draw();
  }

  selectedClipIds() {
    const ids = this.selection && this.selection.clipId ? [this.selection.clipId] : [];
    return [...ids, ...this.extraSelection];
  }

  setTime(time, { scroll = true } = {}) {
    this.doc.view.current_time = r6(Math.max(0, time));
    this.timeline.render();
    if (scroll) this.timeline.scrollToTime(this.doc.view.current_time);
    document.getElementById("current-time").textContent = formatTimecode(this.doc.view.current_time);
    if (this.preview && !this.preview.playing) this.preview.seek(this.doc.view.current_time);
    this.viewChanged();
  }

  setZoom(zoom) {
    this.doc.view.zoom = Math.round(clampZoom(zoom) * 1000) / 1000;
    document.getElementById("zoom-level").textContent = `${Math.round(this.doc.view.zoom * 100)} %`;
    this.timeline.render();
    this.viewChanged();
  }

  trackState(trackId) {
    return trackState(this.doc, trackId);
  }

  /**
   * Track name: editor state in `view.tracks`, saved without a new version. (Lock, hide and solo were kept
   * there too before they became document fields; a rename drops those leftovers.)
   */
  setTrackName(trackId, name) {
    const tracks = { ...((this.doc.view || {}).tracks || {}) };
    if (name) tracks[trackId] = { name };
    else delete tracks[trackId];
    this.doc.view.tracks = tracks;
    this.timeline.render();
    this.viewChanged();
  }

  _lockedIds() {
    return lockedTrackIds(this.doc);
  }

  _isLocked(clipId) {
    const found = this.findClip(clipId);
    if (found && this._lockedIds().has(found.track.id)) {
      notify(`Track ${this.trackState(found.track.id).name || found.track.id} is locked.`);
      return true;
    }
    return false;
  }

  addText() {
    const time = snapToFrame(this.doc.view.current_time, this.fps);
    const clip = this.edit("Add text", (doc) => {
      const { clip } = addTextClip(doc, { start: time, trackId: this._selectedTrackId("text") });
      // Over an existing title it goes to a free text track instead of overlapping it.
      placeClip(doc, clip, { trackId: this.findClip(clip.id).track.id, start: time, assets: this.assets,
        lockedIds: this._lockedIds() });
      return clip;
    });
    this.select({ clipId: clip.id });
    this._focusInspector('[data-field="text"]');
  }

  addAssetToTrack(assetId, trackId = null, start = null) {
    const asset = this.assets.get(assetId);
    if (!asset) return;
    const preferred = trackId || this._selectedTrackId(asset.kind === "audio" ? "audio" : "video");
    const { track, clip } = this.edit(`Add ${asset.name}`, (doc) => {
      const added = addAssetClip(doc, asset, this.assets, { trackId: preferred, start: start == null ? null : snapToFrame(start, this.fps) });
      const landed = placeClip(doc, added.clip, { trackId: added.track.id, start: added.clip.start, assets: this.assets,
        lockedIds: this._lockedIds() });
      return { track: landed, clip: added.clip };
    });
    if (trackId && track.id !== trackId) notify(`${asset.name} went to track ${track.id}: that spot on ${trackId} is taken.`);
    this.select({ clipId: clip.id });
    this.timeline.scrollToTime(clip.start);
  }

  moveClip(clipId, { start = null, trackId = null }) {
    const found = this.findClip(clipId);
    if (!found || this._isLocked(clipId)) return this.renderAll();
    const at = start == null ? Number(found.clip.start) : snapToFrame(start, this.fps);
    const target = trackId || found.track.id;
    const landed = this.edit("Move clip", (doc) => {
      const clip = findClip(doc, clipId).clip;
      return placeClip(doc, clip, { trackId: target, start: at, assets: this.assets, lockedIds: this._lockedIds() });
    });
    if (landed.id !== target) notify(`The clip went to track ${landed.id}: that spot on ${target} is taken.`);
  }

  updateClip(clipId, mutate, { label = "Change clip", coalesce = null, quiet = false } = {}) {
    if (!this.findClip(clipId) || this._isLocked(clipId)) return;
    this.edit(label, (doc) => mutate(findClip(doc, clipId).clip), { coalesce, quiet });
  }

  trimClip(clipId, edge, time) {
    if (this._isLocked(clipId)) return;
    this.edit(edge === "start" ? "Trim start" : "Trim end",
      (doc) => trimClip(doc, clipId, edge, time, this.assets, { ripple: this.ripple }));
  }

  splitAtPlayhead() {
    const time = this.doc.view.current_time;
    const ids = this.selectedClipIds();
    const under = ids.length ? ids : this.doc.tracks.filter((t) => !this._lockedIds().has(t.id)).flatMap((t) => t.clips)
      .filter((c) => Number(c.start) < time && time < clipEnd(c, this.assets.get(c.asset_id))).map((c) => c.id);
    const made = this.edit("Split", (doc) => under.map((id) => splitClip(doc, id, time, this.assets, { fps: this.fps }))
      .filter(Boolean));
    if (!made.length) notify("Nothing to split: put the playhead inside a clip.");
    else this.select({ clipId: made[0].id });
  }

  setTransition(clipId, type, duration) {
    const found = this.findClip(clipId);
    if (!found || this._isLocked(clipId)) return;
    const ok = this.edit("Transition", (doc) => {
      const { track, clip } = findClip(doc, clipId);
      const before = clip.transition;
      clip.transition = type ? { type, duration: r6(Math.max(0.05, Number(duration) || 0.5)) } : null;
      if (type === "crossfade" && !alignCrossfade(track, clip, this.assets)) {
        clip.transition = before;
        return false;
      }
      return true;
    });
    if (!ok) notify("A crossfade needs another clip before this one on the same track.", { kind: "error" });
  }

  deleteClip(clipId) {
    const ids = clipId ? [clipId] : this.selectedClipIds();
    const deletable = ids.filter((id) => this.findClip(id) && !this._isLocked(id));
    if (!deletable.length) return;
    this.edit(deletable.length > 1 ? `Delete ${deletable.length} clips` : "Delete clip", (doc) => {
      for (const id of deletable) deleteClipRule(doc, id, this.assets, { ripple: this.ripple });
    });
    this.selection = null;
    this.extraSelection = new Set();
    this.problems = this.problems.filter((p) => !deletable.includes(p.clipId));
    this.renderAll();
    notify(`${deletable.length > 1 ? `${deletable.length} clips` : "Clip"} deleted. Ctrl+Z brings ${deletable.length > 1 ? "them" : "it"} back.`);
  }

  copySelection() {
    const ids = this.selectedClipIds();
    if (!ids.length) return;
    this.clipboard = copyClips(this.doc, ids);
    notify(`Copied ${ids.length} clip${ids.length > 1 ? "s" : ""}.`);
  }

  paste() {
    if (!this.clipboard.length) return;
    const time = snapToFrame(this.doc.view.current_time, this.fps);
    const pasted = this.edit("Paste", (doc) => pasteClips(doc, this.clipboard, time, this.assets));
    this.selection = { clipId: pasted[0].id };
    this.extraSelection = new Set(pasted.slice(1).map((c) => c.id));
    this.renderAll();
  }

  /** Mute, solo, hide, lock: document fields (renders obey them), each change one undoable step. */
  setTrackSwitch(trackId, key, on) {
    const labels = { muted: ["Mute track", "Unmute track"], solo: ["Solo track", "Unsolo track"],
      hidden: ["Hide track", "Show track"], locked: ["Lock track", "Unlock track"] };
    this.edit(labels[key][on ? 0 : 1], (doc) => setTrackSwitch(doc, trackId, key, on), { quiet: true });
  }

  moveTrack(trackId, index) {
    this.edit("Reorder tracks", (doc) => moveTrack(doc, trackId, index));
  }

  removeTrack(trackId) {
    const index = this.doc.tracks.findIndex((t) => t.id === trackId && !t.clips.length);
    if (index < 0) return;
    this.edit("Remove track", (doc) => doc.tracks.splice(index, 1));
  }

  updateMarker(index, mutate) {
    this.edit("Change marker", (doc) => mutate(doc.markers[index]));
  }

  deleteMarker(index) {
    this.selection = null;
    this.edit("Delete marker", (doc) => doc.markers.splice(index, 1));
  }

  updateOutput(mutate) {
    this.edit("Change output", (doc) => {
      doc.output = { ...(doc.output || {}) };
      mutate(doc.output);
    });
    if (this.preview) this.preview.resize();
  }

  async duplicateProject() {
    try {
      await this.flushSave();
      const copy = await api(`/api/projects/${this.projectId}/duplicate`, { method: "POST", body: {} });
      window.location.assign(`/projects/${copy.id}/`);
    } catch (error) {
      notify(describeError(error), { kind: "error" });
    }
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

  changed() {
    this.revision += 1;
    if (this.saveState === "conflict") return this._setSaveState("conflict");
    this._setSaveState("dirty");
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.save(), SAVE_DELAY_MS);
  }

  /**
   * Playhead, zoom and track names are saved on their own (`PUT .../view`): no new version, so
   * another tab scrubbing the same project never makes a conflict. Failures are retried quietly.
   */
  viewChanged() {
    clearTimeout(this.viewTimer);
    this.viewTimer = setTimeout(() => this.saveView(), VIEW_SAVE_DELAY_MS);
  }

  async saveView() {
    clearTimeout(this.viewTimer);
    if (this.viewSaving) {
      this.viewAgain = true;
      return this.viewSaving;
    }
    this.viewSaving = api(`/api/projects/${this.projectId}/view`, { method: "PUT", body: this.doc.view })
      .catch((error) => {
        if (error.status !== 404) this.viewTimer = setTimeout(() => this.saveView(), RETRY_DELAY_MS);
      })
      .finally(() => {
        this.viewSaving = null;
        if (this.viewAgain) {
          this.viewAgain = false;
          this.saveView();
        }
      });
    return this.viewSaving;
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
      if (this.revision === revision) this.unsavedLabels = new Set();
      const hadProblems = this.problems.length > 0;
      this.problems = [];
      if (this.revision === revision) {
        // Take the server's canonical document (defaults filled) when nothing changed meanwhile.
        const canonical = { ...clone(project.timeline), view: this.doc.view };
        const differs = JSON.stringify(canonical) !== JSON.stringify(this.doc);
        this.doc = canonical;
        this._setSaveState("saved");
        if (differs || hadProblems) this.renderAll();
        if (this.preview) this.preview.saved();
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
    if (this.viewSaving || this.viewTimer) await this.saveView();
    return this.saveState === "saved";
  }

  async reloadLatest() {
    try {
      const project = await api(`/api/projects/${this.projectId}/`);
      this._loadProject(project);
      this.history.clear();
      this._renderHistory();
      this.selection = null;
      this.extraSelection = new Set();
      this.problems = [];
      this._setSaveState("saved");
      this.renderAll();
      this.preview.invalidate();
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
    const wasConflict = !this.conflictElement.hidden;
    this.conflictElement.hidden = state !== "conflict";
    if (state === "conflict") {
      const lost = [...this.unsavedLabels];
      this.conflictElement.querySelector(".conflict-lost").textContent = lost.length
        ? `Reloading drops what you did here since the last save: ${lost.slice(-6).join(", ")}${lost.length > 6 ? ` and ${lost.length - 6} more` : ""}.`
        : "";
      if (!wasConflict) this.conflictElement.querySelector("button").focus();
    }
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
