// Installment reminders as a job: claim the payments falling due within the platform's lead
// time (hazina.installment_claim_reminders marks each row reminded and writes its
// installment.due_soon event in one transaction, skip locked, so concurrent runners never
// remind a row twice), then mail each customer after that commit. A mail that fails is
// logged, not retried: the event stays the record (at most one mail per due payment).
import { asService } from "../db.ts";
import { log } from "../log.ts";
import { mailer, type MailMessage } from "../mailer.ts";
import type { EdgeJob } from "./types.ts";

interface Reminder {
  installment_id: string;
  seq: number;
  email: string;
  amount: string;
  currency: string;
  due_at: string;
  auto_collect: boolean;
}

/** "300.0000" → "300.00" (strings only: an amount never becomes a JS number). */
function shown(amount: string): string {
  const [units, decimals = ""] = amount.split(".");
  return `${units}.${(decimals + "00").slice(0, 2)}`;
}

export function reminderMail(r: Reminder): MailMessage {
  const when = r.due_at.slice(0, 10);
  return {
    to: r.email,
    kind: "installment_due_soon",
    subject: `Your installment of ${r.currency} ${shown(r.amount)} is due on ${when}`,
    text: [
      `Payment ${r.seq} of your installment plan ${r.installment_id} (${r.currency} ${
        shown(r.amount)
      }) is due on ${r.due_at}.`,
      r.auto_collect
        ? "It will be collected from your Hazina wallet on that date: keep enough in it."
        : "Pay it from your Hazina wallet before then to avoid a late fee.",
    ].join("\n\n"),
  };
}

export const installmentRemindersJob: EdgeJob = async (limit, requestId) => {
  const [row] = await asService(
    requestId,
    (tx) => tx`select hazina.installment_claim_reminders(${limit}::integer) as claimed`,
  );
  const claimed = row.claimed as { reminders: Reminder[]; remaining: number };
  let failed = 0;
  for (const reminder of claimed.reminders) {
    try {
      await mailer().send(reminderMail(reminder));
    } catch (err) {
      failed += 1;
      log("error", "installment reminder mail failed", {
        request_id: requestId,
        installment_id: reminder.installment_id,
        seq: reminder.seq,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
  return {
    processed: claimed.reminders.length,
    remaining: Number(claimed.remaining),
    mail_failures: failed,
  };
};
