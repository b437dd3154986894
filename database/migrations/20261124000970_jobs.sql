-- migrate:up
-- One job runner for every time-based duty. The catalog (hazina.jobs) is the one list of
-- jobs: name, where a pass runs (`database`: a SQL function; `edge`: TypeScript, because it
-- talks HTTP, see functions/_shared/jobs/), how often, and how much one pass may do. Three
-- things run passes, all through the same entry points and all recording in job_runs:
--   - the runner (`npm run jobs`, started by `npm start`; scripts/jobs.ts),
--   - pg_cron where it exists (Supabase): hazina.schedule_jobs() schedules every job,
--     database jobs as `select hazina.run_job(name)`, edge jobs through pg_net,
--   - an admin: POST /functions/v1/ops/jobs/run.
-- Any number of them may run at once. Every pass is bounded (batch_size) and idempotent,
-- and concurrent passes of one job never do the same work twice: they claim rows with
-- `for update skip locked`, or, for a job marked `exclusive`, only one pass at a time runs
-- at all (a per-job advisory lock; the others report `skipped`).
--
-- A database job is a function `hazina.<...>(p_limit integer) returns jsonb` returning at
-- least {"processed": n, "remaining": n} (remaining: what is still due after the pass, the
-- backlog). A new job (intent expiry, invoice overdue, …) is one row here plus its function.

create table hazina.jobs (
  name         text primary key check (name ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$' and length(name) <= 60),
  runs_in      text not null check (runs_in in ('database', 'edge')),
  -- database jobs: the function one pass calls, e.g. 'hazina.job_expire_holds'.
  function     text check (function ~ '^hazina\.[a-z_][a-z0-9_]*$'),
  every        interval not null check (every >= interval '1 second'),
  batch_size   integer not null check (batch_size between 1 and 100000),
  -- Only one pass at a time (advisory lock): for jobs that cannot claim rows one by one.
  exclusive    boolean not null default false,
  description  text not null,
  constraint jobs_database_jobs_name_a_function check ((runs_in = 'database') = (function is not null))
);

-- What each job last did, written only by hazina.job_record (the runner, pg_cron, ops).
create table public.job_runs (
  name              text primary key,
  run_count         bigint not null default 0,
  error_count       bigint not null default 0,
  last_started_at   timestamptz,
  last_finished_at  timestamptz,
  last_status       text check (last_status in ('succeeded', 'failed', 'skipped')),
  last_report       jsonb,
  last_error        text,
  last_error_at     timestamptz
);
alter table public.job_runs enable row level security;
-- No policy: clients see nothing; service_role (BYPASSRLS) reads it; admins read it
-- through public.ops_jobs().
revoke all on table public.job_runs from public, anon, authenticated;
grant select on table public.job_runs to service_role;

-- Record one pass. A pass that did nothing because another held the job is `skipped`.
create function hazina.job_record(p_name text, p_started_at timestamptz, p_report jsonb, p_error text)
  returns void
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_status text := case when p_error is not null then 'failed'
                        when p_report ? 'skipped' then 'skipped' else 'succeeded' end;
begin
  if not exists (select 1 from hazina.jobs where name = p_name) then
    perform hazina.raise_error('job_not_found', jsonb_build_object('job', p_name));
  end if;
  insert into public.job_runs as r (name, run_count, error_count, last_started_at, last_finished_at,
                                    last_status, last_report, last_error, last_error_at)
  values (p_name, 1, (p_error is not null)::int, p_started_at, clock_timestamp(), v_status, p_report,
          p_error, case when p_error is not null then clock_timestamp() end)
  on conflict (name) do update
    set run_count = r.run_count + 1,
        error_count = r.error_count + (p_error is not null)::int,
        last_started_at = excluded.last_started_at,
        last_finished_at = excluded.last_finished_at,
        last_status = excluded.last_status,
        last_report = coalesce(excluded.last_report, r.last_report),
        last_error = coalesce(excluded.last_error, r.last_error),
        last_error_at = coalesce(excluded.last_error_at, r.last_error_at);
end
$$;

-- One bounded pass of a database job, recorded. The job's own failure is recorded and
-- returned, not raised (its work is rolled back by the inner block), so one failing job
-- never stops a scheduler running the others. p_limit overrides the batch size.
create function hazina.run_job(p_name text, p_limit integer default null) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_job hazina.jobs;
  v_started timestamptz := clock_timestamp();
  v_report jsonb;
  v_error text;
begin
  select * into v_job from hazina.jobs where name = p_name;
  if v_job.name is null then
    perform hazina.raise_error('job_not_found', jsonb_build_object('job', p_name));
  end if;
  if v_job.runs_in <> 'database' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('job', p_name, 'reason', 'this job runs in the edge (the job runner)'));
  end if;
  if p_limit is not null and p_limit not between 1 and 100000 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'limit', 'reason', '1 to 100000'));
  end if;
  if v_job.exclusive and not pg_try_advisory_xact_lock(hashtext('hazina.job'), hashtext(p_name)) then
    v_report := jsonb_build_object('processed', 0, 'remaining', null, 'skipped', 'another pass of this job is running');
  else
    begin
      execute format('select %s($1)', v_job.function::regproc) into v_report using coalesce(p_limit, v_job.batch_size);
    exception when others then
      v_error := sqlstate || ': ' || sqlerrm;
    end;
  end if;
  perform hazina.job_record(p_name, v_started, v_report, v_error);
  return jsonb_build_object('job', p_name, 'report', v_report, 'error', v_error);
