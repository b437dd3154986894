-- QR codes: the merchant manages its codes, anyone resolves an active code by slug to what
-- the checkout page shows (and nothing more), a payment through a code is an intent opened
-- for it, a use counts once per successful payment, and limits and expiry refuse payments.
begin;
select plan(53);

\ir helpers.psql

select pg_temp.user_create('merchant', '43000000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('customer', '43000000-0000-4000-8000-00000000000b') as amina \gset
select pg_temp.user_create('customer', '43000000-0000-4000-8000-00000000000c') as baraka \gset
select pg_temp.user_create('merchant', '43000000-0000-4000-8000-00000000000d') as soko \gset
update public.auth_users set name = 'Duka la Mama' where id = :'duka';
select pg_temp.wallet_open(:'duka') as duka_wallet \gset
select pg_temp.wallet_open(:'soko') as soko_wallet \gset
select pg_temp.wallet_open(:'amina') as amina_wallet \gset
select pg_temp.wallet_open(:'baraka') as baraka_wallet \gset
select pg_temp.fund(:'amina_wallet', 1000);
select pg_temp.fund(:'baraka_wallet', 1000);

-- Creating: the merchant, through the public wrapper.
select pg_temp.act_as(:'duka');
select public.qr_code_create('fixed', 'Chai', 150, 'KES', null, null, 1, 'qr-fixed-1') as fixed \gset
select public.qr_code_create('static', 'Till', null, null, null, null, null, 'qr-static-1') as static_code \gset
reset role;
select (:'fixed'::jsonb) ->> 'id' as fixed_id, (:'fixed'::jsonb) ->> 'slug' as fixed_slug \gset
select (:'static_code'::jsonb) ->> 'id' as static_id, (:'static_code'::jsonb) ->> 'slug' as static_slug \gset

select is((:'fixed'::jsonb) - 'id' - 'slug' - 'created_at' - 'updated_at',
  jsonb_build_object('object', 'qr_code', 'merchant_id', :'duka', 'kind', 'fixed', 'label', 'Chai', 'amount', '150.0000',
    'currency', 'KES', 'subject_id', null, 'expires_at', null, 'max_uses', 1, 'use_count', 0, 'status', 'active', 'disabled_reason', null,
    'created', true), 'a fixed code: its shape');
select matches(:'fixed_slug'::text, '^[a-z2-7]{26}$', 'the slug is 26 base32 characters (130 random bits)');
select isnt(:'fixed_slug'::text, :'static_slug'::text, 'slugs differ');
select is((select count(distinct hazina.qr_code_slug()) from generate_series(1, 2000)), 2000::bigint, '2000 slugs, no repeat');
select is(pg_temp.as_user(:'duka', $$select public.qr_code_create('fixed', 'Chai', 150, 'KES', null, null, 1, 'qr-fixed-1')$$) ->> 'created',
  'false', 'the same request returns the same code');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.qr_code_create(''fixed'', ''Chai'', 200, ''KES'', null, null, 1, ''qr-fixed-1'')')$$, :'duka'),
  'P0001', 'ref_conflict', 'the same ref for another code is a conflict');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.qr_code_create(''static'', null, null, null, null, null, null, ''qr-c-1'')')$$, :'amina'),
  'P0001', 'qr_codes_merchants_only', 'a customer creates no codes');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.qr_code_create(''static'', null, 5, null, null, null, null, ''qr-bad-1'')')$$, :'duka'),
  'P0001', 'invalid_argument', 'a static code has no amount');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.qr_code_create(''fixed'', null, null, null, null, null, null, ''qr-bad-2'')')$$, :'duka'),
  'P0001', 'invalid_argument', 'a fixed code needs its amount');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.qr_code_create(''fixed'', null, 1.23456, null, null, null, null, ''qr-bad-3'')')$$, :'duka'),
  'P0001', 'invalid_amount', 'the amount is valid money');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.qr_code_create(''fixed'', null, 10, ''USD'', null, null, null, ''qr-bad-4'')')$$, :'duka'),
  'P0001', 'merchant_wallet_required', 'a currency the merchant has no wallet for');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.qr_code_create(''static'', null, null, null, null, now() - interval ''1 minute'', null, ''qr-bad-5'')')$$, :'duka'),
  'P0001', 'invalid_argument', 'an expiry in the past');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.qr_code_create(''order'', null, 10, null, null, null, null, ''qr-bad-6'')')$$, :'duka'),
  'P0001', 'invalid_argument', 'a bound kind needs its subject');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.qr_code_create(''intent'', null, null, null, gen_random_uuid(), null, null, ''qr-bad-7'')')$$, :'duka'),
  'P0001', 'payment_intent_not_found', 'an intent code binds one of the merchant''s intents');

