-- Two-phase transfers (holds: create, post full/partial, void, expire) and reversals
-- (full, partial, "the rest", bounds, retries), with RLS on wallet_holds.
begin;
select plan(106);

\ir helpers.psql

select pg_temp.wallet_open(pg_temp.user_create('customer', '22000000-0000-4000-8000-00000000000a')) as alice,
       pg_temp.wallet_open(pg_temp.user_create('customer', '22000000-0000-4000-8000-00000000000b')) as bob,
       pg_temp.wallet_open(pg_temp.user_create('merchant', '22000000-0000-4000-8000-00000000000c')) as duka,
       pg_temp.wallet_open(pg_temp.user_create('customer', '22000000-0000-4000-8000-00000000000d')) as carol \gset
select hazina.system_wallet('mpesa_clearing') as mpesa, hazina.system_wallet('fee_revenue') as revenue,
       pg_temp.balance(hazina.system_wallet('fee_revenue')) as revenue_start \gset

-- P2P: 0.5%, at least 1.00, at most 100.00. Merchant payments carry no fee here.
insert into public.billing_fee_catalog (transaction_type, percentage_bps, minimum_amount, maximum_amount, active_from)
values ('p2p_transfer', 50, 1, 100, now() - interval '1 day');
select pg_temp.fund(:'alice', 1000.00);

---------------------------------------------------------------------------------------------
-- hold_create
select hazina.hold_create('h-1', :'alice', :'bob', 400.00, now() + interval '1 hour') as h1 \gset
select is((select row(amount, fee_amount, status)::text from public.wallet_holds where id = :'h1'),
  row(400.0000, 2.0000, 'pending')::text, 'a hold records the amount and the fee it reserves (0.5% of 400)');
select is((select held::numeric from public.wallets where id = :'alice'), 402.0000::numeric, 'the hold reserves amount + fee in wallets.held');
select is((select row(balance, held, available)::text from public.wallet_balances where wallet_id = :'alice'),
  row(1000.0000, 402.0000, 598.0000)::text, 'the balance is untouched; available = balance - held');
select is((select count(*)::int from public.wallet_ledger where wallet_id = :'alice'), 1, 'a hold posts no ledger entries');
select throws_ok(format($$select hazina.hold_create('h-over', '%s', '%s', 598.00, now() + interval '1 hour')$$, :'alice', :'bob'),
  'P0001', 'insufficient_funds', 'a hold cannot reserve more than is available (598 + 2.99 fee > 598)');
select throws_ok(format($$select hazina.transfer('h-spend-held', '%s', '%s', 598.00)$$, :'alice', :'bob'),
  'P0001', 'insufficient_funds', 'reserved money cannot be spent by a transfer');
select throws_ok(format($$select hazina.hold_create('h-past', '%s', '%s', 1.00, now() - interval '1 second')$$, :'alice', :'bob'),
  'P0001', 'invalid_argument', 'a hold cannot expire in the past');
select throws_ok(format($$select hazina.hold_create('h-null-expiry', '%s', '%s', 1.00, null)$$, :'alice', :'bob'),
  'P0001', 'invalid_argument', 'a hold needs a deadline');
select throws_ok(format($$select hazina.hold_create('h-self', '%s', '%s', 1.00, now() + interval '1 hour')$$, :'alice', :'alice'),
  'P0001', 'same_wallet', 'a wallet cannot hold for itself');
select is(hazina.hold_create('h-1', :'alice', :'bob', 400.00, now() + interval '1 hour'), :'h1'::uuid,
  'the same ref with the same request returns the same hold');
select is((select held::numeric from public.wallets where id = :'alice'), 402.0000::numeric, 'and reserves nothing twice');
select throws_ok(format($$select hazina.hold_create('h-1', '%s', '%s', 401.00, now() + interval '1 hour')$$, :'alice', :'bob'),
  'P0001', 'ref_conflict', 'the same ref with another amount is a ref_conflict');
select throws_ok(format($$select hazina.hold_create('h-1', '%s', '%s', 400.00, now() + interval '1 hour')$$, :'alice', :'carol'),
  'P0001', 'ref_conflict', 'the same ref with another counterparty is a ref_conflict');

-- hold_post: full
select hazina.hold_post(:'h1') as h1_tx \gset
select is((select row(balance, held)::text from public.wallet_balances where wallet_id = :'alice'),
  row(598.0000, 0.0000)::text, 'posting a hold spends amount + fee and releases the reservation');
