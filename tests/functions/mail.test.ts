// Outgoing auth mail: a real SMTP server (smtp-server) receives the verification mail sent
// through the SMTP transport and its link verifies the account through the real Deno
// server; production refuses to start without SMTP; the development mailer never logs a
// link; the development mailbox shows mail in development only; the built-in pages a link
// opens confirm an email and reset a password (and opening them uses nothing up).
import { spawn } from "node:child_process";
import path from "node:path";
import process from "node:process";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { app } from "../../functions/auth/app.ts";
import { config, resetConfigForTests } from "../../functions/_shared/config.ts";
import { devMailer, mailer, resetMailerForTests, sentMail } from "../../functions/_shared/mailer.ts";
import { createSmtpMailer, smtpSettings } from "../../functions/_shared/smtp.ts";
import { call, STRONG_PASSWORD, tokenFromMail, uniqueEmail } from "../helpers/auth.ts";
import { admin } from "../helpers/db.ts";
import { productionEnv } from "../helpers/production-env.ts";

const root = path.resolve(import.meta.dirname, "../..");

/** Run `fn` with these environment changes (undefined removes), then put everything back. */
async function withEnv<T>(changes: Record<string, string | undefined>, fn: () => Promise<T> | T): Promise<T> {
  const saved = { ...process.env };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  resetConfigForTests();
  resetMailerForTests();
  try {
    return await fn();
  } finally {
    process.env = saved;
    resetConfigForTests();
    resetMailerForTests();
  }
}

async function emailVerifiedAt(email: string): Promise<Date | null> {
  const [row] = await admin`select email_verified_at from public.auth_users where email = ${email}`;
  return row.email_verified_at;
}

/** The hidden token of a page's form. */
function formToken(html: string): string {
  const match = /name="token" value="([A-Za-z0-9_-]{43})"/.exec(html);
  expect(match, html).not.toBeNull();
  return match![1];
}

/** Submit an HTML form (urlencoded) to the auth app in-process. */
async function postForm(path: string, fields: Record<string, string>) {
  const res = await app.request(path, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text(), headers: res.headers };
}

// --- a real SMTP server --------------------------------------------------------------------

interface Received { from: string; to: string[]; user: unknown; mail: ParsedMail }
const SMTP_USER = "hazina";
const SMTP_PASSWORD = "s3cret pass/word:@"; // needs URL-encoding in SMTP_URL
const received: Received[] = [];
let smtp: SMTPServer;
let smtpPort: number;

