-- migrate:up
-- Webhook events: every inbound provider message is stored first, then applied exactly
-- once in the same transaction (hazina.webhook_ingest).
--   webhook: received → processed | unmatched | failed | unconfirmed | refused;
--            unmatched | failed → processed (re-applied);
--            unconfirmed → processed | refused (when the provider answers our status query);
--            duplicates, rejected (bad signature, token or source) and refused rows never apply.
-- A callback is a claim until confirmed (docs/money-movement.md, "Trust model"): Daraja
-- signs nothing, so a paybill confirmation or a B2C result waits as 'unconfirmed' until a
-- Transaction Status answer to a query WE made (wallet_provider_queries) agrees with it.

create table public.wallet_webhook_events (
  id                  uuid primary key default gen_random_uuid(),
  provider            public.payment_provider not null,
  event_type          text not null check (event_type ~ '^[a-z][a-z0-9_.]{1,60}$'),
  -- The provider's unique key for the message (e.g. stk:<CheckoutRequestID>:<ResultCode>).
  provider_event_key  text not null check (length(provider_event_key) between 1 and 300),
  -- The body as received; for rejected rows (and unreadable ones) only its first 2 KB:
  -- unauthenticated callers must not be able to fill the disk.
  raw_body            text not null,
  body_bytes          integer not null default 0 check (body_bytes >= 0),
  body_sha256         text not null default '' check (body_sha256 ~ '^([0-9a-f]{64})?$'),
  headers             jsonb not null default '{}',
  -- true/false: HMAC checked (KCB, DTB); null: the provider signs nothing (Daraja: the
  -- secret path token was checked instead, or the message would be 'rejected').
  signature_valid     boolean,
  -- What the edge understood the message to say (provider-neutral, see webhook_dispatch).
  payload             jsonb not null default '{}',
  status              text not null default 'received'
                        check (status in ('received', 'processed', 'unmatched', 'failed', 'duplicate', 'rejected',
                                          'unconfirmed', 'refused')),
  error               text check (length(error) <= 1000),
  duplicate_of        uuid references public.wallet_webhook_events (id),
  subject_type        text check (subject_type in ('funding_session', 'withdrawal', 'paybill')),
  subject_id          uuid,
  attempts            integer not null default 0,
  received_at         timestamptz not null default now(),
  processed_at        timestamptz,
  constraint wallet_webhook_events_duplicate_link check ((status = 'duplicate') = (duplicate_of is not null)),
  constraint wallet_webhook_events_rejected_bounded check (status <> 'rejected' or length(raw_body) <= 2048)
);
-- Unique per (provider, provider key) among the messages that count: duplicates are kept
-- as their own rows (pointing at the original), and a message we refused (bad signature,
-- wrong amount, not confirmed by the provider) must not take the key away from the
-- genuine one that follows it.
create unique index wallet_webhook_events_provider_key on public.wallet_webhook_events (provider, provider_event_key)
  where status not in ('duplicate', 'rejected', 'refused');
create index wallet_webhook_events_pending_idx on public.wallet_webhook_events (provider, status)
  where status in ('unmatched', 'failed');
create index wallet_webhook_events_received_idx on public.wallet_webhook_events (received_at);
create index wallet_webhook_events_duplicate_of_idx on public.wallet_webhook_events (duplicate_of) where duplicate_of is not null;
create index wallet_webhook_events_unconfirmed_idx on public.wallet_webhook_events (provider, event_type)
  where status = 'unconfirmed';

