// The job runner: runs bounded passes of the jobs in the catalog (hazina.jobs), database
// jobs through hazina.run_job and edge jobs (registry.ts) here, recording every pass in
// public.job_runs. Used by scripts/jobs.ts (`npm run jobs`, started by `npm start`) and by
// POST /ops/jobs/run. Any number of runners (and pg_cron) may run at once: each job is safe
// with concurrent passes (see the migration), so the runner needs no leader.
import { asService } from "../db.ts";
import { ApiError } from "../errors.ts";
import { log } from "../log.ts";
import { edgeJobs } from "./registry.ts";
import type { EdgeJob, JobReport, JobRun, JobStatus } from "./types.ts";

export type { JobReport, JobRun, JobStatus } from "./types.ts";

/** Every job with its schedule, last run, backlog and whether it is due. */
export async function listJobs(requestId?: string): Promise<JobStatus[]> {
  const [row] = await asService(requestId, (tx) => tx`select hazina.job_list() as jobs`);
  return row.jobs as JobStatus[];
}

/**
 * One bounded pass of `name` (at most `limit` items, default its batch size), recorded.
 * The job's own failure is returned in `error`; a database that cannot be reached throws.
 */
export async function runJob(
  name: string,
  options: { limit?: number; requestId?: string } = {},
): Promise<JobRun> {
  const requestId = options.requestId ?? `job:${name}:${crypto.randomUUID()}`;
  const job = (await listJobs(requestId)).find((j) => j.name === name);
  if (!job) throw new ApiError(404, "job_not_found", "No such job.", { job: name });
  const started = performance.now();
  let outcome: JobRun;
  if (job.runs_in === "database") {
    const [row] = await asService(
      requestId,
      (tx) => tx`select hazina.run_job(${name}, ${options.limit ?? null}::integer) as run`,
    );
    outcome = row.run as JobRun;
  } else {
    outcome = await runEdgeJob(job, options.limit ?? job.batch_size, requestId);
  }
  log(outcome.error ? "warn" : "info", "job", {
    ...outcome,
    ms: Math.round(performance.now() - started),
  });
  return outcome;
}

async function runEdgeJob(job: JobStatus, limit: number, requestId: string): Promise<JobRun> {
  const pass: EdgeJob | undefined = Object.hasOwn(edgeJobs, job.name)
    ? edgeJobs[job.name]
    : undefined;
  const startedAt = new Date().toISOString();
  let report: JobReport | null = null;
  let error: string | null = null;
  if (pass === undefined) {
    error = "no edge implementation is registered for this job";
  } else {
    try {
      report = await pass(limit, requestId);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
  }
  await asService(
    requestId,
    (tx) =>
      tx`select hazina.job_record(${job.name}, ${startedAt}::timestamptz, ${
        report ? tx.json(report as never) : null
      }::jsonb, ${error})`,
  );
  return { job: job.name, report, error };
}

export interface PassOptions {
  /** Only these jobs (default: all). */
  only?: string[];
  /** Only the jobs that are due (the runner's loop); false runs every selected job once. */
  dueOnly?: boolean;
  /** Repeat each job while its pass did work and left a backlog. */
  drain?: boolean;
  signal?: AbortSignal;
}

/** One pass over the jobs, one after another. */
export async function runPass(options: PassOptions = {}): Promise<JobRun[]> {
  const jobs = (await listJobs()).filter((j) =>
    (!options.only || options.only.includes(j.name)) && (!options.dueOnly || j.due)
  );
  const runs: JobRun[] = [];
  for (const job of jobs) {
    for (;;) {
      if (options.signal?.aborted) return runs;
      const run = await runJob(job.name);
      runs.push(run);
      const more = options.drain && !run.error && (run.report?.processed ?? 0) > 0 &&
        (run.report?.remaining ?? 0) > 0;
      if (!more) break;
    }
  }
  return runs;
}

/**
 * Run due jobs every `tickMs` until `signal` aborts. A database outage is logged and
 * waited out: the next tick tries again.
 */
export async function runForever(
  options: { tickMs: number; only?: string[]; signal: AbortSignal },
): Promise<void> {
  while (!options.signal.aborted) {
    try {
      await runPass({ only: options.only, dueOnly: true, signal: options.signal });
    } catch (err) {
      log("warn", "job runner: pass failed; retrying at the next tick", {
        error: (err as Error).message,
      });
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.tickMs);
      options.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }
}
