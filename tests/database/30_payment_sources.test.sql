-- Payment sources: the M-Pesa numbers and bank accounts a user pays in from and out to, and
-- the paybill account reference, through the client API; what each role can see.
begin;
select plan(9);

\ir helpers.psql

select pg_temp.wallet_open(pg_temp.user_create('customer', '30000000-0000-4000-8000-00000000000a')),
       pg_temp.wallet_open(pg_temp.user_create('customer', '30000000-0000-4000-8000-00000000000b'));

select pg_temp.act_as('30000000-0000-4000-8000-00000000000a');
select is(public.wallet_source_add('mpesa', '0712 345-678', null, null, 'My phone') ->> 'msisdn', '254712345678',
  'an M-Pesa number is stored in Daraja''s 2547XXXXXXXX form');
select is(public.wallet_source_add('mpesa', '+254712345678') ->> 'created', 'false',
  'adding the same number again returns the existing source');
select is((select is_default from public.wallet_sources where msisdn = '254712345678'), true,
  'the first source becomes the default');
select throws_ok($$select public.wallet_source_add('mpesa', '12345')$$, 'P0001', 'invalid_source', 'a malformed number is refused');
select throws_ok($$select public.wallet_source_add('equity', null, '0123456789')$$, 'P0001', 'provider_not_supported',
  'unknown providers are refused');
select is(public.wallet_source_add('kcb', null, '1100223344', 'Amina W') ->> 'kind', 'bank_account', 'a KCB account is a bank source');
select public.wallet_paybill_reference('KES') ->> 'account_reference' as first_ref \gset
select is(public.wallet_paybill_reference('KES') ->> 'account_reference', :'first_ref',
  'a user keeps one paybill account reference');
reset role;
select pg_temp.source_add('30000000-0000-4000-8000-00000000000b', 'mpesa', '0722000111');

-- Who sees what
select pg_temp.act_as('30000000-0000-4000-8000-00000000000b');
select is((select count(*)::int from public.wallet_sources), 1, 'a user sees only their own sources');
reset role;
select pg_temp.act_as_anon();
select throws_ok($$select count(*) from public.wallet_sources$$, '42501', null, 'anon reads no sources');
reset role;

select * from finish();
rollback;
