// The registry of jobs. The catalog itself (name, interval, batch size, exclusive) is the
// table hazina.jobs (database/migrations/*_jobs.sql), so pg_cron can schedule the jobs
// with no TypeScript at all. A job that runs in the database is one row there plus its SQL
// function. A job that needs HTTP (it calls a provider, delivers a webhook) is one row with
// runs_in = 'edge' plus its pass here; tests/functions/jobs.test.ts keeps the two equal.
import { installmentRemindersJob } from "./installment-reminders.ts";
import { providerSweepJob } from "./provider-sweep.ts";
import type { EdgeJob } from "./types.ts";
import { webhookDeliveryJob } from "./webhook-delivery.ts";

export const edgeJobs: Record<string, EdgeJob> = {
  "installments.remind": installmentRemindersJob,
  "money.provider_sweep": providerSweepJob,
  "webhooks.deliver": webhookDeliveryJob,
};
