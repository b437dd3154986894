-- Installment plans (lay-by): the schedule's arithmetic, placing an order with a plan, the
-- deposit, auto-collection on the due date, an unaffordable collection (late, never
-- overdrawn), the late fee charged once, paying (oldest rows first), early payoff, a default
-- with its refund less the bounded cancellation fee, customer and merchant cancels, waivers,
-- reminders, the deposit intent expiring; what the customer, the merchant, another user,
-- anon and service_role can see and do; the books reconciled, to the cent.
begin;
select plan(129);

\ir helpers.psql

select pg_temp.user_create('merchant', '47000000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('customer', '47000000-0000-4000-8000-00000000000b') as amina \gset
select pg_temp.user_create('customer', '47000000-0000-4000-8000-00000000000c') as other \gset
select pg_temp.wallet_open(:'duka') as duka_wallet \gset
select pg_temp.wallet_open(:'amina') as amina_wallet \gset
select pg_temp.wallet_open(:'other') as other_wallet \gset
select pg_temp.fund(:'amina_wallet', 700);
select pg_temp.fund(:'other_wallet', 1000);
select hazina.system_wallet('escrow', 'KES') as escrow \gset

-- The schedule: the remainder in equal parts rounded down to the minor unit, the last part
-- carrying what rounding left.
select is((select jsonb_agg(amount::text order by seq) from hazina.installment_schedule_amounts(1000, 100, 7, 'KES')),
  '["100.0000", "128.5700", "128.5700", "128.5700", "128.5700", "128.5700", "128.5700", "128.5800"]'::jsonb,
  'KES: 900 in 7 parts is 6 x 128.57 and a last 128.58');
select is((select jsonb_agg(amount::text order by seq) from hazina.installment_schedule_amounts(1000, 100, 7, 'UGX')),
  '["100.0000", "128.0000", "128.0000", "128.0000", "128.0000", "128.0000", "128.0000", "132.0000"]'::jsonb,
  'UGX (no minor unit): 6 x 128 and a last 132');
select is((select sum(amount) from hazina.installment_schedule_amounts(1000.01, 0.02, 3, 'KES')), 1000.01::numeric,
  'the parts always sum to the total');
select is(hazina.installment_due_at('2026-01-31T10:00:00Z', 'month', 1), '2026-02-28T10:00:00Z'::timestamptz,
  'a monthly due date on the 31st falls on the last day of a shorter month');

-- The shop, its products and its plan policy.
select pg_temp.as_user(:'duka', $$select public.shop_create('Duka la Amani', 'duka-la-amani')$$) ->> 'id' as shop \gset
select pg_temp.as_user(:'duka', format($$select public.product_create('%s', 'Solar lamp', 'LAMP-1', 1000.01, 5)$$, :'shop')) ->> 'id' as lamp \gset
select pg_temp.as_user(:'duka', $$select public.shop_create('Duka la Pili', 'duka-la-pili')$$) ->> 'id' as shop2 \gset
select pg_temp.as_user(:'duka', format($$select public.product_create('%s', 'Radio', 'RADIO-1', 500, 5)$$, :'shop2')) ->> 'id' as radio \gset

select pg_temp.act_as(:'amina');
select throws_ok(format($$select public.order_create_installments('%s', '[{"product_id": "%s", "quantity": 1}]', null, null, 'o-0',
  '{"deposit": "100.00", "count": 3, "interval": "week"}')$$, :'shop', :'lamp'),
  'P0001', 'installments_not_allowed', 'a shop without a plan policy does not sell on installments');
select throws_ok(format($$select public.shop_installment_settings_set('%s', '{"allowed": true}')$$, :'shop'),
  'P0001', 'shop_not_found', 'only the shop''s merchant sets its plan policy');
reset role;
select pg_temp.as_user(:'duka', format($$select public.shop_installment_settings_set('%s',
  '{"allowed": true, "max_count": 6, "grace_days": 3, "cancellation_fee_bps": 1000, "missed_payments_to_default": 2}')$$, :'shop')) as settings \gset
select is((:'settings'::jsonb) -> 'allowed', 'true'::jsonb, 'the merchant allows plans in its shop');
select is((:'settings'::jsonb) ->> 'max_cancellation_fee_bps', '1500', 'the platform''s bound on cancellation fees is shown');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.shop_installment_settings_set(''%s'', ''{"grace_days": 99}'')')$$,
  :'duka', :'shop'), 'P0001', 'invalid_argument', 'a policy outside the limits is refused');

