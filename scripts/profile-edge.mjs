// `npm run profile:edge`: where the edge's CPU goes on the hot route. Prepares the bench
// database (scripts/bench-db.mjs), starts the real Deno server with the V8 inspector on a
// loopback port, drives POST /wallets/transfers from PROFILE_CLIENTS keep-alive clients
// (scripts/bench-http.mjs), and records a V8 CPU profile of the counted seconds through the
// inspector protocol (Profiler.start / Profiler.stop: what `--cpu-prof` writes, which this
// Deno lacks). Prints the self time by package and by function, the inclusive time of
// Hazina's own functions, and writes the raw profile for Chrome DevTools.
//
// Env: PROFILE_SECONDS (default 8), PROFILE_CLIENTS (32), PROFILE_WALLETS (2000),
// PROFILE_OUT (edge.cpuprofile), PROFILE_INTERVAL_US (200, the sampling interval), and any
// server setting (GROUP_COMMIT, JWT_VERIFY_CACHE_SECONDS, DB_POOL_MAX) passed through.
// The inspector itself costs a little; compare the printed transfers/s with `npm run bench`.
import { writeFileSync } from "node:fs";
import postgres from "postgres";
import WebSocket from "ws";
import { prepareBenchDb } from "./bench-db.mjs";
import { benchPayers, measureHttp } from "./bench-http.mjs";
import { freePort } from "./free-port.mjs";
import { localServerUrl, withDatabase } from "./lib.mjs";

const serverUrl = process.env.DATABASE_URL ?? localServerUrl;
const seconds = Number(process.env.PROFILE_SECONDS ?? 8);
const clients = Number(process.env.PROFILE_CLIENTS ?? 32);
const wallets = Number(process.env.PROFILE_WALLETS ?? 2000);
const out = process.env.PROFILE_OUT ?? "edge.cpuprofile";
const interval = Number(process.env.PROFILE_INTERVAL_US ?? 200);

/** A minimal Chrome DevTools Protocol client over the inspector's WebSocket. */
async function inspector(port) {
  let targets;
  for (let i = 0; i < 50 && !targets?.length; i++) {
    try {
      targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (!targets?.length) throw new Error("the inspector did not answer");
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let next = 0;
  const waiting = new Map();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data));
    const w = waiting.get(msg.id);
    if (!w) return;
    waiting.delete(msg.id);
    if (msg.error) w.reject(new Error(msg.error.message));
    else w.resolve(msg.result);
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const id = ++next;
        waiting.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

/** Which package a frame belongs to: npm packages by name, Deno's runtime, Hazina's files. */
function bucket(url, functionName) {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const npm = url.match(/node_modules\/(?:\.deno\/)?((?:@[^/@]+\/)?[^/@]+)/);
  if (npm) return `npm:${npm[1]}`;
  if (url.startsWith("ext:")) return url.split("/").slice(0, 2).join("/");
  const ours = url.match(/\/(functions\/[^/]+|scripts)\//);
  if (ours) return ours[1];
  return url;
}

function summarise(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const selfBucket = new Map();
  const inclusive = new Map();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const node = byId.get(profile.samples[i]);
    const f = node.callFrame;
    const key = `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-2).join("/")}:${
      f.lineNumber + 1
    }`;
    self.set(key, (self.get(key) ?? 0) + dt);
    const b = bucket(f.url, f.functionName);
    selfBucket.set(b, (selfBucket.get(b) ?? 0) + dt);
    const seen = new Set();
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const cf = byId.get(id).callFrame;
      if (!/\/functions\//.test(cf.url)) continue;
      const k = `${cf.functionName || "(anonymous)"} ${cf.url.split("/functions/")[1]}:${
        cf.lineNumber + 1
      }`;
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
    }
  }
  return { total, self, selfBucket, inclusive };
}

function table(title, map, total, rows) {
  console.log(`\n${title}`);
  console.log("| share of sampled time | ms | frame |");
  console.log("|---|---|---|");
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
    console.log(`| ${((100 * v) / total).toFixed(1)}% | ${(v / 1000).toFixed(0)} | ${k} |`);
  }
}

const admin = postgres(withDatabase(serverUrl, "postgres"), { max: 1, onnotice: () => {} });
const name = `hazina_bench_profile_${Date.now()}`;
const url = withDatabase(serverUrl, name);
try {
  await prepareBenchDb(admin, url, name, wallets);
  const payers = await benchPayers(url);
  const port = await freePort();
  let cdp;
  let profile;
  const edgeEnv = { EDGE_PROCESSES: "1" };
  for (
    const k of ["GROUP_COMMIT", "GROUP_COMMIT_WINDOW_MS", "JWT_VERIFY_CACHE_SECONDS", "DB_POOL_MAX"]
  ) {
    if (process.env[k]) edgeEnv[k] = process.env[k];
  }
  const result = await measureHttp(url, payers, clients, seconds, edgeEnv, {
    denoFlags: [`--inspect=127.0.0.1:${port}`],
    beforeRun: async () => {
      cdp = await inspector(port);
      await cdp.send("Profiler.enable");
      await cdp.send("Profiler.setSamplingInterval", { interval });
      await cdp.send("Profiler.start");
    },
    afterRun: async () => {
      ({ profile } = await cdp.send("Profiler.stop"));
      cdp.close();
    },
  });
  writeFileSync(out, JSON.stringify(profile));
  const s = summarise(profile);
  const idle = s.selfBucket.get("(idle)") ?? 0;
  const busy = s.total - idle;
  const answered = result.tps * seconds; // 201s; the others are listed below
  console.log(
    `${clients} clients, ${seconds}s, ${wallets} wallets, settings ${JSON.stringify(edgeEnv)}: ` +
      `${result.tps.toFixed(0)} transfers/s, p50 ${result.p50.toFixed(1)} ms, p99 ${
        result.p99.toFixed(1)
      } ms, ${result.commitsPerRequest.toFixed(2)} commits/request, non-201 ${
        JSON.stringify(result.others)
      }`,
  );
  console.log(
    `edge CPU ${result.edgeCpuMs.toFixed(2)} ms/request (process), main thread busy ${
      (busy / 1000 / answered).toFixed(2)
    } ms/request (${((100 * busy) / s.total).toFixed(0)}% of the run), PostgreSQL ${
      result.pgCpuMs.toFixed(2)
    } ms/request, load generator ${result.loadCpuMs.toFixed(2)} ms/request`,
  );
  const noIdle = new Map([...s.selfBucket].filter(([k]) => k !== "(idle)"));
  table("Self time by package (main thread, idle excluded):", noIdle, busy, 25);
  table(
    "Self time by function (top 40):",
    new Map([...s.self].filter(([k]) => !k.startsWith("(idle)"))),
    busy,
    40,
  );
  table("Inclusive time of Hazina's functions (top 30):", s.inclusive, busy, 30);
  console.log(`\nraw profile: ${out} (open in Chrome DevTools → Performance, or speedscope)`);
} finally {
  await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.end();
}
