-- migrate:up
-- Webhook events: every inbound provider message is stored first, then applied exactly
-- once in the same transaction (hazina.webhook_ingest).
--   webhook: received → processed | unmatched | failed;  unmatched | failed → processed
--            (re-applied); duplicates and rejected (bad signature) rows never apply.

create table public.wallet_webhook_events (
  id                  uuid primary key default gen_random_uuid(),
  provider            public.payment_provider not null,
  event_type          text not null check (event_type ~ '^[a-z][a-z0-9_.]{1,60}$'),
  -- The provider's unique key for the message (e.g. stk:<CheckoutRequestID>:<ResultCode>).
  provider_event_key  text not null check (length(provider_event_key) between 1 and 300),
  raw_body            text not null,
  headers             jsonb not null default '{}',
  -- true/false: HMAC checked (KCB, DTB); null: the provider signs nothing (Daraja: the
  -- secret path token was checked instead, or the message would be 'rejected').
  signature_valid     boolean,
  -- What the edge understood the message to say (provider-neutral, see webhook_dispatch).
  payload             jsonb not null default '{}',
  status              text not null default 'received'
                        check (status in ('received', 'processed', 'unmatched', 'failed', 'duplicate', 'rejected')),
  error               text check (length(error) <= 1000),
  duplicate_of        uuid references public.wallet_webhook_events (id),
  subject_type        text check (subject_type in ('funding_session', 'withdrawal', 'paybill')),
  subject_id          uuid,
  attempts            integer not null default 0,
  received_at         timestamptz not null default now(),
  processed_at        timestamptz,
  constraint wallet_webhook_events_duplicate_link check ((status = 'duplicate') = (duplicate_of is not null))
);
-- Unique per (provider, provider key) among the messages that count: duplicates are kept
-- as their own rows (pointing at the original), and a forged message (bad signature) must
-- not take the key away from the genuine one that follows it.
create unique index wallet_webhook_events_provider_key on public.wallet_webhook_events (provider, provider_event_key)
  where status not in ('duplicate', 'rejected');
create index wallet_webhook_events_pending_idx on public.wallet_webhook_events (provider, status)
  where status in ('unmatched', 'failed');
create index wallet_webhook_events_received_idx on public.wallet_webhook_events (received_at);
create index wallet_webhook_events_duplicate_of_idx on public.wallet_webhook_events (duplicate_of) where duplicate_of is not null;

