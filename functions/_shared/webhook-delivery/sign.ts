// Standard Webhooks signing (standardwebhooks.com, the scheme Svix and others use): the
// secret is `whsec_<base64 key>`; the signature of a message is
//   v1,<base64 of HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")>
// sent in `webhook-signature`, with `webhook-id` (the event id: the same on every attempt,
// so receivers de-duplicate by it) and `webhook-timestamp` (unix seconds of this attempt, so
// receivers refuse replays outside their tolerance).

const encoder = new TextEncoder();

function base64(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}

/** The HMAC key a `whsec_` secret stands for. */
export function secretKey(secret: string): Uint8Array {
  if (!/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret)) {
    throw new Error("a webhook secret is whsec_<base64>");
  }
  const raw = atob(secret.slice("whsec_".length));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/** `v1,<base64 HMAC-SHA256>` of "{id}.{timestamp}.{body}". */
export async function sign(
  secret: string,
  id: string,
  timestamp: number,
  body: string,
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    secretKey(secret) as BufferSource,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${id}.${timestamp}.${body}`));
  return `v1,${base64(new Uint8Array(mac))}`;
}

/** The three headers of one attempt. */
export async function webhookHeaders(
  secret: string,
  id: string,
  timestamp: number,
  body: string,
): Promise<Record<string, string>> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await sign(secret, id, timestamp, body),
  };
}
