// The pages mail links open when no AUTH_SITE_URL is configured (support.ts siteLink):
//   GET  /pages/verify-email?token=…    a "Confirm my email" button
//   POST /pages/verify-email            (form) confirms, or mails a new link for `email`
//   GET  /pages/reset-password?token=…  a new-password form
//   POST /pages/reset-password          (form) sets the password, or mails a link for `email`
// Opening a link never uses its token: only the POST does. Mail scanners and link previews
// (Outlook Safe Links, corporate gateways, chat unfurlers) fetch every link in a message,
// and would otherwise confirm an address nobody read or burn a reset link before its owner
// clicks. The pages run the very steps of the JSON API (flows.ts).
//
// Every outcome is a page with status 200 that says what happened (a token error included):
// they are for people; programs use POST /verify-email and POST /password-reset.
import type { Context, Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../_shared/app.ts";
import { fromDatabaseError } from "../_shared/errors.ts";
import type { FunctionDocs } from "../_shared/openapi.ts";
import { passwordSchema } from "../_shared/password.ts";
import { OPAQUE_TOKEN } from "../_shared/tokens.ts";
import {
  confirmEmail,
  confirmPasswordReset,
  requestPasswordReset,
  requestVerificationMail,
} from "./flows.ts";
import { escapeHtml, html, page } from "./html.ts";
import { emailSchema } from "./schemas.ts";

const TokenQuery = z.object({
  token: z.string().optional().describe("The token from the mail's link."),
});
const VerifyForm = z.object({
  token: z.string().optional().describe("From the link (a hidden field); confirms the email."),
  email: z.string().optional().describe("Without a token: mail a new link to this address."),
});
const ResetForm = z.object({
  token: z.string().optional().describe("From the link (a hidden field)."),
  password: z.string().optional().describe("The new password (with `token`)."),
  password_confirm: z.string().optional().describe("The same again."),
  email: z.string().optional().describe("Without a token: mail a reset link to this address."),
});

const PAGE_RESPONSE = {
  200: {
    description: "The page. Outcomes, token errors included, are said on the page.",
    contentType: "text/html",
    schema: { type: "string" },
  },
};

/** What a person should read for each token error. */
const TOKEN_PROBLEMS: Record<string, string> = {
  verification_token_invalid:
    "This link is not valid any more: it was replaced by a newer one, or it is damaged.",
  verification_token_used: "This link was already used.",
  verification_token_expired: "This link has expired.",
};

/** The token error's message, or undefined for any other failure (which is rethrown). */
function tokenProblem(err: unknown): string | undefined {
  const code = fromDatabaseError(err)?.code;
  return code ? TOKEN_PROBLEMS[code] : undefined;
}

/** Form fields as strings (a JSON or garbage body has none). */
async function formFields(c: Context): Promise<Record<string, string>> {
  try {
    const body = await c.req.parseBody();
    return Object.fromEntries(
      Object.entries(body).filter((entry): entry is [string, string] =>
        typeof entry[1] === "string"
      ),
    );
  } catch {
    return {};
  }
}

const validToken = (token: string | undefined): token is string =>
  token !== undefined && OPAQUE_TOKEN.test(token);
const message = (text: string, kind: "ok" | "error" | "note" = "note") =>
  `<p class="${kind}">${escapeHtml(text)}</p>`;

function requestForm(
  action: string,
  explanation: string,
  button: string,
  problem?: string,
): string {
  return `${problem ? message(problem, "error") : ""}<p>${escapeHtml(explanation)}</p>
<form method="post" action="${action}"><label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="email" required maxlength="254">
<button type="submit">${escapeHtml(button)}</button></form>`;
}

// --- verify email ---------------------------------------------------------------------------

const newVerificationLinkForm = (problem?: string) =>
  page(
    "Get a new confirmation link",
    requestForm(
      "verify-email",
      "Enter your email address and we will send you a new link.",
      "Send a new link",
      problem,
    ),
  );

function confirmEmailPage(token: string): string {
  return page(
    "Confirm your email address",
    `<form method="post" action="verify-email">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<p>Press the button to confirm that this address is yours.</p>
<button type="submit">Confirm my email</button></form>
<p class="note">We ask for a click because mail scanners open links too, and must not confirm anything.</p>`,
  );
}

// --- reset password ------------------------------------------------------------------------

const newResetLinkForm = (problem?: string) =>
  page(
    "Reset your password",
    requestForm(
      "reset-password",
      "Enter your email address and we will send you a link to choose a new password.",
      "Send me a link",
      problem,
    ),
  );

function newPasswordPage(token: string, problem?: string): string {
  return page(
    "Choose a new password",
    `${problem ? message(problem, "error") : ""}
<form method="post" action="reset-password"><input type="hidden" name="token" value="${
      escapeHtml(token)
    }">
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="10" maxlength="256">
<label for="password_confirm">The same again</label>
<input id="password_confirm" name="password_confirm" type="password" autocomplete="new-password" required maxlength="256">
<p class="note">At least 10 characters, mixing at least two of: lowercase, uppercase, digits, symbols.
Changing it signs you out on every device.</p>
<button type="submit">Set my new password</button></form>`,
  );
}

export function registerPages(app: Hono<AppEnv>, docs: FunctionDocs): void {
  docs.route({
    method: "get",
    path: "/pages/verify-email",
    summary: "Page a verification link opens: a button that confirms the email",
    description:
      "The default target of verification links when AUTH_SITE_URL is unset. Opening it changes " +
      "nothing (mail scanners open links too); its button posts the token. Without a valid token it offers to " +
      "mail a new link.",
    auth: "none",
    query: TokenQuery,
    validates: false,
    responses: PAGE_RESPONSE,
    errors: [],
  });
  app.get("/pages/verify-email", (c) => {
    const token = c.req.query("token");
    return html(
      c,
      validToken(token) ? confirmEmailPage(token) : newVerificationLinkForm(
        token
          ? "This link is damaged: open the whole link from the mail, or ask for a new one."
          : undefined,
      ),
    );
  });

  docs.route({
    method: "post",
    path: "/pages/verify-email",
    summary:
      "Form post of the verification page: confirm with `token`, or mail a new link to `email`",
    auth: "none",
    body: VerifyForm,
    bodyContentType: "application/x-www-form-urlencoded",
    validates: false,
    responses: PAGE_RESPONSE,
    errors: [],
  });
  app.post("/pages/verify-email", async (c) => {
    const fields = await formFields(c);
    const requestId = c.get("requestId");
    if (validToken(fields.token)) {
      try {
        await confirmEmail(fields.token, requestId);
      } catch (err) {
        const problem = tokenProblem(err);
        if (!problem) throw err;
        return html(
          c,
          newVerificationLinkForm(`${problem} If you have confirmed already, just sign in.`),
        );
      }
      return html(
        c,
        page(
          "Email confirmed",
          message("Your email address is confirmed. You can sign in now.", "ok"),
        ),
      );
    }
    const email = emailSchema.safeParse(fields.email);
    if (!email.success) {
      return html(
        c,
        newVerificationLinkForm(
          fields.token
            ? "This link is damaged: ask for a new one."
            : "Enter a valid email address.",
        ),
      );
    }
    await requestVerificationMail(email.data, requestId);
    return html(
      c,
      page(
        "Check your inbox",
        message("If this address has an unconfirmed account, we sent it a new link.", "ok"),
      ),
    );
  });

  docs.route({
    method: "get",
    path: "/pages/reset-password",
    summary: "Page a reset link opens: a form to choose a new password",
    description:
      "The default target of password-reset links when AUTH_SITE_URL is unset. Opening it uses " +
      "nothing up. Without a valid token it offers to mail a reset link.",
    auth: "none",
    query: TokenQuery,
    validates: false,
    responses: PAGE_RESPONSE,
    errors: [],
  });
  app.get("/pages/reset-password", (c) => {
    const token = c.req.query("token");
    return html(
      c,
      validToken(token) ? newPasswordPage(token) : newResetLinkForm(
        token
          ? "This link is damaged: open the whole link from the mail, or ask for a new one."
          : undefined,
      ),
    );
  });

  docs.route({
    method: "post",
    path: "/pages/reset-password",
    summary:
      "Form post of the reset page: set `password` with `token`, or mail a reset link to `email`",
    auth: "none",
    body: ResetForm,
    bodyContentType: "application/x-www-form-urlencoded",
    validates: false,
    responses: PAGE_RESPONSE,
    errors: [],
  });
  app.post("/pages/reset-password", async (c) => {
    const fields = await formFields(c);
    const requestId = c.get("requestId");
    if (validToken(fields.token)) {
      const password = passwordSchema.safeParse(fields.password ?? "");
      if (!password.success) {
        return html(
          c,
          newPasswordPage(fields.token, `The password ${password.error.issues[0].message}.`),
        );
      }
      if (fields.password_confirm !== password.data) {
        return html(c, newPasswordPage(fields.token, "The two passwords differ."));
      }
      try {
        await confirmPasswordReset(fields.token, password.data, requestId);
      } catch (err) {
        const problem = tokenProblem(err);
        if (!problem) throw err;
        return html(c, newResetLinkForm(`${problem} Ask for a new one.`));
      }
      return html(
        c,
        page(
          "Password changed",
          message(
            "Your password is changed and every session was signed out. Sign in with the new password.",
            "ok",
          ),
        ),
      );
    }
    const email = emailSchema.safeParse(fields.email);
    if (!email.success) {
      return html(
        c,
        newResetLinkForm(
          fields.token
            ? "This link is damaged: ask for a new one."
            : "Enter a valid email address.",
        ),
      );
    }
    await requestPasswordReset(email.data, requestId);
    return html(
      c,
      page(
        "Check your inbox",
        message("If this address has an account, we sent it a link to reset the password.", "ok"),
      ),
    );
  });
}