-- Apply one event's normalised payload. Returns {status: processed|unmatched, subject_*}.
-- Payload actions (written by the edge's provider adapters):
--   funding.succeeded  {checkout_id | funding_session_id, amount?, receipt?, msisdn?, confirmed?}
--   funding.failed     {checkout_id | funding_session_id, outcome: failed|cancelled, result_code, result_desc}
--   payout.succeeded   {withdrawal_id | conversation_id, receipt?, amount?}
--   payout.failed      {withdrawal_id | conversation_id, result_code, result_desc}
--   payout.timeout     {withdrawal_id}               (ask the provider now, decide nothing)
--   payout.reversed    {withdrawal_id, result_desc}
--   paybill.credit     {trans_id, amount, account_reference, msisdn}
--   paybill.validation {account_reference, amount}   (answered by the edge; stored only)
--   provider.notice    {}                            (informational; stored only)
create function hazina.webhook_dispatch(p_event public.wallet_webhook_events) returns jsonb
  language plpgsql
  set search_path = ''
  as $$
declare
  v_payload jsonb := p_event.payload;
  v_action text := v_payload ->> 'action';
  v_id uuid;
  v_result jsonb;
begin
  if v_action in ('funding.succeeded', 'funding.failed') then
    if v_payload ? 'funding_session_id' then
      select id into v_id from public.wallet_funding_sessions
       where id::text = v_payload ->> 'funding_session_id' and provider = p_event.provider;
    else
      perform hazina.checkout_lock(p_event.provider, v_payload ->> 'checkout_id');
      select id into v_id from public.wallet_funding_sessions
       where provider = p_event.provider and provider_checkout_id = v_payload ->> 'checkout_id';
      if v_id is null and v_action = 'funding.succeeded' and (v_payload ->> 'confirmed') is distinct from 'false' then
        v_id := hazina.funding_orphan_claim(p_event.provider, v_payload ->> 'checkout_id', v_payload ->> 'msisdn',
                                            (v_payload ->> 'amount')::numeric, p_event.received_at);
      end if;
    end if;
    if v_id is null then
      return jsonb_build_object('status', 'unmatched');
    end if;
    if v_action = 'funding.succeeded' then
      if (v_payload ->> 'confirmed') = 'false' then
        perform hazina.raise_error('funding_not_confirmed', jsonb_build_object('funding_session_id', v_id));
      end if;
      v_result := hazina.funding_complete(v_id, (v_payload ->> 'amount')::numeric, v_payload ->> 'receipt', v_payload ->> 'msisdn');
    else
      v_result := hazina.funding_fail(v_id, coalesce(v_payload ->> 'outcome', 'failed'), v_payload ->> 'result_code',
                                      v_payload ->> 'result_desc');
    end if;
    return jsonb_build_object('status', 'processed', 'subject_type', 'funding_session', 'subject_id', v_id, 'result', v_result);
  elsif v_action in ('payout.succeeded', 'payout.failed', 'payout.timeout', 'payout.reversed') then
    if v_payload ? 'withdrawal_id' then
      select id into v_id from public.wallet_withdrawals
       where provider = p_event.provider and provider_request_id = v_payload ->> 'withdrawal_id';
    else
      select id into v_id from public.wallet_withdrawals
       where provider = p_event.provider and provider_conversation_id = v_payload ->> 'conversation_id';
    end if;
    if v_id is null then
      return jsonb_build_object('status', 'unmatched');
    end if;
    if v_action = 'payout.succeeded' then
      v_result := hazina.withdrawal_complete(v_id, v_payload ->> 'receipt', (v_payload ->> 'amount')::numeric);
    elsif v_action = 'payout.failed' then
      v_result := hazina.withdrawal_fail(v_id, v_payload ->> 'result_code', v_payload ->> 'result_desc');
    elsif v_action = 'payout.reversed' then
      v_result := hazina.withdrawal_reverse(v_id, v_payload ->> 'result_desc');
    else
      -- A queue timeout does not say the payout failed: make it due for a status query now.
      update public.wallet_withdrawals set expires_at = least(expires_at, now()), updated_at = now()
       where id = v_id and status in ('pending', 'processing');
      v_result := hazina.withdrawal_json(v_id);
    end if;
    return jsonb_build_object('status', 'processed', 'subject_type', 'withdrawal', 'subject_id', v_id, 'result', v_result);
  elsif v_action = 'paybill.credit' then
    v_result := hazina.paybill_credit(p_event.provider, v_payload ->> 'trans_id', (v_payload ->> 'amount')::numeric,
                                      v_payload ->> 'account_reference', v_payload ->> 'msisdn');
    return jsonb_build_object('status', 'processed', 'subject_type', 'paybill',
                              'subject_id', case when (v_result ->> 'matched')::boolean then (v_result ->> 'id')::uuid end,
                              'result', v_result);
  elsif v_action = 'provider.notice' then
    -- Informational (e.g. a status query that timed out in the provider's queue): stored only.
    return jsonb_build_object('status', 'processed');
  elsif v_action = 'paybill.validation' then
    return jsonb_build_object('status', 'processed', 'result', hazina.paybill_validate(v_payload ->> 'account_reference',
                                                                                      (v_payload ->> 'amount')::numeric));
  end if;
  perform hazina.raise_error('invalid_webhook_payload', jsonb_build_object('action', v_action));
  return null;  -- not reached: raise_error raises
end
$$;

-- Apply a stored event (again, for unmatched and failed ones). Whatever goes wrong inside
-- is rolled back to the savepoint and written on the event; the event itself stays.
create function hazina.webhook_event_apply(p_event_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_event public.wallet_webhook_events;
  v_result jsonb;
  v_code text;
  v_message text;
  v_detail text;
begin
  select * into v_event from public.wallet_webhook_events where id = p_event_id for update;
  if v_event.id is null then
    perform hazina.raise_error('webhook_event_not_found', jsonb_build_object('event_id', p_event_id));
  end if;
  if v_event.status not in ('received', 'unmatched', 'failed') then
    return jsonb_build_object('event_id', v_event.id, 'status', v_event.status, 'applied', false);
  end if;
  begin
    v_result := hazina.webhook_dispatch(v_event);
    update public.wallet_webhook_events
       set status = v_result ->> 'status', error = null,
           subject_type = coalesce(v_result ->> 'subject_type', subject_type),
           subject_id = coalesce((v_result ->> 'subject_id')::uuid, subject_id),
           attempts = attempts + 1,
           processed_at = case when v_result ->> 'status' = 'processed' then now() end
     where id = v_event.id;
    return jsonb_build_object('event_id', v_event.id, 'status', v_result ->> 'status', 'applied', v_result ->> 'status' = 'processed',
                              'result', v_result -> 'result');
  exception when others then
    get stacked diagnostics v_code = returned_sqlstate, v_message = message_text, v_detail = pg_exception_detail;
    update public.wallet_webhook_events
       set status = 'failed', attempts = attempts + 1,
           error = left(case when v_code = 'P0001' then v_message else v_code || ': ' || v_message end
                        || coalesce(' ' || nullif(v_detail, ''), ''), 1000)
     where id = v_event.id;
    return jsonb_build_object('event_id', v_event.id, 'status', 'failed', 'applied', false,
                              'error', case when v_code = 'P0001' then v_message else 'internal_error' end);
  end;
end
$$;

-- Store an inbound provider message and apply it, in one transaction:
--   bad signature        → stored as 'rejected', never applied
--   seen key             → stored as 'duplicate' of the original, never applied
--   new key              → stored, then applied (processed | unmatched | failed)
create function hazina.webhook_ingest(
  p_provider text, p_event_type text, p_event_key text, p_raw_body text, p_headers jsonb,
  p_signature_valid boolean, p_payload jsonb
) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_event_id uuid;
  v_original record;
begin
  if p_signature_valid is false then
    insert into public.wallet_webhook_events (provider, event_type, provider_event_key, raw_body, headers,
                                              signature_valid, payload, status, error, processed_at)
    values (p_provider, p_event_type, left(p_event_key, 300), p_raw_body, coalesce(p_headers, '{}'), false,
            coalesce(p_payload, '{}'), 'rejected', 'signature_invalid', now())
    returning id into v_event_id;
    return jsonb_build_object('event_id', v_event_id, 'status', 'rejected', 'duplicate', false, 'applied', false);
  end if;
  insert into public.wallet_webhook_events (provider, event_type, provider_event_key, raw_body, headers,
                                            signature_valid, payload)
  values (p_provider, p_event_type, p_event_key, p_raw_body, coalesce(p_headers, '{}'), p_signature_valid,
          coalesce(p_payload, '{}'))
  on conflict (provider, provider_event_key) where status not in ('duplicate', 'rejected') do nothing
  returning id into v_event_id;
  if v_event_id is null then
    select id, status into v_original from public.wallet_webhook_events
     where provider = p_provider and provider_event_key = p_event_key and status not in ('duplicate', 'rejected');
    insert into public.wallet_webhook_events (provider, event_type, provider_event_key, raw_body, headers,
                                              signature_valid, payload, status, duplicate_of, processed_at)
    values (p_provider, p_event_type, p_event_key, p_raw_body, coalesce(p_headers, '{}'), p_signature_valid,
            coalesce(p_payload, '{}'), 'duplicate', v_original.id, now())
    returning id into v_event_id;
    return jsonb_build_object('event_id', v_event_id, 'status', 'duplicate', 'duplicate', true, 'applied', false,
                              'original_event_id', v_original.id, 'original_status', v_original.status);
  end if;
  return hazina.webhook_event_apply(v_event_id) || jsonb_build_object('duplicate', false);
end
$$;

-- Row level security: webhook events are for the service role only.
alter table public.wallet_webhook_events enable row level security;
revoke all on table public.wallet_webhook_events from public, anon, authenticated;
grant select on table public.wallet_webhook_events to service_role;

revoke execute on all functions in schema hazina from public, anon, authenticated;
grant execute on function hazina.webhook_event_apply(uuid),
  hazina.webhook_ingest(text, text, text, text, jsonb, boolean, jsonb) to service_role;

-- migrate:down
drop function if exists hazina.webhook_ingest(text, text, text, text, jsonb, boolean, jsonb);
drop function if exists hazina.webhook_event_apply(uuid);
drop function if exists hazina.webhook_dispatch(public.wallet_webhook_events);
drop table if exists public.wallet_webhook_events;