end
$$;

-- Every job with its schedule and last run, and whether it is due now: never ran, its
-- interval has passed, or its last pass did work and left a backlog (drain it at once).
create function hazina.job_list() returns jsonb
  language sql stable
  security definer
  set search_path = ''
  as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'name', j.name, 'runs_in', j.runs_in, 'every_seconds', extract(epoch from j.every)::integer,
           'batch_size', j.batch_size, 'exclusive', j.exclusive, 'description', j.description,
           'run_count', coalesce(r.run_count, 0), 'error_count', coalesce(r.error_count, 0),
           'last_started_at', r.last_started_at, 'last_finished_at', r.last_finished_at,
           'last_status', r.last_status, 'last_report', r.last_report,
           'last_error', r.last_error, 'last_error_at', r.last_error_at,
           'backlog', r.last_report -> 'remaining',
           'due', r.last_started_at is null or r.last_started_at + j.every <= now()
                  or (r.last_status = 'succeeded' and coalesce((r.last_report ->> 'remaining')::numeric, 0) > 0
                      and coalesce((r.last_report ->> 'processed')::numeric, 0) > 0))
         order by j.name), '[]'::jsonb)
    from hazina.jobs j left join public.job_runs r on r.name = j.name
$$;

-- For admins (GET /ops/jobs): the same list, checked in the database.
create function public.ops_jobs() returns jsonb
  language plpgsql stable
  security definer
  set search_path = ''
  as $$
begin
  perform hazina.assert_admin();
  return hazina.job_list();
end
$$;

-- The jobs ---------------------------------------------------------------------------

-- Hold expiry: hazina.expire_holds claims with skip locked.
create function hazina.job_expire_holds(p_limit integer) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_done integer := hazina.expire_holds(p_limit);
begin
  return jsonb_build_object('processed', v_done,
    'remaining', (select count(*) from public.wallet_holds where status = 'pending' and expires_at <= now()));
end
$$;

-- Idempotency keys past their 24 hours, a bounded batch claimed with skip locked.
create function hazina.job_purge_idempotency(p_limit integer) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_done integer;
begin
  with due as (
    select id from public.payment_idempotency where expires_at <= now()
     order by expires_at limit p_limit for update skip locked
  ), gone as (
    delete from public.payment_idempotency p using due where p.id = due.id returning 1
  )
  select count(*)::integer into v_done from gone;
  return jsonb_build_object('processed', v_done,
    'remaining', (select count(*) from public.payment_idempotency where expires_at <= now()));
end
$$;

-- Sign-in housekeeping: the rule of hazina.auth_purge_expired (verification tokens, and
-- whole refresh-token families, 30 days after they became unusable), bounded. Exclusive in
-- the catalog: families are found by aggregation, which cannot skip locked rows.
create function hazina.job_purge_auth(p_limit integer) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_keep constant interval := interval '30 days';
  v_tokens integer;
  v_sessions integer;
