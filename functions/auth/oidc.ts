// OIDC ID-token verification for POST /auth/oauth/:provider. Each provider is configured in
// AUTH_OIDC_PROVIDERS with its issuer, JWKS URL and audience (our client id); the token's
// signature, issuer, audience and expiry must all check out. Only asymmetric algorithms
// are accepted, so a token "signed" with a shared secret or `alg: none` never passes.
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from "jose";
import { config } from "../_shared/config.ts";
import { ApiError } from "../_shared/errors.ts";
import { sha256Hex } from "../_shared/tokens.ts";

const jwksByUrl = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function providerJwks(url: string) {
  let jwks = jwksByUrl.get(url);
  if (!jwks) {
    jwks = createRemoteJWKSet(new URL(url), { timeoutDuration: 5000, cooldownDuration: 30_000 });
    jwksByUrl.set(url, jwks);
  }
  return jwks;
}

export interface OidcIdentity {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

const invalidIdToken = () =>
  new ApiError(401, "invalid_id_token", "The ID token could not be verified.");

export async function verifyIdToken(
  provider: string,
  idToken: string,
  nonce: string | undefined,
): Promise<OidcIdentity> {
  const settings = config().AUTH_OIDC_PROVIDERS[provider];
  if (!settings) {
    throw new ApiError(
      404,
      "oauth_provider_not_found",
      "This identity provider is not configured.",
    );
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, providerJwks(settings.jwks_url), {
      issuer: settings.issuer,
      audience: settings.audience,
      algorithms: ["RS256", "ES256", "PS256", "EdDSA"],
      requiredClaims: ["sub", "exp", "iat"],
      clockTolerance: 30,
    }));
  } catch {
    throw invalidIdToken();
  }
  // A nonce in the token binds it to the sign-in the client started; without the same
  // nonce (or its SHA-256, as some SDKs send) a replayed token is refused.
  if (payload.nonce !== undefined || nonce !== undefined) {
    if (
      typeof payload.nonce !== "string" || nonce === undefined ||
      (payload.nonce !== nonce && payload.nonce !== sha256Hex(nonce))
    ) {
      throw invalidIdToken();
    }
  }
  const subject = payload.sub;
  if (typeof subject !== "string" || subject.length === 0 || subject.length > 255) {
    throw invalidIdToken();
  }
  const email = typeof payload.email === "string" && payload.email.length <= 254
    ? payload.email.toLowerCase()
    : null;
  // Some providers send email_verified as the string "true".
  const emailVerified = payload.email_verified === true || payload.email_verified === "true";
  const name = typeof payload.name === "string" ? payload.name.slice(0, 200) : null;
  return { subject, email, emailVerified, name };
}