-- Refused plans.
select pg_temp.act_as(:'amina');
select throws_ok(format($$select public.order_create_installments('%s', '[{"product_id": "%s", "quantity": 1}]', null, null, 'o-1',
  '{"deposit": "100.00", "count": 7, "interval": "week"}')$$, :'shop', :'lamp'),
  'P0001', 'installments_not_allowed', 'more payments than the shop allows are refused');
select throws_ok(format($$select public.order_create_installments('%s', '[{"product_id": "%s", "quantity": 1}]', null, null, 'o-1',
  '{"deposit": "1000.01", "count": 3, "interval": "week"}')$$, :'shop', :'lamp'),
  'P0001', 'invalid_argument', 'the deposit must be below the total');
select throws_ok(format($$select public.order_create_installments('%s', '[{"product_id": "%s", "quantity": 1}]', null, null, 'o-1',
  '{"deposit": "100.001", "count": 3, "interval": "week"}')$$, :'shop', :'lamp'),
  'P0001', 'invalid_amount', 'the deposit is in the currency''s minor unit');
select throws_ok(format($$select public.order_create_installments('%s', '[{"product_id": "%s", "quantity": 1}]', null, null, 'o-1',
  '{"deposit": "100.00", "count": 3, "interval": "year"}')$$, :'shop', :'lamp'),
  'P0001', 'installments_not_allowed', 'the interval is day, week or month');

-- Plan A: 1000.01 = deposit 100 + 300.00 + 300.00 + 300.01, weekly, auto-collected.
select public.order_create_installments(:'shop', format('[{"product_id": "%s", "quantity": 1}]', :'lamp')::jsonb, null, null, 'o-a',
  '{"deposit": "100.00", "count": 3, "interval": "week", "auto_collect": true}') as placed \gset
select (:'placed'::jsonb) -> 'installment' ->> 'id' as plan_a, (:'placed'::jsonb) ->> 'id' as order_a,
       (:'placed'::jsonb) -> 'payment_intent' ->> 'id' as deposit_a \gset
select is((:'placed'::jsonb) ->> 'status', 'pending_payment', 'the order waits for its plan');
select is((:'placed'::jsonb) -> 'installment' -> 'schedule', jsonb_build_array(
  (:'placed'::jsonb) -> 'installment' -> 'schedule' -> 0, (:'placed'::jsonb) -> 'installment' -> 'schedule' -> 1,
  (:'placed'::jsonb) -> 'installment' -> 'schedule' -> 2, (:'placed'::jsonb) -> 'installment' -> 'schedule' -> 3),
  'the plan carries its four schedule rows');
select is((select jsonb_agg(amount::text order by seq) from public.installment_schedule where installment_id = :'plan_a'),
  '["100.0000", "300.0000", "300.0000", "300.0100"]'::jsonb, 'the deposit, then two equal parts and the last with the remainder');
select is((:'placed'::jsonb) -> 'payment_intent' ->> 'amount', '100.0000', 'the deposit intent asks for the deposit');
select ok((:'placed'::jsonb) -> 'payment_intent' ->> 'client_secret' is not null, 'the deposit intent''s secret is shown once');
select is((select payee_wallet_id from public.payment_intents where id = :'deposit_a'), :'escrow'::uuid,
  'the deposit is paid into the escrow system wallet');
select is((select transaction_type::text from public.payment_intents where id = :'deposit_a'), 'escrow_funding',
  'as escrow_funding (never priced)');
select is((select stock from public.products where id = :'lamp'), 4, 'the lamp is reserved for the plan');
select is(public.order_create_installments(:'shop', format('[{"product_id": "%s", "quantity": 1}]', :'lamp')::jsonb, null, null, 'o-a',
  '{"deposit": "100.00", "count": 3, "interval": "week", "auto_collect": true}') -> 'installment' ->> 'id', :'plan_a',
  'the same request returns the same plan');
select is((select stock from public.products where id = :'lamp'), 4, 'and reserves nothing more');
select throws_ok(format($$select public.order_create('%s', '[{"product_id": "%s", "quantity": 1}]', null, null, 'o-a')$$, :'shop', :'lamp'),
  'P0001', 'order_has_installment_plan', 'the plan''s order never gets a payment intent of its own');