begin
  with due as (
    select id from public.auth_verification_token
     where coalesce(consumed_at, expires_at) < now() - v_keep limit p_limit for update skip locked
  ), gone as (
    delete from public.auth_verification_token t using due where t.id = due.id returning 1
  )
  select count(*)::integer into v_tokens from gone;
  with families as (
    select f.family_id from public.auth_sessions f group by f.family_id
    having max(coalesce(f.revoked_at, f.expires_at)) < now() - v_keep
       and bool_and(f.revoked_at is not null or f.expires_at < now())
     limit p_limit
  ), gone as (
    delete from public.auth_sessions s using families where s.family_id = families.family_id returning 1
  )
  select count(*)::integer into v_sessions from gone;
  return jsonb_build_object('processed', v_tokens + v_sessions, 'tokens', v_tokens, 'sessions', v_sessions,
    'remaining', (select count(*) from public.auth_verification_token
                   where coalesce(consumed_at, expires_at) < now() - v_keep)
               + (select count(*) from (select 1 from public.auth_sessions f group by f.family_id
                   having max(coalesce(f.revoked_at, f.expires_at)) < now() - v_keep
                      and bool_and(f.revoked_at is not null or f.expires_at < now())) x));
end
$$;

-- The SQL half of the money sweep (hazina.money_sweep_sql: abandoned top-ups, re-applying
-- unmatched events; skip locked). That function settles everything due in one pass; it
-- takes no limit yet, so p_limit is not applied here.
create function hazina.job_money_sweep_sql(p_limit integer) returns jsonb
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

