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
import { config } from "./config.ts";

/** An IP address as a number in its family (IPv4-mapped IPv6 counts as IPv4). */
interface Address {
  v6: boolean;
  value: bigint;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function parseIpv6(text: string): bigint | undefined {
  let head = text;
  const v4 = /^(.*:)([0-9.]+)$/.exec(text);
  let embedded: bigint | undefined;
  if (v4 && v4[2].includes(".")) {
    embedded = parseIpv4(v4[2]);
    if (embedded === undefined) return undefined;
    head = `${v4[1]}0:0`;
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - left.length - right.length;
  if ((halves.length === 2 && missing < 1) || (halves.length === 1 && missing !== 0)) return undefined;
  const all = [...left, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...right];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  let value = all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  if (embedded !== undefined) value = (value & ~0xffffffffn) | embedded;
  return value;
}

/** Parse "1.2.3.4", "::1", "[::1]", "::ffff:1.2.3.4"; undefined when it is not an IP. */
export function parseIp(text: string | undefined | null): Address | undefined {
  if (!text) return undefined;
  const bare = text.trim().replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  const v4 = parseIpv4(bare);
  if (v4 !== undefined) return { v6: false, value: v4 };
  const v6 = bare.includes(":") ? parseIpv6(bare) : undefined;
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return { v6: false, value: v6 & 0xffffffffn }; // ::ffff:a.b.c.d
  return { v6: true, value: v6 };
}

function format(address: Address): string {
  if (!address.v6) return [24n, 16n, 8n, 0n].map((shift) => String((address.value >> shift) & 255n)).join(".");
  const groups = Array.from({ length: 8 }, (_, i) => ((address.value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
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
  return `${groups.slice(0, best.start).join(":")}::${groups.slice(best.start + best.length).join(":")}`;
}

/** Does the address fall in any of these IPs / CIDRs (TRUSTED_PROXIES syntax)? */
export function inRanges(address: Address, ranges: readonly string[]): boolean {
  return ranges.some((range) => {
    const [base, bitsText] = range.split("/");
    const network = parseIp(base);
    if (!network || network.v6 !== address.v6) return false;
    const width = address.v6 ? 128 : 32;
    // An IPv4-mapped IPv6 range (::ffff:10.0.0.0/104) is parsed as IPv4: shift its bits.
    let bits = bitsText === undefined ? width : Number(bitsText);
    if (!address.v6 && base.includes(":")) bits -= 96;
    if (bits < 0) bits = 0;
    const shift = BigInt(width - Math.min(bits, width));
    return (address.value >> shift) === (network.value >> shift);
  });
}

/** The socket peer's address, as Deno reported it, or null when not served over a socket. */
export function peerAddress(c: Context): string | null {
  const info = c.env as { remoteAddr?: { hostname?: unknown } } | undefined;
  const hostname = info?.remoteAddr?.hostname;
  const address = typeof hostname === "string" ? parseIp(hostname) : undefined;
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
  if (!trusted.length || !inRanges(parseIp(peer)!, trusted)) return peer;
  const forwarded = (c.req.header("x-forwarded-for") ?? "").split(",").map((entry) => entry.trim()).filter(Boolean);
  if (!forwarded.length) return peer;
  for (let i = forwarded.length - 1; i >= 0; i--) {
    const address = parseIp(forwarded[i]);
    if (!address) return null; // what our proxy saw is not an address: do not guess further left
    if (i === 0 || !inRanges(address, trusted)) return format(address);
  }
  return null;
}