-- RLS: the customer and the merchant read the plan and its schedule; nobody else.
select is((select count(*)::int from public.installments), 1, 'the customer reads its plan');
select is((select count(*)::int from public.installment_schedule), 4, 'and its schedule');
select pg_temp.act_as(:'duka');
select is((select count(*)::int from public.installments), 1, 'the shop''s merchant reads the plan');
select is((select count(*)::int from public.installment_schedule), 4, 'and its schedule');
select pg_temp.act_as(:'other');
select is((select count(*)::int from public.installments), 0, 'another user sees no plan');
select is((select count(*)::int from public.installment_schedule), 0, 'and no schedule');
select throws_ok(format($$select public.installment_pay('%s', null, null, 'x')$$, :'plan_a'),
  'P0001', 'installment_not_found', 'another user cannot pay the plan');
select throws_ok(format($$select public.installment_cancel('%s')$$, :'plan_a'),
  'P0001', 'installment_not_found', 'or cancel it');
select pg_temp.act_as_anon();
select throws_ok('select count(*) from public.installments', '42501', null, 'anon reads no plans');
select throws_ok('select count(*) from public.installment_schedule', '42501', null, 'nor schedules');
select throws_ok(format($$select public.installment_cancel('%s')$$, :'plan_a'), '42501', null, 'anon cannot cancel');
select throws_ok(format($$select public.installment_pay('%s', null, null, 'x')$$, :'plan_a'), '42501', null, 'anon cannot pay');
select is((select count(*)::int from public.shop_installment_settings where shop_id = :'shop'), 1,
  'anon reads an active shop''s plan policy (a storefront shows it)');
select pg_temp.act_as(:'duka');
select throws_ok(format($$select public.installment_pay('%s', null, null, 'x')$$, :'plan_a'),
  'P0001', 'installment_not_found', 'the merchant cannot pay its customer''s plan');
select pg_temp.act_as_service_role();
select is((select count(*)::int from public.installments), 1, 'service_role reads every plan');
select throws_ok($$update public.installments set amount_paid = 0$$, '42501', null, 'nobody writes plans directly');
reset role;

-- The deposit, paid from the customer's wallet.
select pg_temp.as_user(:'amina', format($$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "100.00"}]')$$,
  :'deposit_a', :'amina_wallet')) ->> 'status' as deposit_status \gset
select is(:'deposit_status'::text, 'succeeded', 'the deposit intent succeeds');
select is((select status from public.installment_schedule where installment_id = :'plan_a' and seq = 0), 'paid', 'the deposit row is paid');
select is((select amount_paid from public.installments where id = :'plan_a'), 100::numeric, 'the plan has 100 paid');
select is(hazina.installment_escrow_held(:'plan_a'), 100::numeric, 'held in escrow for the plan');
select is((select status from public.orders where id = :'order_a'), 'pending_payment', 'the order is not paid before the plan is');
select is(pg_temp.balance(:'duka_wallet'), 0::numeric, 'the merchant has received nothing yet');

-- The merchant cannot refund a plan's payment behind the plan's back.
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.payment_refund_create(''%s'', 50, null, ''r-1'')')$$,
  :'duka', :'deposit_a'), 'P0001', 'installment_refund_not_allowed', 'a plan''s payments are refunded only through the plan');

-- Reminders: a day before row 1 falls due, once.
select hazina.clock_travel(interval '6 days 1 hour');
select is(jsonb_array_length(hazina.installment_claim_reminders(100) -> 'reminders'), 1, 'a reminder is due a day before row 1');
select is(jsonb_array_length(hazina.installment_claim_reminders(100) -> 'reminders'), 0, 'and is claimed once');
select is((select count(*)::int from public.events where object_id = :'plan_a' and type = 'installment.due_soon'), 1,
  'installment.due_soon is written');

-- Row 1 falls due: auto-collected from the wallet, exactly once.
select hazina.clock_travel(interval '1 day');
select is((hazina.job_installments_due(100) ->> 'processed')::int, 1, 'the job collects row 1');
select is((select status from public.installment_schedule where installment_id = :'plan_a' and seq = 1), 'paid', 'row 1 is paid');
select is(pg_temp.balance(:'amina_wallet'), 300::numeric, 'the customer paid 300 (700 - 100 - 300)');
select is((hazina.job_installments_due(100) ->> 'processed')::int, 0, 'a second pass finds nothing to do');
select is(pg_temp.balance(:'amina_wallet'), 300::numeric, 'and collects nothing twice');

