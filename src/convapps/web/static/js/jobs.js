// Polling a background job until it is done, failed or cancelled.
import { api } from "./api.js";
import { sleep } from "./ui.js";

const FINAL = new Set(["done", "failed", "cancelled"]);

/** Poll `/api/jobs/{id}` and call `onUpdate(job)` after each answer; resolves to the final job. */
export async function followJob(id, onUpdate, { interval = 500, isStale = () => false } = {}) {
  for (;;) {
    const job = await api(`/api/jobs/${id}`);
    if (isStale()) return job;
    onUpdate(job);
    if (FINAL.has(job.state)) return job;
    await sleep(interval);
  }
}

export function describeJob(job) {
  const pct = `${Math.round(job.progress * 100)}%`;
  if (job.state === "queued") return "Waiting for a free worker…";
  if (job.state === "running") return `${pct} · ${job.message}`;
  if (job.state === "done") return "Done.";
  if (job.state === "cancelled") return "Cancelled.";
  return `Failed: ${job.error || "unknown error"}`;
}
