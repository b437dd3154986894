// JWT verification middleware: the one place the edge decides who the caller is.
// Accepts HS256 tokens signed with JWT_SECRET, ES256 tokens signed with our own
// JWT_PRIVATE_JWK (verified with its public half, locally) and ES256/RS256 tokens from
// JWT_JWKS_URL. Algorithms are pinned per key type, so `alg: none` and HS/RS confusion
// cannot pass. Every token needs `iat`, and exp - iat may not exceed JWT_MAX_LIFETIME_SECONDS
// (24 h by default). The edge does not look access tokens up in auth_sessions: the database
// does, on every request (hazina.caller_id() refuses a revoked session or an inactive user).
// A valid token's verification is reused for JWT_VERIFY_CACHE_SECONDS (below).
import { createMiddleware } from "hono/factory";
import { createRemoteJWKSet, decodeProtectedHeader, type JWTPayload, jwtVerify } from "jose";
import { config } from "./config.ts";
import { asService, type JwtClaims } from "./db.ts";
import { ApiError } from "./errors.ts";
import { DEFAULT_ISSUER, es256Key } from "./tokens.ts";

export type AuthVariables = { claims: JwtClaims; userId: string };

let remoteJwks: ReturnType<typeof createRemoteJWKSet> | undefined;
let remoteJwksUrl: string | undefined;

function jwks() {
  const url = config().JWT_JWKS_URL!;
  if (!remoteJwks || remoteJwksUrl !== url) {
    remoteJwks = createRemoteJWKSet(new URL(url));
    remoteJwksUrl = url;
  }
  return remoteJwks;
}

// Verified tokens, reused for JWT_VERIFY_CACHE_SECONDS (the signature check is ~6% of a
// transfer's edge CPU, and a client sends the same token for an hour). Only successes are
// kept, never past the token's own `exp`, and at most VERIFIED_MAX tokens (the oldest go
// first). Safe because verification is a pure function of the token, the process's
// configuration and the time (checked again here: `until` is capped at `exp`); whether the
// session is revoked or the user active is decided by the database on every request
// (hazina.caller_id()), never here. A key removed from JWT_JWKS_URL stops being trusted
// for tokens already seen at most JWT_VERIFY_CACHE_SECONDS later.
const VERIFIED_MAX = 10_000;
const verified = new Map<string, { until: number; payload: JWTPayload & JwtClaims }>();
let verifiedUnder: ReturnType<typeof config> | undefined; // the configuration they passed

// JWT_SECRET imported once as a WebCrypto HMAC key (jose imports a raw secret on every
// call otherwise: ~22 µs each, `npm run profile:edge`), again when the secret changes.
let hmacKey: { secret: string; key: Promise<CryptoKey> } | undefined;
function hs256Key(secret: string): Promise<CryptoKey> {
  if (hmacKey?.secret !== secret) {
    const key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
    hmacKey = { secret, key };
    key.catch(() => {
      if (hmacKey?.key === key) hmacKey = undefined;
    });
  }
  return hmacKey.key;
}

/** Forget every cached verification (tests that change the configuration). */
export function clearVerifiedTokens(): void {
  verified.clear();
}

/** Verify a bearer token; throws ApiError(401) with a stable code on any problem. */
export async function verifyAccessToken(token: string): Promise<JWTPayload & JwtClaims> {
  const cfg = config();
  const ttl = cfg.JWT_VERIFY_CACHE_SECONDS;
  if (ttl === 0) return await verifyAccessTokenNow(token);
  if (verifiedUnder !== cfg) { // a new configuration (tests): nothing verified under the old
    verified.clear();
    verifiedUnder = cfg;
  }
  const now = Date.now();
  const hit = verified.get(token);
  if (hit && hit.until > now) return structuredClone(hit.payload);
  if (hit) verified.delete(token);
  const payload = await verifyAccessTokenNow(token);
  const until = Math.min(now + ttl * 1000, (payload.exp as number) * 1000);
  if (until > now) {
    if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!);
    verified.set(token, { until, payload: structuredClone(payload) });
  }
  return payload;
}

