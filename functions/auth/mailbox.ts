// The development mailbox: GET /auth/dev/mailbox shows the mails the development mailer
// kept (newest first, links clickable), like the local inbox of Supabase's local stack, so
// nobody needs to read logs to sign up locally. `?format=json` gives the same as JSON.
//
// It hands every verification and reset link to whoever can reach the server, so it answers
// only when all of these hold, and is a plain 404 otherwise:
// - HAZINA_ENV is not production (config.ts also refuses AUTH_DEV_MAILBOX there),
// - AUTH_DEV_MAILBOX is on (off by default; `npm start` turns it on), because HAZINA_ENV
//   defaults to development and a forgotten variable must not publish reset links,
// - mail really stays local (no SMTP configured): otherwise there is nothing to show.
// The outbox lives in the memory of the process that sent the mail: under `npm start` the
// auth function runs inside scripts/serve.ts, so the page sees every mail sent there.
import type { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../_shared/app.ts";
import { config } from "../_shared/config.ts";
import { ApiError } from "../_shared/errors.ts";
import { mailStaysLocal, type SentMail, sentMail } from "../_shared/mailer.ts";
import { type FunctionDocs, listOf, named } from "../_shared/openapi.ts";
import { escapeHtml, html, page } from "./html.ts";
import { emailSchema } from "./schemas.ts";

const MailboxQuery = z.object({
  format: z.enum(["html", "json"]).default("html").describe("`html` (the default) or `json`."),
  to: emailSchema.optional().describe("Only the mails to this address."),
});

const MailboxMessage = named(
  "MailboxMessage",
  z.object({
    to: z.string(),
    kind: z.string().describe("email_verification, password_reset, already_registered, …"),
    subject: z.string(),
    text: z.string(),
    link: z.string().optional(),
    sent_at: z.iso.datetime({ offset: true }),
  }),
  "A mail the development mailer kept instead of delivering it.",
);

/** Whether the mailbox may answer; why not, for the 404's message outside production. */
function unavailable(): string | undefined {
  const cfg = config();
  if (cfg.HAZINA_ENV === "production") return "No such endpoint.";
  if (!cfg.AUTH_DEV_MAILBOX) {
    return "The development mailbox is off: set AUTH_DEV_MAILBOX=true (npm start does).";
  }
  if (!mailStaysLocal()) return "The development mailbox is off: mail is delivered through SMTP.";
  return undefined;
}

function mailboxPage(mails: readonly SentMail[], to: string | undefined): string {
  const items = mails.map((m) =>
    `<article><strong>${escapeHtml(m.subject)}</strong>
<div class="note">to ${escapeHtml(m.to)} · ${escapeHtml(m.kind)} · ${escapeHtml(m.sent_at)}</div>
${m.link ? `<p><a href="${escapeHtml(m.link)}">${escapeHtml(m.link)}</a></p>` : ""}<pre>${
      escapeHtml(m.text)
    }</pre></article>`
  );
  return page(
    "Development mailbox",
    `<p class="note">Mail sent by this server${to ? ` to ${escapeHtml(to)}` : ""}, newest first.
Nothing was delivered: configure SMTP for that. <a href="mailbox">Refresh</a> · <a href="mailbox?format=json">JSON</a></p>
${items.length ? items.join("\n") : "<p>No mail yet.</p>"}`,
  );
}

export function registerDevMailbox(app: Hono<AppEnv>, docs: FunctionDocs): void {
  docs.route({
    method: "get",
    path: "/dev/mailbox",
    summary: "Development only: the mails the development mailer kept instead of delivering",
    description:
      "Only when HAZINA_ENV is not production, AUTH_DEV_MAILBOX is on and no SMTP is configured; " +
      "404 otherwise. Newest first.",
    auth: "none",
    query: MailboxQuery,
    responses: {
      200: {
        description: "The mailbox page, or with `format=json` the list.",
        schema: listOf(MailboxMessage),
        alternatives: { "text/html": { schema: { type: "string" } } },
      },
    },
    errors: ["route_not_found"],
  });
  app.get("/dev/mailbox", (c) => {
    const reason = unavailable();
    if (reason) throw new ApiError(404, "route_not_found", reason);
    const query = MailboxQuery.parse(c.req.query());
    const mails = [...sentMail(query.to)].reverse();
    c.header("Cache-Control", "no-store");
    if (query.format === "json") return c.json({ data: mails, next_cursor: null });
    return html(c, mailboxPage(mails, query.to));
  });
}
