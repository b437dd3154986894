-- Merchant API keys: only merchants hold them, shown once and stored hashed, resolved to
-- the merchant while active, revoked at once; what each role can see.
begin;
select plan(16);

\ir helpers.psql

select pg_temp.user_create('merchant', '38000000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('customer', '38000000-0000-4000-8000-00000000000b') as amina \gset
select pg_temp.user_create('admin', '38000000-0000-4000-8000-00000000000c') as ops \gset

select pg_temp.act_as(:'amina');
select throws_ok($$select public.api_key_create('mine', 'test', 'key-0001')$$, 'P0001', 'api_keys_merchants_only',
  'a customer cannot hold a key');
select pg_temp.act_as(:'ops');
select throws_ok($$select public.api_key_create('ops', 'test', 'key-0002')$$, 'P0001', 'api_keys_merchants_only',
  'nor can an admin: no key ever carries admin powers');
select pg_temp.act_as(:'duka');
select public.api_key_create('shop backend', 'test', 'key-0003') as created \gset
select ok((:'created'::jsonb) ->> 'secret' ~ '^hz_test_[0-9a-f]{64}$', 'a test key: prefixed, 256 random bits');
select is((:'created'::jsonb) ->> 'prefix', left((:'created'::jsonb) ->> 'secret', 16), 'listed by its prefix');
select is(public.api_key_create('shop backend', 'test', 'key-0003') ? 'secret', false, 'a repeat never shows the secret again');
select throws_ok($$select public.api_key_create('other name', 'test', 'key-0003')$$, 'P0001', 'ref_conflict',
  'the same ref for another key is a conflict');
reset role;
select (:'created'::jsonb) ->> 'id' as key_id, (:'created'::jsonb) ->> 'secret' as secret \gset
select is((select key_hash from public.api_keys where id = :'key_id'), encode(sha256(convert_to(:'secret', 'UTF8')), 'hex'),
  'only the SHA-256 is stored');
select is((select user_id from hazina.api_key_resolve(:'secret')), :'duka'::uuid, 'the key resolves to its merchant');
select isnt((select last_used_at from public.api_keys where id = :'key_id'), null, 'and records its use');
select is((select count(*)::int from hazina.api_key_resolve(:'secret' || '0')), 0, 'a wrong key resolves to nobody');

select pg_temp.act_as(:'amina');
select is((select count(*)::int from public.api_keys), 0, 'another user sees no keys');
select throws_ok(format($$select public.api_key_revoke('%s')$$, :'key_id'), 'P0001', 'api_key_not_found', 'nor revokes them');
select pg_temp.act_as_anon();
select throws_ok($$select count(*) from public.api_keys$$, '42501', null, 'anon reads nothing');
select pg_temp.act_as(:'duka');
select is((select count(*)::int from public.api_keys), 1, 'the merchant sees its key');
select is(public.api_key_revoke(:'key_id') ->> 'status', 'revoked', 'the merchant revokes it');
reset role;
select is((select count(*)::int from hazina.api_key_resolve(:'secret')), 0, 'a revoked key resolves to nobody, at once');

select * from finish();
rollback;
