// Rendering from the editor: start a render with a preset, then a drawer that follows the job live
// (progress, phase, log, elapsed, time left, Cancel), plays and offers the result, or explains a failure.

import { api, describeError } from "../api.js";
import {
  ACTIVE, formatBytes, formatRelative, formatSeconds, jobErrorSentence, phaseLabel, PRESET_LABELS, statusLabel,
  TERMINAL,
} from "../format.js";
import { JobWatcher } from "../live.js";
import { h, notify } from "../ui.js";

function elapsedSeconds(job, now = Date.now()) {
  const start = Date.parse(job.started_at || job.created_at || "");
  if (Number.isNaN(start)) return null;
  const end = TERMINAL.has(job.status) && job.finished_at ? Date.parse(job.finished_at) : now;
  return Math.max(0, (end - start) / 1000);
}

/** Time left from the rate so far; only once there is enough progress for the guess to mean something. */
export function estimateSecondsLeft(job, now = Date.now()) {
  if (job.status !== "RUNNING" || !job.started_at) return null;
  const progress = Number(job.progress) || 0;
  const elapsed = elapsedSeconds(job, now);
  if (progress < 3 || progress >= 100 || !elapsed || elapsed < 1) return null;
  return Math.max(0, (elapsed * (100 - progress)) / progress);
}

