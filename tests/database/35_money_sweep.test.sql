-- The provider half of the money sweep on Supabase: pg_cron → pg_net → POST
-- <functions url>/webhooks/sweep, with the URL and secret read from Vault at each run.
-- cron, net and vault here are stand-ins with the shapes of Supabase's.
begin;
select plan(11);

\ir helpers.psql

select is(hazina.schedule_provider_sweep(), false, 'without pg_cron, pg_net and Vault nothing is scheduled');

create schema cron;
create table cron.job (jobname text primary key, schedule text not null, command text not null);
create function cron.schedule(p_name text, p_schedule text, p_command text) returns bigint
  language sql as $$
  insert into cron.job values (p_name, p_schedule, p_command)
  on conflict (jobname) do update set schedule = excluded.schedule, command = excluded.command;
  select 1::bigint $$;
\ir supabase_net_vault.psql

select is(hazina.schedule_provider_sweep(), true, 'with them, the sweep is scheduled');
select is((select schedule from cron.job where jobname = 'hazina-provider-sweep'), '* * * * *', 'every minute');

-- Run the job as pg_cron would.
select command as job from cron.job where jobname = 'hazina-provider-sweep' \gset
:job;
select is((select count(*)::int from net.requests), 0, 'until the Vault secrets exist, the job calls nothing');

insert into vault.decrypted_secrets values
  ('hazina_functions_url', 'https://abcd.supabase.co/functions/v1'),
  ('hazina_sweep_secret', 'sweep-secret-0123456789abcdefgh');
:job;
select results_eq($$select url, headers ->> 'x-sweep-secret' from net.requests$$,
  $$values ('https://abcd.supabase.co/functions/v1/webhooks/sweep'::text, 'sweep-secret-0123456789abcdefgh'::text)$$,
  'then it POSTs to the webhooks function''s sweep with the secret');
select ok(position('0123456789abcdefgh' in :'job') = 0, 'the secret is read at each run, never written into the job');


-- The SQL half, bounded (a job runner pass): three abandoned top-ups, two per pass.
select pg_temp.user_create('customer', '35000000-0000-4000-8000-00000000000a') \gset
select pg_temp.wallet_open('35000000-0000-4000-8000-00000000000a');
select pg_temp.source_add('35000000-0000-4000-8000-00000000000a', 'mpesa', '0712350001') as src \gset
select hazina.funding_start('35000000-0000-4000-8000-00000000000a', :'src', 100 + n, 'KES', 'sweep-bound-' || n)
  from generate_series(1, 3) n;
update public.wallet_funding_sessions set expires_at = now() - interval '1 minute'
 where user_id = '35000000-0000-4000-8000-00000000000a';
select hazina.money_sweep_sql(interval '1 day', 2) as pass1 \gset
select is((:'pass1'::jsonb ->> 'funding_expired')::int, 2, 'a bounded pass settles at most its limit');
select ok((:'pass1'::jsonb ->> 'remaining')::int >= 1, 'and reports what it left due');
select is((hazina.money_sweep_sql(interval '1 day', 2) ->> 'funding_expired')::int, 1, 'the next pass takes the rest');
select is((select count(*)::int from public.wallet_funding_sessions
            where user_id = '35000000-0000-4000-8000-00000000000a' and status = 'expired'), 3,
  'each abandoned top-up expired exactly once');
select throws_ok($$select hazina.money_sweep_sql(interval '1 day', 0)$$, 'P0001', 'invalid_argument', 'a limit below 1 is refused');

select * from finish();
rollback;
