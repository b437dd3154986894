// The SSRF guard of outbound merchant webhooks: a merchant chooses the URL we POST to, so
// without a guard they could make the service call its own database, the cloud metadata
// service (169.254.169.254) or anything else on the private network. A URL is allowed only
// when it is https (http only with WEBHOOK_ALLOW_HTTP, for tests and the sandbox), carries no
// credentials, and EVERY address its host resolves to is public: not private, loopback,
// link-local, carrier-grade NAT, multicast, reserved or documentation space, in IPv4 or
// IPv6 (IPv4-mapped IPv6 is the IPv4 address; NAT64 and 6to4 prefixes are refused as they may
// embed a private IPv4), unless WEBHOOK_ALLOW_PRIVATE says otherwise (tests, the sandbox, a
// private deployment). Checked when an endpoint is created AND before every delivery, so a
// host that later resolves to a private address (DNS rebinding) is refused then. The worker
// also never follows redirects (a 3xx is a failed attempt), so a public URL cannot bounce
// the request inward. What remains is the window between our lookup and fetch's own; an
// egress proxy or firewall closes it fully (docs/payments.md "Webhooks").
import { lookup } from "node:dns/promises";
import { type Cidr, inRanges, parseCidrList, parseIp } from "../cidr.ts";

/** Where no webhook may go (unless private addresses are allowed). */
export const BLOCKED_RANGES: readonly Cidr[] = parseCidrList([
  "0.0.0.0/8", // "this" network
  "10.0.0.0/8", // private
  "100.64.0.0/10", // carrier-grade NAT
  "127.0.0.0/8", // loopback
  "169.254.0.0/16", // link-local, cloud metadata (169.254.169.254)
  "172.16.0.0/12", // private
  "192.0.0.0/24", // IETF protocol assignments
  "192.0.2.0/24", // documentation
  "192.88.99.0/24", // 6to4 relay
  "192.168.0.0/16", // private
  "198.18.0.0/15", // benchmarking
  "198.51.100.0/24", // documentation
  "203.0.113.0/24", // documentation
  "224.0.0.0/4", // multicast
  "240.0.0.0/4", // reserved, broadcast
  "::/128", // unspecified
  "::1/128", // loopback
  "64:ff9b::/96", // NAT64 (embeds an IPv4 address)
  "64:ff9b:1::/48", // local-use NAT64
  "100::/64", // discard
  "2001::/23", // IETF protocol assignments (Teredo included)
  "2001:db8::/32", // documentation
  "2002::/16", // 6to4 (embeds an IPv4 address)
  "fc00::/7", // unique local
  "fe80::/10", // link-local
  "fec0::/10", // site-local (deprecated)
  "ff00::/8", // multicast
].join(","));

export interface UrlPolicy {
  /** http:// allowed as well as https:// (WEBHOOK_ALLOW_HTTP). */
  allowHttp: boolean;
  /** Private, loopback and link-local addresses allowed (WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  /** Resolves a host name to its addresses (tests replace it). */
  resolve?: (host: string) => Promise<string[]>;
}

/** Why a URL is refused: a stable reason and a sentence. */
export interface UrlRefusal {
  reason:
    | "invalid_url"
    | "scheme_not_allowed"
    | "credentials_in_url"
    | "unresolvable_host"
    | "address_not_allowed";
  message: string;
  address?: string;
}

async function resolveAll(host: string): Promise<string[]> {
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map((entry) => entry.address);
}

/** The URL's host as an address literal (brackets of IPv6 removed), else null. */
function literalAddress(hostname: string): string | null {
  const bare = hostname.replace(/^\[|\]$/g, "");
  return parseIp(bare) ? bare : null;
}

/** Null when `url` may receive webhooks under `policy`; else why not. */
export async function checkWebhookUrl(url: string, policy: UrlPolicy): Promise<UrlRefusal | null> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { reason: "invalid_url", message: "The URL is not a valid absolute URL." };
  }
  if (parsed.protocol !== "https:" && !(policy.allowHttp && parsed.protocol === "http:")) {
    return {
      reason: "scheme_not_allowed",
      message: policy.allowHttp
        ? "Webhook URLs must be http:// or https://."
        : "Webhook URLs must be https://.",
    };
  }
  if (parsed.username || parsed.password) {
    return { reason: "credentials_in_url", message: "Webhook URLs may not carry credentials." };
  }
  if (policy.allowPrivate) return null;
  const literal = literalAddress(parsed.hostname);
  let addresses: string[];
  if (literal) {
    addresses = [literal];
  } else {
    try {
      addresses = await (policy.resolve ?? resolveAll)(parsed.hostname);
    } catch {
      addresses = [];
    }
    if (addresses.length === 0) {
      return { reason: "unresolvable_host", message: "The URL's host does not resolve." };
    }
  }
  for (const address of addresses) {
    if (!parseIp(address) || inRanges(address, BLOCKED_RANGES)) {
      return {
        reason: "address_not_allowed",
        message:
          "The URL's host resolves to a private, loopback, link-local or reserved address; webhooks go only to public addresses.",
        address,
      };
    }
  }
  return null;
}