-- Transaction Status queries we sent (Daraja answers them asynchronously, by callback). An
-- answer is trusted only when it names one of these by the OriginatorConversationID
-- M-Pesa gave us when we asked, and only once: that id never left M-Pesa and us, so a
-- forger holding the callback token still cannot answer for M-Pesa.
create table public.wallet_provider_queries (
  id                         uuid primary key default gen_random_uuid(),
  provider                   public.payment_provider not null,
  -- What we asked about: a paybill payment (subject_key = TransID) or a withdrawal (its id).
  subject_type               text not null check (subject_type in ('paybill', 'withdrawal')),
  subject_key                text not null check (length(subject_key) between 1 and 100),
  originator_conversation_id text not null check (length(originator_conversation_id) between 1 and 255),
  -- The short code the query was made for (the answer must be about this account).
  party                      text check (length(party) <= 20),
  answer_event_id            uuid references public.wallet_webhook_events (id),
  created_at                 timestamptz not null default now(),
  answered_at                timestamptz,
  unique (provider, originator_conversation_id)
);
create index wallet_provider_queries_subject_idx on public.wallet_provider_queries (provider, subject_type, subject_key, created_at);
create index wallet_provider_queries_answer_idx on public.wallet_provider_queries (answer_event_id);

-- Serialises a Transaction Status answer with our record of the question (the answer can
-- overtake it: it arrives by callback), as hazina.checkout_lock does for STK callbacks.
create function hazina.status_query_lock(p_provider text, p_originator_conversation_id text) returns void
  language sql
  set search_path = ''
  as $$ select pg_advisory_xact_lock(hashtextextended('hazina.status_query:' || coalesce(p_provider, '') || ':'
                                                      || coalesce(p_originator_conversation_id, ''), 0)) $$;

-- A B2C result is a claim: the withdrawal is made due for a Transaction Status query and the
-- result waits as 'unconfirmed' for M-Pesa's answer (hazina.withdrawal_settle_confirmed).
-- A result for a withdrawal that is already settled is processed when it agrees and
-- refused when it contradicts (a forged failure must not release a paid-out hold).
create function hazina.payout_claim_hold(p_withdrawal_id uuid, p_action text) returns jsonb
  language plpgsql
  set search_path = ''
  as $$
declare
  v_status text;
begin
  select status into v_status from public.wallet_withdrawals where id = p_withdrawal_id for update;
  if v_status in ('pending', 'processing') then
    update public.wallet_withdrawals set expires_at = least(expires_at, now()), updated_at = now() where id = p_withdrawal_id;
    return jsonb_build_object('status', 'unconfirmed', 'subject_type', 'withdrawal', 'subject_id', p_withdrawal_id,
                              'result', hazina.withdrawal_json(p_withdrawal_id));
  end if;
  if (p_action = 'payout.succeeded' and v_status in ('completed', 'reversed')) or (p_action = 'payout.failed' and v_status = 'failed') then
    return jsonb_build_object('status', 'processed', 'subject_type', 'withdrawal', 'subject_id', p_withdrawal_id,
                              'result', hazina.withdrawal_json(p_withdrawal_id));
  end if;
  perform hazina.raise_error('not_confirmed_by_provider', jsonb_build_object(
    'withdrawal_id', p_withdrawal_id, 'status', v_status, 'claimed', p_action));
  return null;  -- not reached
end
$$;

-- M-Pesa answered our Transaction Status query about a withdrawal: that answer (not any
-- callback) settles it. The B2C results that waited for it are processed when they agree
-- and refused when they do not.
create function hazina.withdrawal_settle_confirmed(p_withdrawal_id uuid, p_outcome text, p_answer jsonb) returns jsonb
  language plpgsql
  set search_path = ''
  as $$
declare
  v_result jsonb;
