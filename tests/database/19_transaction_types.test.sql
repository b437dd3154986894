-- Transaction types (public.transaction_types): the rows that exist today, who may read and
-- write them, hazina.fee_payer reading them, the posting path refusing an unknown type, the
-- fee tables' foreign keys, reconciliation reporting a stray type, and that a new
-- capability's type is one row.
begin;
select plan(34);

\ir helpers.psql

-- Only the types that exist today (invoice and installment types arrive with their
-- capabilities; orders and goods escrow brought order_payment, escrow_funding, escrow_release;
-- installment plans installment_late_fee and installment_cancellation_fee; guest refunds refund_payout).
select results_eq($$select code::text, fee_payer from public.transaction_types order by code$$,
  $$values ('escrow_funding', 'receiver'), ('escrow_release', 'receiver'),
           ('funding', 'receiver'), ('installment_cancellation_fee', 'receiver'), ('installment_late_fee', 'sender'),
           ('merchant_payment', 'receiver'), ('order_payment', 'receiver'), ('p2p_transfer', 'sender'),
           ('payment_intent', 'receiver'), ('refund_payout', 'sender'), ('reversal', 'sender'), ('withdrawal', 'sender'), ('withdrawal_settlement', 'sender')$$,
  'the seeded types and who pays their fees');
select is((select count(*)::int from public.transaction_types where length(description) > 0), 13,
  'every type says what it is');
select throws_ok($$insert into public.transaction_types (code, fee_payer, description) values ('gift', 'nobody', 'x')$$,
  '23514', null, 'fee_payer is sender or receiver');
select throws_ok($$insert into public.transaction_types (code, fee_payer, description) values ('Bad Type', 'sender', 'x')$$,
  '23514', null, 'a code is a ledger kind (lower-case snake_case)');

-- Everyone reads it; nobody writes it (migrations do, as the owner).
select pg_temp.act_as(null, 'anon');
select is((select count(*)::int from public.transaction_types), 13, 'anon reads every type');
select throws_ok($$insert into public.transaction_types values ('gift', 'sender', 'x')$$, '42501', null, 'anon cannot add a type');
select throws_ok($$update public.transaction_types set fee_payer = 'receiver'$$, '42501', null, 'anon cannot change a type');
select throws_ok($$delete from public.transaction_types$$, '42501', null, 'anon cannot delete a type');
reset role;
select pg_temp.act_as('19000000-0000-4000-8000-00000000000a');
select is((select count(*)::int from public.transaction_types), 13, 'a signed-in user reads every type');
select throws_ok($$insert into public.transaction_types values ('gift', 'sender', 'x')$$, '42501', null, 'a user cannot add a type');
select throws_ok($$update public.transaction_types set fee_payer = 'receiver'$$, '42501', null, 'a user cannot change a type');
select throws_ok($$delete from public.transaction_types$$, '42501', null, 'a user cannot delete a type');
reset role;
select pg_temp.act_as(null, 'service_role');
select is((select count(*)::int from public.transaction_types), 13, 'service_role reads every type');
select throws_ok($$insert into public.transaction_types values ('gift', 'sender', 'x')$$, '42501', null,
  'service_role cannot add a type (a new type is a migration)');
select throws_ok($$update public.transaction_types set fee_payer = 'receiver'$$, '42501', null, 'service_role cannot change a type');
select throws_ok($$delete from public.transaction_types$$, '42501', null, 'service_role cannot delete a type');
reset role;

-- hazina.fee_payer is the table.
select is(hazina.fee_payer('p2p_transfer'), 'sender', 'P2P: the sender pays');
select is(hazina.fee_payer('merchant_payment'), 'receiver', 'merchant payment: the merchant pays');
select throws_ok($$select hazina.fee_payer('invoice_payment')$$, 'P0001', 'unknown_transaction_type',
  'a type no capability has added yet is unknown');
select throws_ok($$select hazina.fee_payer(null)$$, 'P0001', 'unknown_transaction_type', 'so is a missing type');

-- The posting path refuses an unknown type and writes nothing.
insert into public.auth_users (id, email, role) values
  ('19000000-0000-4000-8000-00000000000a', 'alice@types.test', 'customer'),
  ('19000000-0000-4000-8000-00000000000b', 'bob@types.test', 'customer');
insert into public.wallets (id, user_id, kind, currency) values
  ('19000000-0000-4000-8000-0000000000a1', '19000000-0000-4000-8000-00000000000a', 'user', 'KES'),
  ('19000000-0000-4000-8000-0000000000b1', '19000000-0000-4000-8000-00000000000b', 'user', 'KES');
select hazina.post_transaction('tt-fund', 'funding', jsonb_build_array(
  jsonb_build_object('wallet_id', hazina.system_wallet('mpesa_clearing'), 'direction', 'debit', 'amount', '1000'),
  jsonb_build_object('wallet_id', '19000000-0000-4000-8000-0000000000a1', 'direction', 'credit', 'amount', '1000')));
