// JWT verification middleware: the one place the edge decides who the caller is.
// Accepts HS256 tokens signed with JWT_SECRET, ES256 tokens signed with our own
// JWT_PRIVATE_JWK (verified with its public half, locally) and ES256/RS256 tokens from
// JWT_JWKS_URL. Algorithms are pinned per key type, so `alg: none` and HS/RS confusion
// cannot pass. Every token needs `iat`, and exp - iat may not exceed JWT_MAX_LIFETIME_SECONDS
// (24 h by default). Access tokens are not looked up in auth_sessions: revoking a session stops
// its refresh token at once, and its access tokens expire on their own (`exp`, 1 h).
import { createMiddleware } from "hono/factory";
import { createRemoteJWKSet, decodeProtectedHeader, type JWTPayload, jwtVerify } from "jose";
import { config } from "./config.ts";
import type { JwtClaims } from "./db.ts";
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

/** Verify a bearer token; throws ApiError(401) with a stable code on any problem. */
export async function verifyAccessToken(token: string): Promise<JWTPayload & JwtClaims> {
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
      const key = new TextEncoder().encode(cfg.JWT_SECRET);
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

/** Require `Authorization: Bearer <jwt>`; sets c.var.claims and c.var.userId. */
export const requireUser = createMiddleware<{ Variables: AuthVariables }>(async (c, next) => {
  const token = bearerToken(c.req.header("authorization"));
  if (!token) throw new ApiError(401, "unauthenticated", "Send a bearer access token.");
  const claims = await verifyAccessToken(token);
  if (
    claims.role !== "authenticated" || typeof claims.sub !== "string" ||
    !/^[0-9a-f-]{36}$/i.test(claims.sub)
  ) {
    throw new ApiError(401, "invalid_token", "The access token is not a user token.");
  }
  c.set("claims", claims);
  c.set("userId", claims.sub);
  await next();
});
