// Merchant webhook delivery as a job (`webhooks.deliver`, every 5 s): one bounded pass of
// the delivery worker. The pass's report keeps the counts, not every outcome.
import { deliverDue } from "../webhook-delivery/worker.ts";
import type { EdgeJob } from "./types.ts";

export const webhookDeliveryJob: EdgeJob = async (limit, requestId) => {
  const { outcomes: _outcomes, ...report } = await deliverDue({ limit, requestId });
  return report;
};
