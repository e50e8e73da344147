// The jobs page: every render of the user across projects, kept live over /ws/jobs, filtered by status.

import { api, apiList, describeError } from "./api.js";
import {
  ACTIVE, formatBytes, formatRelative, formatSeconds, jobErrorSentence, phaseLabel, PRESET_LABELS, statusLabel,
  TERMINAL,
} from "./format.js";
import { applyEventToJob, LiveSocket, polledIsNewer } from "./live.js";
import { h, installErrorGuard, notify, pageData } from "./ui.js";

installErrorGuard();

const projects = pageData("project-names") || {};
const jobs = new Map(); // id → job representation
const seqs = new Map(); // id → highest seq seen
const table = document.getElementById("job-rows");
const filter = document.getElementById("status-filter");
const connection = document.getElementById("connection");
const empty = document.getElementById("jobs-empty");
let pollTimer = null;

function visible(job) {
  return !filter.value || job.status === filter.value;
}

function row(job) {
  const percent = job.status === "SUCCEEDED" ? 100 : Math.max(0, Math.min(100, Number(job.progress) || 0));
  const project = projects[job.project_id] || "A deleted project";
  const detail = job.status === "FAILED" ? jobErrorSentence(job)
    : ACTIVE.has(job.status) ? [phaseLabel(job.phase), job.message].filter(Boolean).join(": ")
      : job.status === "SUCCEEDED" && job.result
        ? `${formatSeconds(job.result.duration)} · ${formatBytes(job.result.size_bytes)}` : "";
  const actions = h("td", { class: "actions" });
  if (ACTIVE.has(job.status)) {
    actions.append(h("button", { type: "button", class: "secondary small", onclick: () => act(job, "cancel") },
      "Cancel"));
  }
  // `retryable` is about failures; a job seen running keeps `retryable: false` from then until a fresh read.
  if (job.status === "CANCELED" || (job.status === "FAILED" && job.retryable !== false)) {
    actions.append(h("button", { type: "button", class: "secondary small", onclick: () => act(job, "retry") }, "Retry"));
  }
  if (job.status === "SUCCEEDED" && job.result) {
    actions.append(h("a", { class: "button small primary", href: job.result.download_url, download: "" }, "Download"));
  }
  return h("tr", { dataset: { jobId: job.id, status: job.status } },
    h("td", {}, h("a", { href: `/projects/${job.project_id}/` }, project)),
    h("td", {}, PRESET_LABELS[job.preset] || job.preset),
    h("td", {}, h("span", { class: `badge status-${job.status}` }, statusLabel(job.status))),
    h("td", { class: "progress-cell" },
      h("div", { class: "bar", role: "progressbar", "aria-label": `Progress of the render of ${project}`,
        "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(Math.round(percent)) },
      h("div", { class: `bar-fill status-${job.status}`, style: { width: `${percent}%` } })),
      h("span", { class: "small" }, `${Math.floor(percent)} %`)),
    h("td", { class: "detail" }, detail),
    h("td", {}, h("time", { datetime: job.created_at }, formatRelative(job.created_at))),
    actions);
}

function draw() {
  const shown = [...jobs.values()].filter(visible)
    .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
  table.replaceChildren(...shown.map(row));
  empty.hidden = shown.length > 0;
}

function pageItems(data) {
  return Array.isArray(data) ? data : data.results || [];
}

function upsert(job) {
  const current = jobs.get(job.id);
  if (current && !polledIsNewer(current, job, seqs.get(job.id) ?? -1)) return;
  jobs.set(job.id, { ...current, ...job });
}

/** Every page once (opening, filtering); while reconnecting, the 2 s poll asks for the newest page only. */
async function load({ everyPage = true } = {}) {
  try {
    const status = filter.value ? `?status=${encodeURIComponent(filter.value)}` : "";
    const list = everyPage ? await apiList(`/api/jobs/${status}`) : pageItems(await api(`/api/jobs/${status}`));
    for (const job of list) upsert(job);
    draw();
  } catch (error) {
    notify(describeError(error), { kind: "error" });
  }
}

async function act(job, verb) {
  try {
    const result = await api(`/api/jobs/${job.id}/${verb}`, { method: "POST" });
    if (result && result.id) {
      upsert(result);
      draw();
    }
    notify(verb === "cancel" ? "Cancel requested." : "A new render was started.");
  } catch (error) {
    notify(describeError(error), { kind: "error" });
  }
}

async function handle(event) {
  if (!event || !event.job_id || typeof event.seq !== "number") return;
  const seen = seqs.get(event.job_id) ?? -1;
  if (event.type === "job.snapshot") {
    if (event.seq < seen) return;
    seqs.set(event.job_id, event.seq);
    jobs.set(event.job_id, event.job);
    draw();
    return;
  }
  if (event.seq <= seen) return;
  seqs.set(event.job_id, event.seq);
  let job = jobs.get(event.job_id);
  if (!job) {
    // A render started elsewhere (another tab, a script): fetch its full representation once.
    try {
      job = await api(`/api/jobs/${event.job_id}`);
      if (job.project_id && !projects[job.project_id]) projects[job.project_id] = "A new project";
      jobs.set(job.id, job);
      draw();
    } catch {
      // It may have been deleted meanwhile.
    }
    return;
  }
  const next = applyEventToJob(job, event);
  jobs.set(event.job_id, next);
  draw();
  if (TERMINAL.has(next.status)) {
    try {
      jobs.set(next.id, { ...next, ...(await api(`/api/jobs/${next.id}`)) });
      draw();
    } catch {
      // The event's own fields stand.
    }
  }
}

function setConnection(status, detail) {
  const labels = {
    connecting: "Connecting…",
    live: "Live",
    reconnecting: `Connection lost: reconnecting in ${Math.round((detail.delay || 0) / 1000)} s; checking every 2 s meanwhile`,
    "signed-out": "You are signed out. Reload the page to see live progress.",
    closed: "",
  };
  connection.textContent = labels[status] ?? status;
  connection.dataset.state = status;
  clearInterval(pollTimer);
  if (status === "reconnecting") pollTimer = setInterval(() => load({ everyPage: false }), 2000);
  if (status === "live") load({ everyPage: false });
}

filter.addEventListener("change", () => {
  const url = new URL(location.href);
  if (filter.value) url.searchParams.set("status", filter.value);
  else url.searchParams.delete("status");
  history.replaceState(null, "", url);
  draw();
  load();
});

const initial = new URL(location.href).searchParams.get("status");
if (initial) filter.value = initial;
setInterval(() => document.querySelectorAll("#job-rows time").forEach((node) => {
  node.textContent = formatRelative(node.getAttribute("datetime"));
}), 15000);
load();
new LiveSocket("/ws/jobs", { onMessage: handle, onStatus: setConnection }).open();
