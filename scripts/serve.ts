// Local edge runtime: serves every function under /functions/v1/<name>/*, as Supabase does.
// Run by `npm start` (Deno). Each function's app has base path /<name>, so the prefix is
// stripped before dispatch exactly like the Supabase gateway does (functions/registry.ts).
import process from "node:process";
import { dispatch, functionNames } from "../functions/registry.ts";
import { config } from "../functions/_shared/config.ts";
import { log } from "../functions/_shared/log.ts";

config(); // fail fast with a readable message when the environment is wrong
const port = Number(process.env.PORT ?? 8000);

const server = Deno.serve({ port, hostname: process.env.HOST ?? "0.0.0.0", onListen: ({ port }) => {
  log("info", "edge functions listening", { url: `http://localhost:${port}/functions/v1/`, functions: functionNames });
} }, (req) => dispatch(req));

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    server.shutdown().finally(() => Deno.exit(0));
  });
}