-- Row 2: the wallet cannot cover it. The row turns late; nothing is overdrawn.
select hazina.post_transaction('test:drain', 'p2p_transfer', jsonb_build_array(
  jsonb_build_object('wallet_id', :'amina_wallet', 'direction', 'debit', 'amount', '250'),
  jsonb_build_object('wallet_id', :'other_wallet', 'direction', 'credit', 'amount', '250')));
select hazina.clock_travel(interval '7 days');
select is((hazina.job_installments_due(100) ->> 'processed')::int, 1, 'the job tries row 2');
select is((select status from public.installment_schedule where installment_id = :'plan_a' and seq = 2), 'late',
  'an unaffordable collection leaves the row late');
select is(pg_temp.balance(:'amina_wallet'), 50::numeric, 'the wallet is untouched (never overdrawn)');
select is((select status from public.payment_intents where client_ref = 'installment:' || :'plan_a' || ':collect:2'), 'canceled',
  'the failed collection''s intent is canceled');
select is((select late_fee from public.installment_schedule where installment_id = :'plan_a' and seq = 2), 0::numeric,
  'no late fee inside the grace period');

-- Past the grace period: the late fee (5% of 300 = 15, at least 50) is charged once.
select hazina.clock_travel(interval '3 days');
select hazina.job_installments_due(100);
select is((select late_fee from public.installment_schedule where installment_id = :'plan_a' and seq = 2), 50::numeric,
  'the catalog''s late fee is charged on the missed row');
select is((select (late_fees, missed_count)::text from public.installments where id = :'plan_a'), '(50.0000,1)',
  'the plan counts one missed payment and its fee');
select hazina.job_installments_due(100);
select hazina.clock_travel(interval '1 day');
select hazina.job_installments_due(100);
select is((select late_fees from public.installments where id = :'plan_a'), 50::numeric, 'the fee is charged once');
select is((select count(*)::int from public.events where object_id = :'plan_a' and type = 'installment.missed'), 1,
  'installment.missed is written once');

-- Waivers: only the merchant.
select pg_temp.act_as(:'amina');
select throws_ok(format($$select public.installment_waive('%s', 2, 'late_fee')$$, :'plan_a'),
  'P0001', 'forbidden', 'the customer cannot waive');
reset role;

-- The customer pays what is due (350 = 300 + the fee) with a fresh top-up.
select pg_temp.fund(:'amina_wallet', 1000);
select pg_temp.as_user(:'amina', format($$select public.installment_pay('%s', null, '%s', 'pay-1')$$, :'plan_a', :'amina_wallet')) as paid \gset
select is((:'paid'::jsonb) -> 'payment_intent' ->> 'amount', '350.0000', 'paying with no amount pays what is due now');
select is((select status from public.installment_schedule where installment_id = :'plan_a' and seq = 2), 'paid',
  'the late row is paid with its fee');
select is(pg_temp.as_user(:'amina', format($$select public.installment_pay('%s', null, '%s', 'pay-1')$$, :'plan_a', :'amina_wallet'))
  -> 'payment_intent' ->> 'id', (:'paid'::jsonb) -> 'payment_intent' ->> 'id', 'the same request returns the same payment');
select is(pg_temp.balance(:'amina_wallet'), 700::numeric, 'and pays once (50 + 1000 - 350)');
select pg_temp.act_as(:'amina');
select throws_ok(format($$select public.installment_pay('%s', 300.02, '%s', 'pay-2')$$, :'plan_a', :'amina_wallet'),
  'P0001', 'amount_exceeds_outstanding', 'a payment above the outstanding balance is refused');
reset role;

-- Early payoff of the rest (300.01) completes the plan: the merchant is paid, the order too.
select pg_temp.as_user(:'amina', format($$select public.installment_pay('%s', 300.01, '%s', 'pay-3')$$, :'plan_a', :'amina_wallet'));
select is((select status from public.installments where id = :'plan_a'), 'completed', 'the plan completes');
select is((select amount_paid from public.installments where id = :'plan_a'), 1050.01::numeric, 'it was paid 1000.01 + 50 late fee');
select is(pg_temp.balance(:'duka_wallet'),
  1050.01 - (hazina.fee_quote('escrow_release', 1050.01, 'KES', :'duka'::uuid)).fee,
  'the merchant receives all of it, less the escrow_release fee');
