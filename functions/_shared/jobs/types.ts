// The shapes shared by the job registry, the runner and the ops endpoints.

/** What one bounded pass of a job did: at least how much, and what is still due after it. */
export interface JobReport {
  processed: number;
  /** The backlog after the pass (still due); null when the job cannot tell. */
  remaining: number | null;
  /** Set when the pass did nothing because another pass of the job holds it. */
  skipped?: string;
  [detail: string]: unknown;
}

/** One bounded pass of a job that runs in the edge (it needs HTTP): at most `limit` items. */
export type EdgeJob = (limit: number, requestId: string) => Promise<JobReport>;

/** A job from the catalog (hazina.jobs) with its last run (public.job_runs), as hazina.job_list() returns it. */
export interface JobStatus {
  name: string;
  runs_in: "database" | "edge";
  every_seconds: number;
  batch_size: number;
  exclusive: boolean;
  description: string;
  run_count: number;
  error_count: number;
  last_started_at: string | null;
  last_finished_at: string | null;
  last_status: "succeeded" | "failed" | "skipped" | null;
  last_report: JobReport | null;
  last_error: string | null;
  last_error_at: string | null;
  backlog: number | null;
  due: boolean;
}

/** The outcome of one pass: the job's report, or the error that ended it. */
export interface JobRun {
  job: string;
  report: JobReport | null;
  error: string | null;
}