select is((select balance from public.wallet_balances where wallet_id = :'bob'), 400.0000::numeric, 'the counterparty receives the amount');
select is((select balance from public.wallet_balances where wallet_id = :'revenue') - :'revenue_start'::numeric, 2.0000::numeric,
  'the fee goes to fee_revenue');
select is((select row(status, posted_amount, transaction_id, resolved_at is not null)::text from public.wallet_holds where id = :'h1'),
  row('posted', 400.0000, :'h1_tx'::uuid, true)::text, 'the hold is posted and linked to its transaction');
select results_eq(format($$select direction::text, amount::numeric, base_amount::numeric, payer_wallet_id from public.billing_ledger where transaction_id = '%s'$$, :'h1_tx'),
  format($$values ('charge'::text, 2.0000::numeric(19,4), 400.0000::numeric(19,4), '%s'::uuid)$$, :'alice'),
  'the posted fee has one billing charge row');
select is(hazina.hold_post(:'h1'), :'h1_tx'::uuid, 'posting it again returns the same transaction');
select is(hazina.hold_post(:'h1', 400.00), :'h1_tx'::uuid, 'posting it again with the same amount returns the same transaction');
select is((select balance from public.wallet_balances where wallet_id = :'alice'), 598.0000::numeric, 'and moves nothing twice');
select throws_ok(format($$select hazina.hold_post('%s', 100.00)$$, :'h1'), 'P0001', 'hold_not_pending',
  'a posted hold cannot be posted again for another amount');
select throws_ok(format($$select hazina.hold_void('%s')$$, :'h1'), 'P0001', 'hold_not_pending', 'a posted hold cannot be voided');
select throws_ok($$select hazina.hold_post('22000000-0000-4000-8000-0000000000ff')$$, 'P0001', 'hold_not_found', 'an unknown hold');

-- hold_post: partial (fee recomputed on the posted amount, the rest released)
select hazina.hold_create('h-2', :'alice', :'bob', 300.00, now() + interval '1 hour') as h2 \gset
select is((select held::numeric from public.wallets where id = :'alice'), 301.5000::numeric, 'a 300 hold reserves 300 + 1.50');
select throws_ok(format($$select hazina.hold_post('%s', 300.01)$$, :'h2'), 'P0001', 'hold_amount_exceeded',
  'a hold cannot be posted for more than it holds');
select throws_ok(format($$select hazina.hold_post('%s', 0.001)$$, :'h2'), 'P0001', 'invalid_amount',
  'a hold cannot be posted for a fraction of a cent');
select hazina.hold_post(:'h2', 100.00) as h2_tx \gset
select is((select row(balance, held)::text from public.wallet_balances where wallet_id = :'alice'),
  row(497.0000, 0.0000)::text, 'a partial post spends 100 + its own fee (1.00 minimum) and releases the unposted 200 + 0.50');
select is((select amount::numeric from public.billing_ledger where transaction_id = :'h2_tx'), 1.0000::numeric,
  'the fee is recomputed on the posted amount (0.50 clamped to the 1.00 minimum)');
select is((select row(status, posted_amount)::text from public.wallet_holds where id = :'h2'), row('posted', 100.0000)::text,
  'the hold records the posted amount');
select is(hazina.hold_post(:'h2', 100.00), :'h2_tx'::uuid, 'posting the same partial amount again returns the same transaction');
select throws_ok(format($$select hazina.hold_post('%s')$$, :'h2'), 'P0001', 'hold_not_pending',
  'the released remainder cannot be posted later');

-- The fee is never above what was reserved, even if the catalog changed meanwhile.
select hazina.hold_create('h-3', :'alice', :'bob', 200.00, now() + interval '1 hour') as h3 \gset
update public.billing_fee_catalog set percentage_bps = 200 where transaction_type = 'p2p_transfer';
select hazina.hold_post(:'h3') as h3_tx \gset
select is((select amount::numeric from public.billing_ledger where transaction_id = :'h3_tx'), 1.0000::numeric,
  'a fee that rose to 4.00 after the hold is capped at the 1.00 reserved');
select is((select row(balance, held)::text from public.wallet_balances where wallet_id = :'alice'),
  row(296.0000, 0.0000)::text, 'the payer is debited 200 + 1.00');
update public.billing_fee_catalog set percentage_bps = 50 where transaction_type = 'p2p_transfer';

