-- Events: every payment-intent state change and every refund writes one event in the same
-- transaction; a refused transition writes none; only the merchant reads them.
begin;
select plan(12);

\ir helpers.psql

select pg_temp.user_create('merchant', '39000000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('customer', '39000000-0000-4000-8000-00000000000b') as amina \gset
select pg_temp.wallet_open(:'duka') as duka_wallet \gset
select pg_temp.wallet_open(:'amina') as amina_wallet \gset
select pg_temp.fund(:'amina_wallet', 100);

select hazina.payment_intent_create(:'duka', 30, 'KES', 'automatic', :'amina', null, null, null, 'ev-0001') ->> 'id' as pi1 \gset
select hazina.payment_intent_create(:'duka', 40, 'KES', 'manual', :'amina', null, null, null, 'ev-0002') ->> 'id' as pi2 \gset
select throws_ok(format($$select hazina.payment_intent_confirm('%s', '%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "500"}]')$$,
  :'pi1', :'amina', :'amina_wallet'), 'P0001', 'sources_amount_mismatch', 'a refused confirm');
select is((select array_agg(type order by created_at, type) from public.events where object_id = :'pi1'),
  array['payment_intent.created'], 'a refused transition writes no event');
select is(hazina.payment_intent_confirm(:'pi2', :'amina', format('[{"type": "wallet", "wallet_id": "%s", "amount": "40"}]', :'amina_wallet')::jsonb)
  #>> '{payment_error,code}', null, 'an affordable confirm has no payment_error');
select hazina.payment_intent_create(:'duka', 500, 'KES', 'automatic', :'amina', null, null, null, 'ev-0003') ->> 'id' as pi3 \gset
select hazina.payment_intent_confirm(:'pi3', :'amina', format('[{"type": "wallet", "wallet_id": "%s", "amount": "500"}]', :'amina_wallet')::jsonb);
select is((select array_agg(type order by type) from public.events where object_id = :'pi3'),
  array['payment_intent.created', 'payment_intent.payment_failed'], 'a failed attempt is an event');
select hazina.payment_intent_confirm(:'pi1', :'amina', format('[{"type": "wallet", "wallet_id": "%s", "amount": "30"}]', :'amina_wallet')::jsonb);
select hazina.payment_intent_cancel(:'pi2', :'duka', 'changed mind');
select hazina.payment_refund_create(:'duka', :'pi1', 10, null, 'ev-rf-0001') ->> 'id' as rf1 \gset

select is((select array_agg(type order by created_at, type) from public.events where object_id = :'pi1'),
  array['payment_intent.created', 'payment_intent.succeeded'], 'created, then succeeded at an automatic confirm');
select is((select array_agg(type order by type) from public.events where object_id = :'pi2'),
  array['payment_intent.canceled', 'payment_intent.created', 'payment_intent.requires_capture'], 'a manual intent authorised, then canceled');
select is((select data ->> 'amount' from public.events where object_id = :'rf1' and type = 'payment_refund.created'), '10.0000',
  'a refund event carries the refund');
select is((select data ->> 'status' from public.events where object_id = :'pi1' and type = 'payment_intent.succeeded'), 'succeeded',
  'an event carries the object as it was');

select pg_temp.act_as(:'duka');
select is((select count(*)::int from public.events), 8, 'the merchant reads its events');
select pg_temp.act_as(:'amina');
select is((select count(*)::int from public.events), 0, 'the customer reads none');
select throws_ok($$insert into public.events (merchant_id, type, object_type, object_id, data) values (auth.uid(), 'x.y', 'payment_intent', gen_random_uuid(), '{}')$$,
  '42501', null, 'nobody writes events');
select pg_temp.act_as_anon();
select throws_ok($$select count(*) from public.events$$, '42501', null, 'anon reads nothing');

select * from finish();
rollback;