select is(hazina.installment_escrow_held(:'plan_a'), 0::numeric, 'nothing of the plan stays in escrow');
select is((select (status, amount_paid)::text from public.orders where id = :'order_a'), '(paid,1000.0100)',
  'the order is paid (its price; the late fee is not part of it)');
select is((select count(*)::int from public.events where object_id = :'plan_a' and type = 'installment.completed'), 1,
  'installment.completed is written');
select pg_temp.act_as(:'amina');
select throws_ok(format($$select public.installment_pay('%s', 1, '%s', 'pay-4')$$, :'plan_a', :'amina_wallet'),
  'P0001', 'installment_not_active', 'a completed plan takes no more payments');
reset role;
select * from pg_temp.books_balance('the books reconcile after a completed plan');
select pg_temp.fund(:'amina_wallet', 0.01);

-- A suspended shop's policy is its merchant's alone.
select pg_temp.as_user(:'duka', format($$select public.shop_update('%s', '{"status": "suspended"}')$$, :'shop'));
select pg_temp.act_as_anon();
select is((select count(*)::int from public.shop_installment_settings where shop_id = :'shop'), 0,
  'anon does not see a suspended shop''s policy');
select pg_temp.act_as(:'other');
select is((select count(*)::int from public.shop_installment_settings where shop_id = :'shop'), 0, 'nor does another user');
select pg_temp.act_as(:'duka');
select is((select count(*)::int from public.shop_installment_settings where shop_id = :'shop'), 1, 'its merchant does');
reset role;
select pg_temp.as_user(:'duka', format($$select public.shop_update('%s', '{"status": "active"}')$$, :'shop'));

-- Plan B: a default. Manual payments, the deposit paid, then two missed payments.
select hazina.clock_travel(null, true);
select pg_temp.as_user(:'amina', format($$select public.order_create_installments('%s', '[{"product_id": "%s", "quantity": 2}]', null, null, 'o-b',
  '{"deposit": "200.00", "count": 4, "interval": "day"}')$$, :'shop', :'lamp')) as placed_b \gset
select (:'placed_b'::jsonb) -> 'installment' ->> 'id' as plan_b, (:'placed_b'::jsonb) ->> 'id' as order_b,
       (:'placed_b'::jsonb) -> 'payment_intent' ->> 'id' as deposit_b \gset
select is((select stock from public.products where id = :'lamp'), 2, 'plan B reserves two lamps');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.order_cancel(''%s'')')$$, :'amina', :'order_b'),
  'P0001', 'order_has_installment_plan', 'the order of an active plan is canceled through its plan only');
select pg_temp.as_user(:'amina', format($$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "200.00"}]')$$,
  :'deposit_b', :'amina_wallet'));
select pg_temp.as_user(:'amina', format($$select public.installment_pay('%s', 100, '%s', 'b-1')$$, :'plan_b', :'amina_wallet'));
select is((select amount_paid from public.installment_schedule where installment_id = :'plan_b' and seq = 1), 100::numeric,
  'a partial payment covers part of the oldest row');
select is(pg_temp.balance(:'amina_wallet'), 100::numeric, 'the customer has paid 300 into plan B');
select hazina.clock_travel(interval '1 day 1 minute');
select hazina.job_installments_due(100);
select is((select status from public.installment_schedule where installment_id = :'plan_b' and seq = 1), 'late',
  'an unpaid row turns late on its due date');
select hazina.clock_travel(interval '4 days');
select hazina.job_installments_due(100);
select is((select status from public.installments where id = :'plan_b'), 'defaulted', 'two missed payments default the plan');
-- Paid 300; the fee is 10% of it (30, under the platform's 15% bound); 270 comes back.
select is((select (cancellation_fee, amount_refunded)::text from public.installments where id = :'plan_b'), '(30.0000,270.0000)',
  'the refund is what was paid less the cancellation fee');
select is(pg_temp.balance(:'amina_wallet'), 370::numeric, 'the customer has the refund');
select is((select status from public.orders where id = :'order_b'), 'canceled', 'the order is canceled');
select is((select stock from public.products where id = :'lamp'), 4, 'its stock is released');
select is((select count(*)::int from public.events where object_id = :'plan_b' and type = 'installment.defaulted'), 1,
  'installment.defaulted is written');
select is(hazina.installment_escrow_held(:'plan_b'), 0::numeric, 'nothing of plan B stays in escrow');
select * from pg_temp.books_balance('the books reconcile after a default');

-- Plan C: the customer cancels; the shop's 20% fee is bounded by the platform's 15%.
select hazina.clock_travel(null, true);
select pg_temp.as_user(:'duka', format($$select public.shop_installment_settings_set('%s', '{"cancellation_fee_bps": 2000}')$$, :'shop'));
select pg_temp.as_user(:'amina', format($$select public.order_create_installments('%s', '[{"product_id": "%s", "quantity": 1}]', null, null, 'o-c',
  '{"deposit": "100.00", "count": 2, "interval": "month"}')$$, :'shop', :'lamp')) as placed_c \gset
select (:'placed_c'::jsonb) -> 'installment' ->> 'id' as plan_c, (:'placed_c'::jsonb) -> 'payment_intent' ->> 'id' as deposit_c \gset
select pg_temp.as_user(:'amina', format($$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "100.00"}]')$$,
  :'deposit_c', :'amina_wallet'));