-- hold_void
select hazina.hold_create('h-4', :'alice', :'bob', 50.00, now() + interval '1 hour') as h4 \gset
select is((select held::numeric from public.wallets where id = :'alice'), 51.0000::numeric, 'a 50 hold reserves 51');
select lives_ok(format($$select hazina.hold_void('%s')$$, :'h4'), 'a pending hold can be voided');
select is((select row(balance, held)::text from public.wallet_balances where wallet_id = :'alice'),
  row(296.0000, 0.0000)::text, 'voiding releases the reservation and moves no money');
select is((select row(status, resolved_at is not null)::text from public.wallet_holds where id = :'h4'), row('voided', true)::text,
  'the hold is voided');
select lives_ok(format($$select hazina.hold_void('%s')$$, :'h4'), 'voiding again is a no-op');
select is((select held::numeric from public.wallets where id = :'alice'), 0.0000::numeric, 'and releases nothing twice');
select throws_ok(format($$select hazina.hold_post('%s')$$, :'h4'), 'P0001', 'hold_not_pending', 'a voided hold cannot be posted');
select is((select count(*)::int from public.wallet_transactions where ref = 'h-4:post'), 0, 'and left no transaction');

-- Deadlines and the sweep
select hazina.hold_create('h-5', :'alice', :'bob', 20.00, now() + interval '1 hour') as h5 \gset
select hazina.hold_create('h-6', :'alice', :'bob', 10.00, now() + interval '1 hour') as h6 \gset
select is((select held::numeric from public.wallets where id = :'alice'), 32.0000::numeric, 'two holds reserve 21 + 11');
-- Overdue: h-5 (pending) and, to prove the sweep leaves them alone, h-1 (posted) and h-4 (voided).
update public.wallet_holds set expires_at = now() - interval '1 second' where id in (:'h5', :'h1', :'h4');
select throws_ok(format($$select hazina.hold_post('%s')$$, :'h5'), 'P0001', 'hold_expired', 'a hold past its deadline cannot be posted');
select is((select row(h.status, w.held)::text from public.wallet_holds h join public.wallets w on w.id = h.wallet_id where h.id = :'h5'),
  row('pending', 32.0000)::text, 'the refused post changed nothing');
select is(hazina.expire_holds(), 1, 'the sweep expires exactly the one overdue pending hold');
select is((select row(status, resolved_at is not null)::text from public.wallet_holds where id = :'h5'), row('expired', true)::text,
  'the overdue hold is expired');
select is((select held::numeric from public.wallets where id = :'alice'), 11.0000::numeric, 'and its reservation released');
select is(array(select status from public.wallet_holds where id in (:'h1', :'h4', :'h6') order by ref),
  array['posted', 'voided', 'pending'], 'posted, voided and not-yet-due holds are left alone');
select is(hazina.expire_holds(), 0, 'a second sweep finds nothing');
select throws_ok(format($$select hazina.hold_void('%s')$$, :'h5'), 'P0001', 'hold_not_pending', 'an expired hold cannot be voided');
select throws_ok(format($$select hazina.hold_post('%s')$$, :'h5'), 'P0001', 'hold_not_pending', 'an expired hold cannot be posted');
select is((select available from public.wallet_balances where wallet_id = :'alice'), 285.0000::numeric,
  'available = 296 - 11 still held by h-6');

-- A hold on a merchant (pooled) wallet folds its credit buckets first.
select hazina.transfer('h-pay-duka', :'alice', :'duka', 200.00, 'merchant_payment');
select is((select row(w.balance, (select sum(balance) from public.wallet_balance_buckets where wallet_id = w.id))::text
             from public.wallets w where w.id = :'duka'), row(0.0000, 200.0000)::text,
  'a merchant''s takings sit in its credit buckets');
select throws_ok(format($$select hazina.hold_create('h-m-over', '%s', '%s', 199.01, now() + interval '1 hour')$$, :'duka', :'bob'),
  'P0001', 'insufficient_funds', 'a merchant hold is checked against the folded balance (199.01 + 1.00 > 200)');
select hazina.hold_create('h-m', :'duka', :'bob', 100.00, now() + interval '1 hour') as hm \gset
select is((select row(w.balance, w.held, (select sum(balance) from public.wallet_balance_buckets where wallet_id = w.id))::text
             from public.wallets w where w.id = :'duka'), row(200.0000, 101.0000, 0.0000)::text,
  'the hold folded the buckets into the row and reserved 100 + 1.00 there');