beforeAll(async () => {
  smtp = new SMTPServer({
    // No TLS on loopback in the test; production requires it (SMTP_REQUIRE_TLS, tested below).
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    authMethods: ["PLAIN", "LOGIN"],
    logger: false,
    onAuth(auth, _session, done) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) done(null, { user: auth.username });
      else done(new Error("Invalid username or password"));
    },
    onData(stream, session, done) {
      simpleParser(stream).then((mail) => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user,
          mail,
        });
        done();
      }, done);
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  smtpPort = (smtp.server.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

async function mailTo(address: string): Promise<Received> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const found = received.find((r) => r.to.includes(address));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no mail to ${address} reached the SMTP server`);
}

describe("mail: the SMTP transport", () => {
  it("delivers the verification mail to a real SMTP server, and its link verifies the account", async () => {
    const functionsUrl = `${inject("edgeBaseUrl")}/functions/v1`;
    const email = uniqueEmail("smtp");
    await withEnv({
      SMTP_URL: `smtp://${SMTP_USER}:${encodeURIComponent(SMTP_PASSWORD)}@127.0.0.1:${smtpPort}`,
      MAIL_FROM: "Hazina Test <no-reply@hazina.example>",
      // The link should open the real Deno server's page (same database).
      PUBLIC_FUNCTIONS_URL: functionsUrl,
    }, async () => {
      expect(mailer().name).toBe("smtp");
      expect((await call("POST", "/signup", { body: { email, password: STRONG_PASSWORD } })).status).toBe(202);
      const delivered = await mailTo(email);
      expect(delivered.to).toEqual([email]);
      expect(delivered.from).toBe("no-reply@hazina.example");
      expect(delivered.user).toBe(SMTP_USER); // it authenticated with the decoded password
      expect(delivered.mail.subject).toBe("Confirm your Hazina email address");
      expect(delivered.mail.to).toMatchObject({ value: [{ address: email }] });
      expect(delivered.mail.from).toMatchObject({ value: [{ address: "no-reply@hazina.example", name: "Hazina Test" }] });
      expect(delivered.mail.headers.get("x-hazina-mail-kind")).toBe("email_verification");
      // Delivered, so not kept in the development outbox.
      expect(sentMail(email)).toHaveLength(0);

      // Follow the link as a person would: open it (nothing happens yet), press the button.
      const link = /https?:\/\/\S+/.exec(delivered.mail.text ?? "")![0];
      expect(link.startsWith(`${functionsUrl}/auth/pages/verify-email?token=`)).toBe(true);
      const opened = await fetch(link);
      expect(opened.status).toBe(200);
      expect(opened.headers.get("content-type")).toMatch(/^text\/html/);
      const pageHtml = await opened.text();
      expect(await emailVerifiedAt(email)).toBeNull();
      const confirmed = await fetch(new URL("verify-email", link), {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: formToken(pageHtml) }),
      });
      expect(await confirmed.text()).toContain("Your email address is confirmed");
      expect(await emailVerifiedAt(email)).not.toBeNull();
      expect((await call("POST", "/token", { body: { email, password: STRONG_PASSWORD } })).status).toBe(200);
    });
  });

  it("reads SMTP_HOST/PORT/USER/PASS as well, and requires TLS in production", async () => {
    await withEnv({ SMTP_HOST: "smtp.example.com", SMTP_PORT: "2525", SMTP_USER: "u", SMTP_PASS: "p", MAIL_FROM: "a@b.example" }, () => {
      expect(smtpSettings()).toMatchObject({ host: "smtp.example.com", port: 2525, secure: false, requireTLS: false, auth: { user: "u", pass: "p" } });
    });
    await withEnv(productionEnv(), () => {
      expect(smtpSettings()).toMatchObject({ host: "smtp.hazina.example", port: 465, secure: true });
    });
    await withEnv({ ...productionEnv(), SMTP_URL: "smtp://mailer:pw@smtp.hazina.example" }, () => {
      expect(smtpSettings()).toMatchObject({ port: 587, secure: false, requireTLS: true });
    });
    await withEnv({ SMTP_URL: "smtp://user:pass@smtp.example.com:99999" }, () => {
      expect(() => config()).toThrow(/SMTP_URL: must look like smtp:\/\/user:pass@host:587/);
    });
    await withEnv({ SMTP_URL: "smtp://a@b:1", SMTP_HOST: "x" }, () => {
      expect(() => config()).toThrow(/SMTP_URL: set SMTP_URL or SMTP_HOST/);
    });
  });

  it("with TLS required, refuses to send to a server that offers no STARTTLS (nothing goes out in clear)", async () => {
    const before = received.length;
    const strict = createSmtpMailer({
      host: "127.0.0.1", port: smtpPort, secure: false, requireTLS: true,
      auth: { user: SMTP_USER, pass: SMTP_PASSWORD }, from: "no-reply@hazina.example", timeoutMs: 5000,
    });
    await expect(strict.send({ to: "x@example.com", subject: "s", text: "t", kind: "test" })).rejects.toThrow(/STARTTLS/i);
    expect(received.length).toBe(before);
  });
});