async function verifyAccessTokenNow(token: string): Promise<JWTPayload & JwtClaims> {
  const cfg = config();
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw new ApiError(401, "invalid_token", "The access token is malformed.");
  }
  const options = {
    audience: cfg.JWT_AUDIENCE,
    ...(cfg.JWT_ISSUER ? { issuer: cfg.JWT_ISSUER } : {}),
    requiredClaims: ["exp", "iat", "sub"],
  };
  let payload: JWTPayload | undefined;
  try {
    if (alg === "HS256" && cfg.JWT_SECRET) {
      const key = await hs256Key(cfg.JWT_SECRET);
      payload = (await jwtVerify(token, key, { ...options, algorithms: ["HS256"] })).payload;
    } else if (
      alg === "ES256" && cfg.JWT_PRIVATE_JWK &&
      (!cfg.JWT_JWKS_URL || decodeProtectedHeader(token).kid === (await es256Key()!).kid)
    ) {
      // Our own ES256 tokens: verified locally with the public half of JWT_PRIVATE_JWK.
      payload = (await jwtVerify(token, (await es256Key()!).publicKey, {
        ...options,
        algorithms: ["ES256"],
      })).payload;
    } else if ((alg === "ES256" || alg === "RS256") && cfg.JWT_JWKS_URL) {
      payload =
        (await jwtVerify(token, jwks(), { ...options, algorithms: ["ES256", "RS256"] })).payload;
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ERR_JWT_EXPIRED") {
      throw new ApiError(401, "token_expired", "The access token has expired.");
    }
    throw new ApiError(401, "invalid_token", "The access token is invalid.");
  }
  if (!payload) {
    throw new ApiError(401, "invalid_token", "The access token uses an unsupported algorithm.");
  }
  // However it was signed, a token may live at most JWT_MAX_LIFETIME_SECONDS: a leaked
  // long-lived token (or a signer misconfigured to mint one) must not act for months.
  if (
    typeof payload.iat !== "number" || typeof payload.exp !== "number" ||
    payload.exp - payload.iat > cfg.JWT_MAX_LIFETIME_SECONDS
  ) {
    throw new ApiError(
      401,
      "invalid_token",
      `Access tokens may live at most ${cfg.JWT_MAX_LIFETIME_SECONDS} seconds (exp - iat).`,
    );
  }
  // Without JWT_ISSUER configured, tokens may omit `iss`, but one that names an issuer
  // must name ours: a token minted for some other service is not a Hazina token.
  if (!cfg.JWT_ISSUER && payload.iss !== undefined && payload.iss !== DEFAULT_ISSUER) {
    throw new ApiError(401, "invalid_token", "The access token is invalid.");
  }
  return payload;
}

/**
 * The token of an `Authorization: Bearer <token>` header (the one parser; tokens are
 * base64url and dots), or undefined when the header is missing or malformed.
 */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+([A-Za-z0-9_\-.]+)$/i.exec(header ?? "")?.[1];
}

/** A merchant API key (`hz_test_…`, `hz_live_…`), told apart from a JWT by its prefix. */
export const API_KEY = /^hz_(test|live)_[0-9a-f]{64}$/;

/**
 * The claims a merchant API key acts with: its merchant as an `authenticated` user, as an
 * access token would say, resolved in the database (unknown, revoked or no longer a
 * merchant's key: 401). Admin powers never follow: keys belong only to merchants.
 */
async function apiKeyClaims(key: string, requestId: string | undefined): Promise<JwtClaims> {
  const [row] = await asService(
    requestId,
    (tx) => tx`select api_key_id, user_id from hazina.api_key_resolve(${key})`,
  );
  if (!row) throw new ApiError(401, "invalid_api_key", "The API key is unknown or revoked.");
  return { sub: row.user_id, role: "authenticated", api_key_id: row.api_key_id };
}

/**
 * Require `Authorization: Bearer <jwt>` or a merchant API key; sets c.var.claims and
 * c.var.userId.
 */
export const requireUser = createMiddleware<{ Variables: AuthVariables & { requestId?: string } }>(
  async (c, next) => {
    const token = bearerToken(c.req.header("authorization"));
    if (!token) throw new ApiError(401, "unauthenticated", "Send a bearer access token.");
    const claims = API_KEY.test(token)
      ? await apiKeyClaims(token, c.get("requestId"))
      : await verifyAccessToken(token);
    if (
      claims.role !== "authenticated" || typeof claims.sub !== "string" ||
      !/^[0-9a-f-]{36}$/i.test(claims.sub)
    ) {
      throw new ApiError(401, "invalid_token", "The access token is not a user token.");
    }
    c.set("claims", claims);
    c.set("userId", claims.sub);
    await next();
  },
);
