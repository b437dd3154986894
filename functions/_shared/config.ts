// Configuration from the environment, validated once, with errors that say what to fix.
import process from "node:process";
import { z } from "zod";
import { parseCidrList } from "./cidr.ts";
import { SANDBOX_DEFAULTS as SANDBOX } from "./sandbox-defaults.ts";

/** The JWT secret `npm start` uses when none is set (local development only). */
export const DEV_JWT_SECRET = "hazina-local-development-secret-change-me-0123456789";

const optionalString = z.string().trim().min(1).optional().catch(undefined);

/** A comma-separated list of IP addresses / CIDR ranges; "" is the empty list. */
const CidrList = z.string().default("").transform((text, ctx) => {
  try {
    return parseCidrList(text);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
    return z.NEVER;
  }
});

const ConfigSchema = z.object({
  // The edge's connection: EDGE_DATABASE_URL, else DATABASE_URL, else SUPABASE_DB_URL (see
  // config() below). It should log in as `authenticator` (README "Configuration").
  DATABASE_URL: z.string().url({ message: "must be a postgres:// URL" }),
  // Production refuses a login role that is more than an authenticator (superuser, BYPASSRLS,
  // CREATEROLE, other memberships; functions/_shared/db-role.ts). "true" accepts one anyway,
  // e.g. Supabase's SUPABASE_DB_URL (`postgres`), knowingly.
  ALLOW_PRIVILEGED_DB_ROLE: z.enum(["true", "false", "1", "0"]).default("false").transform((v) =>
    v === "true" || v === "1"
  ),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  // "false" behind a transaction-mode pooler (pgbouncer pool_mode=transaction, Supabase's
  // pooler on port 6543): each transaction may land on another server connection, where a
  // named prepared statement does not exist, so statements go unnamed. Every request already
  // keeps its session state (role, claims) transaction-local, which such a pooler needs.
  DB_PREPARE: z.enum(["true", "false", "1", "0"]).default("true").transform((v) =>
    v === "true" || v === "1"
  ),
  // "false" runs even provider-free mutating requests in three transactions (key, work,
  // response), as before one-transaction requests existed: an off switch, and the bench's baseline.
  IDEMPOTENCY_ONE_TRANSACTION: z.enum(["true", "false", "1", "0"]).default("true").transform((v) =>
    v === "true" || v === "1"
  ),
  // Group commit of concurrent POST /wallets/transfers in one edge process (functions/_shared/
  // group-commit.ts): requests arriving while a group is in the database go together in
  // the next one, in one transaction; a lone request goes at once. "false" turns it off
  // (each request in its own transaction). Needs IDEMPOTENCY_ONE_TRANSACTION.
  GROUP_COMMIT: z.enum(["true", "false", "1", "0"]).default("true").transform((v) =>
    v === "true" || v === "1"
  ),
  // The longest a request waits for company once a group is in flight, and the most
  // requests in one group; a group leaves at whichever comes first (or when the one in
  // flight is done).
  GROUP_COMMIT_WINDOW_MS: z.coerce.number().int().min(0).max(1000).default(2),
  GROUP_COMMIT_MAX_ITEMS: z.coerce.number().int().min(1).max(1000).default(64),
  // JWT verification: HS256 with JWT_SECRET, and/or a JWKS (ES256/RS256) at JWT_JWKS_URL.
  JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  JWT_JWKS_URL: z.string().url().optional(),
  JWT_ISSUER: optionalString,
  JWT_AUDIENCE: z.string().default("authenticated"),
  // "*" (any site) is for development; production requires the explicit origins.
  CORS_ORIGINS: z.string().default("*"),
  // The longest access-token lifetime (exp - iat) we accept, whoever signed it.
  JWT_MAX_LIFETIME_SECONDS: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(24 * 3600),
  // How long a verified access token's signature check is reused (0: never; at most 60 s).
  // Only the signature/claims check is cached: the database still decides on every request
  // whether the session is revoked and the user active (hazina.caller_id()).
  JWT_VERIFY_CACHE_SECONDS: z.coerce.number().int().min(0).max(60).default(5),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  // "production" refuses to start with any sandbox default or the development JWT secret.
  HAZINA_ENV: z.enum(["development", "test", "production"]).default("development"),
  // auth service (functions/auth, functions/_shared/tokens.ts): see docs/auth.md.
  // An EC P-256 private JWK (JSON). When set, access tokens are ES256 with this key and
  // GET /auth/.well-known/jwks.json publishes its public half; else HS256 with JWT_SECRET.
  JWT_PRIVATE_JWK: z.preprocess((v) => (v === "" ? undefined : v), z.string().trim().optional())
    .superRefine((value, ctx) => {
      if (value !== undefined && !isEcPrivateJwk(value)) {
        ctx.addIssue({
          code: "custom",
          message: 'must be a JSON EC P-256 private JWK ({"kty":"EC","crv":"P-256","x","y","d"})',
        });
      }
    }),
  JWT_EXPIRES_IN_SECONDS: z.coerce.number().int().min(60).max(24 * 3600).default(3600),
  AUTH_REFRESH_TTL_SECONDS: z.coerce.number().int().min(3600).max(365 * 24 * 3600).default(
    30 * 24 * 3600,
  ),
  AUTH_VERIFICATION_TTL_SECONDS: z.coerce.number().int().min(300).max(7 * 24 * 3600).default(
    24 * 3600,
  ),
  AUTH_RESET_TTL_SECONDS: z.coerce.number().int().min(300).max(24 * 3600).default(3600),
  AUTH_REQUIRE_EMAIL_VERIFICATION: z.enum(["true", "false", "1", "0"]).default("true")
    .transform((v) => v === "true" || v === "1"),
  // Where the links in verification and reset emails point: the app's pages
  // (<AUTH_SITE_URL>/verify-email?token=…). Unset: the auth function's own pages
  // (<PUBLIC_FUNCTIONS_URL>/auth/pages/verify-email?token=…), which work out of the box.
  AUTH_SITE_URL: z.preprocess((v) => (v === "" ? undefined : v), z.string().url().optional())
    .transform((url) => url?.replace(/\/+$/, "")),
  // The development mailbox page (GET /auth/dev/mailbox) shows every mail with its link to
  // whoever can reach the server, so it is opt-in (`npm start` turns it on) and never in production.
  AUTH_DEV_MAILBOX: z.enum(["true", "false", "1", "0"]).default("false").transform((v) =>
    v === "true" || v === "1"
  ),
  // Outgoing mail (functions/_shared/mailer.ts, docs/auth.md#mail). SMTP when SMTP_URL or
  // SMTP_HOST is set; otherwise the development mailer, which delivers nothing and which
  // production refuses.
  SMTP_URL: z.preprocess((v) => (v === "" ? undefined : v), z.string().optional()),
  SMTP_HOST: optionalString,
  SMTP_PORT: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z.coerce.number().int().min(1).max(65535).optional(),
  ),
  SMTP_USER: optionalString,
  SMTP_PASS: z.preprocess((v) => (v === "" ? undefined : v), z.string().optional()),
  // TLS from the first byte (port 465). Otherwise the connection upgrades with STARTTLS.
  SMTP_SECURE: z.enum(["true", "false", "1", "0"]).optional().transform((v) =>
    v === undefined ? undefined : v === "true" || v === "1"
  ),
  // Refuse to send unless STARTTLS succeeded (credentials and reset links never cross the
  // network in clear). Defaults to true in production, false elsewhere.
  SMTP_REQUIRE_TLS: z.enum(["true", "false", "1", "0"]).optional().transform((v) =>
    v === undefined ? undefined : v === "true" || v === "1"
  ),
  SMTP_TIMEOUT_MS: z.coerce.number().int().min(1000).max(120_000).default(10_000),
  // The From of every mail: "Hazina <no-reply@example.com>" or a bare address. Required
  // with SMTP in production (SPF/DMARC are checked against it).
  MAIL_FROM: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z.string().trim()
      .regex(
        /^(?:[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/,
        'must be an address or "Name <address>"',
      ).optional(),
  ),
  // OIDC providers for POST /auth/oauth/:provider, as JSON:
  // {"google":{"issuer":"https://accounts.google.com","jwks_url":"https://…/certs","audience":"<client id>"}}
  AUTH_OIDC_PROVIDERS: z.string().default("{}").transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "must be JSON" });
      return z.NEVER;
    }
  }).pipe(z.record(
    z.string().regex(/^[a-z0-9_-]{1,40}$/, "provider names are lowercase [a-z0-9_-]").refine(
      (name) => name !== "credentials",
      "'credentials' is reserved",
    ),
    z.object({
      issuer: z.string().min(1),
      jwks_url: z.string().url(),
      audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    }).strict(),
  )),
  // money in/out (functions/funding, withdrawals, webhooks; docs/money-movement.md).
  // Provider defaults point at the local provider sandbox (scripts/provider-sandbox.ts).
  // Where providers call us back: the public URL of the functions (…/functions/v1).
  PUBLIC_FUNCTIONS_URL: z.string().url().default("http://127.0.0.1:8000/functions/v1")
    .transform((url) => url.replace(/\/+$/, "")),
  PROVIDER_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  MPESA_BASE_URL: z.string().url().default(SANDBOX.MPESA_BASE_URL).transform((url) =>
    url.replace(/\/+$/, "")
  ),
  MPESA_CONSUMER_KEY: z.string().min(1).default(SANDBOX.MPESA_CONSUMER_KEY),
  MPESA_CONSUMER_SECRET: z.string().min(1).default(SANDBOX.MPESA_CONSUMER_SECRET),
  MPESA_SHORTCODE: z.string().regex(/^[0-9]{5,8}$/, "must be a paybill or till number").default(
    SANDBOX.MPESA_SHORTCODE,
  ),
  MPESA_PASSKEY: z.string().min(8).default(SANDBOX.MPESA_PASSKEY),
  MPESA_TRANSACTION_TYPE: z.enum(["CustomerPayBillOnline", "CustomerBuyGoodsOnline"]).default(
    "CustomerPayBillOnline",
  ),
  MPESA_B2C_SHORTCODE: z.string().regex(/^[0-9]{5,8}$/).default(SANDBOX.MPESA_B2C_SHORTCODE),
  MPESA_PAYBILL: z.string().regex(/^[0-9]{5,8}$/).default(SANDBOX.MPESA_PAYBILL),
  MPESA_INITIATOR_NAME: z.string().min(1).default(SANDBOX.MPESA_INITIATOR_NAME),
  MPESA_SECURITY_CREDENTIAL: z.string().min(1).default(SANDBOX.MPESA_SECURITY_CREDENTIAL),
  // Daraja signs nothing, so its callback URLs end in this secret (compared in constant time).
  MPESA_CALLBACK_TOKEN: z.string().regex(/^[A-Za-z0-9_-]{24,128}$/, "24-128 URL-safe characters")
    .default(SANDBOX.MPESA_CALLBACK_TOKEN),
  // Daraja callbacks are accepted only from these networks (Safaricom publishes its callback
  // addresses; docs/money-movement.md). Unset: any source (development). "*": any source,
  // on purpose (production must say one or the other).
  MPESA_CALLBACK_ALLOWED_IPS: z.string().trim().optional().transform((text, ctx) => {
    if (text === undefined || text === "" || text === "*") {
      return { configured: text === "*", ranges: null };
    }
    try {
      return { configured: true, ranges: parseCidrList(text) };
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
      return z.NEVER;
    }
  }),
  // Proxies whose X-Forwarded-For we believe (IPs or CIDRs, comma-separated): the client IP
  // is the socket peer unless the peer is one of these (functions/_shared/clientip.ts).
  // Empty: trust nobody.
  TRUSTED_PROXIES: CidrList,
  // Refused webhook calls (bad token, signature or source; unreadable) one address may make
  // per minute before it gets 429 and nothing more is stored. Counted per edge process.
  WEBHOOK_REFUSALS_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(30),
  // Hold new withdrawals back from the provider this long, so their owner can cancel; the
  // sweep sends them when due. 0 sends at once (then cancel is never possible).
  WITHDRAWAL_SUBMIT_DELAY_SECONDS: z.coerce.number().int().min(0).max(24 * 3600).default(0),
  // Re-query the STK status before crediting a success callback (defence if the token leaks).
  MPESA_CONFIRM_CALLBACKS: z.enum(["true", "false", "1", "0"]).default("true").transform((v) =>
    v === "true" || v === "1"
  ),
  KCB_BASE_URL: z.string().url().default(SANDBOX.KCB_BASE_URL).transform((url) =>
    url.replace(/\/+$/, "")
  ),
  KCB_CLIENT_ID: z.string().min(1).default(SANDBOX.KCB_CLIENT_ID),
  KCB_CLIENT_SECRET: z.string().min(1).default(SANDBOX.KCB_CLIENT_SECRET),
  KCB_WEBHOOK_SECRET: z.string().min(16).default(SANDBOX.KCB_WEBHOOK_SECRET),
  DTB_BASE_URL: z.string().url().default(SANDBOX.DTB_BASE_URL).transform((url) =>
    url.replace(/\/+$/, "")
  ),
  DTB_API_KEY: z.string().min(1).default(SANDBOX.DTB_API_KEY),
  DTB_WEBHOOK_SECRET: z.string().min(16).default(SANDBOX.DTB_WEBHOOK_SECRET),
  // HMAC-signed webhooks (KCB, DTB) older or newer than this are refused (replay window).
  WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  // Outbound merchant webhooks (functions/_shared/webhook-delivery/, docs/payments.md#webhooks).
  // Private, loopback, link-local and metadata addresses are refused (SSRF) unless "true"
  // (tests, the sandbox, a deployment whose merchants are on its private network).
  WEBHOOK_ALLOW_PRIVATE: z.enum(["true", "false", "1", "0"]).default("false").transform((v) =>
    v === "true" || v === "1"
  ),
  // http:// endpoint URLs as well as https:// (tests, the sandbox).
  WEBHOOK_ALLOW_HTTP: z.enum(["true", "false", "1", "0"]).default("false").transform((v) =>
    v === "true" || v === "1"
  ),
  // Per-request timeout of one delivery attempt, and how many attempts one worker runs at once.
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(10),
  // Deliveries to one endpoint in flight at once, over all workers (so one slow endpoint
  // cannot take every slot; checked when claiming, so concurrent claims may pass it by a few).
  WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: z.coerce.number().int().min(1).max(1000).default(3),
  // Give up on a top-up the provider still cannot confirm after this many sweep checks.
  FUNDING_MAX_CHECKS: z.coerce.number().int().min(1).max(100).default(5),
  // New mutating requests (new Idempotency-Keys) a user may start per minute; 0 turns the
  // limit off. Replays of known keys are never limited.
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(600),
  // Lets a scheduler call POST /webhooks/sweep (X-Sweep-Secret header); admins may always.
  SWEEP_SECRET: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z.string().min(24, "must be at least 24 characters").optional(),
  ),
}).refine((c) => c.JWT_EXPIRES_IN_SECONDS <= c.JWT_MAX_LIFETIME_SECONDS, {
  message: "must not exceed JWT_MAX_LIFETIME_SECONDS, or our own tokens would be refused",
  path: ["JWT_EXPIRES_IN_SECONDS"],
}).refine((c) => c.JWT_SECRET || c.JWT_JWKS_URL || c.JWT_PRIVATE_JWK, {
  message:
    "set JWT_SECRET (HS256), JWT_PRIVATE_JWK (ES256) or JWT_JWKS_URL (ES256/RS256) so callers can be verified",
  path: ["JWT_SECRET"],
}).superRefine((c, ctx) => {
  // In production no provider setting may still be the sandbox's: a forgotten variable
  // must stop the service, not send payouts to a local sandbox or accept forged webhooks.
  if (c.HAZINA_ENV !== "production") return;
  for (const [name, sandboxValue] of Object.entries(SANDBOX)) {
    if ((c as Record<string, unknown>)[name] === sandboxValue) {
      ctx.addIssue({
        code: "custom",
        path: [name],
        message: "still the sandbox default; set the real value for production",
      });
    }
  }
  if (c.CORS_ORIGINS.split(",").some((origin) => origin.trim() === "*")) {
    ctx.addIssue({
      code: "custom",
      path: ["CORS_ORIGINS"],
      message:
        "is '*' (any website may call the API from a signed-in user's browser); list the allowed origins, " +
        "e.g. https://app.example.com,https://admin.example.com",
    });
  }
  if (!c.MPESA_CALLBACK_ALLOWED_IPS.configured) {
    ctx.addIssue({
      code: "custom",
      path: ["MPESA_CALLBACK_ALLOWED_IPS"],
      message: 'set Safaricom\'s callback networks (or "*" to accept any source on purpose)',
    });
  }
  if (c.JWT_SECRET === DEV_JWT_SECRET) {
    ctx.addIssue({
      code: "custom",
      path: ["JWT_SECRET"],
      message: "is the development secret; set your own for production",
    });
  }
  // The development mailer delivers nothing (and must never hold real users' links).
  if (!c.SMTP_URL && !c.SMTP_HOST) {
    ctx.addIssue({
      code: "custom",
      path: ["SMTP_URL"],
      message:
        "production needs a real mail transport: set SMTP_URL (smtps://user:pass@host:465 or " +
        "smtp://user:pass@host:587) or SMTP_HOST/SMTP_PORT/SMTP_USER/SMTP_PASS; without it verification " +
        "and password-reset mails would never be delivered",
    });
  } else if (!c.MAIL_FROM) {
    ctx.addIssue({
      code: "custom",
      path: ["MAIL_FROM"],
      message: "set the From address of outgoing mail for production",
    });
  }
  if (c.AUTH_DEV_MAILBOX) {
    ctx.addIssue({
      code: "custom",
      path: ["AUTH_DEV_MAILBOX"],
      message: "the development mailbox is never available in production",
    });
  }
  // Mail links carry single-use tokens: they must not travel over plain HTTP.
  const linkBase = c.AUTH_SITE_URL ?? c.PUBLIC_FUNCTIONS_URL;
  if (!linkBase.startsWith("https://")) {
    ctx.addIssue({
      code: "custom",
      path: [c.AUTH_SITE_URL ? "AUTH_SITE_URL" : "PUBLIC_FUNCTIONS_URL"],
      message: "mail links are built on it and carry tokens: use an https:// URL in production " +
        "(AUTH_SITE_URL for your app's pages, or PUBLIC_FUNCTIONS_URL for the built-in ones)",
    });
  }
}).superRefine((c, ctx) => {
  // SMTP settings are one of two spellings; both at once would be ambiguous.
  if (c.SMTP_URL && c.SMTP_HOST) {
    ctx.addIssue({
      code: "custom",
      path: ["SMTP_URL"],
      message: "set SMTP_URL or SMTP_HOST (with SMTP_PORT/USER/PASS), not both",
    });
  }
  if (c.SMTP_URL && (!/^smtps?:\/\/[^/?#]+/.test(c.SMTP_URL) || !URL.canParse(c.SMTP_URL))) {
    ctx.addIssue({
      code: "custom",
      path: ["SMTP_URL"],
      message: "must look like smtp://user:pass@host:587 or smtps://user:pass@host:465",
    });
  }
  if ((c.SMTP_USER === undefined) !== (c.SMTP_PASS === undefined)) {
    ctx.addIssue({
      code: "custom",
      path: ["SMTP_PASS"],
      message: "set SMTP_USER and SMTP_PASS together",
    });
  }
});

function isEcPrivateJwk(text: string): boolean {
  try {
    const jwk = JSON.parse(text) as Record<string, unknown>;
    return jwk !== null && typeof jwk === "object" && jwk.kty === "EC" && jwk.crv === "P-256" &&
      typeof jwk.x === "string" && typeof jwk.y === "string" && typeof jwk.d === "string";
  } catch {
    return false;
  }
}

export type Config = z.infer<typeof ConfigSchema>;

let cached: Config | undefined;

/** The validated configuration; throws one readable error listing every bad variable. */
export function config(): Config {
  if (cached) return cached;
  // EDGE_DATABASE_URL is the edge's own (authenticator) connection where DATABASE_URL is
  // the owner's, used for migrations (`npm start`, `npm test`). Supabase gives edge
  // functions SUPABASE_DB_URL.
  const env = { ...process.env };
  env.DATABASE_URL = env.EDGE_DATABASE_URL || env.DATABASE_URL || env.SUPABASE_DB_URL;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `  ${issue.path.join(".") || "env"}: ${issue.message}`)
      .join("\n");
    throw new Error(`Invalid Hazina configuration:\n${problems}`);
  }
  cached = parsed.data;
  return cached;
}

/** Tests change env between suites; this forgets the cached copy. */
export function resetConfigForTests(): void {
  cached = undefined;
}