begin
  if p_outcome = 'succeeded' then
    v_result := hazina.withdrawal_complete(p_withdrawal_id, p_answer ->> 'receipt', (p_answer ->> 'amount')::numeric);
  elsif p_outcome = 'failed' then
    -- We only ask after the request's deadline (or after M-Pesa's own result), so a
    -- non-zero answer means M-Pesa never paid it.
    v_result := hazina.withdrawal_fail(p_withdrawal_id, p_answer ->> 'result_code', p_answer ->> 'result_desc');
  else
    -- Known but not final: ask again soon; the waiting results stay unconfirmed.
    update public.wallet_withdrawals set expires_at = least(expires_at, now() + interval '1 minute'), updated_at = now()
     where id = p_withdrawal_id and status in ('pending', 'processing');
    return hazina.withdrawal_json(p_withdrawal_id);
  end if;
  update public.wallet_webhook_events e
     set status = case when (e.payload ->> 'action' = 'payout.succeeded') = (p_outcome = 'succeeded') then 'processed' else 'refused' end,
         error = case when (e.payload ->> 'action' = 'payout.succeeded') = (p_outcome = 'succeeded') then null
                      else 'not_confirmed_by_provider: M-Pesa''s Transaction Status says the payout '
                           || case p_outcome when 'succeeded' then 'was paid' else 'failed' end end,
         subject_type = 'withdrawal', subject_id = p_withdrawal_id, processed_at = now()
    from public.wallet_withdrawals w
   where w.id = p_withdrawal_id and e.provider = w.provider and e.status = 'unconfirmed' and e.event_type = 'b2c_result'
     and e.payload ->> 'withdrawal_id' = w.provider_request_id;
  return v_result;
end
$$;

-- M-Pesa answered our Transaction Status query about a paybill TransID: each confirmation
-- of it that waited is credited only when M-Pesa's answer agrees on the transaction, its
-- amount and our short code; the rest are refused, saying what did not match. Daraja's
-- answer does not carry the account number, so confirmations of one TransID that name
-- different accounts are all refused for an operator to decide (no guessing whose money).
create function hazina.paybill_settle_confirmed(p_query public.wallet_provider_queries, p_outcome text, p_answer jsonb)
  returns jsonb
  language plpgsql
  set search_path = ''
  as $$
declare
  v_event public.wallet_webhook_events;
  v_reason text;
  v_candidates uuid[] := '{}'::uuid[];
  v_accounts integer;
  v_result jsonb;
  v_credited integer := 0;
begin
  if p_outcome = 'pending' then
    return jsonb_build_object('outcome', 'pending');
  end if;
  for v_event in
    select * from public.wallet_webhook_events
     where provider = p_query.provider and status = 'unconfirmed' and event_type = 'c2b_confirmation'
       and payload ->> 'trans_id' = p_query.subject_key
     order by received_at, id for update
  loop
    v_reason := case
      when p_outcome = 'failed' then
        format('M-Pesa does not know this transaction (%s %s)', p_answer ->> 'result_code', p_answer ->> 'result_desc')
      when (p_answer ->> 'receipt') is distinct from p_query.subject_key then 'M-Pesa''s answer is about another transaction'
      when (v_event.payload ->> 'amount')::numeric is distinct from (p_answer ->> 'amount')::numeric then
        format('the confirmation says amount %s, M-Pesa says %s', v_event.payload ->> 'amount', p_answer ->> 'amount')
      when (v_event.payload ->> 'short_code') is distinct from p_query.party
           or (p_answer ->> 'credit_party') is distinct from p_query.party then
        format('the money went to short code %s, not our paybill %s', coalesce(p_answer ->> 'credit_party', v_event.payload ->> 'short_code'), p_query.party)
    end;
    if v_reason is not null then
      update public.wallet_webhook_events
         set status = 'refused', error = left('not_confirmed_by_provider: ' || v_reason, 1000), processed_at = now()
       where id = v_event.id;
    else
      v_candidates := v_candidates || v_event.id;
    end if;
  end loop;
  select count(distinct upper(regexp_replace(coalesce(payload ->> 'account_reference', ''), '\s', '', 'g'))) into v_accounts
    from public.wallet_webhook_events where id = any(v_candidates);
  if v_accounts > 1 then
    update public.wallet_webhook_events
       set status = 'refused', processed_at = now(),
           error = 'paybill_conflict: confirmations of this TransID name different accounts; an operator decides'
     where id = any(v_candidates);
    return jsonb_build_object('outcome', 'conflict');
  end if;
  for v_event in select * from public.wallet_webhook_events where id = any(v_candidates) order by received_at, id loop
    v_result := hazina.paybill_credit(p_query.provider, p_query.subject_key, (v_event.payload ->> 'amount')::numeric,
                                      v_event.payload ->> 'account_reference', v_event.payload ->> 'msisdn');
    update public.wallet_webhook_events
       set status = 'processed', error = null, processed_at = now(), subject_type = 'paybill',
           subject_id = case when (v_result ->> 'matched')::boolean then (v_result ->> 'id')::uuid end
     where id = v_event.id;
    v_credited := v_credited + 1;
  end loop;
  return jsonb_build_object('outcome', p_outcome, 'credited', v_credited);
