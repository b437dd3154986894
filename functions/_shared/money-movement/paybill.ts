// Paybill (C2B) confirmations are claims: each is held 'unconfirmed' until M-Pesa's
// Transaction Status answer agrees on the TransID, amount and our short code
// (hazina.paybill_settle_confirmed). This asks M-Pesa about one TransID.
import { config } from "../config.ts";
import { log } from "../log.ts";
import { queryPaybillPayment } from "../providers/mpesa.ts";
import { ProviderUnavailableError } from "../providers/types.ts";
import { recordStatusQuery } from "./status-queries.ts";

/** Ask M-Pesa about a paybill payment; returns the sweep's action. Never throws for provider trouble. */
export async function confirmPaybillPayment(transId: string, requestId?: string): Promise<string> {
  try {
    const status = await queryPaybillPayment(transId);
    if (status.state !== "requested") return "checked_later";
    return await recordStatusQuery(
      "mpesa",
      { type: "paybill", key: transId, party: config().MPESA_PAYBILL },
      status,
      requestId,
    );
  } catch (err) {
    if (!(err instanceof ProviderUnavailableError)) throw err;
    log("warn", "paybill: Transaction Status unavailable; the sweep will ask", {
      trans_id: transId,
      error: err.message,
    });
    return "checked_later";
  }
}
