// Merchant webhook delivery as a job (`webhooks.deliver`, every 5 s): one bounded pass of
// the delivery worker, which stops claiming after 15 s (a pass lasts at most that plus one
// timeout, so slow endpoints never hold the runner's other jobs for long; what is left is
// the backlog, which the runner drains at its next tick). The report keeps the counts, not
// every outcome.
import { deliverDue } from "../webhook-delivery/worker.ts";
import type { EdgeJob } from "./types.ts";

export const webhookDeliveryJob: EdgeJob = async (limit, requestId) => {
  const { outcomes: _outcomes, ...report } = await deliverDue({
    limit,
    requestId,
    maxPassMs: 15_000,
  });
  return report;
};
