// The sandbox as one server: M-Pesa at /mpesa, KCB at /kcb, DTB at /dtb, and the
// /__sandbox control routes (scenarios, recent deliveries). Works under Node (tests start
// it in-process) and Deno (npm start runs scripts/provider-sandbox.ts).
import { Buffer } from "node:buffer";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Hono } from "hono";
import { bankApp } from "./banks.ts";
import { createContext, type Delivery, type SandboxOptions } from "./context.ts";
import { mpesaApp } from "./mpesa.ts";
import { type Scenario, SUFFIXES } from "./scenarios.ts";

export type { Delivery, SandboxOptions, Scenario };

export interface ProviderSandbox {
  url: string;
  setScenario(match: string, scenario: Scenario): void;
  clearScenarios(): void;
  /** Resolves once every callback sent so far has been delivered (or has failed). */
  idle(): Promise<void>;
  deliveries: Delivery[];
  close(): Promise<void>;
}

export function createSandboxApp(options: SandboxOptions = {}) {
  const ctx = createContext(options);
  const app = new Hono();
  app.get(
    "/",
    (c) =>
      c.json({
        sandbox: "hazina provider sandbox",
        providers: ["mpesa", "kcb", "dtb"],
        scenarios: SUFFIXES,
      }),
  );
  app.post("/__sandbox/scenarios", async (c) => {
    const { match, scenario } = await c.req.json() as { match: string; scenario: Scenario };
    ctx.scenarios.set(String(match), scenario);
    return c.json({ match, scenario });
  });
  app.delete("/__sandbox/scenarios", (c) => {
    ctx.scenarios.clear();
    return c.json({ cleared: true });
  });
  app.get("/__sandbox/deliveries", (c) => c.json({ data: ctx.deliveries.slice(-100) }));
  app.route("/mpesa", mpesaApp(ctx));
  app.route("/kcb", bankApp(ctx, "kcb"));
  app.route("/dtb", bankApp(ctx, "dtb"));
  return {
    app,
    deliveries: ctx.deliveries,
    setScenario: ctx.scenarios.set,
    clearScenarios: ctx.scenarios.clear,
    idle: ctx.idle,
  };
}

/** The connection info Deno.serve hands a handler (the client's address), as node:http knows it. */
export interface ConnectionInfo {
  remoteAddr: { hostname: string; port: number; transport: "tcp" };
}

/** Serve a fetch handler over node:http (works under Node and Deno). */
export async function serveFetch(
  handler: (req: Request, info: ConnectionInfo) => Response | Promise<Response>,
  { port = 0, hostname = "127.0.0.1" }: { port?: number; hostname?: string } = {},
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string") headers.set(name, value);
        else if (Array.isArray(value)) headers.set(name, value.join(", "));
      }
      const body = chunks.length && req.method !== "GET" && req.method !== "HEAD"
        ? Buffer.concat(chunks)
        : undefined;
      const response = await handler(
        new Request(`http://${req.headers.host ?? `${hostname}:${port}`}${req.url}`, {
          method: req.method,
          headers,
          body,
        }),
        {
          remoteAddr: {
            hostname: req.socket.remoteAddress ?? "",
            port: req.socket.remotePort ?? 0,
            transport: "tcp",
          },
        },
      );
      const responseHeaders: Record<string, string> = {};
      response.headers.forEach((value, name) => (responseHeaders[name] = value));
      res.writeHead(response.status, responseHeaders);
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (err) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ error: { code: "sandbox_error", message: (err as Error).message } }),
      );
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => resolve());
  });
  const address = server.address() as { port: number };
  return {
    url: `http://${hostname}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

export async function startProviderSandbox(options: SandboxOptions = {}): Promise<ProviderSandbox> {
  const sandbox = createSandboxApp(options);
  const server = await serveFetch(sandbox.app.fetch, {
    port: options.port ?? 0,
    hostname: options.hostname ?? "127.0.0.1",
  });
  return {
    url: server.url,
    setScenario: sandbox.setScenario,
    clearScenarios: sandbox.clearScenarios,
    idle: sandbox.idle,
    deliveries: sandbox.deliveries,
    close: async () => {
      await sandbox.idle();
      await server.close();
    },
  };
}
