// What never reaches a log line, by rule: every field log() writes passes through here.
//
//   - fields whose name says they hold a secret (authorization, cookie, password, secret,
//     token, signature, api key, credential, passkey) are replaced whole;
//   - in every string (messages, error messages and stacks included): the configured secrets
//     themselves, the path token of a Daraja callback URL (/webhooks/mpesa/<kind>/<token>),
//     query parameters named like a secret (?access_token=, ?code=, ?sig=, …), bearer and
//     basic credentials, JWTs, and passwords in URLs (postgres://user:<password>@…);
//   - in request paths, additionally any long segment that is not a UUID or a number (an
//     opaque token in a path we do not know about yet).
// A rule errs towards hiding: a log line that says [redacted] costs nothing.
import { config } from "./config.ts";

export const REDACTED = "[redacted]";

/** Field names that hold a secret, whatever their value looks like. */
const SECRET_FIELD =
  /(^|[_-])(authorization|cookie|password|passwd|secret|token|signature|api[_-]?key|apikey|credential|passkey)s?($|[_-])/i;

/** The Daraja callback routes: their last path segment is MPESA_CALLBACK_TOKEN. */
const DARAJA_TOKEN_ROUTE =
  /(\/webhooks\/mpesa\/(?:stk|b2c\/result|b2c\/timeout|status\/result|status\/timeout|c2b\/validation|c2b\/confirmation))\/[^\s?#"'<>\/\\]+/gi;
const SECRET_QUERY_PARAM =
  /([?&;][^=&#\s"'<>]*?(?:token|secret|key|signature|sig|code|password|auth|credential)[^=&#\s"'<>]*=)[^&#\s"'<>]*/gi;
const AUTHORIZATION_VALUE = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+\/=-]+/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:\/\s@]*:)[^@\s\/]+@/gi;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OPAQUE_SEGMENT = /^[A-Za-z0-9_~.%+=-]{20,}$/;

/** Configured secrets (8+ characters), longest first so a secret containing another goes whole. */
function configuredSecrets(): string[] {
  try {
    const cfg = config();
    const values = [
      cfg.JWT_SECRET,
      cfg.JWT_PRIVATE_JWK,
      cfg.MPESA_CALLBACK_TOKEN,
      cfg.MPESA_CONSUMER_KEY,
      cfg.MPESA_CONSUMER_SECRET,
      cfg.MPESA_PASSKEY,
      cfg.MPESA_SECURITY_CREDENTIAL,
      cfg.KCB_CLIENT_SECRET,
      cfg.KCB_WEBHOOK_SECRET,
      cfg.DTB_API_KEY,
      cfg.DTB_WEBHOOK_SECRET,
      cfg.SWEEP_SECRET,
    ];
    return values.filter((v): v is string => typeof v === "string" && v.length >= 8).sort((a, b) =>
      b.length - a.length
    );
  } catch {
    return []; // no valid configuration: the pattern rules still apply
  }
}

/** A string with every secret the rules recognise replaced. */
export function redactText(text: string): string {
  let out = text;
  for (const secret of configuredSecrets()) out = out.replaceAll(secret, REDACTED);
  return out
    .replace(DARAJA_TOKEN_ROUTE, `$1/${REDACTED}`)
    .replace(SECRET_QUERY_PARAM, `$1${REDACTED}`)
    .replace(AUTHORIZATION_VALUE, `$1 ${REDACTED}`)
    .replace(JWT, REDACTED)
    .replace(URL_PASSWORD, `$1${REDACTED}@`);
}

/** A request path for the access log: the text rules, then any opaque long segment. */
export function redactPath(path: string): string {
  return redactText(path).split("/").map((segment) =>
    OPAQUE_SEGMENT.test(segment) && !UUID.test(segment) && !/^[0-9]+$/.test(segment)
      ? REDACTED
      : segment
  ).join("/");
}

/** Log fields with every secret the rules recognise replaced, at any depth. */
export function redactFields(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactText(value);
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item) => redactFields(item, depth + 1));
  if (value instanceof Error) {
    return redactFields(
      { name: value.name, message: value.message, stack: value.stack },
      depth + 1,
    );
  }
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [
      key,
      SECRET_FIELD.test(key) && field !== undefined && field !== null
        ? REDACTED
        : redactFields(field, depth + 1),
    ]),
  );
}