end
$$;

-- A Transaction Status answer (M-Pesa's word) for a query we made. One that names no
-- query of ours (a forged or stray answer) waits as 'unmatched' and decides nothing.
create function hazina.status_answer_apply(p_event public.wallet_webhook_events) returns jsonb
  language plpgsql
  set search_path = ''
  as $$
declare
  v_answer jsonb := p_event.payload;
  v_query public.wallet_provider_queries;
  v_outcome text;
  v_result jsonb;
begin
  perform hazina.status_query_lock(p_event.provider, v_answer ->> 'originator_conversation_id');
  select * into v_query from public.wallet_provider_queries
   where provider = p_event.provider and originator_conversation_id = v_answer ->> 'originator_conversation_id' for update;
  if v_query.id is null then
    return jsonb_build_object('status', 'unmatched',
                              'error', 'no Transaction Status query of ours has this OriginatorConversationID');
  end if;
  if v_query.answer_event_id is not null and v_query.answer_event_id <> p_event.id then
    perform hazina.raise_error('not_confirmed_by_provider', jsonb_build_object(
      'reason', 'this query was already answered', 'answer_event_id', v_query.answer_event_id));
  end if;
  v_outcome := case when v_answer ->> 'result_code' <> '0' then 'failed'
                    when v_answer ->> 'transaction_status' = 'Completed' then 'succeeded'
                    else 'pending' end;
  update public.wallet_provider_queries set answer_event_id = p_event.id, answered_at = now() where id = v_query.id;
  if v_query.subject_type = 'withdrawal' then
    v_result := hazina.withdrawal_settle_confirmed(v_query.subject_key::uuid, v_outcome, v_answer);
    return jsonb_build_object('status', 'processed', 'subject_type', 'withdrawal', 'subject_id', v_query.subject_key::uuid,
                              'result', v_result);
  end if;
  return jsonb_build_object('status', 'processed', 'subject_type', 'paybill',
                            'result', hazina.paybill_settle_confirmed(v_query, v_outcome, v_answer));
end
$$;

-- Record a Transaction Status query we sent (M-Pesa gave us its OriginatorConversationID),
-- then apply an answer that overtook this record.
create function hazina.provider_query_open(
  p_provider text, p_subject_type text, p_subject_key text, p_originator_conversation_id text, p_party text
) returns uuid
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_id uuid;
  v_event_id uuid;
begin
  perform hazina.status_query_lock(p_provider, p_originator_conversation_id);
  insert into public.wallet_provider_queries (provider, subject_type, subject_key, originator_conversation_id, party)
  values (p_provider, p_subject_type, p_subject_key, p_originator_conversation_id, p_party)
  on conflict (provider, originator_conversation_id) do nothing
  returning id into v_id;
  if v_id is null then
    select id into v_id from public.wallet_provider_queries
     where provider = p_provider and originator_conversation_id = p_originator_conversation_id;
  end if;
  for v_event_id in
    select id from public.wallet_webhook_events
     where provider = p_provider and status = 'unmatched' and payload ->> 'action' = 'status.answer'
       and payload ->> 'originator_conversation_id' = p_originator_conversation_id
     order by received_at, id
  loop
    perform hazina.webhook_event_apply(v_event_id);
  end loop;
  return v_id;
end
$$;

-- Apply one event's normalised payload. Returns {status: processed|unmatched, subject_*}.
-- Payload actions (written by the edge's provider adapters):
--   funding.succeeded  {checkout_id | funding_session_id, amount?, receipt?, msisdn?, confirmed?}
--   funding.failed     {checkout_id | funding_session_id, outcome: failed|cancelled, result_code, result_desc}
--   payout.succeeded   {withdrawal_id | conversation_id, receipt?, amount?}
--   payout.failed      {withdrawal_id | conversation_id, result_code, result_desc}
--   payout.timeout     {withdrawal_id}               (ask the provider now, decide nothing)
--   status.answer      {originator_conversation_id, result_code, result_desc, transaction_status,
--                       receipt, amount, credit_party}  (M-Pesa's answer to our Transaction Status query)
--   payout.reversed    {withdrawal_id, result_desc}
--   paybill.credit     {trans_id, amount, account_reference, msisdn, short_code, paybill}
--                      (held 'unconfirmed' until M-Pesa confirms it; see hazina.paybill_settle_confirmed)
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
    if (v_payload ->> 'confirmed') = 'false' then
      -- Our STK query did not say the same: a refused claim (the sweep asks again).
      perform hazina.raise_error('funding_not_confirmed', jsonb_build_object('funding_session_id', v_id));
    end if;
    if v_action = 'funding.succeeded' then
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
    if p_event.provider = 'mpesa' and p_event.event_type = 'b2c_result' then
      return hazina.payout_claim_hold(v_id, v_action);
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
    -- Paid to another short code (our paybill is what the edge is configured with): refused.
    if (v_payload ->> 'paybill') is null or (v_payload ->> 'short_code') is distinct from (v_payload ->> 'paybill') then
      perform hazina.raise_error('paybill_short_code_mismatch', jsonb_build_object(
        'short_code', v_payload ->> 'short_code', 'paybill', v_payload ->> 'paybill'));
    end if;
    perform hazina.assert_valid_amount((v_payload ->> 'amount')::numeric, 'KES');
    return jsonb_build_object('status', 'unconfirmed', 'subject_type', 'paybill');
  elsif v_action = 'status.answer' then
    return hazina.status_answer_apply(p_event);
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
  v_status text;
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
       set status = v_result ->> 'status', error = left(v_result ->> 'error', 1000),
           subject_type = coalesce(v_result ->> 'subject_type', subject_type),
           subject_id = coalesce((v_result ->> 'subject_id')::uuid, subject_id),
           attempts = attempts + 1,
           processed_at = case when v_result ->> 'status' = 'processed' then now() end
     where id = v_event.id;
    return jsonb_build_object('event_id', v_event.id, 'status', v_result ->> 'status', 'applied', v_result ->> 'status' = 'processed',
                              'result', v_result -> 'result');
  exception when others then
    get stacked diagnostics v_code = returned_sqlstate, v_message = message_text, v_detail = pg_exception_detail;
    -- A claim the facts contradict is refused: final, never re-applied, and it gives up the
    -- event key so the genuine message that follows is applied at once.
    v_status := case when v_code = 'P0001' and v_message = any(array['funding_amount_mismatch', 'withdrawal_amount_mismatch',
                        'funding_not_confirmed', 'not_confirmed_by_provider', 'paybill_short_code_mismatch',
                        'invalid_webhook_payload', 'invalid_amount'])
                     then 'refused' else 'failed' end;
    update public.wallet_webhook_events
       set status = v_status, attempts = attempts + 1, processed_at = case when v_status = 'refused' then now() end,
           error = left(case when v_code = 'P0001' then v_message else v_code || ': ' || v_message end
                        || coalesce(' ' || nullif(v_detail, ''), ''), 1000)
     where id = v_event.id;
    return jsonb_build_object('event_id', v_event.id, 'status', v_status, 'applied', false,
                              'error', case when v_code = 'P0001' then v_message else 'internal_error' end);
  end;
end
$$;

-- Store an inbound provider message and apply it, in one transaction:
--   bad signature/token/source → stored as 'rejected' (first 2 KB of the body and its hash), never applied
--   seen key             → stored as 'duplicate' of the original, never applied
--   new key              → stored, then applied (processed | unmatched | failed | unconfirmed | refused)
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
  v_bytes integer := octet_length(p_raw_body);
  v_sha256 text := encode(sha256(convert_to(p_raw_body, 'UTF8')), 'hex');
  -- Unauthenticated or unreadable: keep a bounded prefix (the hash identifies the whole).
  v_body text := case when p_signature_valid is false or p_payload ->> 'action' = 'invalid'
                      then left(p_raw_body, 2048) else p_raw_body end;
begin
  if p_signature_valid is false then
    insert into public.wallet_webhook_events (provider, event_type, provider_event_key, raw_body, body_bytes, body_sha256,
                                              headers, signature_valid, payload, status, error, processed_at)
    values (p_provider, p_event_type, left(p_event_key, 300), v_body, v_bytes, v_sha256, coalesce(p_headers, '{}'), false,
            coalesce(p_payload, '{}'), 'rejected', left(coalesce(p_payload ->> 'reason', 'signature_invalid'), 1000), now())
    returning id into v_event_id;
    return jsonb_build_object('event_id', v_event_id, 'status', 'rejected', 'duplicate', false, 'applied', false);
  end if;
  insert into public.wallet_webhook_events (provider, event_type, provider_event_key, raw_body, body_bytes, body_sha256,
                                            headers, signature_valid, payload)
  values (p_provider, p_event_type, p_event_key, v_body, v_bytes, v_sha256, coalesce(p_headers, '{}'), p_signature_valid,
          coalesce(p_payload, '{}'))
  on conflict (provider, provider_event_key) where status not in ('duplicate', 'rejected', 'refused') do nothing
  returning id into v_event_id;
  if v_event_id is null then
    select id, status into v_original from public.wallet_webhook_events
     where provider = p_provider and provider_event_key = p_event_key and status not in ('duplicate', 'rejected', 'refused');
    insert into public.wallet_webhook_events (provider, event_type, provider_event_key, raw_body, body_bytes, body_sha256,
                                              headers, signature_valid, payload, status, duplicate_of, processed_at)
    values (p_provider, p_event_type, p_event_key, v_body, v_bytes, v_sha256, coalesce(p_headers, '{}'), p_signature_valid,
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
alter table public.wallet_provider_queries enable row level security;
revoke all on table public.wallet_provider_queries from public, anon, authenticated;
grant select on table public.wallet_provider_queries to service_role;

revoke execute on all functions in schema hazina from public, anon, authenticated;
grant execute on function hazina.webhook_event_apply(uuid),
  hazina.provider_query_open(text, text, text, text, text),
  hazina.webhook_ingest(text, text, text, text, jsonb, boolean, jsonb) to service_role;

-- migrate:down
drop function if exists hazina.webhook_ingest(text, text, text, text, jsonb, boolean, jsonb);
drop function if exists hazina.webhook_event_apply(uuid);
drop function if exists hazina.webhook_dispatch(public.wallet_webhook_events);
drop function if exists hazina.provider_query_open(text, text, text, text, text);
drop function if exists hazina.status_answer_apply(public.wallet_webhook_events);
drop function if exists hazina.paybill_settle_confirmed(public.wallet_provider_queries, text, jsonb);
drop function if exists hazina.withdrawal_settle_confirmed(uuid, text, jsonb);
drop function if exists hazina.payout_claim_hold(uuid, text);
drop function if exists hazina.status_query_lock(text, text);
drop table if exists public.wallet_provider_queries;
drop table if exists public.wallet_webhook_events;
