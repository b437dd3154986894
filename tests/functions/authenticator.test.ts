// The edge logs in as `authenticator` (20261124000960_authenticator.sql), not as a
// superuser: it can become anon, authenticated and service_role and nothing else, holds
// no privileges itself, and production refuses to run on a more powerful login role.
import { spawn } from "node:child_process";
import path from "node:path";
import process from "node:process";
import postgres from "postgres";
import { afterAll, describe, expect, inject, it } from "vitest";
import { resetConfigForTests } from "../../functions/_shared/config.ts";
import { asService, closeDb, databaseRoleProblems } from "../../functions/_shared/db.ts";
import { loginRoleProblems } from "../../functions/_shared/db-role.ts";
import { admin } from "../helpers/db.ts";
import { productionEnv } from "../helpers/production-env.ts";
import { freePort } from "../helpers/ports.ts";

const root = path.resolve(import.meta.dirname, "../..");
const edgeUrl = process.env.EDGE_DATABASE_URL!;
const edge = postgres(edgeUrl, { max: 1, onnotice: () => {} });

afterAll(async () => {
  await edge.end();
  await admin.end();
});

/** Run `statement` as authenticator in a transaction that is rolled back; the error, if any. */
async function errorOf(statement: string): Promise<{ code?: string } | undefined> {
  try {
    await edge.begin(async (tx) => {
      await tx.unsafe(statement);
      throw new Error("rollback");
    });
  } catch (err) {
    return (err as Error).message === "rollback" ? undefined : err as { code?: string };
  }
}

describe("the edge's database login", () => {
  it("is authenticator, which is no superuser and passes the production check", async () => {
    expect(new URL(edgeUrl).username).toBe("authenticator");
    const [row] = await edge`select session_user::text as login, current_setting('is_superuser') as superuser`;
    expect(row).toEqual({ login: "authenticator", superuser: "off" });
    expect(await loginRoleProblems(edge)).toEqual([]);
    // the edge's own pool (in-process, as every app.request suite uses it)
    expect(await databaseRoleProblems()).toEqual([]);
    // while the owner's connection the migrations use would not pass it
    expect(await loginRoleProblems(admin)).toContain("database login role 'postgres' is a superuser");
  });

  it("may become anon, authenticated and service_role, and no other role", async () => {
    for (const role of ["anon", "authenticated", "service_role"]) {
      expect(await errorOf(`set local role ${role}`), role).toBeUndefined();
      expect(await errorOf(`select set_config('role', '${role}', true)`), role).toBeUndefined();
    }
    for (const role of ["postgres", "pg_read_all_data", "pg_write_server_files", "pg_signal_backend"]) {
      expect(await errorOf(`set local role ${role}`), role).toMatchObject({ code: "42501" });
      expect(await errorOf(`select set_config('role', '${role}', true)`), role).toMatchObject({ code: "42501" });
    }
    expect(await errorOf("set session authorization postgres")).toMatchObject({ code: "42501" });
  });

  it("reads and runs nothing without a request role (NOINHERIT, no privileges of its own)", async () => {
    expect(await errorOf("select count(*) from public.wallets")).toMatchObject({ code: "42501" });
    expect(await errorOf("select max(version) from dbmate.schema_migrations")).toMatchObject({ code: "42501" });
    expect(await errorOf("select hazina.applied_schema_version()")).toMatchObject({ code: "42501" });
    expect(await errorOf("select public.wallet_open('KES')")).toMatchObject({ code: "42501" });
  });

  it("is the only login the real edge server holds on the database", async () => {
    const res = await fetch(`${inject("edgeBaseUrl")}/functions/v1/health`);
    expect(res.status).toBe(200);
    const logins = await admin`select distinct usename::text from pg_stat_activity
                               where datname = current_database() and application_name = 'hazina-edge'`;
    expect(logins.map((r) => r.usename)).toEqual(["authenticator"]);
  });
});

/** Every setting production insists on, none of them a sandbox default. */
describe("in production", () => {
  it("the edge server refuses to start on a superuser login", { timeout: 60_000 }, async () => {
    const port = await freePort();
    const env: Record<string, string | undefined> = {
      ...process.env, ...productionEnv(), DATABASE_URL: process.env.DATABASE_URL, EDGE_DATABASE_URL: undefined,
      PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn",
    };
    const child = spawn(path.join(root, "node_modules/.bin/deno"), ["run", "--allow-net", "--allow-env", "--allow-read", "scripts/serve.ts"], {
      cwd: root, env, stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code, output).toBe(1);
    expect(output).toContain("Refusing to start: database login role 'postgres' is a superuser");
  });

  it("no request runs on a privileged login unless ALLOW_PRIVILEGED_DB_ROLE says so", async () => {
    const saved = { ...process.env };
    const run = () => asService(undefined, (tx) => tx`select current_user::text as role`);
    try {
      Object.assign(process.env, productionEnv(), { EDGE_DATABASE_URL: process.env.DATABASE_URL });
      resetConfigForTests();
      await closeDb();
      await expect(run()).rejects.toMatchObject({ status: 503, code: "database_role_unsafe" });
      await expect(run()).rejects.toMatchObject({ code: "database_role_unsafe" }); // and stays refused

      process.env.ALLOW_PRIVILEGED_DB_ROLE = "true";
      resetConfigForTests();
      await closeDb();
      expect(await run()).toEqual([{ role: "service_role" }]);

      // the authenticator passes without any waiver
      process.env.ALLOW_PRIVILEGED_DB_ROLE = "false";
      process.env.EDGE_DATABASE_URL = edgeUrl;
      resetConfigForTests();
      await closeDb();
      expect(await run()).toEqual([{ role: "service_role" }]);
    } finally {
      process.env = saved;
      resetConfigForTests();
      await closeDb();
    }
  });
});
