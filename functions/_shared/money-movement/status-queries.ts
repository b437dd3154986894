// Confirmation by Transaction Status: Daraja answers our query by callback, so we record
// the query (M-Pesa's OriginatorConversationID for it) and the database believes an answer
// only when it names a query recorded here (hazina.provider_query_open).
import { asService } from "../db.ts";
import type { ProviderName, StatusResult } from "../providers/types.ts";

/** Record an asynchronous status query; returns the sweep's action for it. */
export async function recordStatusQuery(
  provider: ProviderName,
  subject: { type: "paybill" | "withdrawal"; key: string; party: string | null },
  status: StatusResult & { state: "requested" },
  requestId?: string,
): Promise<string> {
  // An acknowledgement without the query's id gives us nothing to match the answer with:
  // the subject stays unconfirmed and the sweep asks again.
  if (!status.queryId) return "checked_later";
  const queryId = status.queryId;
  await asService(
    requestId,
    (tx) =>
      tx`select hazina.provider_query_open(${provider}, ${subject.type}, ${subject.key}, ${queryId}, ${subject.party})`,
  );
  return "status_requested";
}
