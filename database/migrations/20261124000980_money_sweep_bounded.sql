-- migrate:up
-- The SQL half of the money sweep, bounded: a pass settles at most p_limit items (abandoned
-- top-ups first, then unmatched/failed events to re-apply) and reports what is still due,
-- so the job runner's money.sweep_sql job is bounded per run like every other job and shows
-- its backlog. Without a limit it behaves as before (pg_cron's `select
-- hazina.money_sweep_sql()` and the provider sweep's SQL step are unchanged).
drop function hazina.money_sweep_sql(interval);
create function hazina.money_sweep_sql(p_abandon_after interval default interval '1 day', p_limit integer default null)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_expired integer := 0;
  v_retried integer := 0;
  v_seen integer := 0;
  v_id uuid;
begin
  if p_limit is not null and p_limit < 1 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('reason', 'p_limit must be at least 1'));
  end if;
  for v_id in
    select f.id from public.wallet_funding_sessions f
     where f.status = 'pending'
       and ((f.provider_checkout_id is null and f.expires_at <= now()) or f.created_at <= now() - p_abandon_after)
     order by f.id limit p_limit for update skip locked
  loop
    perform hazina.funding_expire(v_id, 'abandoned by the sweep');
    v_expired := v_expired + 1;
  end loop;
  for v_id in
    select e.id from public.wallet_webhook_events e
     where e.status in ('unmatched', 'failed') and e.attempts < 10 and e.received_at > now() - interval '7 days'
     order by e.received_at limit (p_limit - v_expired) for update skip locked
  loop
    v_seen := v_seen + 1;
    if (hazina.webhook_event_apply(v_id) ->> 'status') = 'processed' then
      v_retried := v_retried + 1;
    end if;
  end loop;
  -- Still due: what the limit left untouched. Events tried in this pass that failed again
  -- are not counted (they are retried on the next scheduled pass, not at once).
  return jsonb_build_object('funding_expired', v_expired, 'events_applied', v_retried, 'events_tried', v_seen,
    'remaining',
      (select count(*) from public.wallet_funding_sessions f
        where f.status = 'pending'
          and ((f.provider_checkout_id is null and f.expires_at <= now()) or f.created_at <= now() - p_abandon_after))
      + greatest(0, (select count(*) from public.wallet_webhook_events e
                      where e.status in ('unmatched', 'failed') and e.attempts < 10
                        and e.received_at > now() - interval '7 days') - (v_seen - v_retried)));
end
$$;

-- The job runner's pass: bounded by the job's batch size, backlog reported.
create or replace function hazina.job_money_sweep_sql(p_limit integer) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_report jsonb := hazina.money_sweep_sql(interval '1 day', p_limit);
begin
  return v_report || jsonb_build_object(
    'processed', (v_report ->> 'funding_expired')::integer + (v_report ->> 'events_tried')::integer,
    'limit_applied', true, 'limit', p_limit);
end
$$;

revoke execute on all functions in schema hazina from public, anon, authenticated;
grant execute on function hazina.money_sweep_sql(interval, integer), hazina.job_money_sweep_sql(integer) to service_role;

-- migrate:down
drop function hazina.money_sweep_sql(interval, integer);
create function hazina.money_sweep_sql(p_abandon_after interval default interval '1 day') returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_expired integer := 0;
  v_retried integer := 0;
  v_id uuid;
begin
  for v_id in
    select f.id from public.wallet_funding_sessions f
     where f.status = 'pending'
       and ((f.provider_checkout_id is null and f.expires_at <= now()) or f.created_at <= now() - p_abandon_after)
     order by f.id for update skip locked
  loop
    perform hazina.funding_expire(v_id, 'abandoned by the sweep');
    v_expired := v_expired + 1;
  end loop;
  for v_id in
    select e.id from public.wallet_webhook_events e
     where e.status in ('unmatched', 'failed') and e.attempts < 10 and e.received_at > now() - interval '7 days'
     order by e.received_at for update skip locked
  loop
    if (hazina.webhook_event_apply(v_id) ->> 'status') = 'processed' then
      v_retried := v_retried + 1;
    end if;
  end loop;
  return jsonb_build_object('funding_expired', v_expired, 'events_applied', v_retried);
end
$$;
create or replace function hazina.job_money_sweep_sql(p_limit integer) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_report jsonb := hazina.money_sweep_sql();
begin
  return v_report || jsonb_build_object(
    'processed', coalesce((v_report ->> 'funding_expired')::integer, 0) + coalesce((v_report ->> 'events_applied')::integer, 0),
    'remaining', 0, 'limit_applied', false, 'limit', p_limit);
end
$$;
revoke execute on all functions in schema hazina from public, anon, authenticated;
grant execute on function hazina.money_sweep_sql(interval), hazina.job_money_sweep_sql(integer) to service_role;