select is((select available from public.wallet_balances where wallet_id = :'duka'), 99.0000::numeric, 'the merchant has 99 available');
select lives_ok(format($$select hazina.hold_post('%s')$$, :'hm'), 'a merchant hold posts');
select is((select row(balance, held)::text from public.wallet_balances where wallet_id = :'duka'), row(99.0000, 0.0000)::text,
  'the merchant paid 100 + 1.00 from its folded balance');

-- Who sees holds
select pg_temp.act_as('22000000-0000-4000-8000-00000000000a');
select is(array(select ref from public.wallet_holds order by ref), array['h-1', 'h-2', 'h-3', 'h-4', 'h-5', 'h-6'],
  'the owner sees their own holds');
select throws_ok(format($$update public.wallet_holds set status = 'voided', resolved_at = now() where id = '%s'$$, :'h6'),
  '42501', null, 'the owner cannot change a hold directly');
select throws_ok(format($$select hazina.hold_create('h-client', '%s', '%s', 1, now() + interval '1 hour')$$, :'alice', :'bob'),
  '42501', null, 'a client cannot create holds');
select throws_ok(format($$select hazina.hold_void('%s')$$, :'h6'), '42501', null, 'a client cannot void holds');
select throws_ok($$select hazina.expire_holds()$$, '42501', null, 'a client cannot run the sweep');
select pg_temp.act_as('22000000-0000-4000-8000-00000000000b');
select is((select count(*)::int from public.wallet_holds), 0, 'the counterparty and other users see none of them');
select pg_temp.act_as('22000000-0000-4000-8000-00000000000c');
select is(array(select ref from public.wallet_holds), array['h-m'], 'a merchant sees only its own hold');
reset role;
select pg_temp.act_as_anon();
select throws_ok($$select count(*) from public.wallet_holds$$, '42501', null, 'anon cannot read holds');
reset role;

-- Receiver-paid types (a payment authorisation): the sender reserves only the amount; the
-- merchant pays its own fee, at its own rate, out of what it receives (as hazina.transfer does).
select pg_temp.wallet_open(pg_temp.user_create('merchant', '22000000-0000-4000-8000-00000000000e')) as shop \gset
insert into public.merchant_fee_profiles (merchant_id, transaction_type, percentage_bps, fixed_amount, active_from)
values ('22000000-0000-4000-8000-00000000000e', 'merchant_payment', 100, 0.50, now() - interval '1 day');
select hazina.hold_create('h-auth', :'alice', :'shop', 50.00, now() + interval '1 hour', 'merchant_payment') as hauth \gset
select is((select row(amount, fee_amount)::text from public.wallet_holds where id = :'hauth'), row(50.0000, 0.0000)::text,
  'an authorisation reserves no fee from the customer');
select is((select held::numeric from public.wallets where id = :'alice'), 61.0000::numeric, 'only the 50.00 is held (plus h-6''s 11)');
select hazina.hold_post(:'hauth', 40.00) as hauth_tx \gset
select is((select row(balance, held)::text from public.wallet_balances where wallet_id = :'alice'), row(56.0000, 11.0000)::text,
  'capturing 40 debits the customer exactly 40 and releases the other 10');
select is((select balance from public.wallet_balances where wallet_id = :'shop'), 39.1000::numeric,
  'the merchant receives 40 less its own fee (0.50 + 1% = 0.90)');
select results_eq(format($$select payer_wallet_id, amount::numeric, base_amount::numeric, rule_source::text from public.billing_ledger where transaction_id = '%s'$$, :'hauth_tx'),
  format($$values ('%s'::uuid, 0.9000::numeric(19,4), 40.0000::numeric(19,4), 'merchant_profile'::text)$$, :'shop'),
  'the billing row names the merchant as payer, charged under its own profile');
select hazina.hold_create('h-auth-tiny', :'alice', :'shop', 0.50, now() + interval '1 hour', 'merchant_payment') as hauth2 \gset
select throws_ok(format($$select hazina.hold_post('%s')$$, :'hauth2'), 'P0001', 'fee_exceeds_amount',
  'a receiver-paid fee at or above the captured amount is refused (0.51 on 0.50)');
select hazina.hold_void(:'hauth2');

---------------------------------------------------------------------------------------------
-- Reversals
select pg_temp.fund(:'alice', 2000.00);
select balance as alice_0 from public.wallet_balances where wallet_id = :'alice' \gset
select balance as bob_0 from public.wallet_balances where wallet_id = :'bob' \gset
select balance as revenue_0 from public.wallet_balances where wallet_id = :'revenue' \gset