select throws_ok($$select hazina.transfer('tt-bogus', '19000000-0000-4000-8000-0000000000a1',
                                          '19000000-0000-4000-8000-0000000000b1', 10, 'bogus_type')$$,
  'P0001', 'unknown_transaction_type', 'a transfer of an unknown type is refused');
select throws_ok($$select hazina.hold_create('tt-hold-bogus', '19000000-0000-4000-8000-0000000000a1',
                                             '19000000-0000-4000-8000-0000000000b1', 10, now() + interval '1 hour', 'bogus_type')$$,
  'P0001', 'unknown_transaction_type', 'a hold of an unknown type is refused');
select is((select count(*)::int from public.wallet_transactions where ref like 'tt-%bogus'), 0, 'nothing was posted');
select is((select count(*)::int from public.wallet_holds where ref like 'tt-%bogus'), 0, 'nothing was held');
select results_eq($$select r ->> 'ref', r ->> 'status', r ->> 'error' from jsonb_array_elements(hazina.transfer_batch('[
    {"ref": "tt-batch-1", "from_wallet_id": "19000000-0000-4000-8000-0000000000a1", "to_wallet_id": "19000000-0000-4000-8000-0000000000b1", "amount": "5.00"},
    {"ref": "tt-batch-2", "from_wallet_id": "19000000-0000-4000-8000-0000000000a1", "to_wallet_id": "19000000-0000-4000-8000-0000000000b1", "amount": "5.00", "transaction_type": "bogus_type"}
  ]')) r order by (r ->> 'index')::int$$,
  $$values ('tt-batch-1', 'posted', null), ('tt-batch-2', 'failed', 'unknown_transaction_type')$$,
  'in a batch, an item of an unknown type fails alone with unknown_transaction_type');

-- The fee tables take only known types (foreign keys).
select throws_ok($$insert into public.billing_fee_catalog (transaction_type, percentage_bps) values ('bogus_type', 10)$$,
  '23503', null, 'the catalog cannot price an unknown type');
select throws_ok($$insert into public.merchant_fee_profiles (merchant_id, transaction_type, waived)
  values ('19000000-0000-4000-8000-00000000000a', 'bogus_type', true)$$,
  '23503', null, 'a merchant profile cannot name an unknown type');

-- Reconciliation reports a type the table does not know (the ledger has no foreign key).
savepoint before_stray_type;
insert into public.wallet_transactions (id, ref, kind, request_hash, principal_amount, currency)
values ('19000000-0000-4000-8000-0000000000f1', 'tt-by-hand', 'manual', 'x', 5, 'KES');
insert into public.wallet_ledger (transaction_id, wallet_id, direction, amount, currency, kind, ref) values
  ('19000000-0000-4000-8000-0000000000f1', hazina.system_wallet('mpesa_clearing'), 'debit', 5, 'KES', 'manual',
   '19000000-0000-4000-8000-0000000000f1#1'),
  ('19000000-0000-4000-8000-0000000000f1', hazina.system_wallet('suspense'), 'credit', 5, 'KES', 'manual',
   '19000000-0000-4000-8000-0000000000f1#2');
select is(array(select check_name || ' ' || subject from hazina.reconcile() where check_name = 'transaction_type_known'),
  array['transaction_type_known transaction 19000000-0000-4000-8000-0000000000f1: manual'],
  'reconciliation reports a transaction whose type is not in transaction_types');
rollback to savepoint before_stray_type;

-- A new capability's type is one row: then it is priced and posted like the others.
insert into public.transaction_types (code, fee_payer, description)
values ('tip', 'receiver', 'a tip to a waiter (stand-in for a future capability)');
insert into public.billing_fee_catalog (transaction_type, percentage_bps) values ('tip', 1000);
select is(hazina.fee_payer('tip'), 'receiver', 'the new row says who pays');
select is(hazina.transfer('tt-tip', '19000000-0000-4000-8000-0000000000a1', '19000000-0000-4000-8000-0000000000b1',
                          20, 'tip') - 'transaction_id' - 'from_wallet_id' - 'to_wallet_id',
  '{"ref": "tt-tip", "replayed": false, "amount": "20.0000", "fee": "2.0000", "fee_payer": "receiver",
    "currency": "KES", "transaction_type": "tip"}'::jsonb,
  'a transfer of the new type posts, its fee charged to the receiver');
select is((select balance from public.wallet_balances where wallet_id = '19000000-0000-4000-8000-0000000000b1'),
  23.0000::numeric, 'the receiver got 5.00 from the batch and 20.00 less its 2.00 fee');
select throws_ok($$delete from public.transaction_types where code = 'tip'$$, '23503', null,
  'a type the catalog prices cannot be removed');

-- Books
select is_empty($$select * from hazina.reconcile()$$, 'reconciliation finds no discrepancy');
select is((select count(*)::int from hazina.trial_balance() where total <> 0), 0, 'every currency sums to zero');

select * from finish();
rollback;
