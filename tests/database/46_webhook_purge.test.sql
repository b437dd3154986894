-- Webhook delivery housekeeping: finished deliveries (succeeded, failed) and their attempts
-- older than the retention are purged in bounded passes; pending/delivering ones and young
-- ones stay; events stay; the retention setting is honoured with a 1 day floor.
begin;
select plan(15);

\ir helpers.psql

select pg_temp.user_create('merchant', '46000000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.act_as(:'duka');
select public.webhook_endpoint_create('https://example.com/all', array['*'], 'everything', 'wh-purge-1') ->> 'id' as ep \gset
reset role;

-- Five events, five deliveries to the one endpoint.
select hazina.event_emit(:'duka', 'qr_code.expired', 'qr_code', gen_random_uuid(), '{}'::jsonb) from generate_series(1, 5);
select is((select count(*)::int from public.webhook_deliveries where endpoint_id = :'ep'), 5, 'five deliveries pending');

-- Deliver four of them through the real claim/record path: three succeed, one fails for good.
select count(*) from hazina.webhook_deliveries_claim('w1', 4, interval '1 minute') c
  cross join lateral hazina.webhook_delivery_record(c.delivery_id, 'w1', c.url, 200, null, 5);
update public.webhook_deliveries set status = 'failed', failed_at = succeeded_at, succeeded_at = null
 where id = (select id from public.webhook_deliveries where endpoint_id = :'ep' and status = 'succeeded' order by id limit 1);
select is((select count(*)::int from public.webhook_deliveries where status = 'succeeded'), 3, 'three succeeded');
select is((select count(*)::int from public.webhook_deliveries where status = 'failed'), 1, 'one failed');
select is((select count(*)::int from public.webhook_delivery_attempts a join public.webhook_deliveries d on d.id = a.delivery_id
            where d.endpoint_id = :'ep'), 4, 'four attempts recorded');

select is(hazina.webhook_delivery_retention(), interval '30 days', 'the default retention is 30 days');
select is((select name from hazina.jobs where function = 'hazina.job_purge_webhook_deliveries'), 'webhooks.purge', 'the job is in the catalog');

-- Young: nothing to purge.
select is(hazina.job_purge_webhook_deliveries(100) ->> 'processed', '0', 'nothing younger than the retention is purged');

-- 31 days later (the rows backdated: age is real time, see the migration; moving
-- hazina.clock() changes nothing): two per pass, bounded.
select hazina.clock_travel(interval '31 days');
select is(hazina.job_purge_webhook_deliveries(100) ->> 'processed', '0', 'moving hazina.clock() purges nothing');
select hazina.clock_travel(null, true);
update public.webhook_deliveries set succeeded_at = succeeded_at - interval '31 days' where status = 'succeeded';
update public.webhook_deliveries set failed_at = failed_at - interval '31 days' where status = 'failed';
select is(hazina.job_purge_webhook_deliveries(2) - 'attempts_deleted',
  '{"processed": 2, "remaining": 2}'::jsonb, 'a pass is bounded by its limit and reports the backlog');
select is(hazina.run_job('webhooks.purge') #>> '{report,processed}', '2', 'the runner finishes the backlog');
select is((select count(*)::int from public.webhook_deliveries where endpoint_id = :'ep'), 1, 'only the pending delivery is left');
select is((select status from public.webhook_deliveries where endpoint_id = :'ep'), 'pending', 'pending deliveries are never purged');
select is((select count(*)::int from public.webhook_delivery_attempts where merchant_id = :'duka'), 0, 'their attempts are gone');
select is((select count(*)::int from public.events where merchant_id = :'duka'), 5, 'events stay');

-- The setting, with its floor.
set local hazina.webhook_delivery_retention = '1 hour';
select is(hazina.webhook_delivery_retention(), interval '1 day', 'a retention under a day is raised to a day');

select hazina.clock_travel(null, true);
select * from finish();
rollback;
