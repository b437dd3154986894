-- Payment intent expiry on the commerce clock (migration payment_intent_expiry_clock): the
-- creation default, confirm, capture, the manual-capture authorisation and the expiry job all
-- read hazina.clock(). Inside this transaction now() stands still, so anything that expires
-- here expired by the clock (moved with hazina.clock_travel), never by now(); and nothing
-- expires before the clock reaches expires_at.
begin;
select plan(23);

\ir helpers.psql

select pg_temp.user_create('merchant', '54000000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('customer', '54000000-0000-4000-8000-00000000000b') as amina \gset
select pg_temp.wallet_open(:'duka') as duka_wallet \gset
select pg_temp.wallet_open(:'amina') as amina_wallet \gset
select pg_temp.fund(:'amina_wallet', 1000);

select hazina.clock_travel(null, true);
select hazina.clock_travel(interval '2 days');

-- Creation: expires_at is the clock plus expires_in_seconds (default 24 h).
select pg_temp.act_as(:'duka');
select public.payment_intent_create(100, 'KES', 'automatic', :'amina', null, null, 3600, 'pi-54-a') ->> 'id' as pi_a \gset
select public.payment_intent_create(50, 'KES', 'automatic', :'amina', null, null, null, 'pi-54-d') ->> 'id' as pi_d \gset
select public.payment_intent_create(200, 'KES', 'manual', :'amina', null, null, 3600, 'pi-54-b') ->> 'id' as pi_b \gset
select public.payment_intent_create(300, 'KES', 'manual', :'amina', null, null, 3600, 'pi-54-c') ->> 'id' as pi_c \gset
reset role;
select is((select expires_at from public.payment_intents where id = :'pi_a'), now() + interval '2 days 1 hour',
  'a new intent expires expires_in_seconds after the commerce clock (not after now())');
select is((select expires_at from public.payment_intents where id = :'pi_d'), now() + interval '3 days',
  'the default expiry is 24 h after the commerce clock');

-- One minute before: nothing has expired, the job leaves it, confirm and capture work.
select hazina.clock_travel(interval '59 minutes');
select hazina.expire_payment_intents();
select is((select status from public.payment_intents where id = :'pi_a'), 'requires_confirmation',
  'the job does not expire an intent before the clock reaches expires_at');
select pg_temp.act_as(:'amina');
select is(public.payment_intent_confirm(:'pi_b', format('[{"type": "wallet", "wallet_id": "%s", "amount": "200"}]', :'amina_wallet')::jsonb)
  ->> 'status', 'requires_capture', 'an intent one minute before its expiry can be confirmed');
select is(public.payment_intent_confirm(:'pi_c', format('[{"type": "wallet", "wallet_id": "%s", "amount": "300"}]', :'amina_wallet')::jsonb)
  ->> 'status', 'requires_capture', 'another authorisation');
reset role;
select is((select expires_at from public.payment_intents where id = :'pi_b'), hazina.clock() + interval '7 days',
  'an authorisation lasts 7 days from the confirm by the commerce clock');
select is((select array_agg(h.expires_at) from public.payment_intent_parts p join public.wallet_holds h on h.id = p.hold_id
            where p.payment_intent_id = :'pi_b'),
  array[(select expires_at from public.payment_intents where id = :'pi_b')],
  'its hold ends at the same instant as the authorisation (never before it)');
select is(pg_temp.available(:'amina_wallet'), 500.0000::numeric, 'both authorisations are held');

-- At expires_at (the clock reaches it: expired, as `expires_at <= clock`).
select hazina.clock_travel(interval '1 minute');
select is(hazina.clock(), (select expires_at from public.payment_intents where id = :'pi_a'), 'the clock is at pi_a''s expiry');
select pg_temp.act_as(:'amina');
select throws_ok(format($$select public.payment_intent_confirm('%s', '[{"type": "wallet", "wallet_id": "%s", "amount": "100"}]')$$,
  :'pi_a', :'amina_wallet'), 'P0001', 'intent_expired', 'confirm refuses an intent the commerce clock has expired');
select is(public.payment_intent_confirm(:'pi_d', format('[{"type": "wallet", "wallet_id": "%s", "amount": "50"}]', :'amina_wallet')::jsonb)
  ->> 'status', 'succeeded', 'an intent with time left by the clock is paid');
reset role;
select is(hazina.expire_payment_intents(), 1, 'the job expires the one intent past expires_at by the clock');
select is((select status || ':' || cancellation_reason from public.payment_intents where id = :'pi_a'), 'canceled:expired',
  'pi_a is canceled as expired');

-- Authorisations: captured before their 7 days by the clock; refused and expired after.
-- pi_b and pi_c were confirmed 1 minute ago by the clock: 7 days less 1 minute after the confirm.
select hazina.clock_travel(interval '6 days 23 hours 58 minutes');
select pg_temp.act_as(:'duka');
select is(public.payment_intent_capture(:'pi_b') ->> 'status', 'succeeded',
  'an authorisation is captured one minute before its 7 days by the clock run out');
reset role;
select hazina.clock_travel(interval '1 minute');
select pg_temp.act_as(:'duka');
select throws_ok(format($$select public.payment_intent_capture('%s')$$, :'pi_c'), 'P0001', 'intent_expired',
  'capture refuses an authorisation past its 7 days by the clock');
reset role;
select is((hazina.job_expire_payment_intents(500) ->> 'processed')::int, 1, 'the job expires it');
select is((select status || ':' || cancellation_reason from public.payment_intents where id = :'pi_c'), 'canceled:expired',
  'the authorisation is canceled as expired');
select is((select array_agg(h.status) from public.payment_intent_parts p join public.wallet_holds h on h.id = p.hold_id
            where p.payment_intent_id = :'pi_c'), array['voided'],
  'its hold is voided by the intent''s expiry (the hold''s own ledger expiry has not come)');
select is(pg_temp.available(:'amina_wallet'), 1000.0000::numeric - 200 - 50, 'the customer has the expired authorisation back');
select is(pg_temp.balance(:'duka_wallet') + (select coalesce(sum(amount), 0) from public.billing_ledger
                                             where transaction_id in (select capture_transaction_id from public.payment_intents
                                                                      where id in (:'pi_b', :'pi_d'))),
  250.0000::numeric, 'the merchant received the two payments (less their fees)');

-- Back to zero: the clock is now() again.
select hazina.clock_travel(null, true);
select is(hazina.clock(), now(), 'the clock is reset');
select pg_temp.books_balance();

select * from finish();
rollback;
