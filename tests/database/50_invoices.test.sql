-- Invoices: drafts with SQL-computed totals (the rounding rule with awkward numbers), edits
-- and deletes of drafts only, finalisation with the merchant's own numbers and prefix,
-- paying through intents (the addressed customer, the pay link), overpayment refused,
-- refunds reopening, void / uncollectible, the overdue job (exactly once), events, and what
-- the merchant, the customer, another user, anon and service_role see and may do.
begin;
select plan(90);

\ir helpers.psql

select pg_temp.user_create('merchant', '43000000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('customer', '43000000-0000-4000-8000-00000000000b') as amina \gset
select pg_temp.user_create('customer', '43000000-0000-4000-8000-00000000000c') as other \gset
select pg_temp.wallet_open(:'duka') as duka_wallet \gset
select pg_temp.wallet_open(:'amina') as amina_wallet \gset
select pg_temp.wallet_open(:'other') as other_wallet \gset
select pg_temp.fund(:'amina_wallet', 2000);
select pg_temp.fund(:'other_wallet', 100);
insert into public.billing_fee_catalog (transaction_type, percentage_bps) values ('payment_intent', 150);

-- Drafts: totals computed here, per line, half away from zero to the currency's cents.
select pg_temp.act_as(:'amina');
select throws_ok($$select public.invoice_create('{"customer_email": "a@example.com"}', 'inv-0000')$$,
  'P0001', 'merchant_wallet_required', 'only a merchant (with a wallet in the currency) invoices');
select pg_temp.act_as(:'duka');
select public.invoice_create(format($${"customer_id": "%s", "customer_name": "Amina", "memo": "October supplies",
  "items": [{"description": "Flour", "quantity": "0.333", "unit_amount": "33.3333", "tax_rate": 1600},
            {"description": "Sugar", "quantity": "3", "unit_amount": "100.005", "tax_rate": 1600},
            {"description": "Salt", "quantity": "1", "unit_amount": "0.05", "tax_rate": 1000}]}$$, :'amina')::jsonb,
  'inv-0001') as created \gset
select (:'created'::jsonb) ->> 'id' as inv1 \gset
select is((:'created'::jsonb) -> 'items' -> 0 ->> 'subtotal', '11.1000', '0.333 × 33.3333 = 11.0999889 → 11.10');
select is((:'created'::jsonb) -> 'items' -> 0 ->> 'tax', '1.7800', '16% of 11.10 = 1.776 → 1.78');
select is((:'created'::jsonb) -> 'items' -> 1 ->> 'subtotal', '300.0200', '3 × 100.005 = 300.015 → 300.02 (half away from zero)');
select is((:'created'::jsonb) -> 'items' -> 1 ->> 'tax', '48.0000', '16% of 300.02 = 48.0032 → 48.00');
select is((:'created'::jsonb) -> 'items' -> 2 ->> 'tax', '0.0100', '10% of 0.05 = 0.005 → 0.01 (half away from zero, not to even)');
select is(array[(:'created'::jsonb) ->> 'subtotal', (:'created'::jsonb) ->> 'tax', (:'created'::jsonb) ->> 'total',
                (:'created'::jsonb) ->> 'amount_due'],
  array['311.1700', '49.7900', '360.9600', '360.9600'], 'the invoice''s totals are the sums of its lines');
select is(array[(:'created'::jsonb) ->> 'status', coalesce((:'created'::jsonb) ->> 'number', '-'), coalesce((:'created'::jsonb) ->> 'pay_token', '-')],
  array['draft', '-', '-'], 'a draft has no number and no pay link');
select is(public.invoice_create(format($${"customer_id": "%s", "customer_name": "Amina", "memo": "October supplies",
  "items": [{"description": "Flour", "quantity": "0.333", "unit_amount": "33.3333", "tax_rate": 1600},
            {"description": "Sugar", "quantity": "3", "unit_amount": "100.005", "tax_rate": 1600},
            {"description": "Salt", "quantity": "1", "unit_amount": "0.05", "tax_rate": 1000}]}$$, :'amina')::jsonb,
  'inv-0001') ->> 'created', 'false', 'the same Idempotency-Key returns the same draft');
select throws_ok($$select public.invoice_create('{"customer_email": "b@example.com"}', 'inv-0001')$$,
  'P0001', 'ref_conflict', 'the same key for another invoice is a conflict');
select throws_ok($$select public.invoice_create('{"memo": "nobody"}', 'inv-0002')$$,
  'P0001', 'invalid_argument', 'an invoice is addressed to someone');
select throws_ok($$select public.invoice_create('{"customer_email": "b@example.com", "items": [{"description": "x", "quantity": "0", "unit_amount": "1"}]}', 'inv-0003')$$,
  'P0001', 'invalid_argument', 'a quantity must be positive');
select throws_ok($$select public.invoice_create('{"customer_email": "b@example.com", "items": [{"description": "x", "quantity": "1", "unit_amount": 1}]}', 'inv-0004')$$,
  'P0001', 'invalid_argument', 'amounts are decimal strings');
select throws_ok($$select public.invoice_create('{"customer_email": "b@example.com", "items": [{"description": "x", "quantity": "1", "unit_amount": "1", "tax_rate": 10001}]}', 'inv-0005')$$,
  'P0001', 'invalid_argument', 'a tax rate is at most 10000 basis points');
select throws_ok($$select public.invoice_create('{"customer_id": "43000000-0000-4000-8000-0000000000ff"}', 'inv-0006')$$,
  'P0001', 'customer_not_found', 'a customer id must be a user');
select throws_ok($$select public.invoice_create('{"customer_email": "b@example.com", "currency": "XYZ"}', 'inv-0007')$$,
  'P0001', 'currency_not_supported', 'a known currency');
select throws_ok($$select public.invoice_create('{"customer_email": "b@example.com", "colour": "red"}', 'inv-0008')$$,
  'P0001', 'invalid_argument', 'unknown fields are refused');

-- Who sees a draft: only its merchant.
select pg_temp.act_as(:'amina');
select is((select count(*)::int from public.invoices where id = :'inv1'), 0, 'the customer does not see a draft');
select pg_temp.act_as(:'other');
select is((select count(*)::int from public.invoices), 0, 'another user sees no invoice');
select throws_ok(format($$select public.invoice_update('%s', '{"memo": "mine"}')$$, :'inv1'), 'P0001', 'invoice_not_found',
  'another user cannot edit it');
select throws_ok(format($$select public.invoice_finalize('%s')$$, :'inv1'), 'P0001', 'invoice_not_found',
  'nor finalise it');
select pg_temp.act_as(:'duka');
select is(public.invoice_update(:'inv1', '{"due_date": "2026-12-31", "items": [{"description": "Flour", "quantity": "0.333", "unit_amount": "33.3333", "tax_rate": 1600}, {"description": "Sugar", "quantity": "3", "unit_amount": "100.005", "tax_rate": 1600}]}') ->> 'total',
  '360.9000', 'an edit replaces the items and recomputes the totals');
select is(public.invoice_update(:'inv1', '{"items": [{"description": "Flour", "quantity": "0.333", "unit_amount": "33.3333", "tax_rate": 1600}, {"description": "Sugar", "quantity": "3", "unit_amount": "100.005", "tax_rate": 1600}, {"description": "Salt", "quantity": "1", "unit_amount": "0.05", "tax_rate": 1000}]}') ->> 'due_date',
  '2026-12-31', 'fields not named keep their values');

-- Finalise: the merchant's first number, the pay link, payable.
select throws_ok($$select public.invoice_finalize((public.invoice_create('{"customer_email": "e@example.com"}', 'inv-empty') ->> 'id')::uuid)$$,
  'P0001', 'invoice_empty', 'an invoice with nothing to pay cannot be finalised');
select public.invoice_finalize(:'inv1') as finalized \gset
select is(array[(:'finalized'::jsonb) ->> 'status', (:'finalized'::jsonb) ->> 'number', (:'finalized'::jsonb) ->> 'amount_due'],
  array['open', 'INV-000001', '360.9600'], 'finalised: open, numbered INV-000001, the total due');
select ok((:'finalized'::jsonb) ->> 'pay_token' ~ '^inv_[0-9a-f]{48}$', 'with a pay link''s secret token');
select (:'finalized'::jsonb) ->> 'pay_token' as token1 \gset
select throws_ok(format($$select public.invoice_update('%s', '{"memo": "late"}')$$, :'inv1'), 'P0001', 'invoice_not_draft',
  'a finalised invoice cannot be edited');
select throws_ok(format($$select public.invoice_delete('%s')$$, :'inv1'), 'P0001', 'invoice_not_draft',
  'nor deleted');
select throws_ok(format($$select public.invoice_finalize('%s')$$, :'inv1'), 'P0001', 'invoice_not_draft',
  'nor finalised twice');
select is((public.invoice_settings() ->> 'next_number')::int, 2, 'the merchant''s counter moved on by one');

-- Now the addressed customer reads it (directly, as supabase-js would), and nobody else.
select pg_temp.act_as(:'amina');
select is((select array[number, status] from public.invoices where id = :'inv1'), array['INV-000001', 'open'],
  'the addressed customer reads the open invoice');
select is((select count(*)::int from public.invoice_items where invoice_id = :'inv1'), 3, 'and its items');
select throws_ok(format($$select public.invoice_void('%s')$$, :'inv1'), 'P0001', 'invoice_not_found',
  'the customer cannot void it');
select is((select count(*)::int from public.invoice_sequences), 0, 'nor read the merchant''s numbering');
select pg_temp.act_as(:'other');
select is((select count(*)::int from public.invoice_items), 0, 'another user reads no items');
select throws_ok(format($$select public.invoice_pay('%s')$$, :'inv1'), 'P0001', 'invoice_not_found',
  'another user cannot pay it as its customer');
select pg_temp.act_as_anon();
select throws_ok($$select count(*) from public.invoices$$, '42501', null, 'anon reads nothing');
select throws_ok(format($$select public.invoice_pay('%s')$$, :'inv1'), '42501', null, 'anon cannot pay as a customer');
select throws_ok($$select public.invoice_create('{"customer_email": "x@example.com"}', 'anon-1')$$, '42501', null,
  'anon cannot draft');
reset role;
select pg_temp.act_as(:'duka');
select throws_ok(format($$update public.invoices set total = 1 where id = '%s'$$, :'inv1'), '42501', null,
  'not even the merchant writes the table directly');
select throws_ok(format($$insert into public.invoice_items (invoice_id, position, description, quantity, unit_amount, subtotal, tax, total)
  values ('%s', 9, 'free', 1, 0, 0, 0, 0)$$, :'inv1'), '42501', null, 'nor its items');
reset role;
select pg_temp.act_as_service_role();
select is((select count(*)::int from public.invoices where id = :'inv1'), 1, 'service_role reads every invoice');
select throws_ok($$select public.invoice_create('{"customer_email": "x@example.com"}', 'svc-1')$$, '42501', null,
  'service_role has no caller to draft for: the public functions are for signed-in users');
reset role;

-- Paying through an intent.
select pg_temp.act_as(:'amina');
select throws_ok(format($$select public.invoice_pay('%s', 400)$$, :'inv1'), 'P0001', 'amount_exceeds_due',
  'never more than is due');
select throws_ok(format($$select public.invoice_pay('%s', 100)$$, :'inv1'), 'P0001', 'partial_payment_not_allowed',
  'a part only when the invoice allows it');
select public.invoice_pay(:'inv1') as intent \gset
select (:'intent'::jsonb) ->> 'id' as pi1 \gset
select is(array[(:'intent'::jsonb) ->> 'amount', (:'intent'::jsonb) ->> 'subject_type', (:'intent'::jsonb) ->> 'subject_id',
                (:'intent'::jsonb) ->> 'customer_id', (:'intent'::jsonb) ->> 'created'],
  array['360.9600', 'invoice', :'inv1', :'amina', 'true'], 'pay opens an intent for the amount due, for the customer');
select is(public.invoice_pay(:'inv1') ->> 'id', :'pi1', 'asking again returns the same intent');
select is(public.payment_intent_confirm(:'pi1', format('[{"type": "wallet", "wallet_id": "%s", "amount": "360.96"}]', :'amina_wallet')::jsonb)
  ->> 'status', 'succeeded', 'the customer confirms it from the wallet');
select is((select array[status, amount_paid::text, amount_due::text] from public.invoices where id = :'inv1'),
  array['paid', '360.9600', '0.0000'], 'the invoice is paid');
select throws_ok(format($$select public.invoice_pay('%s')$$, :'inv1'), 'P0001', 'invoice_not_payable',
  'a paid invoice cannot be paid again');
reset role;
select is(pg_temp.balance(:'amina_wallet'), 1639.0400::numeric, 'the customer paid the total');
select is(pg_temp.balance(:'duka_wallet'), 355.5500::numeric, 'the merchant received it less the intent fee (1.5% of 360.96 = 5.4144 → 5.41)');

-- A refund gives the payment back to the invoice: open again, that much due.
select pg_temp.act_as(:'duka');
select throws_ok(format($$select public.invoice_void('%s')$$, :'inv1'), 'P0001', 'invoice_not_voidable',
  'a paid invoice cannot be voided');
select public.payment_refund_create(:'pi1', 60.96, 'short delivery', 'inv-refund-1');
select is((select array[status, amount_paid::text, amount_due::text, coalesce(paid_at::text, '-')] from public.invoices where id = :'inv1'),
  array['open', '300.0000', '60.9600', '-'], 'a refunded payment reopens the invoice with the refund due');
select throws_ok(format($$select public.invoice_void('%s')$$, :'inv1'), 'P0001', 'invoice_has_payments',
  'void only while nothing is paid');
select is(public.invoice_mark_uncollectible(:'inv1') ->> 'status', 'uncollectible', 'an open invoice can be marked uncollectible');
select is(public.invoice_mark_uncollectible(:'inv1') ->> 'status', 'uncollectible', 'marking it again changes nothing');
select pg_temp.act_as(:'amina');
select public.invoice_pay(:'inv1') ->> 'id' as pi2 \gset
select is(public.payment_intent_confirm(:'pi2', format('[{"type": "wallet", "wallet_id": "%s", "amount": "60.96"}]', :'amina_wallet')::jsonb)
  ->> 'status', 'succeeded', 'an uncollectible invoice can still be paid');
select is((select status from public.invoices where id = :'inv1'), 'paid', 'and is paid once nothing is due');
reset role;
select is(array(select type from public.events where object_id = :'inv1' order by type),
  array['invoice.created', 'invoice.finalized', 'invoice.marked_uncollectible', 'invoice.paid', 'invoice.paid',
        'invoice.payment_refunded', 'invoice.updated', 'invoice.updated'],
  'every transition wrote its event (one transaction here, so compared in name order)');

-- The merchant's prefix; a second invoice for someone without an account, paid by link.
select pg_temp.act_as(:'duka');
select is(public.invoice_settings_update('DUKA-') ->> 'number_prefix', 'DUKA-', 'the merchant sets its prefix');
select throws_ok($$select public.invoice_settings_update('no spaces')$$, 'P0001', 'invalid_argument', 'a prefix is a short code');
select public.invoice_create('{"customer_email": "Wanjiru@Example.com", "allow_partial_payment": true,
  "items": [{"description": "Consulting", "quantity": "1", "unit_amount": "100"}]}', 'inv-0010') ->> 'id' as inv2 \gset
select public.invoice_finalize(:'inv2') as fin2 \gset
select is(array[(:'fin2'::jsonb) ->> 'number', (:'fin2'::jsonb) #>> '{customer,email}'], array['DUKA-000002', 'wanjiru@example.com'],
  'the next number carries the new prefix; the count goes on');
select (:'fin2'::jsonb) ->> 'pay_token' as token2 \gset
reset role;
select is(hazina.invoice_pay_link_json(:'token2') ->> 'amount_due', '100.0000', 'the pay link shows what is due');
select ok(not (hazina.invoice_pay_link_json(:'token2') ? 'customer'), 'but not the customer''s contact details');
select throws_ok($$select hazina.invoice_pay_link_json('inv_000000000000000000000000000000000000000000000000')$$,
  'P0001', 'invoice_not_found', 'an unknown token finds nothing');
select hazina.invoice_pay(null, null, 30, :'token2') as guest1 \gset
select hazina.invoice_pay(null, null, 40, :'token2') as guest2 \gset
select is((select status || ':' || cancellation_reason from public.payment_intents where id = ((:'guest1'::jsonb) ->> 'id')::uuid),
  'canceled:replaced', 'a new pay request replaces the unconfirmed intent: one unpaid intent per invoice');
select ok((:'guest2'::jsonb) ->> 'client_secret' is not null and (:'guest2'::jsonb) ->> 'customer_id' is null,
  'a pay-link intent is for whoever holds its client_secret');
select pg_temp.act_as(:'other');
select is(public.payment_intent_confirm(((:'guest2'::jsonb) ->> 'id')::uuid, format('[{"type": "wallet", "wallet_id": "%s", "amount": "40"}]', :'other_wallet')::jsonb,
  (:'guest2'::jsonb) ->> 'client_secret') ->> 'status', 'succeeded', 'a signed-in payer with the secret pays part of it');
reset role;
select is((select array[status, amount_paid::text, amount_due::text] from public.invoices where id = :'inv2'),
  array['open', '40.0000', '60.0000'], 'partially paid: still open, the rest due');
select is((select type from public.events where object_id = :'inv2' order by created_at desc limit 1), 'invoice.partially_paid',
  'invoice.partially_paid');

-- Overpayment is impossible even for intents opened around pay: the trigger refuses.
select hazina.payment_intent_open(:'duka', 50, 'KES', 'automatic', :'amina', null, null, null, 'inv2-x1', 'invoice', :'inv2', null, null) ->> 'id' as x1 \gset
select hazina.payment_intent_open(:'duka', 50, 'KES', 'automatic', :'amina', null, null, null, 'inv2-x2', 'invoice', :'inv2', null, null) ->> 'id' as x2 \gset
select hazina.payment_intent_confirm(:'x1', :'amina', format('[{"type": "wallet", "wallet_id": "%s", "amount": "50"}]', :'amina_wallet')::jsonb);
select pg_temp.balance(:'amina_wallet') as amina_before \gset
select throws_ok(format($$select hazina.payment_intent_confirm('%s', '%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "50"}]')$$,
  :'x2', :'amina', :'amina_wallet'), 'P0001', 'invoice_overpayment', 'a payment above what is due is refused');
select is(pg_temp.balance(:'amina_wallet'), :'amina_before'::numeric, 'and nothing moved');
select is((select array[amount_paid::text, amount_due::text] from public.invoices where id = :'inv2'),
  array['90.0000', '10.0000'], 'the invoice counts only what was paid');

-- Void: nothing paid; its unpaid intent is canceled; its number stays used.
select pg_temp.act_as(:'duka');
select public.invoice_create('{"customer_phone": "+254712345678", "items": [{"description": "Rent", "quantity": "1", "unit_amount": "500"}]}', 'inv-0020') ->> 'id' as inv3 \gset
select public.invoice_finalize(:'inv3') ->> 'pay_token' as token3 \gset
reset role;
select hazina.invoice_pay(null, null, null, :'token3') ->> 'id' as pi3 \gset
select pg_temp.act_as(:'duka');
select is(public.invoice_void(:'inv3') ->> 'status', 'void', 'an unpaid invoice is voided');
select is(public.invoice_void(:'inv3') ->> 'status', 'void', 'voiding it again changes nothing');
select throws_ok(format($$select public.invoice_mark_uncollectible('%s')$$, :'inv3'), 'P0001', 'invoice_not_open',
  'a void invoice is not uncollectible');
reset role;
select is((select status from public.payment_intents where id = :'pi3'), 'canceled', 'its unpaid intent was canceled');
select throws_ok(format($$select hazina.invoice_pay(null, null, null, '%s')$$, :'token3'), 'P0001', 'invoice_not_payable',
  'a void invoice cannot be paid');

-- Delete a draft: gone, no number used.
select pg_temp.act_as(:'duka');
select public.invoice_create('{"customer_email": "d@example.com"}', 'inv-0030') ->> 'id' as inv4 \gset
select is(public.invoice_delete(:'inv4') ->> 'deleted', 'true', 'a draft is deleted');
select is((select count(*)::int from public.invoices where id = :'inv4'), 0, 'and is gone');

-- Overdue: the job marks an open invoice past its due date once.
reset role;
select ((hazina.clock() at time zone 'Africa/Nairobi')::date + 1)::text as tomorrow \gset
select pg_temp.act_as(:'duka');
select public.invoice_create(format('{"customer_id": "%s", "due_date": "%s", "items": [{"description": "Water", "quantity": "1", "unit_amount": "20"}]}',
  :'amina', :'tomorrow')::jsonb, 'inv-0040') ->> 'id' as inv5 \gset
select public.invoice_finalize(:'inv5');
reset role;
select is((hazina.run_job('invoices.mark_overdue') #>> '{report,processed}')::int, 0, 'nothing is overdue before its due date passes');
select hazina.clock_travel(interval '3 days');
select is((hazina.run_job('invoices.mark_overdue') #>> '{report,processed}')::int, 1, 'past its due date, the job marks it');
select is((hazina.run_job('invoices.mark_overdue') #>> '{report,processed}')::int, 0, 'and never again');
select is((select count(*)::int from public.events where object_id = :'inv5' and type = 'invoice.overdue'), 1,
  'invoice.overdue once');
select is((select status from public.invoices where id = :'inv5'), 'open', 'an overdue invoice stays open, payable');
select hazina.clock_travel(null, true);

select is((select count(*)::int from public.invoices where number is not null and merchant_id = :'duka'), 4,
  'four numbers issued');
select is(array(select sequence_number::int from public.invoices where merchant_id = :'duka' and number is not null order by 1),
  array[1, 2, 3, 4], 'with no gap');
select * from pg_temp.books_balance('reconciliation (invoices included) finds no discrepancy');

select * from finish();
rollback;