-- The backlog of the provider re-query sweep (an edge job): overdue sessions and
-- withdrawals the sweep has not claimed yet (hazina.money_sweep_claim's rule).
create function hazina.money_sweep_backlog() returns bigint
  language sql stable
  security definer
  set search_path = ''
  as $$
  select (select count(*) from public.wallet_funding_sessions where status = 'pending' and expires_at <= now())
       + (select count(*) from public.wallet_withdrawals where status in ('pending', 'processing') and expires_at <= now())
$$;

-- Faults (not a job, but the same "survive the ordinary faults" work): after a database
-- outage the edge lifts the lock of a key whose request may have committed with its reply
-- lost (functions/_shared/idempotency.ts), keeping the record (so its request hash still
-- guards the key) and letting a retry take it over at once instead of waiting out the lock.
create function hazina.idempotency_unlock(p_owner text, p_key text) returns void
  language sql
  security definer
  set search_path = ''
  as $$
  update public.payment_idempotency set locked_until = now()
   where idempotency_key = p_owner || '/' || p_key and status = 'in_progress' and locked_until > now()
$$;

insert into hazina.jobs (name, runs_in, function, every, batch_size, exclusive, description) values
  ('holds.expire', 'database', 'hazina.job_expire_holds', interval '1 minute', 1000, false,
   'Release pending holds past their expiry.'),
  ('idempotency.purge', 'database', 'hazina.job_purge_idempotency', interval '1 minute', 5000, false,
   'Delete Idempotency-Key records past their 24 hours.'),
  ('auth.purge', 'database', 'hazina.job_purge_auth', interval '1 hour', 1000, true,
   'Delete verification tokens and refresh-token families unusable for 30 days.'),
  ('money.sweep_sql', 'database', 'hazina.job_money_sweep_sql', interval '1 minute', 500, false,
   'Expire abandoned top-ups; re-apply unmatched or failed provider events.'),
  ('money.provider_sweep', 'edge', null, interval '1 minute', 100, false,
   'Ask providers about overdue top-ups and withdrawals and settle them (releases the holds of failed payouts).');

-- pg_cron's schedule for an interval: seconds below a minute (pg_cron 1.5+), else minutes,
-- hours or days.
create function hazina.job_cron_schedule(p_every interval) returns text
  language plpgsql immutable
  set search_path = ''
  as $$
declare
  v_seconds integer := greatest(1, extract(epoch from p_every)::integer);
begin
  if v_seconds < 60 then return v_seconds || ' seconds'; end if;
  if v_seconds < 3600 then
    return case when v_seconds / 60 = 1 then '* * * * *' else '*/' || (v_seconds / 60) || ' * * * *' end;
  end if;
  if v_seconds < 86400 then
    return case when v_seconds / 3600 = 1 then '0 * * * *' else '0 */' || (v_seconds / 3600) || ' * * *' end;
  end if;
  return '0 0 * * *';
end
$$;

-- Schedule every job with pg_cron, as `hazina-job-<name>`; returns how many were scheduled
-- (0 without pg_cron). Database jobs run in the database. Edge jobs are a POST to
-- <functions url>/ops/jobs/run with X-Sweep-Secret through pg_net, both read from Supabase
-- Vault at each run (secrets `hazina_functions_url` and `hazina_sweep_secret`, equal to
-- SWEEP_SECRET), never written into the job; without pg_net or Vault they are left to the
-- runner. Replaces the earlier per-sweep schedules. Safe to call again (after enabling
-- pg_net, or adding a job).
create function hazina.schedule_jobs() returns integer
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_job hazina.jobs;
  v_count integer := 0;
  v_http boolean := to_regproc('net.http_post') is not null and to_regclass('vault.decrypted_secrets') is not null;
  -- Dynamic: pg_cron may not exist where this is compiled (and checked by plpgsql_check).
  v_schedule constant text := 'select cron.schedule($1, $2, $3)';
  v_unschedule_old constant text := $q$select cron.unschedule(jobname) from cron.job
    where jobname in ('hazina-sweeps', 'hazina-money-sweep', 'hazina-provider-sweep')$q$;
begin
  if to_regproc('cron.schedule') is null then
    return 0;
  end if;
  for v_job in select * from hazina.jobs order by name loop
    if v_job.runs_in = 'database' then
      execute v_schedule
        using 'hazina-job-' || v_job.name, hazina.job_cron_schedule(v_job.every), format('select hazina.run_job(%L)', v_job.name);
    elsif v_http then
      execute v_schedule
        using 'hazina-job-' || v_job.name, hazina.job_cron_schedule(v_job.every), format($job$
    select net.http_post(url := s.url || '/ops/jobs/run', body := jsonb_build_object('job', %L),
                         headers := jsonb_build_object('content-type', 'application/json', 'x-sweep-secret', s.secret))
      from (select (select decrypted_secret from vault.decrypted_secrets where name = 'hazina_functions_url') as url,
                   (select decrypted_secret from vault.decrypted_secrets where name = 'hazina_sweep_secret') as secret) s
     where s.url is not null and s.secret is not null
  $job$, v_job.name);
    else
      continue;
    end if;
    v_count := v_count + 1;
  end loop;
  -- The schedules these replace (20261124000850_operations, 20261124000945_money_sweep).
  if to_regclass('cron.job') is not null then
    execute v_unschedule_old;
  end if;
  return v_count;
end
$$;

do $$
begin
  if exists (select 1 from pg_extension where extname = 'pg_cron') then
    perform hazina.schedule_jobs();
  end if;
end
$$;

revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function public.ops_jobs() from public, anon;
grant execute on function public.ops_jobs() to authenticated;
grant execute on function hazina.run_job(text, integer), hazina.job_record(text, timestamptz, jsonb, text),
  hazina.job_list(), hazina.money_sweep_backlog(), hazina.schedule_jobs(), hazina.idempotency_unlock(text, text) to service_role;

-- migrate:down
do $$
begin
  if to_regclass('cron.job') is not null then
    perform cron.unschedule(jobname) from cron.job where jobname like 'hazina-job-%';
    perform cron.schedule('hazina-sweeps', '* * * * *', 'select hazina.run_sweeps()');
    perform cron.schedule('hazina-money-sweep', '* * * * *', 'select hazina.money_sweep_sql()');
    perform hazina.schedule_provider_sweep();
  end if;
end
$$;
drop function if exists hazina.idempotency_unlock(text, text);
drop function if exists hazina.schedule_jobs();
drop function if exists hazina.job_cron_schedule(interval);
drop function if exists hazina.money_sweep_backlog();
drop function if exists hazina.job_money_sweep_sql(integer);
drop function if exists hazina.job_purge_auth(integer);
drop function if exists hazina.job_purge_idempotency(integer);
drop function if exists hazina.job_expire_holds(integer);
drop function if exists public.ops_jobs();
drop function if exists hazina.job_list();
drop function if exists hazina.run_job(text, integer);
drop function if exists hazina.job_record(text, timestamptz, jsonb, text);
drop table if exists public.job_runs;
drop table if exists hazina.jobs;
