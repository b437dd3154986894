// The job runner process (`npm run jobs`; `npm start` starts it). Runs every due job of the
// catalog (hazina.jobs) each tick, each pass bounded, until SIGINT/SIGTERM:
//   npm run jobs                        run due jobs forever (JOBS_TICK_SECONDS, default 5)
//   npm run jobs -- --once              one pass of every job now, then exit (1 if any failed)
//   npm run jobs -- --once --drain      … repeating each job while it leaves a backlog
//   npm run jobs -- --job holds.expire  only this job (repeatable)
// Connects with DATABASE_URL (the edge's login, authenticator, is enough). Safe to run
// next to other runners and pg_cron: the jobs tolerate concurrent passes.
import process from "node:process";
import { config } from "../functions/_shared/config.ts";
import { closeDb } from "../functions/_shared/db.ts";
import { runForever, runPass } from "../functions/_shared/jobs/runner.ts";
import { log } from "../functions/_shared/log.ts";

const args = process.argv.slice(2);
const once = args.includes("--once");
const drain = args.includes("--drain");
const only = args.flatMap((arg, i) => (arg === "--job" && args[i + 1] ? [args[i + 1]] : []));
const unknown = args.filter((arg, i) =>
  !["--once", "--drain", "--job"].includes(arg) && args[i - 1] !== "--job"
);
if (unknown.length > 0) {
  console.error(
    `unknown argument(s): ${unknown.join(" ")}\nusage: jobs.ts [--once [--drain]] [--job <name>]…`,
  );
  Deno.exit(2);
}
config(); // fail fast with a readable message when the environment is wrong

const stop = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => stop.abort());
}

if (once) {
  let code = 0;
  try {
    const runs = await runPass({
      only: only.length ? only : undefined,
      drain,
      signal: stop.signal,
    });
    const missing = only.filter((name) => !runs.some((run) => run.job === name));
    if (missing.length) throw new Error(`no such job: ${missing.join(", ")}`);
    // The summary on stdout, whatever LOG_LEVEL says: scripts and tests read it.
    console.log(JSON.stringify({ runs }));
    if (runs.some((run) => run.error)) code = 1;
  } catch (err) {
    console.error(`jobs: ${(err as Error).message}`);
    code = 1;
  }
  await closeDb();
  Deno.exit(code);
}

const tickMs = Math.max(100, Number(process.env.JOBS_TICK_SECONDS ?? 5) * 1000);
log("info", "job runner started", {
  tick_seconds: tickMs / 1000,
  only: only.length ? only : "all",
});
await runForever({ tickMs, only: only.length ? only : undefined, signal: stop.signal });
await closeDb();
log("info", "job runner stopped");
Deno.exit(0);