describe("mail: production", () => {
  it("refuses to start without an SMTP transport, and says how to fix it", async () => {
    await withEnv({ ...productionEnv({ mail: false }), SMTP_URL: undefined, SMTP_HOST: undefined }, () => {
      expect(() => config()).toThrow(/SMTP_URL: production needs a real mail transport: set SMTP_URL/);
    });
    await withEnv(productionEnv(), () => {
      expect(config().HAZINA_ENV).toBe("production");
      expect(mailer().name).toBe("smtp");
    });
    await withEnv({ ...productionEnv(), MAIL_FROM: undefined }, () => {
      expect(() => config()).toThrow(/MAIL_FROM: set the From address/);
    });
    await withEnv({ ...productionEnv(), AUTH_DEV_MAILBOX: "true" }, () => {
      expect(() => config()).toThrow(/AUTH_DEV_MAILBOX: the development mailbox is never available in production/);
    });
    // Links carry tokens: not over plain HTTP.
    await withEnv({ ...productionEnv(), PUBLIC_FUNCTIONS_URL: "http://api.hazina.example/functions/v1" }, () => {
      expect(() => config()).toThrow(/PUBLIC_FUNCTIONS_URL: mail links are built on it/);
    });
    await withEnv({ ...productionEnv(), PUBLIC_FUNCTIONS_URL: "http://10.0.0.5/functions/v1", AUTH_SITE_URL: "https://app.hazina.example" }, () => {
      expect(config().AUTH_SITE_URL).toBe("https://app.hazina.example");
    });
  });

  it("the edge server exits at startup without SMTP in production", { timeout: 60_000 }, async () => {
    const env: Record<string, string | undefined> = { ...process.env, ...productionEnv({ mail: false }), PORT: "0", HOST: "127.0.0.1" };
    delete env.SMTP_URL;
    delete env.SMTP_HOST;
    const child = spawn(path.join(root, "node_modules/.bin/deno"), ["run", "--allow-net", "--allow-env", "--allow-read", "scripts/serve.ts"], {
      cwd: root, env, stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    // A server that starts anyway is the failure; stop it rather than wait forever.
    const stillRunning = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    clearTimeout(stillRunning);
    expect(code, output).not.toBe(0);
    expect(code, output).not.toBeNull(); // killed, not exited: it started
    expect(output).toContain("production needs a real mail transport");
  });

  it("the development mailer can never deliver in production, even when installed by hand", async () => {
    await withEnv(productionEnv(), async () => {
      await expect(devMailer.send({ to: "x@example.com", subject: "s", text: "t", kind: "test", link: "https://x" }))
        .rejects.toThrow(/cannot send in production/);
      expect(sentMail("x@example.com")).toHaveLength(0);
    });
  });
});

describe("mail: the development mailer", () => {
  it("logs who got which mail, never the link or its token", async () => {
    const email = uniqueEmail("logs");
    const lines: string[] = [];
    const capture = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
    const out = vi.spyOn(console, "log").mockImplementation(capture);
    const err = vi.spyOn(console, "error").mockImplementation(capture);
    try {
      await withEnv({ LOG_LEVEL: "debug" }, async () => {
        await call("POST", "/signup", { body: { email, password: STRONG_PASSWORD } });
        await call("POST", "/signup", { body: { email, password: STRONG_PASSWORD } }); // already_registered
        await call("POST", "/password-reset", { body: { email } });
      });
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    const secrets = [tokenFromMail(email, "email_verification"), tokenFromMail(email, "password_reset")];
    const mailLines = lines.filter((line) => line.includes(email));
    expect(mailLines.map((line) => JSON.parse(line).kind)).toEqual(["email_verification", "already_registered", "password_reset"]);
    for (const line of lines) {
      for (const secret of secrets) expect(line).not.toContain(secret);
      expect(line).not.toMatch(/token=|"link"|\/pages\//);
    }
  });
});

describe("mail: the development mailbox", () => {
  it("lists sent mail (HTML and JSON) in development with AUTH_DEV_MAILBOX on", async () => {
    const email = uniqueEmail("mailbox");
    await withEnv({ AUTH_DEV_MAILBOX: "true" }, async () => {
      await call("POST", "/signup", { body: { email, password: STRONG_PASSWORD } });
      const json = await call("GET", `/dev/mailbox?format=json&to=${encodeURIComponent(email)}`);
      expect(json.status).toBe(200);
      expect(json.headers.get("cache-control")).toBe("no-store");
      expect(json.body.data).toHaveLength(1);
      expect(json.body.data[0]).toMatchObject({ to: email, kind: "email_verification", subject: "Confirm your Hazina email address" });
      const token = tokenFromMail(email, "email_verification");
      expect(json.body.data[0].link).toContain(token);

      const page = await app.request("/auth/dev/mailbox");
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
      const text = await page.text();
      expect(text).toContain(email);
      expect(text).toContain(`<a href="${json.body.data[0].link.replaceAll("&", "&amp;")}">`);
    });
  });

  it("escapes what it shows", async () => {
    await withEnv({ AUTH_DEV_MAILBOX: "true" }, async () => {
      await devMailer.send({ to: "x@example.com", subject: "<script>alert(1)</script>", text: "\"'<b>", kind: "test" });
      const text = await (await app.request("/auth/dev/mailbox")).text();
      expect(text).not.toContain("<script>alert");
      expect(text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    });
  });

  it("is a 404 in production, when not turned on, and when mail goes out through SMTP", async () => {
    await withEnv(productionEnv(), async () => {
      const res = await call("GET", "/dev/mailbox?format=json");
      expect(res.status).toBe(404);
      expect(res.body.error).toEqual({ code: "route_not_found", message: "No such endpoint." });
    });
    await withEnv({ AUTH_DEV_MAILBOX: undefined }, async () => {
      expect((await call("GET", "/dev/mailbox")).status).toBe(404);
    });
    await withEnv({ AUTH_DEV_MAILBOX: "true", SMTP_URL: `smtp://127.0.0.1:${smtpPort}` }, async () => {
      expect((await call("GET", "/dev/mailbox")).status).toBe(404);
    });
    // The shared test server has it off, like any deployment that did not ask for it.
    expect((await fetch(`${inject("edgeBaseUrl")}/functions/v1/auth/dev/mailbox`)).status).toBe(404);
  });
});

describe("mail: links and the pages they open", () => {
  it("links go to the built-in pages by default, or to the app under AUTH_SITE_URL (its path kept)", async () => {
    const email = uniqueEmail("links");
    await withEnv({ PUBLIC_FUNCTIONS_URL: "http://127.0.0.1:8000/functions/v1" }, async () => {
      await call("POST", "/signup", { body: { email, password: STRONG_PASSWORD } });
    });
    expect(sentMail(email).at(-1)!.link).toMatch(/^http:\/\/127\.0\.0\.1:8000\/functions\/v1\/auth\/pages\/verify-email\?token=[A-Za-z0-9_-]{43}$/);
    await withEnv({ AUTH_SITE_URL: "https://app.hazina.example/wallet/" }, async () => {
      await call("POST", "/password-reset", { body: { email } });
    });
    expect(sentMail(email).at(-1)!.link).toMatch(/^https:\/\/app\.hazina\.example\/wallet\/reset-password\?token=[A-Za-z0-9_-]{43}$/);
  });

  it("the verify page confirms only when its button is pressed, once", async () => {
    const email = uniqueEmail("page");
    await call("POST", "/signup", { body: { email, password: STRONG_PASSWORD } });
    const link = new URL(sentMail(email).at(-1)!.link!);
    const opened = await app.request(link.pathname.replace("/functions/v1", "") + link.search);
    expect(opened.status).toBe(200);
    expect(opened.headers.get("cache-control")).toBe("no-store");
    expect(opened.headers.get("referrer-policy")).toBe("no-referrer");
    const html = await opened.text();
    expect(html).toContain('<form method="post" action="verify-email">');
    // Opening the link (as a mail scanner does) changed nothing.
    expect(await emailVerifiedAt(email)).toBeNull();

    const confirmed = await postForm("/auth/pages/verify-email", { token: formToken(html) });
    expect(confirmed.status).toBe(200);
    expect(confirmed.type).toMatch(/^text\/html/);
    expect(confirmed.text).toContain("Your email address is confirmed");
    expect(await emailVerifiedAt(email)).not.toBeNull();
    expect((await postForm("/auth/pages/verify-email", { token: formToken(html) })).text).toContain("This link was already used");
    // A made-up token, a damaged one and no token at all: a page that offers a new link.
    expect((await postForm("/auth/pages/verify-email", { token: "A".repeat(43) })).text).toContain("not valid any more");
    expect((await app.request("/auth/pages/verify-email?token=short")).status).toBe(200);
    expect(await (await app.request("/auth/pages/verify-email")).text()).toContain('name="email"');
  });

  it("the verify page mails a new link to an unconfirmed address", async () => {
    const email = uniqueEmail("again");
    await call("POST", "/signup", { body: { email, password: STRONG_PASSWORD } });
    const first = tokenFromMail(email, "email_verification");
    const res = await postForm("/auth/pages/verify-email", { email });
    expect(res.text).toContain("we sent it a new link");
    expect(tokenFromMail(email, "email_verification")).not.toBe(first);
  });

  it("the reset page sets a new password with the token, checking the rules and the repeat", async () => {
    const email = uniqueEmail("resetpage");
    await call("POST", "/signup", { body: { email, password: STRONG_PASSWORD } });
    const asked = await postForm("/auth/pages/reset-password", { email });
    expect(asked.text).toContain("we sent it a link to reset the password");
    const token = tokenFromMail(email, "password_reset");
    const opened = await (await app.request(`/auth/pages/reset-password?token=${token}`)).text();
    expect(opened).toContain('name="password"');
    expect(formToken(opened)).toBe(token);

    const newPassword = "another-Horse-battery-77";
    expect((await postForm("/auth/pages/reset-password", { token, password: "short", password_confirm: "short" })).text)
      .toContain("The password must be at least 10 characters");
    expect((await postForm("/auth/pages/reset-password", { token, password: newPassword, password_confirm: "different-Horse-1" })).text)
      .toContain("The two passwords differ");
    const done = await postForm("/auth/pages/reset-password", { token, password: newPassword, password_confirm: newPassword });
    expect(done.text).toContain("Your password is changed");
    expect((await call("POST", "/token", { body: { email, password: newPassword } })).status).toBe(200);
    expect((await call("POST", "/token", { body: { email, password: STRONG_PASSWORD } })).status).toBe(401);
    expect((await postForm("/auth/pages/reset-password", { token, password: newPassword, password_confirm: newPassword })).text)
      .toContain("This link was already used");
  });
});
