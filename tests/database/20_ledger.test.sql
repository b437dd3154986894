-- Ledger core: posting rules, idempotency, immutability, RLS and reconciliation.
begin;
select plan(50);

\ir helpers.psql

select pg_temp.user_create('customer') as alice_id, pg_temp.user_create('customer') as bob_id,
       pg_temp.user_create('merchant') as duka_id \gset

-- Wallets are opened by their owners through the client API.
select pg_temp.act_as(:'alice_id');
select is((public.wallet_open('KES') ->> 'created')::boolean, true, 'a user opens a KES wallet');
select is((public.wallet_open('KES') ->> 'created')::boolean, false, 'opening it again returns the same wallet');
select throws_ok($$select public.wallet_open('XXX')$$, 'P0001', 'currency_not_supported', 'unknown currencies are refused');
select pg_temp.act_as(:'bob_id');
select public.wallet_open('KES');
select pg_temp.act_as(:'duka_id');
select is(public.wallet_open('KES') ->> 'kind', 'merchant', 'a merchant gets a merchant wallet');
reset role;
select pg_temp.act_as_anon();
select throws_ok($$select public.wallet_open('KES')$$, '42501', null, 'anon cannot open wallets');
reset role;

select pg_temp.wallet_open(:'alice_id') as alice, pg_temp.wallet_open(:'bob_id') as bob,
       pg_temp.wallet_open(:'duka_id') as duka \gset
select hazina.system_wallet('mpesa_clearing') as mpesa \gset

