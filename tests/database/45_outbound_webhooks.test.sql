-- Merchant webhooks: endpoints (secret shown once, kept where no client reads it), fan-out
-- of every event to subscribed active endpoints in the event's transaction, claiming with a
-- lease (no second claim while leased; an expired lease is claimed again), recording
-- attempts with the retry schedule until failed, disabling, redelivery, and what each side
-- (merchant, customer, another merchant, anon, service_role) may read.
begin;
select plan(57);

\ir helpers.psql

select hazina.clock() as t0 \gset
select pg_temp.user_create('merchant', '45000000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('merchant', '45000000-0000-4000-8000-00000000000b') as soko \gset
select pg_temp.user_create('customer', '45000000-0000-4000-8000-00000000000c') as amina \gset
select pg_temp.wallet_open(:'duka') as duka_wallet \gset
select pg_temp.wallet_open(:'soko') as soko_wallet \gset
select pg_temp.wallet_open(:'amina') as amina_wallet \gset
select pg_temp.fund(:'amina_wallet', 500);

-- Endpoints ----------------------------------------------------------------------------
select pg_temp.act_as(:'amina');
select throws_ok($$select public.webhook_endpoint_create('https://example.com/hooks', array['*'], null, 'wh-0001')$$,
  'P0001', 'webhook_endpoints_merchants_only', 'a customer has no endpoints');
select pg_temp.act_as(:'duka');
select public.webhook_endpoint_create('https://example.com/all', array['*'], 'everything', 'wh-0002') as all_created \gset
select ok((:'all_created'::jsonb) ->> 'secret' ~ '^whsec_[A-Za-z0-9+/]{32}$', 'the secret: whsec_ + base64 of 24 random bytes');
select is((:'all_created'::jsonb) ->> 'status', 'active', 'a new endpoint is active');
select is(public.webhook_endpoint_create('https://example.com/all', array['*'], 'everything', 'wh-0002') ? 'secret', false,
  'a repeat of the same ref never shows the secret again');
select throws_ok($$select public.webhook_endpoint_create('https://example.com/other', array['*'], 'everything', 'wh-0002')$$,
  'P0001', 'ref_conflict', 'the same ref for another endpoint is a conflict');
select throws_ok($$select public.webhook_endpoint_create('https://example.com/x', array['*', 'payment_intent.created'], null, 'wh-0003')$$,
  'P0001', 'invalid_argument', '"*" stands alone');
select throws_ok($$select public.webhook_endpoint_create('https://example.com/x', array['Payment Intent'], null, 'wh-0004')$$,
  'P0001', 'invalid_argument', 'an event type is object.verb');
select throws_ok($$select public.webhook_endpoint_create('https://example.com/x', array[]::text[], null, 'wh-0005')$$,
  'P0001', 'invalid_argument', 'at least one event type');
select throws_ok($$select public.webhook_endpoint_create('ftp://example.com/x', array['*'], null, 'wh-0006')$$,
  'P0001', 'invalid_argument', 'an http(s) URL');
select public.webhook_endpoint_create('https://example.com/refunds', array['payment_refund.*'], null, 'wh-0007') ->> 'id' as refunds_ep \gset
select public.webhook_endpoint_create('https://example.com/paid', array['payment_intent.succeeded'], null, 'wh-0008') ->> 'id' as paid_ep \gset
select pg_temp.act_as(:'soko');
select public.webhook_endpoint_create('https://example.com/soko', array['*'], null, 'wh-0009') ->> 'id' as soko_ep \gset
reset role;
select (:'all_created'::jsonb) ->> 'id' as all_ep, (:'all_created'::jsonb) ->> 'secret' as all_secret \gset
select is((select secret from hazina.webhook_endpoint_secrets where endpoint_id = :'all_ep'), :'all_secret',
  'the secret is kept (the worker signs with it), in the internal schema');
select is((select count(*)::int from public.webhook_endpoints where merchant_id = :'duka'), 3, 'one endpoint per ref');

-- Fan-out ------------------------------------------------------------------------------
select hazina.payment_intent_create(:'duka', 100, 'KES', 'automatic', :'amina', null, null, null, 'whpi-0001') ->> 'id' as pi1 \gset
select is((select count(*)::int from public.webhook_deliveries d join public.events e on e.id = d.event_id where e.object_id = :'pi1'),
  1, 'payment_intent.created reaches only the "*" endpoint');
select hazina.payment_intent_confirm(:'pi1', :'amina', format('[{"type": "wallet", "wallet_id": "%s", "amount": "100"}]', :'amina_wallet')::jsonb);
select is((select array_agg(d.endpoint_id::text || ':' || e.type order by d.endpoint_id, e.type)
             from public.webhook_deliveries d join public.events e on e.id = d.event_id where e.object_id = :'pi1'),
  (select array_agg(x order by x) from unnest(array[:'all_ep' || ':payment_intent.created', :'all_ep' || ':payment_intent.succeeded',
                                                    :'paid_ep' || ':payment_intent.succeeded']) x),
  'payment_intent.succeeded reaches "*" and the endpoint subscribed to it, in the same transaction');
select hazina.payment_refund_create(:'duka', :'pi1', 10, null, 'whrf-0001') ->> 'id' as rf1 \gset
select is((select array_agg(d.endpoint_id::text order by d.endpoint_id::text) from public.webhook_deliveries d
             join public.events e on e.id = d.event_id where e.object_id = :'rf1'),
  (select array_agg(x order by x) from unnest(array[:'all_ep', :'refunds_ep']) x), '"payment_refund.*" matches payment_refund.created');
select is((select count(*)::int from public.webhook_deliveries where endpoint_id = :'soko_ep'), 0,
  'another merchant''s endpoint receives none of these events');
select ok((select bool_and(status = 'pending' and attempt_count = 0 and next_attempt_at <= hazina.clock())
             from public.webhook_deliveries where merchant_id = :'duka'), 'new deliveries are pending and due at once');
select hazina.event_emit(:'duka', 'invoice.paid', 'invoice', gen_random_uuid(), '{}') as inv_event \gset
select is((select count(*)::int from public.webhook_deliveries where event_id = :'inv_event'), 1,
  'events of any capability (hazina.event_emit) fan out too');

-- RLS ------------------------------------------------------------------------------------
select pg_temp.act_as(:'duka');
select is((select count(*)::int from public.webhook_endpoints), 3, 'the merchant reads its endpoints');
select is((select count(*)::int from public.webhook_deliveries), 6, 'and its deliveries');
select is((select count(*)::int from public.webhook_endpoints where url like '%soko%'), 0, 'not another merchant''s');
select throws_ok($$select count(*) from hazina.webhook_endpoint_secrets$$, '42501', null, 'the merchant cannot read secrets');
select throws_ok($$insert into public.webhook_deliveries (event_id, endpoint_id, merchant_id, next_attempt_at)
                   select event_id, endpoint_id, merchant_id, now() from public.webhook_deliveries limit 1$$,
  '42501', null, 'nobody writes deliveries directly');
select throws_ok($$update public.webhook_endpoints set url = 'https://evil.example'$$, '42501', null, 'nor endpoints');
select throws_ok($$select * from hazina.webhook_deliveries_claim('me', 10, interval '1 minute')$$, '42501', null,
  'a merchant cannot claim deliveries (and so never sees a secret)');
select pg_temp.act_as(:'soko');
select is((select count(*)::int from public.webhook_deliveries), 0, 'another merchant reads no deliveries of duka');
select is((select count(*)::int from public.webhook_endpoints), 1, 'only its own endpoint');
select throws_ok(format($$select public.webhook_endpoint_disable('%s')$$, :'all_ep'), 'P0001', 'webhook_endpoint_not_found',
  'nor disables another''s endpoint');
select throws_ok(format($$select public.event_redeliver('%s')$$, :'inv_event'), 'P0001', 'event_not_found',
  'nor redelivers another''s event');
select pg_temp.act_as(:'amina');
select is((select count(*)::int from public.webhook_endpoints) + (select count(*)::int from public.webhook_deliveries)
          + (select count(*)::int from public.webhook_delivery_attempts), 0, 'the paying customer reads none of it');
select pg_temp.act_as_anon();
select throws_ok($$select count(*) from public.webhook_endpoints$$, '42501', null, 'anon reads no endpoints');
select throws_ok($$select count(*) from public.webhook_deliveries$$, '42501', null, 'nor deliveries');
select throws_ok($$select public.webhook_endpoint_create('https://example.com/a', array['*'], null, 'wh-anon-01')$$, '42501', null,
  'nor creates endpoints');
select pg_temp.act_as_service_role();
select is((select count(*)::int from public.webhook_endpoints where merchant_id in (:'duka', :'soko')), 4, 'service_role reads every endpoint');
select throws_ok($$select count(*) from hazina.webhook_endpoint_secrets$$, '42501', null,
  'even service_role reads secrets only through the claim');

-- Claiming and recording (as the worker: service_role) ------------------------------------
select d.id as d_paid from public.webhook_deliveries d where d.endpoint_id = :'paid_ep' \gset
select is((select count(*)::int from hazina.webhook_deliveries_claim('w1', 100, interval '1 minute', null, :'duka')), 6,
  'a worker claims every due delivery of the merchant');
select is((select count(*)::int from hazina.webhook_deliveries_claim('w2', 100, interval '1 minute', null, :'duka')), 0,
  'a second worker gets none of them while they are leased');
select is((select status || ':' || lease_owner from public.webhook_deliveries where id = :'d_paid'), 'delivering:w1', 'leased to w1');
select is(hazina.webhook_delivery_record(:'d_paid', 'w2', 'https://example.com/paid', 200, null, 5) ->> 'status', 'delivering',
  'a worker without the lease cannot decide the outcome');
select is((select applied from public.webhook_delivery_attempts where delivery_id = :'d_paid' and worker = 'w2'), false,
  'its attempt is recorded, as not applied');
select is(hazina.webhook_delivery_record(:'d_paid', 'w1', 'https://example.com/paid', 500, 'HTTP 500', 12) ->> 'status', 'pending',
  'a 500 schedules a retry');
select ok((select next_attempt_at between :'t0'::timestamptz + interval '5 seconds' and :'t0'::timestamptz + interval '5.5 seconds'
             from public.webhook_deliveries where id = :'d_paid'), 'the first retry after 5 s (+ up to 10 % jitter)');
select is((select count(*)::int from hazina.webhook_deliveries_claim('w2', 100, interval '1 minute', null, :'duka')), 0,
  'not due before its time');
select is((select delivery_id from hazina.webhook_deliveries_claim('w2', 100, interval '1 minute', :'t0'::timestamptz + interval '6 seconds', :'duka')),
  :'d_paid'::uuid, 'due after it');
select is((select attempt_number from hazina.webhook_deliveries_claim('w3', 1, interval '1 minute', :'t0'::timestamptz + interval '1 day', :'duka')),
  null, '(nothing else is due)');
select is(hazina.webhook_delivery_record(:'d_paid', 'w2', 'https://example.com/paid', 204, null, 3) ->> 'status', 'succeeded',
  'a 2xx succeeds it');
select is((select count(*)::int from hazina.webhook_deliveries_claim('w3', 100, interval '1 minute', :'t0'::timestamptz + interval '30 days', :'duka')
            where delivery_id = :'d_paid'), 0, 'a succeeded delivery is never claimed again');
select is((select array_agg(coalesce(response_status::text, '-') || ':' || applied order by attempt_number)
             from public.webhook_delivery_attempts where delivery_id = :'d_paid'),
  array['200:false', '500:true', '204:true'], 'every attempt is recorded');

-- A worker that died: its lease runs out, another claims the delivery.
select d.id as d_refund from public.webhook_deliveries d where d.endpoint_id = :'refunds_ep' \gset
reset role;
update public.webhook_deliveries set leased_until = now() - interval '1 second' where id = :'d_refund';
select pg_temp.act_as_service_role();
select is((select count(*)::int from hazina.webhook_deliveries_claim('w4', 100, interval '1 minute', null, :'duka') where delivery_id = :'d_refund'),
  1, 'an expired lease is claimed again');
select is(hazina.webhook_delivery_record(:'d_refund', 'w1', 'https://example.com/refunds', 200, null, 5) ->> 'status', 'delivering',
  'and the dead worker''s late answer no longer decides');

-- Eight failures: the schedule, then failed.
select set_config('t.refunds_ep', :'refunds_ep', true), set_config('t.duka', :'duka', true);
create temp table gaps (n integer, gap interval);
do $$
declare
  v_id uuid := (select id from public.webhook_deliveries where endpoint_id = current_setting('t.refunds_ep')::uuid);
  v_at timestamptz := now();
  v_due timestamptz;
begin
  for i in 1..8 loop
    perform hazina.webhook_delivery_record(v_id, (select lease_owner from public.webhook_deliveries where id = v_id),
      'https://example.com/refunds', null, 'timeout after 10000 ms', 10000, v_at);
    select next_attempt_at into v_due from public.webhook_deliveries where id = v_id;
    insert into gaps values (i, v_due - v_at);
    exit when v_due is null;
    v_at := v_due;
    perform 1 from hazina.webhook_deliveries_claim('w5', 10, interval '1 minute', v_at, current_setting('t.duka')::uuid);
  end loop;
end
$$;
reset role;
select is((select array_agg(gap is not null and gap >= hazina.webhook_retry_delay(n) and gap <= hazina.webhook_retry_delay(n) * 1.1 order by n)
             from gaps where n < 8), array_fill(true, array[7]), 'retries at 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (+ jitter)');
select ok((select sum(hazina.webhook_retry_delay(n)) from generate_series(1, 7) n) >= interval '24 hours',
  'the schedule spans at least 24 hours');
select is((select status || ':' || attempt_count || ':' || last_error from public.webhook_deliveries where id = :'d_refund'),
  'failed:8:timeout after 10000 ms', 'after the 8th attempt the delivery is failed (dead)');

-- Redelivery and disabling (as the merchant) ------------------------------------------------
select pg_temp.act_as(:'duka');
select e.id as succeeded_event from public.events e where e.object_id = :'pi1' and e.type = 'payment_intent.succeeded' \gset
select is((select count(*)::int from jsonb_array_elements(public.event_redeliver(:'succeeded_event') -> 'deliveries') x
            where x ->> 'status' = 'pending'), 1, 'redeliver re-queues the succeeded delivery (the other is still in flight)');
select is((select status || ':' || attempt_count || ':' || redelivery_count from public.webhook_deliveries where id = :'d_paid'),
  'pending:0:1', 'as a new run');
select is(public.webhook_endpoint_disable(:'all_ep') ->> 'status', 'disabled', 'the merchant disables an endpoint');
select is((select count(*)::int from public.webhook_deliveries where endpoint_id = :'all_ep' and status not in ('failed', 'succeeded')), 0,
  'what was queued for it is failed');
reset role;
select hazina.event_emit(:'duka', 'invoice.paid', 'invoice', gen_random_uuid(), '{}') as inv_event2 \gset
select is((select count(*)::int from public.webhook_deliveries where event_id = :'inv_event2'), 0,
  'a disabled endpoint receives no new events');

select * from finish();
rollback;
