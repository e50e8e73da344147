// Live job updates: a WebSocket that reconnects with exponential backoff (1 s … 30 s, with jitter) and,
// while it is down, polling of the REST API every 2 s. Events carry a per-job `seq`; we keep the highest
// one and drop anything not newer, so the page always converges on the server's state.

import { api } from "./api.js";
import { ACTIVE, TERMINAL } from "./format.js";

export const POLL_INTERVAL_MS = 2000;
const PING_INTERVAL_MS = 20000;
const PONG_TIMEOUT_MS = 10000;

/** Delay before reconnect attempt `attempt` (0-based): 1 s doubling to 30 s, ±20 % jitter, kept in bounds. */
export function backoffDelay(attempt, { base = 1000, max = 30000, random = Math.random } = {}) {
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 16));
  const jittered = ceiling * (0.8 + 0.4 * random());
  return Math.round(Math.min(max, Math.max(base, jittered)));
}

export function socketUrl(path) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

// Close codes after which reconnecting cannot help (CONTRACT §4).
const FINAL_CLOSE_CODES = { 4401: "signed-out", 4404: "not-found" };

/**
 * A WebSocket that keeps itself open. `onStatus(status, detail)` hears "connecting", "live",
 * "reconnecting" (detail.delay in ms), "signed-out", "not-found" and "closed".
 */
export class LiveSocket {
  constructor(path, { onMessage, onStatus } = {}) {
    this.path = path;
    this.onMessage = onMessage || (() => {});
    this.onStatus = onStatus || (() => {});
    this.attempt = 0;
    this.ws = null;
    this.stopped = false;
    this.reconnectTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
  }

  open() {
    this.stopped = false;
    this._connect();
    return this;
  }

  close() {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this._stopPing();
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = null;
      ws.close(1000);
    }
    this.onStatus("closed", {});
  }

  get isLive() {
    return Boolean(this.ws && this.ws.readyState === WebSocket.OPEN);
  }

  _connect() {
    if (this.stopped) return;
    this.onStatus("connecting", { attempt: this.attempt });
    let ws;
    try {
      ws = new WebSocket(socketUrl(this.path));
    } catch {
      this._scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.onStatus("live", {});
      this._startPing();
    };
    ws.onmessage = (message) => {
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      if (data && data.type === "pong") {
        clearTimeout(this.pongTimer);
        return;
      }
      this.onMessage(data);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this._stopPing();
      if (this.stopped) return;
      const final = FINAL_CLOSE_CODES[event.code];
      if (final) {
        this.stopped = true;
        this.onStatus(final, { code: event.code });
        return;
      }
      this._scheduleReconnect();
    };
  }

  _scheduleReconnect() {
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.onStatus("reconnecting", { delay, attempt: this.attempt });
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this._connect(), delay);
  }

  // A socket can die without a close frame (a proxy drops it): a missing pong closes it so we reconnect.
  _startPing() {
    this._stopPing();
    this.pingTimer = setInterval(() => {
      if (!this.isLive) return;
      this.ws.send(JSON.stringify({ type: "ping" }));
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => this.ws && this.ws.close(4000), PONG_TIMEOUT_MS);
    }, PING_INTERVAL_MS);
  }

  _stopPing() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }
}

/** Merge one contract event into a job representation; returns the new representation. */
export function applyEventToJob(job, event) {
  const next = { ...(job || {}), id: event.job_id || (job && job.id) };
  if (event.project_id) next.project_id = event.project_id;
  switch (event.type) {
    case "job.snapshot":
      return { ...event.job };
    case "job.progress":
      next.status = event.status || next.status;
      next.progress = event.progress;
      next.phase = event.phase;
      next.message = event.message;
      if (next.status === "RUNNING" && !next.started_at) next.started_at = event.ts;
      break;
    case "job.completed":
      next.status = "SUCCEEDED";
      next.progress = 100;
      next.phase = "DONE";
      next.finished_at = event.ts;
      next.result = {
        ...(next.result || {}),
        download_url: event.download_url,
        checksum: event.checksum,
        size_bytes: event.size_bytes,
        duration: event.duration,
      };
      break;
    case "job.failed":
      next.status = "FAILED";
      next.error_code = event.error_code;
      next.error_message = event.error_message;
      next.finished_at = event.ts;
      break;
    case "job.canceled":
      next.status = "CANCELED";
      next.finished_at = event.ts;
      break;
    default:
      return job;
  }
  return next;
}

/**
 * Whether a polled representation may replace what we have. The REST body carries no `seq` (unless a
 * later version adds `seq`), so: a terminal state is final; otherwise a newer attempt or, within one
 * attempt, progress that did not go backwards.
 */
export function polledIsNewer(current, polled, currentSeq) {
  if (!current) return true;
  if (TERMINAL.has(current.status)) return false;
  if (typeof polled.seq === "number" && currentSeq >= 0) return polled.seq >= currentSeq;
  if (TERMINAL.has(polled.status)) return true;
  if ((polled.attempt || 1) !== (current.attempt || 1)) return (polled.attempt || 1) > (current.attempt || 1);
  if (current.status === "RUNNING" && polled.status === "PENDING") return false;
  return (polled.progress || 0) >= (current.progress || 0);
}