-- General posting
select lives_ok(format($$select hazina.post_transaction('t-fund-alice', 'funding', '[
  {"wallet_id": "%s", "direction": "debit", "amount": "1000.00"},
  {"wallet_id": "%s", "direction": "credit", "amount": "1000.00"}]')$$, :'mpesa', :'alice'),
  'a balanced posting from a clearing wallet succeeds');
select is((select balance from public.wallets where id = :'mpesa'), -1000.0000::numeric,
  'a system clearing wallet may run negative (it mirrors money held at M-Pesa)');
select is((select balance_after from public.wallet_ledger where wallet_id = :'alice'), 1000.0000::numeric,
  'entries record the balance after them');
select is(hazina.post_transaction('t-fund-alice', 'funding', format('[
  {"wallet_id": "%s", "direction": "debit", "amount": "1000.00"},
  {"wallet_id": "%s", "direction": "credit", "amount": "1000.00"}]', :'mpesa', :'alice')::jsonb),
  (select id from public.wallet_transactions where ref = 't-fund-alice'),
  'the same ref with the same content returns the original transaction');
select is((select count(*)::int from public.wallet_ledger where wallet_id = :'alice'), 1, 'and posts nothing twice');
select throws_ok(format($$select hazina.post_transaction('t-fund-alice', 'funding', '[
  {"wallet_id": "%s", "direction": "debit", "amount": "999.00"},
  {"wallet_id": "%s", "direction": "credit", "amount": "999.00"}]')$$, :'mpesa', :'alice'),
  'P0001', 'ref_conflict', 'the same ref with different content is a ref_conflict');
select throws_ok(format($$select hazina.post_transaction('t-unbalanced', 'funding', '[
  {"wallet_id": "%s", "direction": "debit", "amount": "10.00"},
  {"wallet_id": "%s", "direction": "credit", "amount": "9.99"}]')$$, :'mpesa', :'alice'),
  'P0001', 'unbalanced_transaction', 'debits must equal credits');
select throws_ok(format($$select hazina.post_transaction('t-one-leg', 'funding', '[
  {"wallet_id": "%s", "direction": "credit", "amount": "10.00"}]')$$, :'alice'),
  'P0001', 'invalid_entries', 'a posting needs at least two entries');
select throws_ok(format($$select hazina.post_transaction('t-negative', 'funding', '[
  {"wallet_id": "%s", "direction": "debit", "amount": "-5"},
  {"wallet_id": "%s", "direction": "credit", "amount": "-5"}]')$$, :'mpesa', :'alice'),
  'P0001', 'invalid_amount', 'amounts must be positive');
select throws_ok(format($$select hazina.post_transaction('t-precision', 'funding', '[
  {"wallet_id": "%s", "direction": "debit", "amount": "1.00001"},
  {"wallet_id": "%s", "direction": "credit", "amount": "1.00001"}]')$$, :'mpesa', :'alice'),
  'P0001', 'invalid_amount', 'amounts carry at most 4 decimal places');
select throws_ok(format($$select hazina.post_transaction('t-overdraft', 'p2p_transfer', '[
  {"wallet_id": "%s", "direction": "debit", "amount": "1000.01"},
  {"wallet_id": "%s", "direction": "credit", "amount": "1000.01"}]')$$, :'alice', :'bob'),
  'P0001', 'insufficient_funds', 'a user wallet is never overdrawn');

-- A transaction's entries are found by their ref prefix: all of them (lines #1..#12, where
-- '#10' sorts before '#2'), and none of another transaction.
select hazina.post_transaction('t-twelve', 'funding', (
  select jsonb_agg(jsonb_build_object('wallet_id', case when g % 2 = 0 then :'mpesa'::uuid else hazina.system_wallet('suspense') end,
                                      'direction', case when g % 2 = 0 then 'debit' else 'credit' end,
                                      'amount', '0.01'))
    from generate_series(1, 12) g)) as t_twelve \gset
select is(array(select ref from hazina.transaction_entries(:'t_twelve') order by id),
          array(select :'t_twelve' || '#' || g from generate_series(1, 12) g),
          'transaction_entries finds every entry of a transaction, in order, and nothing else');
select is((select count(*)::int from public.wallet_ledger where transaction_id = :'t_twelve'), 12,
          'and the same entries as a scan by transaction_id');

-- The deferred constraint trigger catches an unbalanced transaction written by hand.
savepoint before_hand_written;
insert into public.wallet_transactions (id, ref, kind, request_hash, principal_amount, currency)
values ('20000000-0000-4000-8000-0000000000f1', 't-by-hand', 'manual', 'x', 5, 'KES');
insert into public.wallet_ledger (transaction_id, wallet_id, direction, amount, currency, kind, ref)
values ('20000000-0000-4000-8000-0000000000f1', :'mpesa', 'debit', 5, 'KES', 'manual', '20000000-0000-4000-8000-0000000000f1#1');
select throws_ok($$set constraints wallet_transactions_balanced immediate$$, 'P0001', 'unbalanced_transaction',
  'a hand-written unbalanced transaction fails the commit-time check');
rollback to savepoint before_hand_written;
-- An entry's ref names its transaction: the primary key index finds a transaction's
-- entries by that prefix, so the schema refuses any other ref.
select throws_ok(format($$insert into public.wallet_ledger (transaction_id, wallet_id, direction, amount, currency, kind, ref)
  values ('20000000-0000-4000-8000-0000000000f1', '%s', 'debit', 5, 'KES', 'manual', 'not-its-transaction#1')$$, :'mpesa'),
  '23514', null, 'an entry ref must start with its transaction id');

-- Immutability
select throws_ok($$update public.wallet_ledger set amount = 1$$, 'P0001', 'ledger_immutable', 'ledger rows cannot be updated, even by the owner');
select throws_ok($$delete from public.wallet_ledger$$, 'P0001', 'ledger_immutable', 'ledger rows cannot be deleted');
select throws_ok($$update public.wallet_transactions set kind = 'changed'$$, 'P0001', 'ledger_immutable', 'transaction headers cannot be updated');

-- Frozen wallets
update public.wallets set status = 'frozen' where id = :'bob';
select throws_ok(format($$select hazina.post_transaction('t-to-frozen', 'p2p_transfer', '[
  {"wallet_id": "%s", "direction": "debit", "amount": "1"},
  {"wallet_id": "%s", "direction": "credit", "amount": "1"}]')$$, :'alice', :'bob'),
  'P0001', 'wallet_not_active', 'a frozen wallet takes no postings');
update public.wallets set status = 'active' where id = :'bob';

-- P2P through the client API
insert into public.billing_fee_catalog (transaction_type, percentage_bps, minimum_amount, maximum_amount)
values ('p2p_transfer', 50, 1, 100), ('merchant_payment', 150, 0, null);
select pg_temp.act_as(:'alice_id');
select is(public.transfer(:'alice', :'bob', 100.00, 'p2p-0000001') ->> 'fee', '1.0000',
  'P2P charges the catalog fee (0.5% = 0.50, clamped up to the 1.00 minimum)');
select is(public.transfer(:'alice', :'bob', 100.00, 'p2p-0000001') ->> 'replayed', 'true',
  'retrying a transfer with the same key replays it');
select is((select balance from public.wallet_balances where wallet_id = :'alice'), 899.0000::numeric,
  'the sender pays amount plus fee exactly once');
select throws_ok(format($$select public.transfer('%s', '%s', 1, 'p2p-0000002')$$, :'bob', :'alice'),
  'P0001', 'wallet_not_found', 'nobody can spend from another user''s wallet');
select throws_ok(format($$select public.transfer('%s', '%s', 1, 'p2p-0000003')$$, :'alice', :'mpesa'),
  'P0001', 'wallet_not_found', 'clients cannot pay into system wallets');
select throws_ok(format($$select public.transfer('%s', '%s', 1, 'p2p-0000004')$$, :'alice', :'alice'),
  'P0001', 'same_wallet', 'a wallet cannot pay itself');
select throws_ok(format($$select public.transfer('%s', '%s', 0.001, 'p2p-0000005')$$, :'alice', :'bob'),
  'P0001', 'invalid_amount', 'KES moves in cents');
select throws_ok(format($$select public.transfer('%s', '%s', 5000, 'p2p-0000006')$$, :'alice', :'bob'),
  'P0001', 'insufficient_funds', 'a transfer beyond the available balance is refused');
select is(public.transfer(:'alice', :'duka', 200.00, 'pay-0000001') ->> 'fee', '3.0000',
  'paying a merchant is a merchant payment (1.5% borne by the merchant)');

-- What clients can and cannot touch
select throws_ok(format($$select hazina.post_transaction('t-client', 'funding', '[
  {"wallet_id": "%s", "direction": "debit", "amount": "1"},
  {"wallet_id": "%s", "direction": "credit", "amount": "1"}]')$$, :'mpesa', :'alice'),
  '42501', null, 'a client cannot call the internal posting function');
select throws_ok(format($$insert into public.wallet_ledger (transaction_id, wallet_id, direction, amount, currency, kind, ref)
  values (gen_random_uuid(), '%s', 'credit', 1, 'KES', 'x', 'x')$$, :'alice'),
  '42501', null, 'a client cannot insert ledger rows');
select throws_ok(format($$update public.wallets set balance = 1000000 where id = '%s'$$, :'alice'),
  '42501', null, 'a client cannot update its balance');
select is((select count(*)::int from public.wallets), 1, 'a user sees only their own wallet');
select is((select count(*)::int from public.wallet_ledger where wallet_id <> :'alice'), 0,
  'a user sees no other wallet''s entries');
select ok((select count(*) from public.wallet_ledger) >= 3, 'a user reads their own statement');
select pg_temp.act_as(:'bob_id');
select is((select count(*)::int from public.wallet_ledger where wallet_id = :'alice'), 0, 'another user cannot read alice''s entries');
select is((select count(*)::int from public.billing_ledger), 0, 'bob paid no fees and sees none');
reset role;
select pg_temp.act_as_anon();
select throws_ok($$select count(*) from public.wallets$$, '42501', null, 'anon cannot read wallets');
reset role;
select pg_temp.act_as_service_role();
select ok((select count(*) from public.wallets) >= 10, 'service_role reads every wallet');
reset role;

-- Pooled merchant credits count in the balance
select is((select balance from public.wallet_balances where wallet_id = :'duka'), 197.0000::numeric,
  'the merchant''s pooled credits net of its fee show in its balance');
select is((select sum(amount)::numeric from public.billing_ledger where direction = 'charge'), 4.0000::numeric,
  'every fee charged has one billing_ledger row');

-- Books
select throws_ok(format($$insert into public.billing_ledger (ref, transaction_id, payer_wallet_id, transaction_type, direction,
                                                            amount, currency, base_amount, rule_source)
  values ('fee-of-something-else', '%s', '%s', 'p2p_transfer', 'charge', 1, 'KES', 1, 'catalog')$$,
  (select id from public.wallet_transactions limit 1), :'alice'),
  '23514', null, 'a fee record''s ref must start with its transaction id');
savepoint before_orphan_fee;
insert into public.billing_ledger (ref, transaction_id, payer_wallet_id, transaction_type, direction, amount, currency,
                                   base_amount, rule_source)
select id::text || '#orphan-fee', id, gen_random_uuid(), 'p2p_transfer', 'charge', 1, 'KES', 1, 'catalog'
  from public.wallet_transactions limit 1;
select ok('billing_row_has_transaction_and_wallet' = any (array(select check_name from hazina.reconcile())),
  'reconciliation reports a fee row whose payer wallet does not exist');
rollback to savepoint before_orphan_fee;
savepoint before_unposted_fee;
insert into public.billing_ledger (ref, transaction_id, payer_wallet_id, transaction_type, direction, amount, currency,
                                   base_amount, rule_source)
select id::text || '#unposted-fee', id, :'alice', 'p2p_transfer', 'charge', 1, 'KES', 1, 'catalog'
  from public.wallet_transactions where ref = 't-fund-alice';
select is((select check_name from hazina.reconcile()), 'fee_entries_match_billing',
  'reconciliation reports a fee that was billed but never posted');
rollback to savepoint before_unposted_fee;
select pg_temp.books_balance();

select * from finish();
rollback;
