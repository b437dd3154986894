// Where a request came from: the one place the edge decides a client's IP address.
//
// The socket peer is the only address nobody can forge. X-Forwarded-For is believed only
// when that peer is a proxy we trust (TRUSTED_PROXIES), and then only as far as our own
// proxies go: reading the header right to left, the first address that is not one of our
// proxies is the client (anything left of it was written by the client itself).
//
// The peer comes from Deno.serve's handler info, which Hono hands to every handler as
// `c.env` when the app is served as `Deno.serve(app.fetch)` (functions/<name>/index.ts, as
// on Supabase) or dispatched with it (scripts/serve.ts passes it on). No request header
// carries it, so a client cannot set it. Without it (in-process app.request), the client
// IP is unknown: null.
import type { Context } from "hono";
import { inRanges, parseIp } from "./cidr.ts";
import { config } from "./config.ts";

type Address = NonNullable<ReturnType<typeof parseIp>>;

function format(address: Address): string {
  if (address.bits === 32) {
    return [24n, 16n, 8n, 0n].map((shift) => String((address.value >> shift) & 255n)).join(".");
  }
  const groups = Array.from(
    { length: 8 },
    (_, i) => ((address.value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16),
  );
  // Compress the longest run of zero groups (RFC 5952).
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > best.length && j - i > 1) best = { start: i, length: j - i };
    i = j;
  }
  if (best.start < 0) return groups.join(":");
  return `${groups.slice(0, best.start).join(":")}::${
    groups.slice(best.start + best.length).join(":")
  }`;
}

/** The socket peer's address, as Deno reported it, or null when not served over a socket. */
export function peerAddress(c: Context): string | null {
  const info = c.env as { remoteAddr?: { hostname?: unknown } } | undefined;
  const hostname = info?.remoteAddr?.hostname;
  const address = typeof hostname === "string" ? parseIp(hostname) : null;
  return address ? format(address) : null;
}

/**
 * The client's IP address: the socket peer, unless the peer is a trusted proxy; then the
 * right-most X-Forwarded-For entry that is not a trusted proxy (or the left-most entry when
 * all are). Null when unknown, or when that entry is not an IP address.
 */
export function clientIp(c: Context): string | null {
  const peer = peerAddress(c);
  if (peer === null) return null;
  const trusted = config().TRUSTED_PROXIES;
  if (!trusted.length || !inRanges(peer, trusted)) return peer;
  const forwarded = (c.req.header("x-forwarded-for") ?? "").split(",").map((entry) => entry.trim())
    .filter(Boolean);
  if (!forwarded.length) return peer;
  for (let i = forwarded.length - 1; i >= 0; i--) {
    const address = parseIp(forwarded[i]);
    if (!address) return null; // what our proxy saw is not an address: do not guess further left
    if (i === 0 || !inRanges(forwarded[i], trusted)) return format(address);
  }
  return null;
}
