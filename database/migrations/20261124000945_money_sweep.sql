-- migrate:up
-- The money sweep: what settles top-ups and withdrawals whose provider answer never came.
-- The SQL half (money_sweep_sql) runs alone under pg_cron; the half that asks providers
-- runs in the `webhooks` edge function (POST /webhooks/sweep), which claims items here.

-- Claim up to p_limit overdue pending sessions and withdrawals for the sweep (which asks
-- the provider about each). Claiming pushes the item's next check out (backing off), so
-- concurrent sweeps never work on the same item.
create function hazina.money_sweep_claim(p_limit integer default 100)
  returns table (kind text, id uuid, provider text, status text, reference text, amount text,
                 submitted boolean, check_count integer, created_at timestamptz)
  language plpgsql
  security definer
  set search_path = ''
  as $$
#variable_conflict use_column
begin
  return query
  with due as (
    select f.id from public.wallet_funding_sessions f
     where f.status = 'pending' and f.expires_at <= now()
     order by f.expires_at limit p_limit for update skip locked
  ), claimed as (
    update public.wallet_funding_sessions f
       set check_count = f.check_count + 1, last_checked_at = now(),
           expires_at = now() + interval '1 minute' * least(f.check_count + 1, 30), updated_at = now()
      from due where f.id = due.id
    returning f.*
  )
  select 'funding'::text, c.id, c.provider::text, c.status, c.provider_checkout_id, c.amount::text,
         c.provider_checkout_id is not null, c.check_count, c.created_at
    from claimed c;
  return query
  with due as (
    select w.id from public.wallet_withdrawals w
     where w.status in ('pending', 'processing') and w.expires_at <= now()
     order by w.expires_at limit p_limit for update skip locked
  ), claimed as (
    update public.wallet_withdrawals w
       set check_count = w.check_count + 1, last_checked_at = now(),
           expires_at = now() + interval '1 minute' * least(w.check_count + 1, 30), updated_at = now()
      from due where w.id = due.id
    returning w.*
  )
  select 'withdrawal'::text, c.id, c.provider::text, c.status, c.provider_request_id, c.amount::text,
         c.submitted_at is not null, c.check_count, c.created_at
    from claimed c;
end
$$;

-- The part of the sweep SQL can do alone (pg_cron): expire sessions the provider never
-- acknowledged (no checkout id: nobody can pay them) once overdue, and any session still
-- pending after p_abandon_after (M-Pesa prompts die within minutes; a late success that
-- still arrives is credited, see funding_complete). Re-applies unmatched/failed events.
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

-- Paybill confirmations still waiting for M-Pesa's word: their TransIDs, for the sweep to
-- ask Transaction Status again (at most every 2 minutes, 10 times, within 7 days; after
-- that they wait for an operator: status 'unconfirmed').
create function hazina.paybill_unconfirmed_due(p_limit integer default 100)
  returns table (event_id uuid, provider text, trans_id text)
  language sql stable
  security definer
  set search_path = ''
  as $$
  select distinct on (e.payload ->> 'trans_id') e.id, e.provider::text, e.payload ->> 'trans_id'
    from public.wallet_webhook_events e
   where e.status = 'unconfirmed' and e.event_type = 'c2b_confirmation' and e.received_at > now() - interval '7 days'
     and e.received_at <= now() - interval '1 minute'
     and not exists (select 1 from public.wallet_provider_queries q
                      where q.provider = e.provider and q.subject_type = 'paybill' and q.subject_key = e.payload ->> 'trans_id'
                        and q.created_at > now() - interval '2 minutes')
     and (select count(*) from public.wallet_provider_queries q
           where q.provider = e.provider and q.subject_type = 'paybill' and q.subject_key = e.payload ->> 'trans_id') < 10
   order by e.payload ->> 'trans_id', e.received_at
   limit p_limit
$$;

-- Who may run the provider sweep with a bearer token: admins, decided here as for ops
-- (hazina.assert_admin), never from the token's own claims.
create function public.provider_sweep_authorize() returns void
  language plpgsql stable
  security definer
  set search_path = ''
  as $$
begin
  perform hazina.assert_admin();
end
$$;

revoke execute on all functions in schema hazina from public, anon, authenticated;
grant execute on function hazina.money_sweep_claim(integer), hazina.money_sweep_sql(interval),
  hazina.paybill_unconfirmed_due(integer) to service_role;
revoke execute on function public.provider_sweep_authorize() from public, anon;
grant execute on function public.provider_sweep_authorize() to authenticated;

-- The half of the sweep that asks providers runs in the `webhooks` edge function, so it
-- needs HTTP. On Supabase, pg_cron calls it through pg_net every minute: POST
-- <functions url>/webhooks/sweep with X-Sweep-Secret, both read from Supabase Vault at each
-- run (secrets `hazina_functions_url`, e.g. https://<ref>.supabase.co/functions/v1, and
-- `hazina_sweep_secret`, equal to SWEEP_SECRET), never written into the job. Until both
-- secrets exist the job does nothing. Returns false, scheduling nothing, where pg_cron,
-- pg_net or Vault is missing (elsewhere: any scheduler, see docs/money-movement.md).
create function hazina.schedule_provider_sweep() returns boolean
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  if to_regproc('cron.schedule') is null or to_regproc('net.http_post') is null
     or to_regclass('vault.decrypted_secrets') is null then
    return false;
  end if;
  execute format('select cron.schedule(%L, %L, %L)', 'hazina-provider-sweep', '* * * * *', $job$
    select net.http_post(url := s.url || '/webhooks/sweep', body := '{}'::jsonb,
                         headers := jsonb_build_object('content-type', 'application/json', 'x-sweep-secret', s.secret))
      from (select (select decrypted_secret from vault.decrypted_secrets where name = 'hazina_functions_url') as url,
                   (select decrypted_secret from vault.decrypted_secrets where name = 'hazina_sweep_secret') as secret) s
     where s.url is not null and s.secret is not null
  $job$);
  return true;
end
$$;
revoke execute on function hazina.schedule_provider_sweep() from public, anon, authenticated;
grant execute on function hazina.schedule_provider_sweep() to service_role;

-- Where pg_cron exists (Supabase), run the SQL half of the sweep every minute, and the
-- provider half too where pg_net and Vault exist.
do $$
begin
  if exists (select 1 from pg_extension where extname = 'pg_cron') then
    perform cron.schedule('hazina-money-sweep', '* * * * *', 'select hazina.money_sweep_sql()');
    perform hazina.schedule_provider_sweep();
  end if;
end
$$;

-- migrate:down
do $$
begin
  if exists (select 1 from pg_extension where extname = 'pg_cron') then
    perform cron.unschedule('hazina-money-sweep');
    if exists (select 1 from cron.job where jobname = 'hazina-provider-sweep') then
      perform cron.unschedule('hazina-provider-sweep');
    end if;
  end if;
end
$$;
drop function if exists hazina.schedule_provider_sweep();
drop function if exists public.provider_sweep_authorize();
drop function if exists hazina.paybill_unconfirmed_due(integer);
drop function if exists hazina.money_sweep_sql(interval);
drop function if exists hazina.money_sweep_claim(integer);
