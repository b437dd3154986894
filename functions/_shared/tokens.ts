// Access tokens the auth service mints, and the opaque secrets it hands out.
//
// Access tokens are Supabase-compatible JWTs (role/aud "authenticated", sub, app_metadata)
// so one token works with our edge functions and with supabase-js under RLS. They are
// signed ES256 with JWT_PRIVATE_JWK when configured (the public half is published at
// /auth/.well-known/jwks.json), otherwise HS256 with JWT_SECRET. They are not checked
// against the session table: a revoked session stops refreshing at once, but an access
// token already issued stays valid until its `exp` (JWT_EXPIRES_IN_SECONDS, 1 h default).
import { createHash } from "node:crypto";
import { calculateJwkThumbprint, type CryptoKey, importJWK, type JWK, SignJWT } from "jose";
import { config } from "./config.ts";

/** `iss` of every token we mint; verification insists on it when JWT_ISSUER is set. */
export const DEFAULT_ISSUER = "hazina";

export function tokenIssuer(): string {
  return config().JWT_ISSUER ?? DEFAULT_ISSUER;
}

export type AppRole = "customer" | "merchant" | "admin";

interface Es256Key {
  alg: "ES256";
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

let es256Cache: { source: string; key: Promise<Es256Key> } | undefined;

async function loadEs256Key(source: string): Promise<Es256Key> {
  const jwk = JSON.parse(source) as JWK;
  // Only the public members are ever published, whatever else the private JWK carries.
  const publicJwk: JWK = { kty: "EC", crv: jwk.crv, x: jwk.x, y: jwk.y };
  const kid = jwk.kid ?? await calculateJwkThumbprint(publicJwk);
  const privateKey = await importJWK({ ...jwk, alg: "ES256" }, "ES256");
  const publicKey = await importJWK({ ...publicJwk, alg: "ES256" }, "ES256");
  if (privateKey instanceof Uint8Array || publicKey instanceof Uint8Array) {
    throw new Error("JWT_PRIVATE_JWK must be an EC key");
  }
  return {
    alg: "ES256",
    kid,
    privateKey,
    publicKey,
    publicJwk: { ...publicJwk, kid, alg: "ES256", use: "sig" },
  };
}

/** The configured ES256 key, or undefined when tokens are HS256. */
export function es256Key(): Promise<Es256Key> | undefined {
  const source = config().JWT_PRIVATE_JWK;
  if (!source) return undefined;
  if (!es256Cache || es256Cache.source !== source) {
    const key = loadEs256Key(source);
    // Callers await it; this only keeps a bad key from surfacing as an unhandled rejection.
    key.catch(() => {});
    es256Cache = { source, key };
  }
  return es256Cache.key;
}

/** The JWKS document this service publishes (empty when tokens are HS256: never publish a secret). */
export async function publicJwks(): Promise<{ keys: JWK[] }> {
  const key = es256Key();
  return { keys: key ? [(await key).publicJwk] : [] };
}

export interface AccessTokenInput {
  userId: string;
  email: string;
  appRole: AppRole;
  sessionId: string;
}

export interface AccessToken {
  access_token: string;
  token_type: "bearer";
  expires_in: number;
  expires_at: number;
}

export async function mintAccessToken(input: AccessTokenInput): Promise<AccessToken> {
  const cfg = config();
  const now = Math.floor(Date.now() / 1000);
  const expiresAt = now + cfg.JWT_EXPIRES_IN_SECONDS;
  const jwt = new SignJWT({
    role: "authenticated",
    email: input.email,
    session_id: input.sessionId,
    app_metadata: { role: input.appRole },
    user_metadata: {},
  })
    .setSubject(input.userId)
    .setAudience(cfg.JWT_AUDIENCE)
    .setIssuer(tokenIssuer())
    .setIssuedAt(now)
    .setExpirationTime(expiresAt);

  let token: string;
  const es256 = es256Key();
  if (es256) {
    const key = await es256;
    token = await jwt.setProtectedHeader({ alg: "ES256", typ: "JWT", kid: key.kid }).sign(
      key.privateKey,
    );
  } else if (cfg.JWT_SECRET) {
    token = await jwt.setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(
      new TextEncoder().encode(cfg.JWT_SECRET),
    );
  } else {
    throw new Error("The auth service cannot mint tokens: set JWT_PRIVATE_JWK or JWT_SECRET.");
  }
  return {
    access_token: token,
    token_type: "bearer",
    expires_in: cfg.JWT_EXPIRES_IN_SECONDS,
    expires_at: expiresAt,
  };
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Shape of every opaque token we issue: 32 random bytes, base64url without padding. */
export const OPAQUE_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** A fresh refresh / verification / reset token: 256 bits from the platform CSPRNG. */
export function newOpaqueToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * What the database stores instead of a token, and the request fingerprint of an
 * Idempotency-Key (idempotency.ts): SHA-256, hex. node:crypto, synchronous: WebCrypto's
 * digest is an async op that cost ~60 µs a call in Deno against ~3 µs here (measured by
 * `npm run profile:edge`: it was a fifth of a transfer's edge CPU).
 */
export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}
