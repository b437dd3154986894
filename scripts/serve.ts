// Local edge runtime: serves every function under /functions/v1/<name>/*, as Supabase does.
// Run by `npm start` (Deno). Each function's app has base path /<name>, so the prefix is
// stripped before dispatch exactly like the Supabase gateway does (functions/registry.ts).
// Deno's handler info
// (the socket peer, for clientIp in functions/_shared/clientip.ts) is passed on as the
// app's env, exactly as `Deno.serve(app.fetch)` does on Supabase: never as a header, so no
// client can forge it. Binds 127.0.0.1 unless HOST says otherwise (e.g. HOST=0.0.0.0).
import process from "node:process";
import { dispatch, functionNames } from "../functions/registry.ts";
import { config } from "../functions/_shared/config.ts";
import { databaseRoleProblems } from "../functions/_shared/db.ts";
import { log } from "../functions/_shared/log.ts";
import { mailer } from "../functions/_shared/mailer.ts";

const cfg = config(); // fail fast with a readable message when the environment is wrong

// The edge must log in as an authenticator (functions/_shared/db-role.ts). Production
// refuses to start as anything more; development says so. An unreachable database does
// not stop the start (health reports it; production requests wait for the check).
try {
  const problems = await databaseRoleProblems();
  if (problems.length > 0 && cfg.HAZINA_ENV === "production" && !cfg.ALLOW_PRIVILEGED_DB_ROLE) {
    console.error(
      `Refusing to start: ${
        problems.join("; ")
      }.\nConnect as the authenticator role (README "Configuration"), or set ALLOW_PRIVILEGED_DB_ROLE=true knowingly.`,
    );
    Deno.exit(1);
  }
  if (problems.length > 0) {
    log("warn", "database login role is more than an authenticator", { problems });
  }
} catch (err) {
  log("warn", "database unreachable at start; checking its login role later", {
    error: (err as Error).message,
  });
}
// The mail transport is chosen once, from the configuration: SMTP when configured, else the
// development mailer (production cannot get here without SMTP).
log("info", "mail transport", { transport: mailer().name });
const port = Number(process.env.PORT ?? 8000);
const hostname = process.env.HOST?.trim() || "127.0.0.1";
const server = Deno.serve({
  port,
  hostname,
  onListen: ({ hostname, port }) => {
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    log("info", "edge functions listening", {
      url: `http://${host}:${port}/functions/v1/`,
      hostname,
      functions: functionNames,
    });
  },
}, (req, info) => dispatch(req, info));

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    server.shutdown().finally(() => Deno.exit(0));
  });
}
