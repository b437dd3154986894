-- Operator functions: only real admins (auth_users.role, not a token claim) may reconcile,
-- sweep, change wallet status or reverse; each does what it says.
begin;
select plan(13);
\ir helpers.psql

select pg_temp.wallet_open(pg_temp.user_create('customer', '25000000-0000-4000-8000-00000000000a')) as cust,
       pg_temp.wallet_open(pg_temp.user_create('customer')) as bob,
       pg_temp.user_create('admin', '25000000-0000-4000-8000-0000000000ad') as admin \gset
select pg_temp.fund(:'cust', 100);
select hazina.transfer('ops-pay', :'cust', :'bob', 40, 'p2p_transfer') ->> 'transaction_id' as paid \gset

-- A customer whose token claims to be an admin is still a customer.
select set_config('request.jwt.claims', '{"sub":"25000000-0000-4000-8000-00000000000a","role":"authenticated","app_metadata":{"role":"admin"}}', true);
select set_config('role', 'authenticated', true);
select throws_ok($$select public.ops_reconciliation()$$, 'P0001', 'forbidden', 'a forged admin claim cannot reconcile');
select throws_ok($$select public.ops_run_sweeps()$$, 'P0001', 'forbidden', 'nor run sweeps');
select throws_ok(format($$select public.ops_set_wallet_status('%s', 'frozen')$$, :'bob'), 'P0001', 'forbidden',
  'nor freeze a wallet');
select throws_ok(format($$select public.ops_reverse_transaction('%s', 'r1', null, 'mistake')$$, :'paid'), 'P0001', 'forbidden',
  'nor reverse a payment');
reset role;
select pg_temp.act_as_anon();
select throws_ok($$select public.ops_reconciliation()$$, '42501', null, 'anon cannot call operator functions');
reset role;

select pg_temp.act_as(:'admin');
select is(jsonb_array_length(public.ops_reconciliation() -> 'discrepancies'), 0, 'an admin reconciles: no discrepancies');
select is(public.ops_set_wallet_status(:'bob', 'frozen') ->> 'status', 'frozen', 'an admin freezes a wallet');
select throws_ok(format($$select public.ops_set_wallet_status('%s', 'closed')$$, :'bob'), 'P0001', 'wallet_not_empty',
  'a wallet holding money cannot be closed');
select throws_ok(format($$select public.ops_set_wallet_status('%s', null)$$, :'bob'), 'P0001', 'invalid_argument',
  'a missing status is refused with a stable code, not a constraint error (found by the rpc fuzz)');
select public.ops_set_wallet_status(:'bob', 'active');
select throws_ok(format($$select public.ops_reverse_transaction('%s', 'r1', null, '')$$, :'paid'), 'P0001', 'invalid_argument',
  'a reversal needs a reason');
select is(public.ops_reverse_transaction(:'paid', 'r1', 15.00, 'customer dispute') ->> 'amount', '15.0000',
  'an admin reverses part of a payment');
select is(public.ops_reverse_transaction(:'paid', 'r1', 15.00, 'customer dispute') ->> 'amount', '15.0000',
  'retrying the same reversal posts nothing new');
reset role;
select is((select balance from public.wallet_balances where wallet_id = :'bob'), 25.0000::numeric,
  'the payee gave back 15 of the 40 once');

select * from finish();
rollback;
