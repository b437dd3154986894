// Webhook authentication: HMAC-SHA256 signatures with a timestamp window (KCB, DTB) and
// constant-time comparison of secrets (also used for Daraja's secret path token).
//
// Signature scheme (our assumption for the banks, see docs/money-movement.md):
//   X-Signature-Timestamp: <unix seconds>
//   X-Signature:           sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
// Signing the timestamp with the body stops an attacker replaying an old message with a
// fresh timestamp; the tolerance window bounds how long a captured message stays valid.
const encoder = new TextEncoder();

async function hmacKey(secret: string): Promise<CryptoKey> {
  return await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function hmacSha256Hex(secret: string, message: string): Promise<string> {
  return hex(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(message)));
}

/**
 * Compare two secrets in constant time. Both are hashed first, so neither the position of
 * the first difference nor the length of the expected value leaks through timing.
 */
export async function timingSafeEqual(received: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(received)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  let difference = 0;
  for (let i = 0; i < x.length; i++) difference |= x[i] ^ y[i];
  return difference === 0;
}

export const SIGNATURE_HEADER = "x-signature";
export const TIMESTAMP_HEADER = "x-signature-timestamp";

/** Headers for a signed webhook body (used by the provider sandbox and by tests). */
export async function signWebhook(
  secret: string,
  rawBody: string,
  timestamp = Math.floor(Date.now() / 1000),
) {
  const signature = await hmacSha256Hex(secret, `${timestamp}.${rawBody}`);
  return { [TIMESTAMP_HEADER]: String(timestamp), [SIGNATURE_HEADER]: `sha256=${signature}` };
}

export type SignatureCheck = { ok: true } | {
  ok: false;
  reason: "missing" | "malformed" | "stale" | "mismatch";
};

export async function verifyWebhookSignature(options: {
  secret: string;
  rawBody: string;
  timestamp: string | undefined;
  signature: string | undefined;
  toleranceSeconds: number;
  nowSeconds?: number;
}): Promise<SignatureCheck> {
  const { timestamp, signature } = options;
  if (!timestamp || !signature) return { ok: false, reason: "missing" };
  if (!/^[0-9]{1,12}$/.test(timestamp) || !/^sha256=[0-9a-f]{64}$/.test(signature)) {
    return { ok: false, reason: "malformed" };
  }
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > options.toleranceSeconds) {
    return { ok: false, reason: "stale" };
  }
  const expected = `sha256=${await hmacSha256Hex(
    options.secret,
    `${timestamp}.${options.rawBody}`,
  )}`;
  return (await timingSafeEqual(signature, expected))
    ? { ok: true }
    : { ok: false, reason: "mismatch" };
}
