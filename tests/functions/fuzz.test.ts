// Every documented operation of every function, over real HTTP, fed garbage: random path
// parameters, query values, bodies built from its documented fields with hostile values,
// broken JSON and bad headers. No answer may be a 500 (an upstream provider being down
// may give 502/503 with its stable code), every error carries a stable code, and
// afterwards the books still reconcile. And the document tells the truth: every status an
// endpoint answers is documented for it, and every body matches its documented schema
// (error codes included: each status lists the codes it may carry).
import { describe, expect, inject, it } from "vitest";
import { z } from "zod";
import process from "node:process";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { OpenApiDocument } from "../../functions/_shared/openapi.ts";
import { createUser } from "../helpers/db.ts";
import { expectBooksBalanced, fund, partyWithWallet } from "../helpers/money.ts";
import { accessToken } from "../helpers/tokens.ts";
import { seeded } from "../helpers/random.ts";

const ROUNDS = Number(process.env.FUZZ_ROUNDS ?? 12);
const METHODS = ["get", "post", "put", "patch", "delete"];

type Schema = { $ref?: string; properties?: Record<string, Schema>; items?: Schema; type?: string | string[] };
type Operation = {
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
};

function resolve(document: OpenApiDocument, schema: Schema | undefined): Schema | undefined {
  let current = schema;
  for (let i = 0; current?.$ref && i < 10; i++) {
    const name = current.$ref.replace("#/components/schemas/", "");
    current = (document as unknown as { components: { schemas: Record<string, Schema> } }).components.schemas[name];
  }
  return current;
}

describe("fuzzing every endpoint", () => {
  it("never answers 500, always with a stable error code, and never breaks the books", async () => {
    const base = `${inject("edgeBaseUrl")}/functions/v1`;
    const { rand, pick } = seeded("endpoint fuzz", "FUZZ_SEED", 100000);

    const customer = await partyWithWallet();
    await fund(customer.walletId, "100.00");
    const other = await partyWithWallet();
    const adminToken = await accessToken(await createUser("admin"), { appRole: "admin" });
    const ids = [customer.walletId, other.walletId, crypto.randomUUID(), "00000000-0000-0000-0000-000000000000"];
    const hostile: unknown[] = [
      null, true, false, 0, -1, 1.5, 1e308, "", " ", "1.00", "-5.00", "0.001", "abc", "'; drop table wallets; --",
      "9".repeat(40), "\u0000", "\ud800", "💸".repeat(50), [], {}, [1, 2], { nested: { deep: true } }, "1e309", "NaN",
      "0x10", "KES", "USD", "mpesa", "254712345678", "+254712345678", "a@b.co", "x".repeat(10_000), ...ids,
      // Amount look-alikes: more decimals than the currency, signs, exponents, separators,
      // full-width digits, leading zeros, bare points.
      "1.005", "0.01", "+1.00", "1e2", "1,000.00", "１.００", "-0", "00001.00", ".5", "5.", "1 000", "100000000000000000",
    ];
    const tokens = [customer.token, customer.token, customer.token, other.token, adminToken, undefined, "garbage", "Bearer x.y.z"];

    // The combined document (a test keeps it equal to what the functions serve), with its
    // component references spelled as JSON Schema $defs, which zod resolves.
    const document = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../../docs/openapi.json"), "utf8")
      .replaceAll("#/components/schemas/", "#/$defs/")) as OpenApiDocument;
    const definitions = (document as unknown as { components: { schemas: Record<string, unknown> } }).components.schemas;
    const validators = new Map<string, z.ZodType>();
    const undocumented = new Set<string>();
    const mismatched = new Set<string>();
    let requests = 0;
    for (const [route, item] of Object.entries(document.paths)) {
      for (const method of Object.keys(item).filter((m) => METHODS.includes(m))) {
        const op = (item as Record<string, Operation>)[method];
        const schema = resolve(document, op.requestBody?.content?.["application/json"]?.schema);
        const fields = Object.keys(schema?.properties ?? {});
        for (let round = 0; round < ROUNDS; round++) {
          const path = route.replace(/\{[^}]+\}/g, () => encodeURIComponent(String(pick([...ids, "x", "%00", "1".repeat(300)]))));
          const query = new URLSearchParams();
          for (const p of op.parameters ?? []) {
            if (p.in === "query" && rand() < 0.7) query.set(p.name, String(pick(hostile)));
          }
          let body: string | undefined;
          if (method !== "get" && method !== "delete") {
            const shape = rand();
            if (shape < 0.1) body = pick(["[", "{\"a\":", "null", "\"text\"", "[]", ""]);
            else {
              const object: Record<string, unknown> = {};
              for (const field of [...fields, "extra"]) if (rand() < 0.8) object[field] = pick(hostile);
              if (fields.includes("items") && rand() < 0.5) object.items = Array.from({ length: 3 }, () => ({ ref: pick(hostile), amount: pick(hostile), to_wallet_id: pick(ids), from_wallet_id: pick(ids) }));
              body = JSON.stringify(object);
            }
          }
          const token = pick(tokens);
          const headers: Record<string, string> = { "content-type": rand() < 0.9 ? "application/json" : "text/plain" };
          if (token) headers.authorization = token.startsWith("Bearer") ? token : `Bearer ${token}`;
          if (rand() < 0.8) headers["idempotency-key"] = String(pick([crypto.randomUUID(), "", "x".repeat(300), "k"]));
          const url = `${base}${path}${query.size ? `?${query}` : ""}`;
          const res = await fetch(url, { method: method.toUpperCase(), headers, body });
          requests++;
          const text = await res.text();
          const what = `${method.toUpperCase()} ${url} ${body?.slice(0, 300)} → ${res.status} ${text.slice(0, 300)}`;
          const documented = op.responses[String(res.status)] ?? op.responses.default;
          if (!documented) undocumented.add(`${method.toUpperCase()} ${route} → ${res.status} (${text.slice(0, 120)})`);
          const schema = documented?.content?.["application/json"]?.schema;
          if (schema && res.headers.get("content-type")?.includes("json")) {
            const key = `${method} ${route} ${res.status}`;
            const validator = validators.get(key) ?? z.fromJSONSchema({ ...schema, $defs: definitions } as never);
            validators.set(key, validator);
            const parsed = validator.safeParse(JSON.parse(text));
            if (!parsed.success) mismatched.add(`${key}: ${text.slice(0, 160)} (${parsed.error.issues[0]?.message})`);
          }
          expect(res.status, what).not.toBe(500);
          if (res.status >= 500) {
            // Only an unreachable provider (no sandbox runs behind this server) may give a 5xx.
            expect(JSON.parse(text).error.code, what).toBe("provider_unavailable");
          }
          if (res.status >= 400 && res.headers.get("content-type")?.includes("json")) {
            expect(JSON.parse(text).error.code, what).toMatch(/^[a-z][a-z0-9_]*$/);
          }
        }
      }
    }
    expect(requests).toBeGreaterThan(400);
    expect([...undocumented], "statuses the document does not list").toEqual([]);
    expect([...mismatched], "bodies that do not match the document").toEqual([]);
    await expectBooksBalanced();
  });
});
