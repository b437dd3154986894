// The SMTP transport (nodemailer), built from SMTP_URL or SMTP_HOST/PORT/USER/PASS/SECURE.
// SMTP is the one protocol every mail provider speaks (SES, SendGrid, Postmark, Mailgun,
// Google Workspace, a local Postfix), so one transport covers them all.
//
// - TLS: SMTP_SECURE (or smtps://) speaks TLS from the first byte; otherwise the connection
//   upgrades with STARTTLS, which SMTP_REQUIRE_TLS (default on in production) makes
//   mandatory, so credentials and reset links never cross the network in clear.
//   Certificates are always verified.
// - Timeouts are short (SMTP_TIMEOUT_MS): mail is sent while the request waits, and a dead
//   server must not hold sign-ups for nodemailer's default two minutes.
// - One connection per message: auth mail is rare, and a pool would keep sockets open in
//   short-lived edge workers.
import nodemailer from "nodemailer";
import { type Config, config } from "./config.ts";
import { log } from "./log.ts";
import type { Mailer, MailMessage } from "./mail-message.ts";

/** Where the development From address points when MAIL_FROM is unset (never in production). */
export const DEV_MAIL_FROM = "Hazina <no-reply@hazina.localhost>";

export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  requireTLS: boolean;
  auth?: { user: string; pass: string };
  from: string;
  timeoutMs: number;
}

/** The SMTP settings the configuration describes, or undefined when SMTP is not configured. */
export function smtpSettings(cfg: Config = config()): SmtpSettings | undefined {
  let host: string,
    port: number | undefined,
    secure: boolean | undefined,
    user: string | undefined,
    pass: string | undefined;
  if (cfg.SMTP_URL) {
    const url = new URL(cfg.SMTP_URL);
    host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    port = url.port ? Number(url.port) : undefined;
    secure = url.protocol === "smtps:";
    user = url.username ? decodeURIComponent(url.username) : undefined;
    pass = url.password ? decodeURIComponent(url.password) : undefined;
  } else if (cfg.SMTP_HOST) {
    ({ SMTP_HOST: host, SMTP_PORT: port, SMTP_SECURE: secure, SMTP_USER: user, SMTP_PASS: pass } =
      cfg);
  } else {
    return undefined;
  }
  secure ??= port === 465;
  return {
    host,
    port: port ?? (secure ? 465 : 587),
    secure,
    requireTLS: !secure && (cfg.SMTP_REQUIRE_TLS ?? cfg.HAZINA_ENV === "production"),
    ...(user !== undefined ? { auth: { user, pass: pass ?? "" } } : {}),
    from: cfg.MAIL_FROM ?? DEV_MAIL_FROM,
    timeoutMs: cfg.SMTP_TIMEOUT_MS,
  };
}

/** A Mailer that delivers through the given SMTP server. */
export function createSmtpMailer(settings: SmtpSettings): Mailer {
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    requireTLS: settings.requireTLS,
    auth: settings.auth,
    connectionTimeout: settings.timeoutMs,
    greetingTimeout: settings.timeoutMs,
    socketTimeout: settings.timeoutMs * 2,
    tls: { rejectUnauthorized: true },
  });
  return {
    name: "smtp",
    async send(message: MailMessage) {
      const info = await transport.sendMail({
        from: settings.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        headers: { "X-Hazina-Mail-Kind": message.kind },
      });
      // Who got what, and the server's id for tracing a bounce; never the link or body.
      log("info", "mail sent", {
        transport: "smtp",
        kind: message.kind,
        to: message.to,
        message_id: info.messageId,
      });
    },
  };
}

/** The SMTP mailer of the configuration, or undefined when SMTP is not configured. */
export function smtpMailer(): Mailer | undefined {
  const settings = smtpSettings();
  return settings ? createSmtpMailer(settings) : undefined;
}
