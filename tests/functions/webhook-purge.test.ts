// The webhooks.purge job under concurrent runners: four passes racing on separate
// connections delete each finished old delivery (and its attempts) exactly once, without an
// error, and leave pending and young deliveries alone.
import { afterAll, describe, expect, it } from "vitest";
import postgres from "postgres";
import process from "node:process";
import { admin, createUser } from "../helpers/db.ts";

describe("webhooks.purge", () => {
  const runners = Array.from({ length: 4 }, () => postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} }));
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.end()));
  });

  it("racing passes purge each old finished delivery once and keep the rest", async () => {
    const merchant = await createUser("merchant");
    const [{ ep }] = await admin`
      select (hazina.webhook_endpoint_create(${merchant}, 'https://example.com/purge', array['*'], null,
                                             ${"purge-" + crypto.randomUUID()}) ->> 'id') as ep`;
    await admin`select hazina.event_emit(${merchant}, 'qr_code.expired', 'qr_code', gen_random_uuid(), '{}'::jsonb)
                  from generate_series(1, 60)`;
    const ids = (await admin`select id from public.webhook_deliveries where endpoint_id = ${ep} order by id`)
      .map((r) => r.id as string);
    expect(ids).toHaveLength(60);
    // 50 old (40 succeeded, 10 failed, each with one attempt), 5 young succeeded, 5 pending.
    const old = ids.slice(0, 50), young = ids.slice(50, 55);
    await admin`insert into public.webhook_delivery_attempts (delivery_id, merchant_id, attempt_number, url, worker,
                                                               response_status, applied)
                select id, ${merchant}, 1, 'https://example.com/purge', 'w', 200, true
                  from public.webhook_deliveries where id = any (${ids.slice(0, 55)}::uuid[])`;
    await admin`update public.webhook_deliveries set status = 'succeeded', next_attempt_at = null,
                       succeeded_at = now() - interval '40 days' where id = any (${old.slice(0, 40)}::uuid[])`;
    await admin`update public.webhook_deliveries set status = 'failed', next_attempt_at = null,
                       failed_at = now() - interval '31 days' where id = any (${old.slice(40)}::uuid[])`;
    await admin`update public.webhook_deliveries set status = 'succeeded', next_attempt_at = null,
                       succeeded_at = now() - interval '29 days' where id = any (${young}::uuid[])`;

    const reports = await Promise.all(runners.map(async (r) => {
      const out: number[] = [];
      for (;;) {
        const [{ report }] = await r`select hazina.job_purge_webhook_deliveries(7) as report`;
        out.push(report.processed);
        if (report.processed === 0) return out;
      }
    }));
    const total = reports.flat().reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(50); // (other suites' old rows may be purged too)
    const left = await admin`select id, status from public.webhook_deliveries where endpoint_id = ${ep}`;
    expect(left.map((r) => r.id).sort()).toEqual([...ids.slice(50)].sort());
    const [{ n }] = await admin`select count(*)::int as n from public.webhook_delivery_attempts
                                 where delivery_id = any (${old}::uuid[])`;
    expect(n).toBe(0);
    const [{ y }] = await admin`select count(*)::int as y from public.webhook_delivery_attempts
                                 where delivery_id = any (${young}::uuid[])`;
    expect(y).toBe(5);
  });
});
