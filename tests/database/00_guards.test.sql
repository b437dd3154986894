-- Guards every migration must keep passing.
begin;
select plan(7);

select is(
  array(select c.relname::text from pg_class c
        where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
          and not c.relrowsecurity order by 1),
  array[]::text[],
  'every table in public has row level security enabled');

-- Clients write through functions only: no table in public grants them writes.
select is(
  array(select format('%s:%s:%s', r.rolname, c.relname, p.priv)
        from pg_class c
        cross join (values ('anon'), ('authenticated')) as r(rolname)
        cross join (values ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE')) as p(priv)
        where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
          and has_table_privilege(r.rolname, c.oid, p.priv)
        order by 1),
  array[]::text[],
  'anon and authenticated hold no INSERT/UPDATE/DELETE/TRUNCATE on any public table');

select is(
  array(select p.oid::regprocedure::text from pg_proc p
        where p.prosecdef
          and p.pronamespace in ('public'::regnamespace, 'hazina'::regnamespace)
          and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) cfg where cfg like 'search_path=%')
        order by 1),
  array[]::text[],
  'every SECURITY DEFINER function pins search_path');

select is(
  array(select p.oid::regprocedure::text from pg_proc p
        where p.pronamespace = 'hazina'::regnamespace
          and (has_function_privilege('anon', p.oid, 'EXECUTE') or has_function_privilege('authenticated', p.oid, 'EXECUTE'))
        order by 1),
  array[]::text[],
  'clients cannot execute any internal (hazina) function');

select is(
  array(select p.oid::regprocedure::text from pg_proc p
        where p.pronamespace = 'public'::regnamespace and has_function_privilege('anon', p.oid, 'EXECUTE')
          -- The public exceptions, each tested from every role in its own suite: the shapes of the
          -- public storefront (shops, products: read with the anon key; 60_shop_orders), a QR
          -- code's checkout page resolving its slug and a guest opening an intent to pay it (49_qr_codes).
          and p.oid::regprocedure::text not in ('api_time(timestamp with time zone)', 'product_json(products)', 'shop_json(shops)',
                                                'qr_code_resolve(text)', 'qr_code_open_guest_intent(text,numeric,text)')
        order by 1),
  array[]::text[],
  'anon can execute no function in public but the listed public reads (every client API needs a signed-in user)');

select ok(not has_schema_privilege('authenticated', 'hazina', 'USAGE')
          and not has_schema_privilege('anon', 'hazina', 'USAGE'),
  'clients have no usage on the internal schema');

-- The posting path plans its queries once per session. Without force_generic_plan,
-- PL/pgSQL may keep choosing a fresh custom plan for every call (the commit-time balance
-- trigger did: 250 µs a transfer), which no functional test notices.
select is(
  array(select p.oid::regprocedure::text from pg_proc p
         where p.oid in ('hazina.assert_transaction_balanced()'::regprocedure,
                         'hazina.apply_entries(uuid,text,text,jsonb,text,uuid[],text[],numeric[],text[])'::regprocedure,
                         'hazina.begin_transaction(text,text,text,numeric,text,text,jsonb,uuid)'::regprocedure,
                         'hazina.post_transaction(text,text,jsonb,text,jsonb)'::regprocedure,
                         'hazina.transfer(text,uuid,uuid,numeric,text,text,jsonb)'::regprocedure,
                         'hazina.transfer_batch_fast(jsonb)'::regprocedure)
           and not ('plan_cache_mode=force_generic_plan' = any (coalesce(p.proconfig, '{}')))
         order by 1),
  array[]::text[],
  'every function on the posting path plans once (plan_cache_mode = force_generic_plan)');

select * from finish();
rollback;