-- Full reversal: every entry mirrored, the fee refunded.
select (hazina.transfer('r-1', :'alice', :'bob', 100.00) ->> 'transaction_id') as t1 \gset
select ref as t1_charge from public.billing_ledger where transaction_id = :'t1' \gset
select hazina.reverse_transaction(:'t1', 'r-1-reversal', null, 'customer dispute') as rv1 \gset
select results_eq(
  format($$select wallet_id, direction::text, amount::numeric, leg::text from public.wallet_ledger where transaction_id = '%s' order by 1, 2, 3, 4$$, :'rv1'),
  format($$select wallet_id, case direction when 'debit' then 'credit' else 'debit' end, amount::numeric, leg::text
             from public.wallet_ledger where transaction_id = '%s' order by 1, 2, 3, 4$$, :'t1'),
  'a full reversal mirrors every entry of the original, fee legs included');
select is((select row(kind, reverses_id, principal_amount)::text from public.wallet_transactions where id = :'rv1'),
  row('reversal', :'t1'::uuid, 100.0000)::text, 'the reversal is linked to the original and covers its principal');
select is((select array[a.balance - :'alice_0'::numeric, b.balance - :'bob_0'::numeric, r.balance - :'revenue_0'::numeric]
             from public.wallet_balances a, public.wallet_balances b, public.wallet_balances r
            where a.wallet_id = :'alice' and b.wallet_id = :'bob' and r.wallet_id = :'revenue'),
  array[0, 0, 0]::numeric[], 'payer, payee and fee revenue are all back where they were');
select results_eq(
  format($$select direction::text, amount::numeric, base_amount::numeric, rule_source::text, refund_of collate "default", payer_wallet_id from public.billing_ledger where transaction_id = '%s'$$, :'rv1'),
  format($$values ('refund'::text, 1.0000::numeric(19,4), 100.0000::numeric(19,4), 'original'::text, '%s'::text, '%s'::uuid)$$, :'t1_charge', :'alice'),
  'the fee is refunded by one billing refund row referencing the charge');
select is(hazina.reverse_transaction(:'t1', 'r-1-reversal', null, 'customer dispute'), :'rv1'::uuid,
  'retrying the same reversal ref returns the same transaction');
select is((select count(*)::int from public.wallet_transactions where reverses_id = :'t1'), 1, 'and reverses nothing twice');
select throws_ok(format($$select hazina.reverse_transaction('%s', 'r-1-reversal', 10.00)$$, :'t1'),
  'P0001', 'ref_conflict', 'the same reversal ref for another amount is a ref_conflict');
select throws_ok(format($$select hazina.reverse_transaction('%s', 'r-1-again')$$, :'t1'),
  'P0001', 'reversal_exceeds_original', 'a fully reversed transaction cannot be reversed again');
select throws_ok(format($$select hazina.reverse_transaction('%s', 'r-1-cent', 0.01)$$, :'t1'),
  'P0001', 'reversal_exceeds_original', 'not even by one cent');
select throws_ok(format($$select hazina.reverse_transaction('%s', 'r-1-rev-rev')$$, :'rv1'),
  'P0001', 'not_reversible', 'a reversal cannot be reversed');
select throws_ok($$select hazina.reverse_transaction('22000000-0000-4000-8000-0000000000ff', 'r-unknown')$$,
  'P0001', 'transaction_not_found', 'an unknown transaction cannot be reversed');

-- Partial reversals move principal only and never add up to more than the original.
select (hazina.transfer('r-2', :'alice', :'bob', 200.00) ->> 'transaction_id') as t2 \gset
select balance as alice_1 from public.wallet_balances where wallet_id = :'alice' \gset
select balance as revenue_1 from public.wallet_balances where wallet_id = :'revenue' \gset
select hazina.reverse_transaction(:'t2', 'r-2-a', 50.00) as rv2a \gset
select results_eq(
  format($$select wallet_id, direction::text, amount::numeric, leg::text from public.wallet_ledger where transaction_id = '%s' order by direction$$, :'rv2a'),
  format($$values ('%s'::uuid, 'credit'::text, 50.0000::numeric(19,4), 'principal'::text), ('%s'::uuid, 'debit', 50.0000, 'principal')$$, :'alice', :'bob'),
  'a partial reversal moves principal from payee back to payer, nothing else');
