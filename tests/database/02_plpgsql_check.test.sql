-- Lint every PL/pgSQL function (and trigger function) in public and hazina with
-- plpgsql_check: unknown columns, type mismatches, unreachable code, unused variables.
begin;
select plan(1);

create extension if not exists plpgsql_check with schema extensions;

-- transfer_batch_fast works on a session temp table; let it create it, so the check can see it.
insert into public.auth_users (id, email) values
  ('02000000-0000-4000-8000-00000000000a', 'a@lint.test'), ('02000000-0000-4000-8000-00000000000b', 'b@lint.test');
insert into public.wallets (id, user_id, kind) values
  ('02000000-0000-4000-8000-0000000000a1', '02000000-0000-4000-8000-00000000000a', 'user'),
  ('02000000-0000-4000-8000-0000000000b1', '02000000-0000-4000-8000-00000000000b', 'user');
select hazina.post_transaction('lint-fund', 'funding', jsonb_build_array(
  jsonb_build_object('wallet_id', hazina.system_wallet('mpesa_clearing'), 'direction', 'debit', 'amount', '5'),
  jsonb_build_object('wallet_id', '02000000-0000-4000-8000-0000000000a1', 'direction', 'credit', 'amount', '5')));
select hazina.transfer_batch('[{"ref": "lint-1", "from_wallet_id": "02000000-0000-4000-8000-0000000000a1",
                                "to_wallet_id": "02000000-0000-4000-8000-0000000000b1", "amount": "1.00"}]');

select is(
  array(select format('%s line %s: %s: %s', p.oid::regprocedure, c.lineno, c.level, c.message)
          from pg_proc p
          join pg_language l on l.oid = p.prolang and l.lanname = 'plpgsql'
          cross join lateral extensions.plpgsql_check_function_tb(
            p.oid, coalesce((select t.tgrelid from pg_trigger t where t.tgfoid = p.oid limit 1), 0)::regclass,
            fatal_errors => false, extra_warnings => true, other_warnings => true) c
         where p.pronamespace in ('hazina'::regnamespace, 'public'::regnamespace)
         order by 1),
  array[]::text[],
  'plpgsql_check finds nothing in any function');

select * from finish();
rollback;
