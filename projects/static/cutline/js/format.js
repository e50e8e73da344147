// How times, sizes and states read on the page.

export function formatSeconds(value) {
  if (value == null || !Number.isFinite(Number(value))) return "–";
  const seconds = Number(value);
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds - minutes * 60);
  if (minutes < 60) return `${minutes} min ${String(rest).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** A timecode like 1:05.25 (minutes:seconds.hundredths). */
export function formatTimecode(value) {
  const total = Math.max(0, Number(value) || 0);
  const minutes = Math.floor(total / 60);
  const seconds = total - minutes * 60;
  return `${minutes}:${seconds.toFixed(2).padStart(5, "0")}`;
}

export function formatBytes(value) {
  const bytes = Number(value);
  if (!Number.isFinite(bytes)) return "–";
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let size = bytes;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} bytes` : `${size.toFixed(size < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatRelative(iso, now = Date.now()) {
  if (!iso) return "";
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "";
  const seconds = Math.round((now - then) / 1000);
  if (seconds < 10) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(then).toLocaleDateString();
}

// Status, phase and preset labels come from the server (jobs/labels.py), emitted once per page as
// <script type="application/json" id="cutline-labels">; nothing here repeats them.
function serverLabels() {
  const node = typeof document !== "undefined" && document.getElementById("cutline-labels");
  if (!node) return { status: {}, phase: {}, preset: {} };
  try {
    return JSON.parse(node.textContent);
  } catch {
    return { status: {}, phase: {}, preset: {} };
  }
}

const LABELS = serverLabels();
export const STATUS_LABELS = LABELS.status;
export const PHASE_LABELS = LABELS.phase;
export const PRESET_LABELS = LABELS.preset;

const ERROR_SENTENCES = {
  INVALID_TIMELINE: "The timeline has problems that must be fixed before it can be rendered.",
  MEDIA_MISSING: "A media file this timeline uses is missing.",
  MEDIA_UNREADABLE: "A media file this timeline uses could not be read.",
  RENDER_FAILED: "The render failed.",
  WORKER_LOST: "The render stopped because the machine doing it went away, and it could not be restarted.",
  TIMEOUT: "The render took too long and was stopped.",
  STORAGE_ERROR: "The result could not be stored.",
  QUOTA_EXCEEDED: "You already have as many renders running as allowed. Wait for one to finish.",
};

export function statusLabel(status) {
  return STATUS_LABELS[status] || String(status || "Unknown").toLowerCase();
}

export function phaseLabel(phase) {
  return PHASE_LABELS[phase] || String(phase || "");
}

/** The failure of a job in words: the server's message (already a sentence) or one for its code. */
export function jobErrorSentence(job) {
  const message = (job && job.error_message) || "";
  if (message) return /[.!?]$/.test(message.trim()) ? message.trim() : `${message.trim()}.`;
  return ERROR_SENTENCES[job && job.error_code] || "The render failed for an unknown reason.";
}

export const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELED"]);
export const ACTIVE = new Set(["PENDING", "RUNNING"]);
