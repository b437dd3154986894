// The verification and password-reset steps, shared by the JSON API (app.ts) and the
// built-in pages (pages.ts), so both follow exactly the same rules.
import { asService } from "../_shared/db.ts";
import { hashPassword } from "../_shared/password.ts";
import { sha256Hex } from "../_shared/tokens.ts";
import { issueVerificationToken, mails, sendMail } from "./support.ts";

/** Mail a new verification link if the address has an unconfirmed account (silent otherwise). */
export async function requestVerificationMail(email: string, requestId: string): Promise<void> {
  const token = await asService(requestId, async (tx) => {
    const [user] = await tx<{ id: string }[]>`
      select id from public.auth_users where email = ${email} and email_verified_at is null and status <> 'disabled'`;
    return user ? await issueVerificationToken(tx, user.id, "email_verification") : null;
  });
  if (token) await sendMail(mails.verification(email, token), requestId);
}

/** Confirm an email with the link's token; raises the token's stable error codes. */
export async function confirmEmail(token: string, requestId: string): Promise<void> {
  await asService(
    requestId,
    (tx) => tx`select hazina.email_verify_confirm(${sha256Hex(token)})`,
  );
}

/** Mail a reset link if the address has an account (silent otherwise). */
export async function requestPasswordReset(email: string, requestId: string): Promise<void> {
  const token = await asService(requestId, async (tx) => {
    const [user] = await tx<{ id: string }[]>`
      select id from public.auth_users where email = ${email} and status <> 'disabled'`;
    return user ? await issueVerificationToken(tx, user.id, "password_reset") : null;
  });
  if (token) await sendMail(mails.passwordReset(email, token), requestId);
}

/** Set a new password with the link's token (revokes every session); raises token errors. */
export async function confirmPasswordReset(
  token: string,
  password: string,
  requestId: string,
): Promise<void> {
  const passwordHash = await hashPassword(password);
  await asService(
    requestId,
    (tx) => tx`select hazina.password_reset_confirm(${sha256Hex(token)}, ${passwordHash})`,
  );
}
