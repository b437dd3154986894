-- QR bindings: an invoice gets its 'invoice' code when finalised (amount due, label its
-- number, once), disabled when paid or voided; an order its 'order' code when placed with its
-- intent, disabled when it leaves pending_payment (paid or canceled); paying through a bound
-- code on the page stays refused (the object's own pay path); the codes' RLS is unchanged.
begin;
select plan(24);

\ir helpers.psql

select pg_temp.user_create('merchant', '51000000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('customer', '51000000-0000-4000-8000-00000000000b') as amina \gset
select pg_temp.user_create('customer', '51000000-0000-4000-8000-00000000000c') as other \gset
select pg_temp.wallet_open(:'duka') as duka_wallet \gset
select pg_temp.wallet_open(:'amina') as amina_wallet \gset
select pg_temp.fund(:'amina_wallet', 5000);

-- Invoices.
select pg_temp.act_as(:'duka');
select public.invoice_create(format($${"customer_id": "%s", "items": [{"description": "Flour", "quantity": "2", "unit_amount": "100.25"}]}$$,
  :'amina')::jsonb, 'qrb-inv-1') ->> 'id' as inv1 \gset
select public.invoice_create(format($${"customer_id": "%s", "items": [{"description": "Salt", "quantity": "1", "unit_amount": "40"}]}$$,
  :'amina')::jsonb, 'qrb-inv-2') ->> 'id' as inv2 \gset
select is(public.qr_code_for('invoice', :'inv1'), null, 'a draft has no code');
select public.invoice_finalize(:'inv1') ->> 'number' as inv1_number \gset
select public.invoice_finalize(:'inv2');
select public.qr_code_for('invoice', :'inv1') as inv1_code \gset
select is(array[(:'inv1_code'::jsonb) ->> 'kind', (:'inv1_code'::jsonb) ->> 'amount', (:'inv1_code'::jsonb) ->> 'currency',
                (:'inv1_code'::jsonb) ->> 'status', (:'inv1_code'::jsonb) ->> 'label', (:'inv1_code'::jsonb) ->> 'merchant_id'],
  array['invoice', '200.5000', 'KES', 'active', 'Invoice ' || :'inv1_number', :'duka'],
  'finalising gives the invoice its code: the amount due, labelled with its number');
select matches((:'inv1_code'::jsonb) ->> 'slug', '^[a-z2-7]{26}$', 'with an unguessable slug');
reset role;
select is((select count(*)::int from public.qr_codes where kind = 'invoice' and subject_id = :'inv1'), 1, 'exactly one code per invoice');
select is((select client_ref from public.qr_codes where subject_id = :'inv1'), 'invoice:' || :'inv1' || ':qr', 'its ref derives from the invoice');
select is((select count(*)::int from public.events where type = 'qr_code.created' and object_id = ((:'inv1_code'::jsonb) ->> 'id')::uuid), 1,
  'qr_code.created is emitted');
select (:'inv1_code'::jsonb) ->> 'slug' as inv1_slug \gset

-- The page resolves it but refuses to pay it: the invoice is paid through its own path.
select pg_temp.act_as_anon();
select is(public.qr_code_resolve(:'inv1_slug') ->> 'amount', '200.50', 'anyone resolves the active code by slug');
select throws_ok(format($$select public.qr_code_open_guest_intent('%s', null, '254700000001')$$, :'inv1_slug'), 'P0001',
  'qr_code_kind_not_payable', 'no separate intent through the code: the invoice''s own pay path');
reset role;

-- RLS unchanged: only the merchant sees the code.
select pg_temp.act_as(:'amina');
select is(public.qr_code_for('invoice', :'inv1'), null, 'the customer does not read the merchant''s code row');
select is((select count(*)::int from public.qr_codes), 0, 'nor any code');
select pg_temp.act_as(:'other');
select is((select count(*)::int from public.qr_codes), 0, 'another user reads no code');
reset role;
select pg_temp.act_as_anon();
select throws_ok($$select count(*) from public.qr_codes$$, '42501', null, 'anon reads no table');
reset role;

-- Paid: its own intent (invoice_pay), then the code is disabled.
select pg_temp.act_as(:'amina');
select public.invoice_pay(:'inv1') ->> 'id' as pi1 \gset
select is(public.payment_intent_confirm(:'pi1', format('[{"type": "wallet", "wallet_id": "%s", "amount": "200.50"}]', :'amina_wallet')::jsonb)
  ->> 'status', 'succeeded', 'the customer pays the invoice through its own intent');
reset role;
select is((select status from public.invoices where id = :'inv1'), 'paid', 'the invoice is paid');
select is((select status from public.qr_codes where subject_id = :'inv1'), 'disabled', 'its code is disabled');
select is((select use_count from public.qr_codes where subject_id = :'inv1'), 0, 'the code was never the payment path');
-- Voided: disabled.
select pg_temp.act_as(:'duka');
select public.invoice_void(:'inv2');
reset role;
select is((select status from public.qr_codes where subject_id = :'inv2'), 'disabled', 'a voided invoice''s code is disabled');

-- Orders.
select pg_temp.act_as(:'duka');
select public.shop_create('Duka', 'duka-qrb', 'KES', 'optional', 5, 'Groceries') ->> 'id' as shop_id \gset
select public.product_create(:'shop_id', 'Sugar', 'SUGAR', 150.50, 10) ->> 'id' as sugar \gset
select pg_temp.act_as(:'amina');
select public.order_create(:'shop_id', format('[{"product_id": "%s", "quantity": 2}]', :'sugar')::jsonb,
  null, '{}', 'qrb-order-1') as o1 \gset
select public.order_create(:'shop_id', format('[{"product_id": "%s", "quantity": 1}]', :'sugar')::jsonb,
  null, '{}', 'qrb-order-2') as o2 \gset
select (:'o1'::jsonb) ->> 'id' as o1_id, (:'o1'::jsonb) #>> '{payment_intent,id}' as o1_pi, (:'o1'::jsonb) ->> 'total' as o1_total \gset
select (:'o2'::jsonb) ->> 'id' as o2_id \gset
reset role;
select is((select array[kind, amount::text, status, merchant_id::text] from public.qr_codes where subject_id = :'o1_id'),
  array['order', :'o1_total', 'active', :'duka'], 'placing an order with its intent gives it its code, for the total');
select is(pg_temp.as_user(:'duka', format($$select public.qr_code_for('order', '%s')$$, :'o1_id')) ->> 'kind', 'order',
  'the merchant looks it up');
select pg_temp.act_as(:'amina');
select is(public.payment_intent_confirm(:'o1_pi', format('[{"type": "wallet", "wallet_id": "%s", "amount": "%s"}]', :'amina_wallet', :'o1_total')::jsonb)
  ->> 'status', 'succeeded', 'the order is paid through its own intent');
select is(public.order_cancel(:'o2_id') ->> 'status', 'canceled', 'the other order is canceled');
reset role;
select is((select status from public.qr_codes where subject_id = :'o1_id'), 'disabled', 'a paid order''s code is disabled');
select is((select status from public.qr_codes where subject_id = :'o2_id'), 'disabled', 'a canceled order''s code is disabled');
select is((select count(*)::int from public.events where type = 'qr_code.disabled'
             and object_id in (select id from public.qr_codes where kind in ('invoice', 'order'))), 4, 'each disabling is an event');

select * from finish();
rollback;
