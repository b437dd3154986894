-- Merchant applications (database/migrations/*_merchant_applications.sql): nobody makes
-- themselves a merchant; an admin (the database's word) approves, and approval turns the
-- applicant's wallet into a merchant wallet. Each role's view: the applicant, another user,
-- an admin, a customer forging an admin claim, anon, service_role.
begin;
select plan(33);
\ir helpers.psql

-- A applies, B is another customer, X is an admin, P pays A.
insert into public.auth_users (id, email, role) values
  ('26000000-0000-4000-8000-00000000000a', 'shop@example.com', 'customer'),
  ('26000000-0000-4000-8000-00000000000b', 'other@example.com', 'customer'),
  ('26000000-0000-4000-8000-0000000000ad', 'ops@example.com', 'admin'),
  ('26000000-0000-4000-8000-00000000000c', 'payer@example.com', 'customer');
insert into public.wallets (id, user_id, kind) values
  ('26000000-0000-4000-8000-0000000000a1', '26000000-0000-4000-8000-00000000000a', 'user'),
  ('26000000-0000-4000-8000-0000000000c1', '26000000-0000-4000-8000-00000000000c', 'user');
select pg_temp.fund('26000000-0000-4000-8000-0000000000c1', 100, 'ma-fund');

-- ---------------------------------------------------------------- the applicant
select pg_temp.act_as('26000000-0000-4000-8000-00000000000a');
select is((public.merchant_apply('Duka la Shop') - 'id' - 'created_at' - 'updated_at'),
          jsonb_build_object('user_id', '26000000-0000-4000-8000-00000000000a', 'business_name', 'Duka la Shop', 'status', 'pending',
                             'decided_by', null, 'decided_at', null, 'decision_reason', null, 'created', true),
          'a customer asks to become a merchant: a pending application');
select is(public.merchant_apply('Another name') ->> 'created', 'false', 'asking again while pending returns the pending one');
select is((select role from public.auth_users where id = auth.uid()), 'customer', 'and they are still a customer');
select results_eq($$select business_name, status from public.merchant_applications$$,
                  $$values ('Duka la Shop'::text, 'pending'::text)$$, 'the applicant reads their own application');
select throws_ok($$select public.merchant_apply('')$$, 'P0001', 'invalid_argument', 'a business name is required');
select throws_ok($$select public.ops_merchant_approve('26000000-0000-4000-8000-00000000000a')$$, 'P0001', 'forbidden',
                 'the applicant cannot approve themselves');
select throws_ok($$insert into public.merchant_applications (user_id, business_name, status, decided_at)
                   values (auth.uid(), 'x', 'approved', now())$$, '42501', null, 'nor write an approved application');
select throws_ok($$update public.merchant_applications set status = 'approved'$$, '42501', null, 'nor approve it directly');
select throws_ok($$update public.auth_users set role = 'merchant' where id = auth.uid()$$, '42501', null,
                 'nor make themselves a merchant');
reset role;

-- ---------------------------------------------------------------- until approved, paying them is P2P
select pg_temp.act_as('26000000-0000-4000-8000-00000000000c');
select is(public.transfer('26000000-0000-4000-8000-0000000000c1', '26000000-0000-4000-8000-0000000000a1', 10, 'ma-pay-1')
          ->> 'transaction_type', 'p2p_transfer', 'a payment to a pending applicant is P2P (the payer''s fee rules)');
reset role;

-- ---------------------------------------------------------------- another user, a forged admin claim, anon
select pg_temp.act_as('26000000-0000-4000-8000-00000000000b');
select is((select count(*)::int from public.merchant_applications), 0, 'another user reads no one else''s application');
select throws_ok($$select public.ops_merchant_approve('26000000-0000-4000-8000-00000000000a')$$, 'P0001', 'forbidden',
                 'nor approves it');
select set_config('request.jwt.claims', '{"sub":"26000000-0000-4000-8000-00000000000b","role":"authenticated","app_metadata":{"role":"admin"}}', true);
select is((select count(*)::int from public.merchant_applications), 0, 'a forged admin claim reads none');
select throws_ok($$select public.ops_merchant_approve('26000000-0000-4000-8000-00000000000a')$$, 'P0001', 'forbidden',
                 'and approves none');
reset role;
select pg_temp.act_as(null, 'anon');
select throws_ok($$select count(*) from public.merchant_applications$$, '42501', null, 'anon cannot read applications');
select throws_ok($$select public.merchant_apply('Anon shop')$$, '42501', null, 'nor apply');
reset role;

-- ---------------------------------------------------------------- service_role
set local role service_role;
select is((select count(*)::int from public.merchant_applications where user_id = '26000000-0000-4000-8000-00000000000a'), 1,
          'service_role reads applications');
select throws_ok($$update public.merchant_applications set status = 'approved'$$, '42501', null,
                 'service_role cannot decide one directly either');
select is(hazina.merchant_application_submit('26000000-0000-4000-8000-00000000000b', 'Sign-up shop') ->> 'status', 'pending',
          'service_role files an application for a new sign-up');
reset role;

-- ---------------------------------------------------------------- the admin decides
select pg_temp.act_as('26000000-0000-4000-8000-0000000000ad');
select is((select count(*)::int from public.merchant_applications), 2, 'an admin reads every application');
select is(public.ops_merchant_approve('26000000-0000-4000-8000-00000000000a', 'documents checked') ->> 'status', 'approved',
          'an admin approves');
select is(public.ops_merchant_approve('26000000-0000-4000-8000-00000000000a') ->> 'decision_reason', 'documents checked',
          'approving again returns the approved application unchanged');
select throws_ok($$select public.ops_merchant_reject('26000000-0000-4000-8000-00000000000a')$$, 'P0001',
                 'merchant_application_not_pending', 'an approved application cannot be rejected');
select is(public.ops_merchant_reject('26000000-0000-4000-8000-00000000000b', 'not a business') ->> 'status', 'rejected',
          'an admin rejects another');
select throws_ok($$select public.ops_merchant_approve('26000000-0000-4000-8000-00000000000c')$$, 'P0001',
                 'merchant_application_not_found', 'a user who never applied has nothing to approve');
reset role;

select is((select role from public.auth_users where id = '26000000-0000-4000-8000-00000000000a'), 'merchant',
          'approval makes the applicant a merchant');
select is((select kind::text || '|' || credit_buckets || '|' || (select count(*) from public.wallet_balance_buckets b where b.wallet_id = w.id)
             from public.wallets w where id = '26000000-0000-4000-8000-0000000000a1'),
          'merchant|8|8', 'and their existing wallet a merchant wallet that pools credits');
select is((select role from public.auth_users where id = '26000000-0000-4000-8000-00000000000b'), 'customer',
          'a rejected applicant stays a customer');
select ok(exists (select 1 from public.audit_logs
                   where table_name = 'auth_users' and row_id = '26000000-0000-4000-8000-00000000000a' and action = 'UPDATE'
                     and old_values ->> 'role' = 'customer' and new_values ->> 'role' = 'merchant'
                     and actor_id = '26000000-0000-4000-8000-0000000000ad'),
          'the role change is audited with the admin as actor');

select pg_temp.act_as('26000000-0000-4000-8000-00000000000c');
select is(public.transfer('26000000-0000-4000-8000-0000000000c1', '26000000-0000-4000-8000-0000000000a1', 10, 'ma-pay-2')
          ->> 'transaction_type', 'merchant_payment', 'once approved, paying them is a merchant payment');
reset role;
select pg_temp.act_as('26000000-0000-4000-8000-00000000000b');
select is(public.merchant_apply('Second try') ->> 'created', 'true', 'a rejected applicant may apply again');
reset role;
select pg_temp.act_as('26000000-0000-4000-8000-00000000000a');
select throws_ok($$select public.merchant_apply('More')$$, 'P0001', 'already_merchant', 'a merchant does not apply again');
reset role;

select is((select count(*)::int from hazina.reconcile()), 0, 'the books balance');

select * from finish();
rollback;
