// Outgoing email behind one small interface. The built-in mailer is for development and
// tests: it writes each message (with its link) to the log and keeps it in an in-memory
// outbox that tests read. Production installs a real provider with setMailer() at startup.
import { log } from "./log.ts";
import { DevelopmentOnly } from "./redact.ts";

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** What the mail is for, e.g. "email_verification", so tests and logs can tell them apart. */
  kind: string;
  /** The action link in the mail, if any. */
  link?: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

export type SentMail = MailMessage & { sent_at: string };

const OUTBOX_LIMIT = 500;
const outbox: SentMail[] = [];

/** Development mailer: log + in-memory outbox (bounded, oldest dropped first). */
export const logMailer: Mailer = {
  send(message) {
    outbox.push({ ...message, sent_at: new Date().toISOString() });
    if (outbox.length > OUTBOX_LIMIT) outbox.shift();
    log("info", "mail (development mailer: not delivered)", {
      to: message.to,
      kind: message.kind,
      subject: message.subject,
      // The one secret development may see in its log; redacted in production.
      link: message.link === undefined ? undefined : new DevelopmentOnly(message.link),
    });
    return Promise.resolve();
  },
};

let current: Mailer = logMailer;

export function mailer(): Mailer {
  return current;
}

export function setMailer(next: Mailer): void {
  current = next;
}

/** Messages the development mailer has "sent", oldest first, optionally only to one address. */
export function sentMail(to?: string): readonly SentMail[] {
  return to ? outbox.filter((m) => m.to === to) : [...outbox];
}

export function clearSentMail(): void {
  outbox.length = 0;
}