/**
 * Watches one job: WebSocket `/ws/jobs/{id}` first, polling `GET /api/jobs/{id}` every 2 s while the
 * socket is down. `onChange(job, watcher)` is called with each newer state; `watcher.log` holds the
 * messages seen and `watcher.connection` the socket state ("live", "reconnecting", "polling", …).
 */
export class JobWatcher {
  constructor(jobId, { onChange, onConnection } = {}) {
    this.jobId = jobId;
    this.onChange = onChange || (() => {});
    this.onConnection = onConnection || (() => {});
    this.job = null;
    this.seq = -1;
    this.log = [];
    this.connection = "connecting";
    this.socket = null;
    this.pollTimer = null;
    this.polling = false;
    this.stopped = false;
    this.fetchedFinal = false;
  }

  start(initialJob) {
    if (initialJob) this._accept(initialJob, { fromPoll: true });
    if (this.job && TERMINAL.has(this.job.status)) {
      this._finish();
      return this;
    }
    this.socket = new LiveSocket(`/ws/jobs/${this.jobId}`, {
      onMessage: (event) => this.handleEvent(event),
      onStatus: (status, detail) => this._socketStatus(status, detail),
    }).open();
    return this;
  }

  stop() {
    this.stopped = true;
    if (this.socket) this.socket.close();
    this._stopPolling();
  }

  handleEvent(event) {
    if (!event || event.job_id !== this.jobId || typeof event.seq !== "number") return;
    if (event.type === "job.snapshot") {
      if (event.seq < this.seq) return;
      this.seq = event.seq;
      if (Array.isArray(event.log)) {
        this.log = event.log.map((entry) => ({ ts: entry.ts, phase: entry.phase, message: entry.message }));
      }
      this._accept(event.job, { fromSnapshot: true });
      return;
    }
    if (event.seq <= this.seq) return; // already seen, or older than what we show
    this.seq = event.seq;
    if (event.message) this._log(event.ts, event.phase, event.message);
    this._set(applyEventToJob(this.job, event));
  }

  _log(ts, phase, message) {
    const last = this.log[this.log.length - 1];
    if (last && last.message === message) return;
    this.log.push({ ts, phase, message });
    if (this.log.length > 200) this.log.splice(0, this.log.length - 200);
  }

  _accept(job, { fromPoll = false, fromSnapshot = false } = {}) {
    if (!job) return;
    if (fromPoll && !polledIsNewer(this.job, job, this.seq)) return;
    if (fromPoll && typeof job.seq === "number") this.seq = Math.max(this.seq, job.seq);
    // A polled body is the full representation; a terminal one needs no second fetch in _finish.
    if (fromPoll || fromSnapshot) this.fetchedFinal = TERMINAL.has(job.status) && Boolean(job.created_at);
    if (job.message && !fromSnapshot) this._log(job.updated_at, job.phase, job.message);
    this._set(job);
  }

  _set(job) {
    this.job = job;
    this.onChange(this.job, this);
    if (TERMINAL.has(job.status)) this._finish();
  }

  // A terminal event lacks some result fields (poster, size of the picture): fetch the full job once.
  async _finish() {
    this._stopPolling();
    if (this.socket) {
      this.socket.close();
      this.socket = null;
    }
    this._setConnection("finished");
    if (this.fetchedFinal) return;
    this.fetchedFinal = true;
    try {
      const job = await api(`/api/jobs/${this.jobId}`);
      if (job && TERMINAL.has(job.status)) {
        this.job = { ...this.job, ...job };
        this.onChange(this.job, this);
      }
    } catch {
      // The terminal state from the event stands; the player can still use download_url.
    }
  }

  _socketStatus(status, detail) {
    if (this.stopped || (this.job && TERMINAL.has(this.job.status))) return;
    if (status === "live") {
      this._stopPolling();
      this._setConnection("live");
    } else if (status === "reconnecting") {
      this._setConnection("reconnecting", detail);
      this._startPolling();
    } else if (status === "signed-out" || status === "not-found") {
      // Reconnecting or polling cannot help: the page says what happened instead.
      this._stopPolling();
      this._setConnection(status, detail);
    }
  }

  _setConnection(connection, detail = {}) {
    this.connection = connection;
    this.onConnection(connection, detail, this);
  }

  _startPolling() {
    if (this.polling || this.stopped) return;
    this.polling = true;
    const tick = async () => {
      if (!this.polling) return;
      try {
        const job = await api(`/api/jobs/${this.jobId}`);
        if (this.polling) this._accept(job, { fromPoll: true });
      } catch {
        // Keep polling: the server may be restarting.
      }
      if (this.polling) this.pollTimer = setTimeout(tick, POLL_INTERVAL_MS);
    };
    this.pollTimer = setTimeout(tick, 0);
  }

  _stopPolling() {
    this.polling = false;
    clearTimeout(this.pollTimer);
  }
}

export { ACTIVE, TERMINAL };