select pg_temp.as_user(:'amina', format($$select public.installment_cancel('%s')$$, :'plan_c')) as canceled_c \gset
select is((:'canceled_c'::jsonb) ->> 'status', 'canceled', 'the customer cancels the plan');
select is((:'canceled_c'::jsonb) ->> 'cancellation_fee', '15.0000', 'the fee is bounded by the platform''s 15% of what was paid');
select is(pg_temp.balance(:'amina_wallet'), 355::numeric, '85 comes back');
select is(pg_temp.as_user(:'amina', format($$select public.installment_cancel('%s')$$, :'plan_c')) ->> 'status', 'canceled',
  'canceling again changes nothing');
select is(pg_temp.balance(:'amina_wallet'), 355::numeric, 'and refunds nothing twice');

-- Plan D: the merchant cancels: a full refund.
select pg_temp.as_user(:'amina', format($$select public.order_create_installments('%s', '[{"product_id": "%s", "quantity": 1}]', null, null, 'o-d',
  '{"deposit": "100.00", "count": 2, "interval": "week"}')$$, :'shop', :'lamp')) as placed_d \gset
select (:'placed_d'::jsonb) -> 'installment' ->> 'id' as plan_d, (:'placed_d'::jsonb) -> 'payment_intent' ->> 'id' as deposit_d \gset
select pg_temp.as_user(:'amina', format($$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "100.00"}]')$$,
  :'deposit_d', :'amina_wallet'));
select is(pg_temp.as_user(:'duka', format($$select public.installment_cancel('%s')$$, :'plan_d')) ->> 'cancellation_fee', '0.0000',
  'a merchant''s cancel charges no fee');
select is(pg_temp.balance(:'amina_wallet'), 355::numeric, 'the customer has all of it back');

-- Plan E: two payments race for the last row; the second's money goes straight back.
select pg_temp.fund(:'amina_wallet', 1000);
select pg_temp.as_user(:'amina', format($$select public.order_create_installments('%s', '[{"product_id": "%s", "quantity": 1}]', null, null, 'o-e',
  '{"deposit": "100.00", "count": 1, "interval": "week"}')$$, :'shop', :'lamp')) as placed_e \gset
select (:'placed_e'::jsonb) -> 'installment' ->> 'id' as plan_e, (:'placed_e'::jsonb) -> 'payment_intent' ->> 'id' as deposit_e \gset
select pg_temp.as_user(:'amina', format($$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "100.00"}]')$$,
  :'deposit_e', :'amina_wallet'));
select pg_temp.as_user(:'amina', format($$select public.installment_pay('%s', 900.01, null, 'e-1')$$, :'plan_e')) -> 'payment_intent' ->> 'id' as pay_e1 \gset
select pg_temp.as_user(:'amina', format($$select public.installment_pay('%s', 900.01, null, 'e-2')$$, :'plan_e')) -> 'payment_intent' ->> 'id' as pay_e2 \gset
select pg_temp.as_user(:'amina', format($$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "900.01"}]')$$,
  :'pay_e1', :'amina_wallet'));
select is((select status from public.installments where id = :'plan_e'), 'completed', 'the first payment completes plan E');
select is((select status from public.payment_intents where id = :'pay_e2'), 'canceled', 'and cancels the plan''s other open intent');

