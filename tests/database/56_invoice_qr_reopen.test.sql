-- An invoice's QR code comes back when a refund reopens the invoice (20261124001950): a full
-- refund of a paid invoice makes its close-disabled code active again (qr_code.active), and the
-- checkout resolves and pays it for the new amount due; a code the merchant disabled (DELETE or
-- PATCH, before or after the close) stays disabled through paid -> refunded; a void invoice's
-- code stays disabled; disabled_reason follows the status; RLS on qr_codes unchanged.
begin;
select plan(36);

\ir helpers.psql

select pg_temp.user_create('merchant', '56000000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('customer', '56000000-0000-4000-8000-00000000000b') as amina \gset
select pg_temp.user_create('customer', '56000000-0000-4000-8000-00000000000c') as other \gset
select pg_temp.wallet_open(:'duka') as duka_wallet \gset
select pg_temp.wallet_open(:'amina') as amina_wallet \gset
select pg_temp.wallet_open(:'other') as other_wallet \gset
select pg_temp.fund(:'other_wallet', 1000);
select pg_temp.fund(:'amina_wallet', 1000);
-- The merchant's own profile pins the intent fee (it beats the shared catalog): none.
insert into public.merchant_fee_profiles (merchant_id, transaction_type, waived, note)
values (:'duka', 'payment_intent', true, '56: intents unpriced');

-- 1. Paid through its code, fully refunded: the code is active again, payable for the amount due.
select pg_temp.act_as(:'duka');
select public.invoice_create(format($${"customer_id": "%s", "items": [{"description": "Flour", "quantity": "3", "unit_amount": "100.005"}]}$$,
  :'amina')::jsonb, 'iqr-inv-1') ->> 'id' as inv1 \gset
select public.invoice_finalize(:'inv1') ->> 'number' as inv1_number \gset
select public.qr_code_for('invoice', :'inv1') ->> 'slug' as slug1, public.qr_code_for('invoice', :'inv1') ->> 'id' as code1 \gset
select pg_temp.act_as(:'other');
select public.qr_code_pay_wallet(:'slug1', :'other_wallet', null, 'iqr-attempt-1') ->> 'id' as pi1 \gset
reset role;
select is((select array[status, coalesce(disabled_reason, '-')] from public.qr_codes where id = :'code1'),
  array['disabled', 'subject_closed'], 'paid: its code is disabled, because the invoice closed');
select is(public.qr_code_resolve(:'slug1') ->> 'subject_state', 'paid', 'the page says paid');
select is(pg_temp.balance(:'other_wallet'), 699.9800::numeric, 'the payer paid 300.02 (3 x 100.005 = 300.015 -> 300.02)');

select pg_temp.act_as(:'duka');
select public.payment_refund_create(:'pi1', null, 'returned', 'iqr-refund-1') ->> 'status' as r1_status \gset
reset role;
select is(:'r1_status'::text, 'succeeded', 'the full refund succeeded');
select is((select array[status, amount_due::text] from public.invoices where id = :'inv1'), array['open', '300.0200'],
  'the invoice is open again, all of it due');
select is((select array[status, coalesce(disabled_reason, '-'), use_count::text] from public.qr_codes where id = :'code1'),
  array['active', '-', '1'], 'its code is active again (the use it served still counts)');
select is((select count(*)::int from public.events where type = 'qr_code.active' and object_id = :'code1'), 1,
  'qr_code.active once');
select is((select data ->> 'status' from public.events where type = 'qr_code.active' and object_id = :'code1'), 'active',
  'the event carries the code as it is now');
select is(pg_temp.balance(:'other_wallet'), 1000.0000::numeric, 'the payer has the money back');
select pg_temp.act_as_anon();
select is(public.qr_code_resolve(:'slug1') - 'merchant_name' - 'slug',
  jsonb_build_object('object', 'qr_checkout', 'status', 'active', 'kind', 'invoice', 'label', 'Invoice ' || :'inv1_number',
                     'amount', '300.02', 'currency', 'KES', 'minor_units', 2, 'subject_state', 'payable',
                     'invoice_number', :'inv1_number', 'allow_partial_payment', false),
  'the checkout resolves it as payable for the new amount due');
reset role;
select pg_temp.act_as(:'other');
select is(public.qr_code_pay_wallet(:'slug1', :'other_wallet', null, 'iqr-attempt-2') ->> 'status', 'succeeded',
  'the same code pays the invoice again');
select throws_ok(format($$select public.qr_code_pay_wallet('%s', '%s', null, 'iqr-attempt-3')$$, :'slug1', :'other_wallet'),
  'P0001', 'qr_code_already_paid', 'once');
reset role;
select is((select array[status, amount_due::text] from public.invoices where id = :'inv1'), array['paid', '0.0000'], 'paid again');
select is((select array[status, coalesce(disabled_reason, '-'), use_count::text] from public.qr_codes where id = :'code1'),
  array['disabled', 'subject_closed', '2'], 'and its code disabled again, two uses');
select is(pg_temp.balance(:'other_wallet'), 699.9800::numeric, 'the payer paid once more');

-- A partial refund reopens it too; a refund of the rest leaves it open and active.
select pg_temp.act_as(:'duka');
select id as pi2 from public.payment_intents where subject_type = 'invoice' and subject_id = :'inv1' and status = 'succeeded'
  and amount_refunded = 0 \gset
select public.payment_refund_create(:'pi2', 0.02, 'short', 'iqr-refund-2');
reset role;
select is((select array[i.status, i.amount_due::text, q.status] from public.invoices i join public.qr_codes q on q.invoice_id = i.id
            where i.id = :'inv1'), array['open', '0.0200', 'active'], 'a part refund reopens it: 0.02 due, the code active');
select pg_temp.act_as(:'duka');
select public.payment_refund_create(:'pi2', 300, 'returned', 'iqr-refund-3');
reset role;
select is((select array[i.status, i.amount_due::text, q.status] from public.invoices i join public.qr_codes q on q.invoice_id = i.id
            where i.id = :'inv1'), array['open', '300.0200', 'active'], 'the rest refunded: still open, the code still active');
select is((select count(*)::int from public.events where type = 'qr_code.active' and object_id = :'code1'), 2,
  'one qr_code.active per reopening, none while already active');

-- 2. The merchant disabled the code (DELETE) before payment: it stays disabled through paid -> refunded.
select pg_temp.act_as(:'duka');
select public.invoice_create(format($${"customer_id": "%s", "items": [{"description": "Oil", "quantity": "1", "unit_amount": "250"}]}$$,
  :'amina')::jsonb, 'iqr-inv-2') ->> 'id' as inv2 \gset
select public.invoice_finalize(:'inv2');
select public.qr_code_for('invoice', :'inv2') ->> 'id' as code2, public.qr_code_for('invoice', :'inv2') ->> 'slug' as slug2 \gset
select public.qr_code_disable(:'code2');
reset role;
select is((select array[status, disabled_reason] from public.qr_codes where id = :'code2'), array['disabled', 'merchant'],
  'the merchant''s DELETE records its reason');
select pg_temp.act_as(:'other');
select throws_ok(format($$select public.qr_code_pay_wallet('%s', '%s', null, 'iqr-attempt-4')$$, :'slug2', :'other_wallet'),
  'P0001', 'qr_code_disabled', 'a merchant-disabled code takes no payment');
select pg_temp.act_as(:'amina');
select public.invoice_pay(:'inv2') ->> 'id' as pi3 \gset
select public.payment_intent_confirm(:'pi3', format('[{"type": "wallet", "wallet_id": "%s", "amount": "250"}]', :'amina_wallet')::jsonb);
reset role;
select is((select status from public.invoices where id = :'inv2'), 'paid', 'the addressed customer paid it her own way');
select pg_temp.act_as(:'duka');
select public.payment_refund_create(:'pi3', null, 'returned', 'iqr-refund-4');
reset role;
select is((select array[i.status, q.status, q.disabled_reason] from public.invoices i join public.qr_codes q on q.invoice_id = i.id
            where i.id = :'inv2'), array['open', 'disabled', 'merchant'], 'reopened, the merchant''s disabled code stays disabled');
select is((select count(*)::int from public.events where type = 'qr_code.active' and object_id = :'code2'), 0, 'no qr_code.active');

-- 3. Disabled by the close, then the merchant disables it on purpose (PATCH): it stays disabled.
select pg_temp.act_as(:'duka');
select public.invoice_create(format($${"customer_id": "%s", "items": [{"description": "Rice", "quantity": "1", "unit_amount": "120"}]}$$,
  :'amina')::jsonb, 'iqr-inv-3') ->> 'id' as inv3 \gset
select public.invoice_finalize(:'inv3');
select public.qr_code_for('invoice', :'inv3') ->> 'id' as code3, public.qr_code_for('invoice', :'inv3') ->> 'slug' as slug3 \gset
select pg_temp.act_as(:'other');
select public.qr_code_pay_wallet(:'slug3', :'other_wallet', null, 'iqr-attempt-5') ->> 'id' as pi4 \gset
select pg_temp.act_as(:'duka');
select public.qr_code_update(:'code3', null, null, null, null, null, 'disabled');
reset role;
select is((select array[status, disabled_reason] from public.qr_codes where id = :'code3'), array['disabled', 'merchant'],
  'PATCH status=disabled on a closed invoice''s code makes it the merchant''s');
select pg_temp.act_as(:'duka');
select public.payment_refund_create(:'pi4', null, 'returned', 'iqr-refund-5');
reset role;
select is((select array[i.status, q.status] from public.invoices i join public.qr_codes q on q.invoice_id = i.id where i.id = :'inv3'),
  array['open', 'disabled'], 'reopened, it stays disabled');
select pg_temp.act_as(:'duka');
select public.qr_code_update(:'code3', null, null, null, null, null, 'active') ->> 'status' as code3_status \gset
reset role;
select is((select array[status, coalesce(disabled_reason, '-')] from public.qr_codes where id = :'code3'), array['active', '-'],
  'the merchant re-enables it: no reason left');

-- 4. Void: the code stays disabled for good.
select pg_temp.act_as(:'duka');
select public.invoice_create(format($${"customer_id": "%s", "items": [{"description": "Salt", "quantity": "1", "unit_amount": "40"}]}$$,
  :'amina')::jsonb, 'iqr-inv-4') ->> 'id' as inv4 \gset
select public.invoice_finalize(:'inv4');
select public.qr_code_for('invoice', :'inv4') ->> 'id' as code4, public.qr_code_for('invoice', :'inv4') ->> 'slug' as slug4 \gset
select public.invoice_void(:'inv4');
reset role;
select is((select array[status, disabled_reason] from public.qr_codes where id = :'code4'), array['disabled', 'subject_closed'],
  'void disables it (the close)');
select pg_temp.act_as(:'other');
select throws_ok(format($$select public.qr_code_pay_wallet('%s', '%s', null, 'iqr-attempt-6')$$, :'slug4', :'other_wallet'),
  'P0001', 'qr_code_subject_closed', 'its page takes no payment');
reset role;

-- The reason follows the status, always.
select is((select count(*)::int from public.qr_codes where (status = 'disabled') <> (disabled_reason is not null)), 0,
  'disabled_reason is set exactly on disabled codes');

-- RLS unchanged: only the merchant (and service_role) reads the codes.
select pg_temp.act_as(:'duka');
select is((select count(*)::int from public.qr_codes where merchant_id = :'duka'), 4, 'the merchant reads its codes');
select pg_temp.act_as(:'amina');
select is((select count(*)::int from public.qr_codes), 0, 'the addressed customer reads none');
select pg_temp.act_as(:'other');
select is((select count(*)::int from public.qr_codes), 0, 'another user reads none');
select pg_temp.act_as_anon();
select throws_ok($$select count(*) from public.qr_codes$$, '42501', null, 'anon reads no table');
reset role;
select pg_temp.act_as_service_role();
select is((select count(*)::int from public.qr_codes where merchant_id = :'duka'), 4, 'service_role reads them all');
reset role;

select pg_temp.books_balance();

select * from finish();
rollback;
