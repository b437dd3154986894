-- The checkout pays codes bound to an invoice, an order or an intent (issue 18): always the
-- object's own intent (an invoice's one unpaid intent, reused, or invoice_pay's; the order's;
-- the bound intent), by wallet (signed in) or M-Pesa (a guest; the provider is played by the
-- functions its confirmed callbacks call); amounts from the object, partial payments only when
-- the invoice allows them; each success one use; paid / closed objects refused with their
-- codes; the per-kind foreign keys; RLS and execute rights from every role; books reconciled.
begin;
select plan(76);

\ir helpers.psql

select pg_temp.user_create('merchant', '53000000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('customer', '53000000-0000-4000-8000-00000000000b') as amina \gset
select pg_temp.user_create('customer', '53000000-0000-4000-8000-00000000000c') as other \gset
select pg_temp.user_create('merchant', '53000000-0000-4000-8000-00000000000d') as rival \gset
select pg_temp.wallet_open(:'duka') as duka_wallet \gset
select pg_temp.wallet_open(:'rival') as rival_wallet \gset
select pg_temp.wallet_open(:'amina') as amina_wallet \gset
select pg_temp.wallet_open(:'other') as other_wallet \gset
select pg_temp.fund(:'amina_wallet', 5000);
select pg_temp.fund(:'other_wallet', 1000);
insert into public.billing_fee_catalog (transaction_type, percentage_bps)
select 'payment_intent', 150 where not exists (select 1 from public.billing_fee_catalog where transaction_type = 'payment_intent');
select pg_temp.balance(:'duka_wallet') as duka_start \gset

-- 1. An invoice code (full payment only): the page shows the amount due and the number.
select pg_temp.act_as(:'duka');
select public.invoice_create(format($${"customer_id": "%s", "items": [{"description": "Flour", "quantity": "2", "unit_amount": "100.25"}]}$$,
  :'amina')::jsonb, 'qbc-inv-1') ->> 'id' as inv1 \gset
select public.invoice_finalize(:'inv1') ->> 'number' as inv1_number \gset
select public.qr_code_for('invoice', :'inv1') as inv1_code \gset
reset role;
select (:'inv1_code'::jsonb) ->> 'slug' as inv1_slug, (:'inv1_code'::jsonb) ->> 'id' as inv1_code_id \gset
select is((select array[kind, invoice_id::text, subject_id::text, coalesce(order_id::text, '-'), coalesce(payment_intent_id::text, '-')]
             from public.qr_codes where id = :'inv1_code_id'),
  array['invoice', :'inv1', :'inv1', '-', '-'], 'an invoice code references its invoice (subject_id reads it)');
select pg_temp.act_as_anon();
select is(public.qr_code_resolve(:'inv1_slug') - 'merchant_name' - 'slug',
  jsonb_build_object('object', 'qr_checkout', 'status', 'active', 'kind', 'invoice', 'label', 'Invoice ' || :'inv1_number',
                     'amount', '200.50', 'currency', 'KES', 'minor_units', 2, 'subject_state', 'payable',
                     'invoice_number', :'inv1_number', 'allow_partial_payment', false),
  'anyone resolves it: the amount due, the invoice number, payable, no ids');
select throws_ok(format($$select hazina.qr_code_pay_mpesa('%s', '254712345678', null)$$, :'inv1_slug'), '42501', null,
  'anon cannot call the M-Pesa payment function directly (the edge calls it as service role)');
select throws_ok(format($$select public.qr_code_open_guest_intent('%s', null, 'attempt-0001')$$, :'inv1_slug'), 'P0001',
  'qr_code_kind_not_payable', 'no separate intent of the code for a bound code');
reset role;

-- Part payment refused; anyone signed in pays it in full (the pay link's rule).
select pg_temp.act_as(:'other');
select throws_ok(format($$select public.qr_code_pay_wallet('%s', '%s', 100, 'attempt-inv1-a')$$, :'inv1_slug', :'other_wallet'),
  'P0001', 'partial_payment_not_allowed', 'an invoice without partial payment is paid in full');
select throws_ok(format($$select public.qr_code_pay_wallet('%s', '%s', 300, 'attempt-inv1-b')$$, :'inv1_slug', :'other_wallet'),
  'P0001', 'amount_exceeds_due', 'never more than is due');
select public.qr_code_pay_wallet(:'inv1_slug', :'other_wallet', null, 'attempt-inv1-c') as inv1_paid \gset
select is(array[(:'inv1_paid'::jsonb) ->> 'status', (:'inv1_paid'::jsonb) ->> 'subject_type', (:'inv1_paid'::jsonb) ->> 'subject_id',
                (:'inv1_paid'::jsonb) ->> 'amount'],
  array['succeeded', 'invoice', :'inv1', '200.5000'], 'the wallet pays the invoice''s own intent, its amount due');
select throws_ok(format($$select public.qr_code_pay_wallet('%s', '%s', null, 'attempt-inv1-d')$$, :'inv1_slug', :'other_wallet'),
  'P0001', 'qr_code_already_paid', 'a second payment: already paid');
reset role;
select is((select array[status, amount_due::text] from public.invoices where id = :'inv1'), array['paid', '0.0000'], 'the invoice is paid');
select is((select array[status, use_count::text] from public.qr_codes where id = :'inv1_code_id'), array['disabled', '1'],
  'its code counted one use and is disabled');
select is((select qr_code_id::text from public.payment_intents where id = ((:'inv1_paid'::jsonb) ->> 'id')::uuid), :'inv1_code_id',
  'the intent carries the code it was paid through');
select is((select count(*)::int from public.events where type = 'qr_code.used' and object_id = :'inv1_code_id'), 1, 'qr_code.used once');
select is(pg_temp.balance(:'other_wallet'), 799.5000, 'the payer paid 200.50');
select is(public.qr_code_resolve(:'inv1_slug') - 'merchant_name' - 'slug',
  '{"object": "qr_checkout", "status": "disabled", "kind": "invoice", "subject_state": "paid"}'::jsonb,
  'the page learns it is paid, and nothing else');

-- 2. Reuse: the addressed customer's unpaid intent is the one the page pays.
select pg_temp.act_as(:'duka');
select public.invoice_create(format($${"customer_id": "%s", "items": [{"description": "Oil", "quantity": "1", "unit_amount": "300"}]}$$,
  :'amina')::jsonb, 'qbc-inv-2') ->> 'id' as inv2 \gset
select public.invoice_finalize(:'inv2');
select public.qr_code_for('invoice', :'inv2') ->> 'slug' as inv2_slug \gset
select pg_temp.act_as(:'amina');
select public.invoice_pay(:'inv2') ->> 'id' as inv2_pi \gset
select is(public.qr_code_pay_wallet(:'inv2_slug', :'amina_wallet', null, 'attempt-inv2-a') ->> 'id', :'inv2_pi',
  'the invoice''s one unpaid intent is reused');
reset role;
select is((select count(*)::int from public.payment_intents where subject_type = 'invoice' and subject_id = :'inv2'), 1,
  'no second intent for the invoice');

-- 3. Partial payments where the invoice allows them: part by M-Pesa (a guest), the rest by wallet.
select pg_temp.act_as(:'duka');
select public.invoice_create(format($${"customer_id": "%s", "allow_partial_payment": true, "items": [{"description": "Rice", "quantity": "1", "unit_amount": "500"}]}$$,
  :'amina')::jsonb, 'qbc-inv-3') ->> 'id' as inv3 \gset
select public.invoice_finalize(:'inv3');
select public.qr_code_for('invoice', :'inv3') as inv3_code \gset
reset role;
select (:'inv3_code'::jsonb) ->> 'slug' as inv3_slug, (:'inv3_code'::jsonb) ->> 'id' as inv3_code_id \gset
select is(public.qr_code_resolve(:'inv3_slug') ->> 'allow_partial_payment', 'true', 'the page learns it takes part payments');
select pg_temp.act_as_service_role();
select hazina.qr_code_pay_mpesa(:'inv3_slug', '254712345678', 200) as inv3_m \gset
reset role;
select is(array[(:'inv3_m'::jsonb) ->> 'object', (:'inv3_m'::jsonb) ->> 'status', (:'inv3_m'::jsonb) ->> 'amount'],
  array['checkout_payment', 'processing', '200.0000'], 'a guest pays part by M-Pesa: processing');
select ok((:'inv3_m'::jsonb) #>> '{mpesa,funding_session_id}' is not null, 'with the STK push for the edge to send');
select (:'inv3_m'::jsonb) ->> 'id' as inv3_pi, (:'inv3_m'::jsonb) #>> '{mpesa,funding_session_id}' as s3 \gset
select is((select coalesce(user_id::text, 'guest') || ':' || wallet_id from public.wallet_funding_sessions where id = :'s3'),
  'guest:' || :'duka_wallet', 'a guest''s M-Pesa money goes straight to the merchant');
select throws_ok(format($$select hazina.qr_code_pay_mpesa('%s', '254712345679', 200)$$, :'inv3_slug'), 'P0001',
  'qr_code_payment_in_progress', 'a second payer while M-Pesa is on its way: in progress');
select throws_ok(format($$select hazina.qr_code_pay_wallet('%s', '%s', '%s', null, 'attempt-inv3-x')$$, :'inv3_slug', :'amina', :'amina_wallet'),
  'P0001', 'qr_code_payment_in_progress', 'nor from a wallet');
select is(hazina.qr_code_payment_json(:'inv3_slug', :'inv3_pi') ->> 'status', 'processing', 'the payer polls it by slug and id');
select throws_ok(format($$select hazina.qr_code_payment_json('%s', '%s')$$, :'inv1_slug', :'inv3_pi'), 'P0001',
  'payment_intent_not_found', 'not through another code');
select hazina.funding_mark_requested(:'s3', 'mr-53-3', 'ws_CO_53_3');
select hazina.funding_complete(:'s3', 200, 'RCPT53003');
select is(hazina.qr_code_payment_json(:'inv3_slug', :'inv3_pi') -> 'status', '"succeeded"', 'paid');
select is((select array[status, amount_paid::text, amount_due::text] from public.invoices where id = :'inv3'),
  array['open', '200.0000', '300.0000'], 'the invoice is paid in part');
select is(public.qr_code_resolve(:'inv3_slug') ->> 'amount', '300.00', 'the page now asks for the rest (from the invoice)');
select is((select array[status, use_count::text] from public.qr_codes where id = :'inv3_code_id'), array['active', '1'], 'one use; still active');
select pg_temp.act_as(:'amina');
select is(public.qr_code_pay_wallet(:'inv3_slug', :'amina_wallet', null, 'attempt-inv3-b') ->> 'amount', '300.0000', 'the rest from the wallet');
reset role;
select is((select array[status, amount_due::text] from public.invoices where id = :'inv3'), array['paid', '0.0000'], 'paid in full');
select is((select array[status, use_count::text] from public.qr_codes where id = :'inv3_code_id'), array['disabled', '2'], 'two uses');

-- 4. A void invoice's code: closed.
select pg_temp.act_as(:'duka');
select public.invoice_create(format($${"customer_id": "%s", "items": [{"description": "Salt", "quantity": "1", "unit_amount": "40"}]}$$,
  :'amina')::jsonb, 'qbc-inv-4') ->> 'id' as inv4 \gset
select public.invoice_finalize(:'inv4');
select public.qr_code_for('invoice', :'inv4') ->> 'slug' as inv4_slug \gset
select public.invoice_void(:'inv4');
reset role;
select is(public.qr_code_resolve(:'inv4_slug') ->> 'subject_state', 'closed', 'a void invoice''s code: closed');
select throws_ok(format($$select hazina.qr_code_pay_mpesa('%s', '254712345678', null)$$, :'inv4_slug'), 'P0001',
  'qr_code_subject_closed', 'and takes no payment');

-- 5. Order codes: the order's own intent, as its customer.
select pg_temp.act_as(:'duka');
select public.shop_create('Duka', 'duka-qbc', 'KES', 'optional', 5, 'Groceries') ->> 'id' as shop_id \gset
select public.product_create(:'shop_id', 'Sugar', 'SUGAR', 150, 100) ->> 'id' as sugar \gset
select pg_temp.act_as(:'amina');
select public.order_create(:'shop_id', format('[{"product_id": "%s", "quantity": 2}]', :'sugar')::jsonb, null, '{}', 'qbc-o1') as o1 \gset
select public.order_create(:'shop_id', format('[{"product_id": "%s", "quantity": 1}]', :'sugar')::jsonb, true, '{}', 'qbc-o2') as o2 \gset
reset role;
select (:'o1'::jsonb) ->> 'id' as o1_id, (:'o1'::jsonb) #>> '{payment_intent,id}' as o1_pi \gset
select (:'o2'::jsonb) ->> 'id' as o2_id, (:'o2'::jsonb) #>> '{payment_intent,id}' as o2_pi \gset
select id as o1_code_id, slug as o1_slug from public.qr_codes where order_id = :'o1_id' \gset
select slug as o2_slug from public.qr_codes where order_id = :'o2_id' \gset
select is(public.qr_code_resolve(:'o1_slug') ->> 'amount', '300.00', 'an order code shows the order''s amount');
select pg_temp.act_as(:'other');
select throws_ok(format($$select public.qr_code_pay_wallet('%s', '%s', null, 'attempt-o1-a')$$, :'o1_slug', :'other_wallet'),
  'P0001', 'qr_code_payer_not_customer', 'another user''s wallet never pays the order');
select throws_ok(format($$select public.qr_code_pay_wallet('%s', '%s', 1, 'attempt-o1-b')$$, :'o1_slug', :'other_wallet'),
  'P0001', 'invalid_argument', 'the amount is the order''s, never the client''s');
reset role;
-- By M-Pesa (anyone holding the code): as the customer, cancelled on the phone, nothing moves.
select pg_temp.act_as_service_role();
select hazina.qr_code_pay_mpesa(:'o1_slug', '254712345678', null) #>> '{mpesa,funding_session_id}' as so1 \gset
reset role;
select is((select user_id::text || ':' || wallet_id from public.wallet_funding_sessions where id = :'so1'),
  :'amina' || ':' || :'amina_wallet', 'an order''s M-Pesa part tops up its customer''s wallet (the payments rule)');
select hazina.funding_fail(:'so1', 'cancelled', '1032', 'Request cancelled by user');
select is(hazina.qr_code_payment_json(:'o1_slug', :'o1_pi') #>> '{last_payment_error,code}', 'mpesa_cancelled', 'cancelled on the phone');
select is((select array[status, use_count::text] from public.qr_codes where id = :'o1_code_id'), array['active', '0'], 'no use counted');
select is(pg_temp.balance(:'amina_wallet'), 4400.0000, 'nothing moved (it paid two invoices of 300 before)');
select pg_temp.act_as(:'amina');
select is(public.qr_code_pay_wallet(:'o1_slug', :'amina_wallet', null, 'attempt-o1-c') ->> 'id', :'o1_pi', 'the customer pays the order''s own intent');
reset role;
select is((select status from public.orders where id = :'o1_id'), 'paid', 'the order is paid');
select is((select array[status, use_count::text] from public.qr_codes where id = :'o1_code_id'), array['disabled', '1'], 'one use, then disabled');
select is(public.qr_code_resolve(:'o1_slug') ->> 'subject_state', 'paid', 'the page says paid');
select pg_temp.act_as_service_role();
select throws_ok(format($$select hazina.qr_code_pay_mpesa('%s', '254712345678', null)$$, :'o1_slug'), 'P0001',
  'qr_code_already_paid', 'a second payer: already paid');
reset role;
-- An escrowed order pays into escrow through its intent, as before.
select pg_temp.act_as(:'amina');
select public.qr_code_pay_wallet(:'o2_slug', :'amina_wallet', null, 'attempt-o2-a');
reset role;
select is((select array[o.status, e.status, e.amount::text] from public.orders o join public.goods_escrows e on e.order_id = o.id
            where o.id = :'o2_id'), array['paid', 'funded', '150.0000'], 'an escrowed order''s code funds its escrow');
select is((select payee_wallet_id from public.payment_intents where id = :'o2_pi'), hazina.system_wallet('escrow', 'KES'),
  'into the escrow wallet');

-- 6. Intent codes.
select pg_temp.act_as(:'duka');
select public.payment_intent_create(300, 'KES', 'automatic', null, 'Deposit', null, null, 'qbc-pi-1') as pi1 \gset
select (:'pi1'::jsonb) ->> 'id' as pi1_id, (:'pi1'::jsonb) ->> 'client_secret' as pi1_secret \gset
select public.qr_code_create('intent', 'Deposit', null, null, :'pi1_id', null, null, 'qbc-code-pi1') as pi1_code \gset
select is(array[(:'pi1_code'::jsonb) ->> 'kind', (:'pi1_code'::jsonb) ->> 'amount', (:'pi1_code'::jsonb) ->> 'subject_id'],
  array['intent', '300.0000', :'pi1_id'], 'an intent code: the intent''s amount');
select throws_ok(format($$select public.qr_code_create('intent', null, 300, null, '%s', null, null, 'qbc-code-x1')$$, :'pi1_id'),
  'P0001', 'invalid_argument', 'no amount of its own');
select throws_ok(format($$select public.qr_code_create('intent', null, null, null, '%s', null, null, 'qbc-code-x2')$$, :'o1_pi'),
  'P0001', 'intent_not_confirmable', 'not a paid intent');
select pg_temp.act_as(:'amina');
select public.order_create(:'shop_id', format('[{"product_id": "%s", "quantity": 1}]', :'sugar')::jsonb, null, '{}', 'qbc-o3')
  #>> '{payment_intent,id}' as o3_pi \gset
select pg_temp.act_as(:'duka');
select throws_ok(format($$select public.qr_code_create('intent', null, null, null, '%s', null, null, 'qbc-code-x3')$$, :'o3_pi'),
  'P0001', 'qr_code_intent_has_subject', 'not an order''s intent: the order has its code');
select pg_temp.act_as(:'rival');
select throws_ok(format($$select public.qr_code_create('intent', null, null, null, '%s', null, null, 'qbc-code-x4')$$, :'pi1_id'),
  'P0001', 'payment_intent_not_found', 'not another merchant''s intent');
reset role;
select (:'pi1_code'::jsonb) ->> 'slug' as pi1_slug, (:'pi1_code'::jsonb) ->> 'id' as pi1_code_id \gset
select pg_temp.balance(:'duka_wallet') as duka_before_pi \gset
select pg_temp.act_as_service_role();
select hazina.qr_code_pay_mpesa(:'pi1_slug', '254712345678', null) #>> '{mpesa,funding_session_id}' as spi1 \gset
reset role;
select is((select coalesce(customer_id::text, 'guest') || ':' || status from public.payment_intents where id = :'pi1_id'),
  'guest:processing', 'a guest pays the bound intent by M-Pesa');
select is(hazina.payment_intent_checkout_json(:'pi1_id', :'pi1_secret') ->> 'status', 'processing',
  'the merchant''s own client_secret still works (its hash was put back)');
select hazina.funding_mark_requested(:'spi1', 'mr-53-p1', 'ws_CO_53_p1');
select hazina.funding_complete(:'spi1', 300, 'RCPT53P01');
select is(pg_temp.balance(:'duka_wallet'), :'duka_before_pi'::numeric + 300 - 4.50, 'the merchant got 300 less its 1.5% fee');
select is((select array[status, use_count::text] from public.qr_codes where id = :'pi1_code_id'), array['disabled', '1'],
  'one use; the code follows its intent (disabled once paid)');
-- By wallet, and an expired intent's code.
select pg_temp.act_as(:'duka');
select public.payment_intent_create(50, 'KES', 'automatic', null, 'Tip', null, null, 'qbc-pi-2') ->> 'id' as pi2_id \gset
select public.qr_code_create('intent', null, null, null, :'pi2_id', null, null, 'qbc-code-pi2') ->> 'slug' as pi2_slug \gset
select pg_temp.act_as(:'other');
select is(public.qr_code_pay_wallet(:'pi2_slug', :'other_wallet', null, 'attempt-pi2-a') ->> 'customer_id', :'other',
  'a signed-in payer pays an intent for nobody from their wallet');
reset role;
update public.payment_intents set expires_at = now() - interval '1 second'
 where id = (select (public.qr_code_json(q) ->> 'subject_id')::uuid from public.qr_codes q
              where q.client_ref = 'qbc-code-pi1');
select pg_temp.act_as(:'duka');
select public.payment_intent_create(70, 'KES', 'automatic', null, 'Late', null, null, 'qbc-pi-3') ->> 'id' as pi3_id \gset
select public.qr_code_create('intent', null, null, null, :'pi3_id', null, null, 'qbc-code-pi3') ->> 'slug' as pi3_slug \gset
reset role;
update public.payment_intents set expires_at = now() - interval '1 second' where id = :'pi3_id';
select is(public.qr_code_resolve(:'pi3_slug') ->> 'subject_state', 'closed', 'an expired intent''s code: closed');
select pg_temp.act_as(:'other');
select throws_ok(format($$select public.qr_code_pay_wallet('%s', '%s', null, 'attempt-pi3-a')$$, :'pi3_slug', :'other_wallet'),
  'P0001', 'qr_code_subject_closed', 'and refuses payment');
reset role;
select throws_ok(format($$select hazina.qr_code_pay_mpesa('%s', '254712345678', null)$$,
  (select slug from public.qr_codes where client_ref = 'qbc-code-pi1')), 'P0001', 'qr_code_already_paid', 'a paid intent''s code: already paid');

-- 7. The per-kind foreign keys.
select throws_ok(format($$update public.qr_codes set order_id = '%s' where id = '%s'$$, :'o1_id', :'inv1_code_id'),
  '23514', null, 'an invoice code cannot also name an order');
select throws_ok(format($$update public.qr_codes set invoice_id = null where id = '%s'$$, :'inv1_code_id'),
  '23514', null, 'nor lose its invoice');
select throws_ok(format($$update public.qr_codes set invoice_id = gen_random_uuid() where id = '%s'$$, :'inv1_code_id'),
  '23503', null, 'it references a real invoice');
select throws_ok(format($$update public.qr_codes set subject_id = '%s' where id = '%s'$$, :'o1_id', :'inv1_code_id'),
  '428C9', null, 'subject_id is derived, never written');
select throws_ok($$select hazina.qr_code_create('53000000-0000-4000-8000-00000000000a', 'invoice', null, 10, 'KES', gen_random_uuid(), null, null, 'qbc-bad-inv')$$,
  'P0001', 'invoice_not_found', 'an unknown invoice is not found, never a foreign-key error');

-- 8. RLS and execute rights from every role.
select pg_temp.act_as(:'duka');
select is((select count(*)::int from public.qr_codes where kind in ('invoice', 'order', 'intent')), 10,
  'the merchant reads its bound codes');
select is((select count(*)::int from public.payment_intents where qr_code_id is not null), 8,
  'and its intents paid through them');
select pg_temp.act_as(:'amina');
select is((select count(*)::int from public.qr_codes), 0, 'the customer reads no code row');
select pg_temp.act_as(:'other');
select is((select count(*)::int from public.qr_codes), 0, 'another user reads no code row');
select throws_ok(format($$select hazina.qr_code_payment_json('%s', '%s')$$, :'inv3_slug', :'inv3_pi'), '42501', null,
  'a signed-in user cannot call the payment view directly');
select pg_temp.act_as_anon();
select throws_ok($$select count(*) from public.qr_codes$$, '42501', null, 'anon reads no table');
select throws_ok(format($$select hazina.qr_code_payment_json('%s', '%s')$$, :'inv3_slug', :'inv3_pi'), '42501', null,
  'nor calls the payment view directly');
select pg_temp.act_as_service_role();
select is((select count(*)::int from public.qr_codes where invoice_id is not null or order_id is not null or payment_intent_id is not null),
  10, 'the service role reads every bound code');
reset role;

-- 9. Uses and books.
select is((select count(*)::int from public.payment_intents where qr_code_id is not null and status = 'succeeded'),
  (select sum(use_count)::int from public.qr_codes where kind in ('invoice', 'order', 'intent')), 'every success through a code is one use');
select * from pg_temp.books_balance();

select * from finish();
rollback;