select is((select count(*)::int from public.billing_ledger where transaction_id = :'rv2a'), 0, 'and refunds no fee');
select is((select balance from public.wallet_balances where wallet_id = :'revenue'), :'revenue_1'::numeric, 'fee revenue is untouched');
select throws_ok(format($$select hazina.reverse_transaction('%s', 'r-2-zero', 0)$$, :'t2'),
  'P0001', 'reversal_exceeds_original', 'a zero reversal is refused');
select lives_ok(format($$select hazina.reverse_transaction('%s', 'r-2-b', 100.00)$$, :'t2'), 'a second partial reversal within the rest');
select throws_ok(format($$select hazina.reverse_transaction('%s', 'r-2-c', 50.01)$$, :'t2'),
  'P0001', 'reversal_exceeds_original', 'partial reversals cannot add up to more than the original (50.00 left)');
select hazina.reverse_transaction(:'t2', 'r-2-rest') as rv2rest \gset
select is((select principal_amount::numeric from public.wallet_transactions where id = :'rv2rest'), 50.0000::numeric,
  'reversing "the rest" after partials reverses exactly what is left');
select is((select count(*)::int from public.wallet_ledger where transaction_id = :'rv2rest' and leg = 'principal'), 2,
  'and, after partials, only principal');
select is((select sum(principal_amount) from public.wallet_transactions where reverses_id = :'t2'), 200.0000::numeric,
  'the reversals add up to the original exactly');
select is((select balance from public.wallet_balances where wallet_id = :'alice') - :'alice_1'::numeric, 200.0000::numeric,
  'the payer got the whole principal back (the fee was not refunded)');
select throws_ok(format($$select hazina.reverse_transaction('%s', 'r-2-more')$$, :'t2'),
  'P0001', 'reversal_exceeds_original', 'nothing is left to reverse');

-- Partial reversal needs one payer and one payee; a full one does not.
select hazina.post_transaction('r-split', 'funding', format('[
  {"wallet_id": "%s", "direction": "debit", "amount": "30.00"},
  {"wallet_id": "%s", "direction": "credit", "amount": "20.00"},
  {"wallet_id": "%s", "direction": "credit", "amount": "10.00"}]', :'mpesa', :'alice', :'bob')::jsonb) as t_split \gset
select throws_ok(format($$select hazina.reverse_transaction('%s', 'r-split-part', 5.00)$$, :'t_split'),
  'P0001', 'not_reversible', 'a transaction with two payees cannot be partly reversed');
select lives_ok(format($$select hazina.reverse_transaction('%s', 'r-split-all')$$, :'t_split'), 'but it can be fully reversed');

-- A full reversal debits a pooled merchant wallet through its buckets.
select balance as duka_0 from public.wallet_balances where wallet_id = :'duka' \gset
select (hazina.transfer('r-pay-duka', :'alice', :'duka', 80.00, 'merchant_payment') ->> 'transaction_id') as t_duka \gset
select lives_ok(format($$select hazina.reverse_transaction('%s', 'r-pay-duka-refund')$$, :'t_duka'), 'a merchant payment can be refunded');
select is((select balance from public.wallet_balances where wallet_id = :'duka'), :'duka_0'::numeric,
  'the refund took the payment back out of the merchant''s buckets');

-- The receiver already spent it.
select (hazina.transfer('r-3', :'alice', :'carol', 300.00) ->> 'transaction_id') as t3 \gset
select hazina.transfer('r-3-spend', :'carol', :'bob', 250.00);
select throws_ok(format($$select hazina.reverse_transaction('%s', 'r-3-reversal')$$, :'t3'),
  'P0001', 'insufficient_funds', 'a payment the receiver already spent cannot be reversed into an overdraft');
select is((select count(*)::int from public.wallet_transactions where reverses_id = :'t3'), 0, 'and no reversal was recorded');
select is((select balance from public.wallet_balances where wallet_id = :'carol'), 48.7500::numeric,
  'the receiver keeps what is left (300 - 250 - 1.25 fee)');
select lives_ok(format($$select hazina.reverse_transaction('%s', 'r-3-part', 48.75)$$, :'t3'),
  'what the receiver still has can be reversed partly');

select pg_temp.act_as('22000000-0000-4000-8000-00000000000a');
select throws_ok(format($$select hazina.reverse_transaction('%s', 'r-client')$$, :'t3'), '42501', null,
  'a client cannot reverse transactions');
reset role;

-- Books
select pg_temp.books_balance('reconciliation finds no discrepancy (held = open holds included)');

select * from finish();
rollback;
