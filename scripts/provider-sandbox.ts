// Provider sandbox: a local stand-in for M-Pesa Daraja, KCB and DTB, on the same endpoints
// and payload shapes our adapters use (functions/_shared/providers), calling our webhooks
// back the way the real providers do. `npm start` runs this file (Deno); tests start it
// in-process (Node) with startProviderSandbox(). Nothing here ever talks to a real provider.
// The pieces live in scripts/provider-sandbox/: mpesa.ts, banks.ts, scenarios.ts (what
// each phone / account number makes happen), context.ts (callback delivery), server.ts.
import process from "node:process";
import { SANDBOX_PORT } from "../functions/_shared/sandbox-defaults.ts";
import { startProviderSandbox } from "./provider-sandbox/server.ts";

export * from "./provider-sandbox/server.ts";

// `deno run --allow-net --allow-env --allow-read scripts/provider-sandbox.ts` (npm start does this).
if ((import.meta as { main?: boolean }).main) {
  const port = Number(process.env.PROVIDER_SANDBOX_PORT ?? SANDBOX_PORT);
  const sandbox = await startProviderSandbox({
    port,
    hostname: process.env.PROVIDER_SANDBOX_HOST ?? "127.0.0.1",
    callbackDelayMs: Number(process.env.PROVIDER_SANDBOX_DELAY_MS ?? 1500),
    log: (line) =>
      console.log(
        JSON.stringify({
          time: new Date().toISOString(),
          level: "info",
          msg: "provider sandbox",
          line,
        }),
      ),
  });
  console.log(
    `provider sandbox (M-Pesa, KCB, DTB): ${sandbox.url} — scenarios by the last 4 digits, see scripts/provider-sandbox/scenarios.ts`,
  );
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      sandbox.close().finally(() => process.exit(0));
    });
  }
}
