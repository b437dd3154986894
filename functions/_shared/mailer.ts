// Outgoing email behind one small interface. Which transport sends is decided once, from
// the configuration, the first time mail goes out:
// - SMTP (SMTP_URL or SMTP_HOST set): functions/_shared/smtp.ts, the only transport production
//   accepts (config.ts refuses HAZINA_ENV=production without it).
// - otherwise the development mailer: it delivers nothing, keeps each message in a bounded
//   in-memory outbox (the development mailbox page and the tests read it) and logs only who
//   got what kind of mail: never the link or its token, which would let anyone who reads the
//   logs verify or take over the account.
// setMailer() installs another transport (another provider, or a test double).
import { config } from "./config.ts";
import { log } from "./log.ts";
import type { Mailer, MailMessage } from "./mail-message.ts";
import { smtpMailer } from "./smtp.ts";

export type { Mailer, MailMessage } from "./mail-message.ts";

export type SentMail = MailMessage & { sent_at: string };

const OUTBOX_LIMIT = 500;
const outbox: SentMail[] = [];

/** Development mailer: in-memory outbox (bounded, oldest dropped first); logs no link. */
export const devMailer: Mailer = {
  name: "development",
  send(message) {
    // Never hold real users' links: production has a real transport (config.ts), and this
    // refuses even when installed by hand.
    if (config().HAZINA_ENV === "production") {
      return Promise.reject(
        new Error("the development mailer cannot send in production; configure SMTP"),
      );
    }
    outbox.push({ ...message, sent_at: new Date().toISOString() });
    if (outbox.length > OUTBOX_LIMIT) outbox.shift();
    log("info", "mail kept in the development mailbox (not delivered)", {
      to: message.to,
      kind: message.kind,
      subject: message.subject,
    });
    return Promise.resolve();
  },
};

let installed: Mailer | undefined;

/** The configured transport: SMTP when configured, else the development mailer. */
export function mailer(): Mailer {
  return installed ??= smtpMailer() ?? devMailer;
}

export function setMailer(next: Mailer): void {
  installed = next;
}

/** Forget the chosen transport so the next mailer() picks again from the configuration (tests). */
export function resetMailerForTests(): void {
  installed = undefined;
}

/** True when mail stays in the in-memory outbox instead of being delivered. */
export function mailStaysLocal(): boolean {
  return mailer() === devMailer;
}

/** Messages the development mailer has "sent", oldest first, optionally only to one address. */
export function sentMail(to?: string): readonly SentMail[] {
  return to ? outbox.filter((m) => m.to === to) : [...outbox];
}

export function clearSentMail(): void {
  outbox.length = 0;
}