-- Reading: RLS from every side.
select pg_temp.act_as(:'duka');
select is((select count(*) from public.qr_codes), 2::bigint, 'the merchant reads its codes');
select pg_temp.act_as(:'soko');
select is((select count(*) from public.qr_codes), 0::bigint, 'another merchant reads none');
select pg_temp.act_as(:'amina');
select is((select count(*) from public.qr_codes), 0::bigint, 'a customer reads none');
select pg_temp.act_as_anon();
select throws_ok($$select count(*) from public.qr_codes$$, '42501', null, 'anon cannot read the table');
select throws_ok(format($$select public.qr_code_create('static', null, null, null, null, null, null, 'qr-anon-1')$$),
  '42501', null, 'anon cannot create');
-- ... but anyone resolves a slug to what the page shows, and nothing more.
select is(public.qr_code_resolve(:'fixed_slug'),
  jsonb_build_object('object', 'qr_checkout', 'slug', :'fixed_slug', 'status', 'active', 'merchant_name', 'Duka la Mama',
    'kind', 'fixed', 'label', 'Chai', 'amount', '150.00', 'currency', 'KES', 'minor_units', 2), 'anon resolves an active code');
select is(public.qr_code_resolve('aaaaaaaaaaaaaaaaaaaaaaaaaa'), null, 'an unknown slug resolves to nothing');
select is(public.qr_code_resolve('not a slug'), null, 'a malformed slug resolves to nothing');
select throws_ok(format($$select public.qr_code_disable('%s')$$, :'fixed_id'), '42501', null, 'anon cannot disable');
select pg_temp.act_as(:'amina');
select is(public.qr_code_resolve(:'static_slug') ->> 'amount', null, 'a signed-in payer resolves a static code: no amount');
select throws_ok(format($$select public.qr_code_disable('%s')$$, :'fixed_id'), 'P0001', 'qr_code_not_found',
  'a customer cannot disable the merchant''s code');
select pg_temp.act_as(:'soko');
select throws_ok(format($$select public.qr_code_update('%s', 'mine', null, false, null, false, null)$$, :'fixed_id'),
  'P0001', 'qr_code_not_found', 'another merchant cannot change it');
select pg_temp.act_as_service_role();
select is((select count(*) from public.qr_codes where merchant_id = :'duka'), 2::bigint, 'service role reads every code');
select throws_ok(format($$select public.qr_code_pay_wallet('%s', '%s', null, 'attempt-0001')$$, :'fixed_slug', :'amina_wallet'),
  '42501', null, 'service role pays nothing through a code');
reset role;

-- Paying with a wallet: an intent opened for the code, counted once.
select pg_temp.act_as(:'amina');
select public.qr_code_pay_wallet(:'fixed_slug', :'amina_wallet', null, 'attempt-0001') as paid \gset
reset role;
select is(array[(:'paid'::jsonb) ->> 'status', (:'paid'::jsonb) ->> 'subject_type', (:'paid'::jsonb) ->> 'subject_id',
                (:'paid'::jsonb) ->> 'amount', (:'paid'::jsonb) ->> 'customer_id'],
  array['succeeded', 'qr_code', :'fixed_id', '150.0000', :'amina'], 'the payment is a succeeded intent for the code');
select is(pg_temp.balance(:'amina_wallet'), 850.0000, 'the payer paid the amount');
select is((select array[use_count::text, status] from public.qr_codes where id = :'fixed_id'), array['1', 'exhausted'],
  'one use counted; at max_uses the code is exhausted');
select is(pg_temp.as_user(:'amina', format($$select public.qr_code_pay_wallet('%s', '%s', null, 'attempt-0001')$$,
  :'fixed_slug', :'amina_wallet')) ->> 'id', (:'paid'::jsonb) ->> 'id', 'the same attempt again returns the same payment');
select is(pg_temp.balance(:'amina_wallet'), 850.0000, '... and pays nothing more');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.qr_code_pay_wallet(''%s'', ''%s'', null, ''attempt-0002'')')$$,
  :'baraka', :'fixed_slug', :'baraka_wallet'), 'P0001', 'qr_code_exhausted', 'an exhausted code refuses a new payment');
select is(public.qr_code_resolve(:'fixed_slug') - 'merchant_name',
  jsonb_build_object('object', 'qr_checkout', 'slug', :'fixed_slug', 'status', 'exhausted'),
  'an exhausted code resolves to its status only');