-- Plan G: the merchant waives rows; the deposit intent of plan H expires unpaid.
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.order_create_installments(''%s'', ''[{"product_id": "%s", "quantity": 1}]'', null, null, ''o-f2'', ''{"deposit": "100.00", "count": 2, "interval": "week"}'')')$$,
  :'amina', :'shop2', :'radio'), 'P0001', 'installments_not_allowed', 'the second shop sells no plans');
select pg_temp.as_user(:'amina', format($$select public.order_create_installments('%s', '[{"product_id": "%s", "quantity": 1}]', null, null, 'o-g',
  '{"deposit": "100.00", "count": 2, "interval": "week"}')$$, :'shop', :'lamp')) as placed_g \gset
select (:'placed_g'::jsonb) -> 'installment' ->> 'id' as plan_g, (:'placed_g'::jsonb) -> 'payment_intent' ->> 'id' as deposit_g,
       (:'placed_g'::jsonb) ->> 'id' as order_g \gset
select pg_temp.as_user(:'amina', format($$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "100.00"}]')$$,
  :'deposit_g', :'amina_wallet'));
select is(pg_temp.as_user(:'duka', format($$select public.installment_waive('%s', 1, 'payment')$$, :'plan_g')) -> 'schedule' -> 1 ->> 'status',
  'waived', 'the merchant waives row 1');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.installment_waive(''%s'', 0, ''payment'')')$$, :'duka', :'plan_g'),
  'P0001', 'installment_row_not_waivable', 'a paid row cannot be waived');
select is(pg_temp.as_user(:'duka', format($$select public.installment_waive('%s', 2, 'payment')$$, :'plan_g')) ->> 'status',
  'completed', 'waiving the last row completes the plan');
select is((select amount_waived from public.installments where id = :'plan_g'), 900.01::numeric, 'with 900.01 forgiven');

select pg_temp.as_user(:'amina', format($$select public.order_create_installments('%s', '[{"product_id": "%s", "quantity": 1}]', null, null, 'o-h',
  '{"deposit": "100.00", "count": 2, "interval": "week"}')$$, :'shop', :'lamp')) as placed_h \gset
select (:'placed_h'::jsonb) -> 'installment' ->> 'id' as plan_h, (:'placed_h'::jsonb) -> 'payment_intent' ->> 'id' as deposit_h,
       (:'placed_h'::jsonb) ->> 'id' as order_h \gset
select hazina.clock_travel(interval '8 days');
select hazina.job_installments_due(100);
select is((select status from public.installment_schedule where installment_id = :'plan_h' and seq = 1), 'pending',
  'nothing falls due before the deposit is paid');
select hazina.clock_travel(null, true);
select hazina.payment_intent_cancel(:'deposit_h', null, 'expired');
select is((select status from public.installments where id = :'plan_h'), 'canceled', 'an expired deposit intent cancels the plan');
select is((select status from public.orders where id = :'order_h'), 'canceled', 'and its order');
select is((select count(*)::int from public.events where object_id = :'plan_h' and type = 'installment.canceled'), 1,
  'one installment.canceled event');

-- Plan I: an escrowed order. On completion the plan's money becomes the order's goods
-- escrow; the buyer's confirmation releases it to the merchant.
select pg_temp.fund(:'amina_wallet', 1000);
select pg_temp.as_user(:'amina', format($$select public.order_create_installments('%s', '[{"product_id": "%s", "quantity": 1}]', true, null, 'o-i',
  '{"deposit": "100.00", "count": 2, "interval": "week"}')$$, :'shop', :'lamp')) as placed_i \gset
select (:'placed_i'::jsonb) -> 'installment' ->> 'id' as plan_i, (:'placed_i'::jsonb) -> 'payment_intent' ->> 'id' as deposit_i,
       (:'placed_i'::jsonb) ->> 'id' as order_i \gset
select pg_temp.as_user(:'amina', format($$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "100.00"}]')$$,
  :'deposit_i', :'amina_wallet'));
select pg_temp.balance(:'duka_wallet') as duka_before \gset
select pg_temp.as_user(:'amina', format($$select public.installment_pay('%s', 900.01, '%s', 'i-1')$$, :'plan_i', :'amina_wallet'));
select is((select (status, amount)::text from public.goods_escrows where order_id = :'order_i'), '(funded,1000.0100)',
  'the completed plan funds the order''s goods escrow');
