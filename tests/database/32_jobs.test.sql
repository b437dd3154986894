-- The job catalog and its database entry points: a pass is bounded, recorded, and a job's
-- failure is recorded rather than raised; hazina.schedule_jobs() puts every job on pg_cron
-- (database jobs directly, edge jobs through pg_net with the secret read from Vault at each
-- run) and retires the earlier per-sweep schedules. cron, net and vault are stand-ins with
-- the shapes of Supabase's.
begin;
select plan(17);

insert into public.auth_users (id, email) values
  ('32000000-0000-4000-8000-00000000000a', 'a@jobs.test'), ('32000000-0000-4000-8000-00000000000b', 'b@jobs.test');
insert into public.wallets (id, user_id, kind) values
  ('32000000-0000-4000-8000-0000000000a1', '32000000-0000-4000-8000-00000000000a', 'user'),
  ('32000000-0000-4000-8000-0000000000b1', '32000000-0000-4000-8000-00000000000b', 'user');
select hazina.post_transaction('jobs-fund', 'funding', jsonb_build_array(
  jsonb_build_object('wallet_id', hazina.system_wallet('mpesa_clearing'), 'direction', 'debit', 'amount', '100'),
  jsonb_build_object('wallet_id', '32000000-0000-4000-8000-0000000000a1', 'direction', 'credit', 'amount', '100')));
select hazina.hold_create('jobs-h' || n, '32000000-0000-4000-8000-0000000000a1', '32000000-0000-4000-8000-0000000000b1', 1, now() + interval '1 hour')
  from generate_series(1, 3) n;
-- Overdue (as the clock would make them); other suites' holds are expired first.
update public.wallet_holds set expires_at = now() - interval '1 second' where ref like 'jobs-h%';
update public.wallet_holds set expires_at = now() + interval '1 hour'
 where status = 'pending' and expires_at <= now() and ref not like 'jobs-h%';

select is(hazina.run_job('holds.expire', 2) #>> '{report,processed}', '2', 'a pass does at most its limit');
select is(hazina.run_job('holds.expire', 2) #>> '{report}', '{"processed": 1, "remaining": 0}', 'the next pass does the rest and reports the backlog');
select is((select held::text from public.wallets where id = '32000000-0000-4000-8000-0000000000a1'), '0.0000', 'every hold released');
select is((select (run_count, last_status, last_report ->> 'remaining')::text from public.job_runs where name = 'holds.expire'),
  '(2,succeeded,0)', 'each pass is recorded with its report');
select ok((hazina.job_list() -> 0) ?& array['name', 'every_seconds', 'batch_size', 'last_report', 'backlog', 'due'],
  'the job list has schedule, last run and backlog');

select throws_ok($$select hazina.run_job('no.such_job')$$, 'P0001', 'job_not_found', 'an unknown job is refused with a stable code');
select throws_ok($$select hazina.run_job('money.provider_sweep')$$, 'P0001', 'invalid_argument', 'an edge job does not run in the database');

-- A failing job: its work is rolled back, the failure recorded, nothing raised.
create function hazina.job_test_failing(p_limit integer) returns jsonb language plpgsql set search_path = '' as $$
begin
  update public.wallets set status = 'frozen' where id = '32000000-0000-4000-8000-0000000000b1';
  raise exception 'boom';
end $$;
insert into hazina.jobs (name, runs_in, function, every, batch_size, description)
values ('test.failing', 'database', 'hazina.job_test_failing', interval '1 minute', 1, 'fails');
select is(hazina.run_job('test.failing') ->> 'error', 'P0001: boom', 'a failing pass returns its error');
select is((select status from public.wallets where id = '32000000-0000-4000-8000-0000000000b1'), 'active', 'and its work is rolled back');
select is((select (error_count, last_status, last_error)::text from public.job_runs where name = 'test.failing'),
  '(1,failed,"P0001: boom")', 'the failure is recorded');
delete from hazina.jobs where name = 'test.failing';

select is(array[hazina.job_cron_schedule('30 seconds'), hazina.job_cron_schedule('1 minute'), hazina.job_cron_schedule('5 minutes'),
                hazina.job_cron_schedule('1 hour'), hazina.job_cron_schedule('6 hours')],
  array['30 seconds', '* * * * *', '*/5 * * * *', '0 * * * *', '0 */6 * * *'], 'intervals become pg_cron schedules');

select is(hazina.schedule_jobs(), 0, 'without pg_cron nothing is scheduled');

create schema cron;
create table cron.job (jobname text primary key, schedule text not null, command text not null);
create function cron.schedule(p_name text, p_schedule text, p_command text) returns bigint language sql as $$
  insert into cron.job values (p_name, p_schedule, p_command)
  on conflict (jobname) do update set schedule = excluded.schedule, command = excluded.command;
  select 1::bigint $$;
create function cron.unschedule(p_name text) returns boolean language sql as $$
  delete from cron.job where jobname = p_name returning true $$;
select cron.schedule('hazina-sweeps', '* * * * *', 'select hazina.run_sweeps()');
select cron.schedule('hazina-money-sweep', '* * * * *', 'select hazina.money_sweep_sql()');

select is(hazina.schedule_jobs(), (select count(*)::int from hazina.jobs where runs_in = 'database'),
  'with pg_cron alone, every database job is scheduled');
select results_eq($$select jobname, schedule, command from cron.job order by 1$$,
  $$select 'hazina-job-' || name, hazina.job_cron_schedule(every), format('select hazina.run_job(%L)', name)
      from hazina.jobs where runs_in = 'database' order by 1$$,
  'as hazina.run_job(name) at its interval, replacing the earlier sweep schedules');

\ir supabase_net_vault.psql
select is(hazina.schedule_jobs(), (select count(*)::int from hazina.jobs), 'with pg_net and Vault, edge jobs too');

select command as job from cron.job where jobname = 'hazina-job-money.provider_sweep' \gset
:job;
insert into vault.decrypted_secrets values
  ('hazina_functions_url', 'https://abcd.supabase.co/functions/v1'), ('hazina_sweep_secret', 'sweep-secret-0123456789abcdefgh');
:job;
select results_eq($$select url, body ->> 'job', headers ->> 'x-sweep-secret' from net.requests$$,
  $$values ('https://abcd.supabase.co/functions/v1/ops/jobs/run'::text, 'money.provider_sweep'::text, 'sweep-secret-0123456789abcdefgh'::text)$$,
  'an edge job POSTs to /ops/jobs/run once the Vault secrets exist');
select ok(position('0123456789abcdefgh' in :'job') = 0, 'the secret is read at each run, never written into the job');

select * from finish();
rollback;
