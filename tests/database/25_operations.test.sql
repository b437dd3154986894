-- Operator functions: only real admins (auth_users.role, not a token claim) may reconcile,
-- sweep, change wallet status or reverse; each does what it says.
begin;
select plan(13);
\ir helpers.psql

insert into public.auth_users (id, email, role) values
  ('25000000-0000-4000-8000-00000000000a', 'cust@ops.test', 'customer'),
  ('25000000-0000-4000-8000-00000000000b', 'bob@ops.test', 'customer'),
  ('25000000-0000-4000-8000-0000000000ad', 'admin@ops.test', 'admin');
insert into public.wallets (id, user_id, kind) values
  ('25000000-0000-4000-8000-0000000000a1', '25000000-0000-4000-8000-00000000000a', 'user'),
  ('25000000-0000-4000-8000-0000000000b1', '25000000-0000-4000-8000-00000000000b', 'user');
select hazina.post_transaction('ops-fund', 'funding', jsonb_build_array(
  jsonb_build_object('wallet_id', hazina.system_wallet('mpesa_clearing'), 'direction', 'debit', 'amount', '100'),
  jsonb_build_object('wallet_id', '25000000-0000-4000-8000-0000000000a1', 'direction', 'credit', 'amount', '100')));
select hazina.transfer('ops-pay', '25000000-0000-4000-8000-0000000000a1', '25000000-0000-4000-8000-0000000000b1', 40, 'p2p_transfer')
       ->> 'transaction_id' as paid \gset

-- A customer whose token claims to be an admin is still a customer.
select set_config('request.jwt.claims', '{"sub":"25000000-0000-4000-8000-00000000000a","role":"authenticated","app_metadata":{"role":"admin"}}', true);
select set_config('role', 'authenticated', true);
select throws_ok($$select public.ops_reconciliation()$$, 'P0001', 'forbidden', 'a forged admin claim cannot reconcile');
select throws_ok($$select public.ops_run_sweeps()$$, 'P0001', 'forbidden', 'nor run sweeps');
select throws_ok($$select public.ops_set_wallet_status('25000000-0000-4000-8000-0000000000b1', 'frozen')$$, 'P0001', 'forbidden',
  'nor freeze a wallet');
select throws_ok(format($$select public.ops_reverse_transaction('%s', 'r1', null, 'mistake')$$, :'paid'), 'P0001', 'forbidden',
  'nor reverse a payment');
reset role;
select pg_temp.act_as(null, 'anon');
select throws_ok($$select public.ops_reconciliation()$$, '42501', null, 'anon cannot call operator functions');
reset role;

select pg_temp.act_as('25000000-0000-4000-8000-0000000000ad');
select is(jsonb_array_length(public.ops_reconciliation() -> 'discrepancies'), 0, 'an admin reconciles: no discrepancies');
select is(public.ops_set_wallet_status('25000000-0000-4000-8000-0000000000b1', 'frozen') ->> 'status', 'frozen', 'an admin freezes a wallet');
select throws_ok($$select public.ops_set_wallet_status('25000000-0000-4000-8000-0000000000b1', 'closed')$$, 'P0001', 'wallet_not_empty',
  'a wallet holding money cannot be closed');
select throws_ok($$select public.ops_set_wallet_status('25000000-0000-4000-8000-0000000000b1', null)$$, 'P0001', 'invalid_argument',
  'a missing status is refused with a stable code, not a constraint error (found by the rpc fuzz)');
select public.ops_set_wallet_status('25000000-0000-4000-8000-0000000000b1', 'active');
select throws_ok(format($$select public.ops_reverse_transaction('%s', 'r1', null, '')$$, :'paid'), 'P0001', 'invalid_argument',
  'a reversal needs a reason');
select is(public.ops_reverse_transaction(:'paid', 'r1', 15.00, 'customer dispute') ->> 'amount', '15.0000',
  'an admin reverses part of a payment');
select is(public.ops_reverse_transaction(:'paid', 'r1', 15.00, 'customer dispute') ->> 'amount', '15.0000',
  'retrying the same reversal posts nothing new');
reset role;
select is((select balance from public.wallet_balances where wallet_id = '25000000-0000-4000-8000-0000000000b1'), 25.0000::numeric,
  'the payee gave back 15 of the 40 once');

select * from finish();
rollback;
