// IP addresses and CIDR ranges (IPv4 and IPv6) for allow-lists and trusted proxies.
// An IPv4-mapped IPv6 address (::ffff:196.201.214.200, as dual-stack sockets report IPv4
// peers) is the IPv4 address it maps.

export interface Cidr {
  bits: 32 | 128;
  base: bigint;
  prefix: number;
  /** As configured, e.g. "10.0.0.0/8" (for messages and logs). */
  text: string;
}

function parseIpv4(text: string): bigint | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255)) {
    return null;
  }
  return parts.reduce((value, part) => (value << 8n) | BigInt(Number(part)), 0n);
}

function parseIpv6(text: string): bigint | null {
  let tail: bigint[] = [];
  let head = text;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".")) {
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === null) return null;
    tail = [v4 >> 16n, v4 & 0xffffn];
    head = text.slice(0, lastColon + 1) + "0"; // placeholder group, replaced below
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string) => (half === "" ? [] : half.split(":"));
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : [];
  if (tail.length) (right.length ? right : left).pop();
  const hex = [...left, ...right];
  if (!hex.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  const given = hex.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return null;
  const all = [
    ...left.map((g) => BigInt(parseInt(g, 16))),
    ...Array(8 - given).fill(0n),
    ...right.map((g) => BigInt(parseInt(g, 16))),
    ...tail,
  ];
  return all.reduce((value, group) => (value << 16n) | group, 0n);
}

/** An address as (bits, value), IPv4-mapped IPv6 folded to IPv4; null when it is not an address. */
export function parseIp(text: string): { bits: 32 | 128; value: bigint } | null {
  const address = text.trim().replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const v4 = parseIpv4(address);
  if (v4 !== null) return { bits: 32, value: v4 };
  if (!address.includes(":")) return null;
  const v6 = parseIpv6(address);
  if (v6 === null) return null;
  if (v6 >> 32n === 0xffffn) return { bits: 32, value: v6 & 0xffffffffn };
  return { bits: 128, value: v6 };
}

/** "196.201.214.0/24", "2001:db8::/32" or a single address; null when malformed. */
export function parseCidr(text: string): Cidr | null {
  const [address, prefixText, extra] = text.trim().split("/");
  if (extra !== undefined) return null;
  const ip = parseIp(address);
  if (!ip) return null;
  const prefix = prefixText === undefined
    ? ip.bits
    : /^[0-9]{1,3}$/.test(prefixText)
    ? Number(prefixText)
    : -1;
  if (prefix < 0 || prefix > ip.bits) return null;
  const shift = BigInt(ip.bits - prefix);
  return { bits: ip.bits, base: (ip.value >> shift) << shift, prefix, text: text.trim() };
}

/** A comma-separated list of ranges; throws naming the first malformed entry. */
export function parseCidrList(text: string): Cidr[] {
  return text.split(",").map((entry) => entry.trim()).filter(Boolean).map((entry) => {
    const cidr = parseCidr(entry);
    if (!cidr) {
      throw new Error(`'${entry}' is not an IP address or CIDR range (e.g. 10.0.0.0/8, ::1)`);
    }
    return cidr;
  });
}

export function inRanges(address: string, ranges: readonly Cidr[]): boolean {
  const ip = parseIp(address);
  if (!ip) return false;
  return ranges.some((range) => {
    if (range.bits !== ip.bits) return false;
    const shift = BigInt(range.bits - range.prefix);
    return (ip.value >> shift) << shift === range.base;
  });
}
