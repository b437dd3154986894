// Local edge runtime: serves every function under /functions/v1/<name>/*, as Supabase does.
// Run by `npm start` (Deno). Each function's app has base path /<name>, so the prefix is
// stripped before dispatch exactly like the Supabase gateway does (functions/registry.ts).
// Deno's handler info
// (the socket peer, for clientIp in functions/_shared/clientip.ts) is passed on as the
// app's env, exactly as `Deno.serve(app.fetch)` does on Supabase: never as a header, so no
// client can forge it. Binds 127.0.0.1 unless HOST says otherwise (e.g. HOST=0.0.0.0).
//
// EDGE_PROCESSES=N (default 1; Linux): this process starts N-1 copies of itself and all N
// listen on the same port (SO_REUSEPORT, so the kernel spreads connections over them), so
// one JavaScript main thread is not the ceiling. Each copy has its own database pool of
// DB_POOL_MAX. Needs `--unstable-net --allow-run`. The copies share nothing in memory: keep
// 1 with the development mailbox (AUTH_DEV_MAILBOX), which lives in one process's memory.
// A copy stops when this process goes (its stdin closes); this one stops when a copy dies.
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
const processes = Number(process.env.EDGE_PROCESSES?.trim() || 1);
if (!Number.isInteger(processes) || processes < 1 || processes > 64) {
  console.error(
    `EDGE_PROCESSES must be a whole number from 1 to 64 (got ${process.env.EDGE_PROCESSES}).`,
  );
  Deno.exit(1);
}
const isCopy = process.env.EDGE_PROCESS_COPY === "1";
const copies: Deno.ChildProcess[] = [];
if (!isCopy) {
  for (let i = 1; i < processes; i++) {
    const copy = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--unstable-no-legacy-abort",
        "--unstable-net",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        new URL(import.meta.url).pathname,
      ],
      env: { EDGE_PROCESS_COPY: "1" },
      stdin: "piped",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    copies.push(copy);
    copy.status.then((status) => {
      if (stopping) return;
      log("error", "an edge process copy died; stopping the edge", {
        code: status.code,
        signal: status.signal,
      });
      stop(1);
    });
  }
}
let stopping = false;
const server = Deno.serve({
  port,
  hostname,
  ...(processes > 1 ? { reusePort: true } : {}),
  onListen: ({ hostname, port }) => {
    if (isCopy) return;
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    log("info", "edge functions listening", {
      url: `http://${host}:${port}/functions/v1/`,
      hostname,
      functions: functionNames,
      processes,
    });
  },
}, (req, info) => dispatch(req, info));

function stop(code: number): void {
  stopping = true;
  for (const copy of copies) {
    try {
      copy.kill("SIGTERM");
    } catch { /* already gone */ }
  }
  server.shutdown().finally(() => Deno.exit(code));
}

for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, () => stop(0));
if (isCopy) {
  // Stop with the process that started this copy: its end of our stdin closes when it goes.
  (async () => {
    for await (const _ of Deno.stdin.readable) { /* nothing is sent */ }
    stop(0);
  })();
}