select is(pg_temp.balance(:'duka_wallet'), :'duka_before'::numeric, 'the merchant is not paid before the buyer has the goods');
select * from pg_temp.books_balance('the escrow wallet holds the goods escrow and the active plans');
select pg_temp.as_user(:'duka', format($$select public.order_dispatch('%s')$$, :'order_i'));
select pg_temp.as_user(:'amina', format($$select public.order_confirm_receipt('%s')$$, :'order_i'));
select is(pg_temp.balance(:'duka_wallet'),
  :'duka_before'::numeric + 1000.01 - (hazina.fee_quote('escrow_release', 1000.01, 'KES', :'duka'::uuid)).fee,
  'receipt releases it to the merchant');

-- Plans J (escrowed) and K (direct), each with a late fee: J pays it, K's is waived. The
-- order is paid its price either way; J's goods escrow holds the price and the merchant has
-- the late fee at once.
select pg_temp.fund(:'amina_wallet', 3000);
select pg_temp.as_user(:'duka', format($$select public.product_update('%s', '%s', '{"stock": 10}')$$, :'shop', :'lamp'));
select pg_temp.as_user(:'amina', format($$select public.order_create_installments('%s', '[{"product_id": "%s", "quantity": 1}]', true, null, 'o-j',
  '{"deposit": "100.00", "count": 2, "interval": "week"}')$$, :'shop', :'lamp')) as placed_j \gset
select pg_temp.as_user(:'amina', format($$select public.order_create_installments('%s', '[{"product_id": "%s", "quantity": 1}]', null, null, 'o-k',
  '{"deposit": "100.00", "count": 2, "interval": "week"}')$$, :'shop', :'lamp')) as placed_k \gset
select (:'placed_j'::jsonb) -> 'installment' ->> 'id' as plan_j, (:'placed_j'::jsonb) ->> 'id' as order_j,
       (:'placed_k'::jsonb) -> 'installment' ->> 'id' as plan_k, (:'placed_k'::jsonb) ->> 'id' as order_k \gset
select pg_temp.as_user(:'amina', format($$select public.installment_pay('%s', null, '%s', 'j-0')$$, :'plan_j', :'amina_wallet'));
select pg_temp.as_user(:'amina', format($$select public.installment_pay('%s', null, '%s', 'k-0')$$, :'plan_k', :'amina_wallet'));
select hazina.clock_travel(interval '7 days 1 minute');
select hazina.job_installments_due(100);
select hazina.clock_travel(interval '3 days');
select hazina.job_installments_due(100);
select is((select count(*)::int from public.installment_schedule where installment_id in (:'plan_j', :'plan_k') and late_fee = 50), 2,
  'both plans were charged a late fee');
select pg_temp.as_user(:'duka', format($$select public.installment_waive('%s', 1, 'late_fee')$$, :'plan_k'));
select pg_temp.balance(:'duka_wallet') as duka_before_jk \gset
select is(pg_temp.as_user(:'amina', format($$select public.installment_pay('%s', 950.01, '%s', 'j-1')$$, :'plan_j', :'amina_wallet'))
  -> 'installment' ->> 'status', 'completed', 'J is paid off, its late fee included');
select is(pg_temp.as_user(:'amina', format($$select public.installment_pay('%s', 900.01, '%s', 'k-1')$$, :'plan_k', :'amina_wallet'))
  -> 'installment' ->> 'status', 'completed', 'K is paid off without its waived fee');
select is((select amount_paid from public.orders where id = :'order_j'), 1000.01::numeric, 'J''s order is paid its price');
select is((select amount_paid from public.orders where id = :'order_k'), 1000.01::numeric,
  'K''s order is paid its price too (a waived late fee is not a discount on the goods)');
select is((select amount from public.goods_escrows where order_id = :'order_j'), 1000.01::numeric,
  'J''s goods escrow holds the price');
select is(pg_temp.balance(:'duka_wallet'), :'duka_before_jk'::numeric
  + 50 - (hazina.fee_quote('escrow_release', 50, 'KES', :'duka'::uuid)).fee
  + 1000.01 - (hazina.fee_quote('escrow_release', 1000.01, 'KES', :'duka'::uuid)).fee,
  'the merchant has J''s late fee now and K''s price; J''s price waits in escrow');
select hazina.clock_travel(null, true);

select is((select count(*)::int from hazina.reconcile() where check_name like 'installment%'), 0, 'every plan reconciles');
select * from pg_temp.books_balance('the books reconcile at the end');
select hazina.clock_travel(null, true);

select * from finish();
rollback;
