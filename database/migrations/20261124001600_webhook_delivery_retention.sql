-- migrate:up
-- Housekeeping for merchant webhooks: finished deliveries (succeeded or failed) and their
-- attempts are purged once older than a retention, so the two tables do not grow forever.
-- Pending and delivering deliveries are never touched (they are still work). Events stay:
-- they are the merchant's history (GET /payments/events) and a purged delivery is recreated
-- by a redelivery of its event.
--
-- Retention: 30 days by default; an operator changes it with
--   alter database <db> set hazina.webhook_delivery_retention = '90 days';
-- (any interval text; a value under 1 day is raised to 1 day so a typo cannot purge the
-- deliveries a merchant is looking at right now). Age is measured from succeeded_at /
-- failed_at against now(), not hazina.clock(): those columns are written with now() (real
-- time), and a test moving the shared clock forward must not purge the deliveries other
-- suites (or the delivery worker) are still looking at. Tests backdate the rows instead.

create function hazina.webhook_delivery_retention() returns interval
  language plpgsql stable
  set search_path = ''
  as $$
declare
  v_text text := nullif(current_setting('hazina.webhook_delivery_retention', true), '');
  v_retention interval := interval '30 days';
begin
  if v_text is not null then
    begin
      v_retention := v_text::interval;
    exception when others then
      v_retention := interval '30 days';  -- an unreadable setting keeps the default
    end;
  end if;
  return greatest(v_retention, interval '1 day');
end
$$;

-- Finding the purgeable rows without scanning the pending ones.
create index webhook_deliveries_finished_idx on public.webhook_deliveries ((coalesce(succeeded_at, failed_at)))
  where status in ('succeeded', 'failed');

-- One bounded pass: claims up to p_limit finished deliveries older than the retention
-- (`for update skip locked`: concurrent passes, or a redelivery resetting a delivery to
-- pending, never fight over a row; a row a redelivery holds is left for a later pass and the
-- status is checked again under the lock), deletes their attempts, then them.
create function hazina.job_purge_webhook_deliveries(p_limit integer) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_cutoff timestamptz := now() - hazina.webhook_delivery_retention();
  v_ids uuid[];
  v_attempts integer;
begin
  select coalesce(array_agg(id), '{}') into v_ids
    from (select d.id from public.webhook_deliveries d
           where d.status in ('succeeded', 'failed') and coalesce(d.succeeded_at, d.failed_at) < v_cutoff
           order by coalesce(d.succeeded_at, d.failed_at)
           limit p_limit
             for update skip locked) s;
  delete from public.webhook_delivery_attempts where delivery_id = any (v_ids);
  get diagnostics v_attempts = row_count;
  delete from public.webhook_deliveries where id = any (v_ids);
  return jsonb_build_object('processed', cardinality(v_ids), 'attempts_deleted', v_attempts,
    'remaining', (select count(*) from public.webhook_deliveries d
                   where d.status in ('succeeded', 'failed') and coalesce(d.succeeded_at, d.failed_at) < v_cutoff));
end
$$;

revoke all on function hazina.job_purge_webhook_deliveries(integer) from public;
revoke all on function hazina.webhook_delivery_retention() from public;

insert into hazina.jobs (name, runs_in, function, every, batch_size, exclusive, description) values
  ('webhooks.purge', 'database', 'hazina.job_purge_webhook_deliveries', interval '1 hour', 1000, false,
   'Delete succeeded and failed webhook deliveries (and their attempts) older than hazina.webhook_delivery_retention (default 30 days).');

do $$
begin
  if exists (select 1 from pg_extension where extname = 'pg_cron') then
    perform hazina.schedule_jobs();
  end if;
end
$$;

-- migrate:down
delete from public.job_runs where name = 'webhooks.purge';
delete from hazina.jobs where name = 'webhooks.purge';
drop function hazina.job_purge_webhook_deliveries(integer);
drop index public.webhook_deliveries_finished_idx;
drop function hazina.webhook_delivery_retention();
