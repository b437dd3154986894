-- The idempotency key lookups use the unique index whatever the statistics say: the edge's
-- pooled connections keep generic plans, and a table analysed while empty once gave them
-- full scans (issue 12). Every function that looks a key up pins enable_seqscan = off, and
-- with it the generic plan of a key lookup is an index scan even on "empty" statistics.
begin;
select plan(6);

select ok((select 'enable_seqscan=off' = any(proconfig) from pg_proc where oid = to_regprocedure(f)), f || ' pins enable_seqscan = off')
  from unnest(array['hazina.idempotency_begin(text, text, text, text, integer)',
                    'hazina.idempotency_complete(text, text, integer, jsonb)',
                    'hazina.idempotency_abandon(text, text)',
                    'hazina.idempotency_unlock(text, text)']) f;

-- Statistics that say "empty", then many rows.
delete from public.payment_idempotency;
analyze public.payment_idempotency;
insert into public.payment_idempotency (owner_id, client_key, scope, request_hash)
select 'plans-owner', 'plans-key-' || i, 'POST /transfers', 'h' from generate_series(1, 5000) i;

create function pg_temp.plan_of(p_sql text) returns text language plpgsql as $$
declare v_line text; v_plan text := '';
begin
  for v_line in execute 'explain ' || p_sql loop v_plan := v_plan || v_line || E'\n'; end loop;
  return v_plan;
end $$;

set local plan_cache_mode = force_generic_plan;
set local enable_seqscan = off;
prepare key_lookup(text) as select * from public.payment_idempotency where idempotency_key = $1 for update;
select matches(pg_temp.plan_of('execute key_lookup(''plans-owner/plans-key-42'')'), 'Index Scan using payment_idempotency_idempotency_key_key',
  'the generic plan of a key lookup is an index scan on the unique key, with statistics that say the table is empty');

select is((select outcome from hazina.idempotency_begin('plans-owner', 'plans-key-new', 'POST /transfers', 'h')), 'started',
  'begin still works on such statistics');

select * from finish();
rollback;
