// Who is calling: the socket peer, or — only when that peer is one of our TRUSTED_PROXIES —
// the address the proxies recorded in X-Forwarded-For (the right-most entry that is not a
// proxy of ours: everything left of it was written by the client and proves nothing).
// The peer comes from the runtime's connection info, which Deno.serve passes as the
// handler's second argument (Hono's c.env; scripts/serve.ts passes it on). Without it
// (e.g. app.request() in tests) the caller is unknown: null.
import type { Context } from "hono";
import { inRanges } from "./cidr.ts";
import { config } from "./config.ts";

/** Deno's ServeHandlerInfo (what hono/deno's getConnInfo reads, without the deprecated import). */
interface ConnectionInfo {
  remoteAddr?: { hostname?: string };
}

export function peerAddress(c: Context): string | null {
  const info = c.env as ConnectionInfo | undefined;
  return info?.remoteAddr?.hostname ?? null;
}

export function clientIp(c: Context): string | null {
  const peer = peerAddress(c);
  const proxies = config().TRUSTED_PROXIES;
  if (!peer || proxies.length === 0 || !inRanges(peer, proxies)) return peer;
  const hops = (c.req.header("x-forwarded-for") ?? "").split(",").map((hop) => hop.trim()).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!inRanges(hops[i], proxies)) return hops[i];
  }
  return hops[0] ?? peer;
}
