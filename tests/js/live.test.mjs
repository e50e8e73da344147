// node --test tests/js: live job updates (live.js): reconnect delays, applying events, polling rules.
import assert from "node:assert/strict";
import { test } from "node:test";

import { applyEventToJob, backoffDelay, polledIsNewer } from "../../projects/static/cutline/js/live.js";

test("reconnect waits 1 s doubling to 30 s, jittered by at most 20 % and kept in bounds", () => {
  const middle = () => 0.5;
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 20].map((n) => backoffDelay(n, { random: middle })),
    [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.equal(backoffDelay(0, { random: () => 0 }), 1000, "never below the base");
  assert.equal(backoffDelay(10, { random: () => 1 }), 30000, "never above the cap");
  assert.equal(backoffDelay(2, { random: () => 0 }), 3200);
  assert.equal(backoffDelay(2, { random: () => 1 }), 4800);
});

test("events move a job along and a snapshot replaces it", () => {
  let job = applyEventToJob(null, { type: "job.snapshot", job_id: "j", job: { id: "j", status: "PENDING", progress: 0 } });
  job = applyEventToJob(job, { type: "job.progress", job_id: "j", status: "RUNNING", progress: 42.5, phase: "ENCODE",
    message: "Encoding", ts: "t1" });
  assert.deepEqual([job.status, job.progress, job.phase, job.started_at], ["RUNNING", 42.5, "ENCODE", "t1"]);
  job = applyEventToJob(job, { type: "job.completed", job_id: "j", download_url: "/api/jobs/j/result", checksum: "sha256:x",
    size_bytes: 9, duration: 2, ts: "t2" });
  assert.deepEqual([job.status, job.progress, job.result.download_url, job.finished_at], ["SUCCEEDED", 100, "/api/jobs/j/result", "t2"]);
  const failed = applyEventToJob({ id: "j", status: "RUNNING" }, { type: "job.failed", job_id: "j", error_code: "MEDIA_MISSING",
    error_message: "gone", ts: "t3" });
  assert.deepEqual([failed.status, failed.error_code], ["FAILED", "MEDIA_MISSING"]);
  const same = { id: "j", status: "RUNNING" };
  assert.equal(applyEventToJob(same, { type: "pong" }), same, "an unknown message changes nothing");
});

test("a polled job replaces what we have only when it is newer", () => {
  const running = { status: "RUNNING", progress: 50, attempt: 1 };
  assert.equal(polledIsNewer(null, running, -1), true);
  assert.equal(polledIsNewer(running, { status: "RUNNING", progress: 40, attempt: 1 }, -1), false, "progress never goes back");
  assert.equal(polledIsNewer(running, { status: "PENDING", progress: 0, attempt: 1 }, -1), false);
  assert.equal(polledIsNewer(running, { status: "PENDING", progress: 0, attempt: 2 }, -1), true, "a retry attempt is newer");
  assert.equal(polledIsNewer(running, { status: "SUCCEEDED", progress: 100 }, -1), true);
  assert.equal(polledIsNewer({ status: "CANCELED" }, { status: "RUNNING", progress: 99 }, -1), false, "terminal is final");
  assert.equal(polledIsNewer(running, { status: "RUNNING", progress: 10, seq: 7 }, 7), true, "a seq decides when there is one");
});