export class RenderPanel {
  constructor({ form, drawer, editor }) {
    this.form = form;
    this.drawer = drawer;
    this.editor = editor;
    this.watcher = null;
    this.job = null;
    this.recent = [];
    this.ticker = null;
    this.renderButton = form.querySelector('button[type="submit"]');
    this.presetSelect = form.querySelector("select");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    drawer.querySelector(".drawer-close").addEventListener("click", () => this.hide());
    drawer.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.hide();
      }
    });
    this.drawnKey = null;
    this.logOpen = null; // what the person chose for the messages list; null: open while rendering
    this.body = drawer.querySelector(".drawer-body");
    this.connection = drawer.querySelector(".connection");
    this.toggle = document.getElementById("show-renders");
    if (this.toggle) this.toggle.addEventListener("click", () => this.show({ focus: true }));
  }

  async load() {
    try {
      const data = await api(`/api/projects/${this.editor.projectId}/renders`);
      this.recent = Array.isArray(data) ? data : data.results || [];
    } catch (error) {
      notify(describeError(error), { kind: "error" });
      return;
    }
    const newest = this.recent[0];
    if (newest && ACTIVE.has(newest.status)) this.watch(newest);
    else if (newest) this.watch(newest, { open: false });
    this._updateToggle();
  }

  async submit() {
    const preset = this.presetSelect.value;
    this.renderButton.disabled = true;
    this.renderButton.textContent = "Starting…";
    try {
      const saved = await this.editor.flushSave();
      if (!saved) {
        notify("The timeline must be saved before it can be rendered. See the save status above.", { kind: "error" });
        return;
      }
      const data = await api(`/api/projects/${this.editor.projectId}/renders`, { method: "POST", body: { preset } });
      if (!data.created) notify("This project is already rendering; showing that render.");
      this.recent = [data.job, ...this.recent.filter((job) => job.id !== data.job.id)];
      this.watch(data.job, { focus: true });
    } catch (error) {
      if (error.code === "INVALID_TIMELINE" && error.errors && error.errors.length) {
        this.editor.showProblems(error.errors, { sent: this.editor.savedDoc });
        notify(`The timeline cannot be rendered yet: ${error.message}`, { kind: "error" });
      } else {
        notify(describeError(error), { kind: "error" });
      }
    } finally {
      this.renderButton.disabled = false;
      this.renderButton.textContent = "Render";
    }
  }

  watch(job, { open = true, focus = false } = {}) {
    if (this.watcher) this.watcher.stop();
    this.job = job;
    this.watcher = new JobWatcher(job.id, {
      onChange: (next) => {
        this.job = next;
        this.recent = this.recent.map((item) => (item.id === next.id ? next : item));
        this.draw();
      },
      onConnection: () => this._drawConnection(),
    });
    this.watcher.start(job);
    this.draw();
    if (open) this.show({ focus });
    clearInterval(this.ticker);
    this.ticker = setInterval(() => {
      if (this.job && ACTIVE.has(this.job.status)) this._drawTimes();
    }, 1000);
  }

  show({ focus = false } = {}) {
    this.drawer.hidden = false;
    document.body.classList.add("drawer-open");
    this._updateToggle();
    if (focus) {
      const title = this.drawer.querySelector("#drawer-title");
      title.setAttribute("tabindex", "-1");
      title.focus();
    }
  }

  hide() {
    this.drawer.hidden = true;
    document.body.classList.remove("drawer-open");
    this._updateToggle();
    if (this.toggle) this.toggle.focus();
  }

  _updateToggle() {
    if (!this.toggle) return;
    this.toggle.hidden = !this.drawer.hidden || !this.job;
    if (this.job) this.toggle.textContent = `Render: ${statusLabel(this.job.status)}`;
  }

  _drawConnection() {
    const connection = this.watcher ? this.watcher.connection : "";
    const labels = {
      connecting: "Connecting…",
      live: "Live",
      reconnecting: "Connection lost: reconnecting; checking every 2 s meanwhile",
      "signed-out": "You are signed out. Reload the page to see live progress.",
      "not-found": "This render no longer exists.",
      finished: "",
    };
    this.connection.textContent = labels[connection] ?? connection;
    this.connection.dataset.state = connection;
  }

  /**
   * Progress events arrive up to 4 times a second: they update the drawn parts in place. The drawer is
   * rebuilt only when the job, its status or the list of renders changes, so the result player, the
   * open/closed messages list and the focus survive the updates.
   */
  draw() {
    const job = this.job;
    this._updateToggle();
    this._drawConnection();
    if (!job) return;
    // The content type too: a terminal event carries none, the job fetched after it does, and the player
    // follows it (a sound or a still has no poster, so nothing else would change).
    const result = job.result
      ? `${job.result.download_url}|${job.result.thumbnail_url}|${job.result.checksum}|${job.result.content_type}` : "";
    const key = `${job.id}|${job.status}|${Boolean(job.cancel_requested)}|${this.recent.length}|${result}`;
    if (key === this.drawnKey && this._update(job)) return;
    this.drawnKey = key;
    this._rebuild(job);
  }

  _progress(job) {
    const percent = Math.max(0, Math.min(100, Number(job.progress) || 0));
    const shown = job.status === "SUCCEEDED" ? 100 : percent;
    const status = `${statusLabel(job.status)}${ACTIVE.has(job.status) && job.phase ? ` · ${phaseLabel(job.phase)}` : ""}`;
    return { shown, status };
  }

  _update(job) {
    const bar = this.body.querySelector(".job-progress .bar");
    if (!bar) return false;
    const { shown, status } = this._progress(job);
    bar.setAttribute("aria-valuenow", String(Math.round(shown)));
    bar.setAttribute("aria-valuetext", `${Math.floor(shown)} %, ${status}`);
    bar.querySelector(".bar-fill").style.width = `${shown}%`;
    this.body.querySelector(".job-percent").textContent = `${Math.floor(shown)} %`;
    this.body.querySelector(".job-phase").textContent = ACTIVE.has(job.status) ? phaseLabel(job.phase) : "";
    const message = this.body.querySelector(".job-message");
    if (message.textContent !== (job.message || "")) message.textContent = job.message || "";
    const log = (this.watcher ? this.watcher.log : []).slice(-30);
    const list = this.body.querySelector(".job-log");
    if (log.length && !list) return false;
    if (list) {
      list.replaceChildren(...this._logItems(log));
      this.body.querySelector(".job-log-box summary").textContent = `Messages (${log.length})`;
    }
    this._drawTimes();
    return true;
  }

  _logItems(log) {
    return log.map((entry) => h("li", {},
      entry.phase ? h("span", { class: "muted small" }, `${phaseLabel(entry.phase)}: `) : null, entry.message));
  }

  _rebuild(job) {
    const keepVideo = this.body.querySelector("video.result-video");
    const { shown, status } = this._progress(job);
    const parts = [
      h("p", { class: `job-status status-${job.status}`, dataset: { status: job.status } },
        h("span", { class: `badge status-${job.status}` }, statusLabel(job.status)),
        " ", h("span", { class: "job-phase" }, ACTIVE.has(job.status) ? phaseLabel(job.phase) : ""),
        " ", h("span", { class: "muted small" }, `${PRESET_LABELS[job.preset] || job.preset}, `
          + `${job.output ? `${job.output.width}×${job.output.height}` : ""}`)),
      h("div", { class: "job-progress" },
        h("div", { class: "bar big", role: "progressbar", "aria-label": "Render progress", "aria-valuemin": "0",
          "aria-valuemax": "100", "aria-valuenow": String(Math.round(shown)), "aria-valuetext": `${Math.floor(shown)} %, ${status}` },
        h("div", { class: `bar-fill status-${job.status}`, style: { width: `${shown}%` } })),
        h("span", { class: "job-percent" }, `${Math.floor(shown)} %`)),
      h("p", { class: "job-message", role: "status", "aria-live": "polite" }, job.message || ""),
      h("dl", { class: "job-times" },
        h("dt", {}, "Elapsed"), h("dd", { class: "job-elapsed" }, ""),
        h("dt", {}, "Time left"), h("dd", { class: "job-eta" }, "")),
    ];
    const actions = h("div", { class: "job-actions" });
    if (ACTIVE.has(job.status)) {
      actions.append(h("button", { type: "button", class: "danger", disabled: Boolean(job.cancel_requested),
        onclick: (event) => this.cancel(event.target) }, job.cancel_requested ? "Canceling…" : "Cancel render"));
    }
    // `retryable` is about failures; a job seen running keeps `retryable: false` from then until a fresh read.
    if (job.status === "CANCELED" || (job.status === "FAILED" && job.retryable !== false)) {
      actions.append(h("button", { type: "button", class: "primary", onclick: (event) => this.retry(event.target) },
        "Retry"));
    }
    if (job.status === "FAILED") {
      parts.push(h("div", { class: "job-error", role: "alert" },
        h("strong", {}, "The render failed. "), jobErrorSentence(job)));
    }
    if (job.status === "CANCELED") parts.push(h("p", { class: "job-canceled" }, "This render was canceled."));
    parts.push(actions);
    if (job.status === "SUCCEEDED" && job.result) {
      const section = this._result(job);
      // Same result as before: keep its player (and where it was playing) instead of a new one.
      const fresh = section.querySelector("video");
      if (keepVideo && fresh && keepVideo.getAttribute("src") === fresh.getAttribute("src")) {
        if (fresh.getAttribute("poster")) keepVideo.setAttribute("poster", fresh.getAttribute("poster"));
        fresh.replaceWith(keepVideo);
      }
      parts.push(section);
    }
    const log = (this.watcher ? this.watcher.log : []).slice(-30);
    if (log.length) {
      const details = h("details", { class: "job-log-box", open: this.logOpen ?? ACTIVE.has(job.status) },
        h("summary", {}, `Messages (${log.length})`),
        h("ol", { class: "job-log" }, this._logItems(log)));
      // A click is the person's choice; `toggle` also fires for the `open` set here.
      details.querySelector("summary").addEventListener("click", () => { this.logOpen = !details.open; });
      parts.push(details);
    }
    if (this.recent.length > 1) parts.push(this._recentList());
    this.body.replaceChildren(...parts);
    this._drawTimes();
  }

  _drawTimes() {
    const job = this.job;
    const elapsed = elapsedSeconds(job);
    const eta = estimateSecondsLeft(job);
    const elapsedCell = this.body.querySelector(".job-elapsed");
    const etaCell = this.body.querySelector(".job-eta");
    if (!elapsedCell) return;
    elapsedCell.textContent = job.status === "PENDING" ? "waiting for a worker" : formatSeconds(elapsed);
    if (TERMINAL.has(job.status)) etaCell.textContent = "–";
    else etaCell.textContent = eta == null ? "estimating…" : `about ${formatSeconds(Math.ceil(eta))}`;
  }

  _result(job) {
    const result = job.result;
    // The player follows the output format: a picture for png/gif, a sound player for mp3/wav.
    const type = result.content_type || "video/mp4";
    let player;
    if (type.startsWith("audio/")) {
      player = h("audio", { class: "result-audio", controls: true, preload: "metadata", src: result.download_url,
        "aria-label": "The rendered sound" });
    } else if (type.startsWith("image/")) {
      player = h("img", { class: "result-video", src: result.download_url, alt: "The rendered picture" });
    } else {
      player = h("video", { class: "result-video", controls: true, preload: "metadata", src: result.download_url,
        poster: result.thumbnail_url || null, "aria-label": "The rendered video" });
      if (job.captions_url) {
        player.append(h("track", { kind: "captions", src: job.captions_url, label: "Captions", default: true }));
      }
    }
    const facts = [`${formatBytes(result.size_bytes)}`];
    if (!type.startsWith("image/png")) facts.push(formatSeconds(result.duration));
    if (result.width && result.height) facts.push(`${result.width}×${result.height}`);
    const label = (result.format_label || "MP4").split(" ")[0];
    return h("section", { class: "job-result", "aria-label": "Result" },
      player,
      h("p", { class: "result-facts" }, facts.join(" · ")),
      h("p", {},
        h("a", { class: "button primary", href: result.download_url, download: "" }, `Download ${label}`),
        job.captions_url ? [" ", h("a", { class: "button small", href: job.captions_url, download: "" }, "Captions (VTT)"),
          " ", h("a", { class: "button small", href: job.captions_srt_url, download: "" }, "SRT")] : null,
        " ", h("span", { class: "muted small checksum", title: "SHA-256 checksum of the file" },
          result.checksum || "")));
  }

  _recentList() {
    return h("details", { class: "recent-renders" },
      h("summary", {}, "Earlier renders"),
      h("ul", {}, this.recent.slice(0, 10).map((job) => h("li", {},
        h("button", { type: "button", class: "link", "aria-current": job.id === this.job.id ? "true" : null,
          onclick: () => this.watch(job) },
        `${statusLabel(job.status)} · ${PRESET_LABELS[job.preset] || job.preset} · ${formatRelative(job.created_at)}`)))));
  }

  async cancel(button) {
    button.disabled = true;
    button.textContent = "Canceling…";
    try {
      const job = await api(`/api/jobs/${this.job.id}/cancel`, { method: "POST" });
      if (job && job.id && this.watcher) this.watcher._accept(job, { fromPoll: true });
    } catch (error) {
      // 409: it finished first; the live updates will show how.
      if (error.status !== 409) notify(describeError(error), { kind: "error" });
      button.disabled = false;
      button.textContent = "Cancel render";
    }
  }

  async retry(button) {
    button.disabled = true;
    try {
      const job = await api(`/api/jobs/${this.job.id}/retry`, { method: "POST" });
      this.recent = [job, ...this.recent];
      this.watch(job);
    } catch (error) {
      notify(describeError(error), { kind: "error" });
      button.disabled = false;
    }
  }
}