select is((select array_agg(type order by created_at, type) from public.events where object_id = :'fixed_id'),
  array['qr_code.created', 'qr_code.exhausted', 'qr_code.used'], 'created, used and exhausted are events');

-- Static codes: the payer names the amount; a failed attempt counts nothing.
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.qr_code_pay_wallet(''%s'', ''%s'', null, ''attempt-0003'')')$$,
  :'amina', :'static_slug', :'amina_wallet'), 'P0001', 'invalid_argument', 'a static code needs the payer''s amount');
select is(pg_temp.as_user(:'amina', format($$select public.qr_code_pay_wallet('%s', '%s', 5000, 'attempt-0004')$$,
  :'static_slug', :'amina_wallet')) #>> '{payment_error,code}', 'insufficient_funds', 'more than the wallet holds fails');
select is((select use_count from public.qr_codes where id = :'static_id'), 0, '... and counts no use');
select is(pg_temp.as_user(:'amina', format($$select public.qr_code_pay_wallet('%s', '%s', 99.5, 'attempt-0005')$$,
  :'static_slug', :'amina_wallet')) ->> 'status', 'succeeded', 'the payer''s amount is paid');
select is((select use_count from public.qr_codes where id = :'static_id'), 1, 'one use');

-- A reservation: an intent of the code that is processing holds a use until it ends.
update public.qr_codes set max_uses = 2 where id = :'static_id';
select pg_temp.act_as_anon();
select public.qr_code_open_guest_intent(:'static_slug', 10, 'guest-attempt-1') as guest \gset
reset role;
select (:'guest'::jsonb) ->> 'id' as guest_pi, (:'guest'::jsonb) ->> 'client_secret' as guest_secret \gset
select is(array[(:'guest'::jsonb) ->> 'customer_id', (:'guest'::jsonb) ->> 'subject_type', (:'guest'::jsonb) ->> 'status'],
  array[null, 'qr_code', 'requires_confirmation'], 'a guest (anon) opens an intent for the code, for nobody in particular');
-- The guest confirms with an M-Pesa part: the intent is processing while the STK push is out.
select is(hazina.payment_intent_confirm(:'guest_pi', null, '[{"type": "mpesa", "phone": "254712345678", "amount": "10"}]',
  :'guest_secret') ->> 'status', 'processing', 'the guest''s M-Pesa confirm reserves a use');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.qr_code_pay_wallet(''%s'', ''%s'', 10, ''attempt-0006'')')$$,
  :'baraka', :'static_slug', :'baraka_wallet'), 'P0001', 'qr_code_exhausted', 'a use reserved by a payment under way is not given twice');
select hazina.payment_intent_cancel(:'guest_pi', null, 'expired');
select is(pg_temp.as_user(:'baraka', format($$select public.qr_code_pay_wallet('%s', '%s', 10, 'attempt-0006')$$,
  :'static_slug', :'baraka_wallet')) ->> 'status', 'succeeded', 'the reservation ends with its intent');

-- Disable, re-enable, expiry by hazina.clock().
select pg_temp.act_as(:'duka');
select public.qr_code_create('static', 'Later', null, null, null, now() + interval '1 day', null, 'qr-exp-1') ->> 'slug' as exp_slug \gset
select public.qr_code_create('static', 'Off', null, null, null, null, null, 'qr-off-1') ->> 'id' as off_id \gset
select is(public.qr_code_disable(:'off_id') ->> 'status', 'disabled', 'DELETE disables');
reset role;
select slug as off_slug from public.qr_codes where id = :'off_id' \gset
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.qr_code_pay_wallet(''%s'', ''%s'', 10, ''attempt-0007'')')$$,
  :'amina', :'off_slug', :'amina_wallet'), 'P0001', 'qr_code_disabled', 'a disabled code refuses payments');
select is(pg_temp.as_user(:'duka', format($$select public.qr_code_update('%s', null, null, false, null, false, 'active')$$, :'off_id')) ->> 'status',
  'active', 'the merchant re-enables it');
select hazina.clock_travel(interval '2 days');
select is(public.qr_code_resolve(:'exp_slug') ->> 'status', 'expired', 'past its expiry a code is expired at once');
select throws_ok(format($$select pg_temp.as_user('%s', 'select public.qr_code_pay_wallet(''%s'', ''%s'', 10, ''attempt-0008'')')$$,
  :'amina', :'exp_slug', :'amina_wallet'), 'P0001', 'qr_code_expired', 'an expired code refuses payments');
select is(hazina.job_expire_qr_codes(100) ->> 'processed', '1', 'the job marks it expired');
select hazina.clock_travel(null, true);

select * from pg_temp.books_balance();
select * from finish();
rollback;
