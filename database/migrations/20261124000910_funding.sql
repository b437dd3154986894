-- migrate:up
-- Funding sessions (top-ups): a user asks to pull money from one of their sources (STK
-- push, bank collection); the provider's answer (callback or status query) completes it.
--   funding: pending → completed | failed | cancelled | expired;  expired → completed
--            (a late success the provider confirms is still credited: the money arrived)
-- One function per verb; each locks its row, checks the state and raises a stable code on
-- an illegal transition. See docs/money-movement.md.

create table public.wallet_funding_sessions (
  id                    uuid primary key default gen_random_uuid(),
  user_id               uuid not null references public.auth_users (id),
  wallet_id             uuid not null references public.wallets (id),
  source_id             uuid references public.wallet_sources (id),
  provider              public.payment_provider not null,
  channel               text not null check (channel in ('stk_push', 'bank_collection', 'paybill')),
  amount                numeric(19, 4) not null check (amount > 0),
  fee                   numeric(19, 4) not null default 0 check (fee >= 0),
  currency              char(3) not null references public.currencies (code),
  status                text not null default 'pending'
                          check (status in ('pending', 'completed', 'failed', 'expired', 'cancelled')),
  -- The client's Idempotency-Key: one session per key per user.
  client_ref            text check (length(client_ref) between 1 and 255),
  provider_request_id   text check (length(provider_request_id) <= 255),   -- MerchantRequestID
  provider_checkout_id  text check (length(provider_checkout_id) <= 255),  -- CheckoutRequestID
  provider_receipt      text check (length(provider_receipt) <= 255),      -- MpesaReceiptNumber
  payer_msisdn          text check (length(payer_msisdn) <= 20),
  account_reference     text check (length(account_reference) <= 100),
  transaction_id        uuid references public.wallet_transactions (id),
  failure_code          text check (length(failure_code) <= 100),
  failure_reason        text check (length(failure_reason) <= 500),
  -- When the sweep starts asking the provider what became of a pending session.
  expires_at            timestamptz not null,
  check_count           integer not null default 0 check (check_count >= 0),
  last_checked_at       timestamptz,
  created_at            timestamptz not null default now(),
  updated_at            timestamptz not null default now(),
  completed_at          timestamptz,
  unique (user_id, client_ref),
  constraint wallet_funding_sessions_completed_posted check ((status = 'completed') = (transaction_id is not null)),
  constraint wallet_funding_sessions_source check ((channel = 'paybill') = (source_id is null))
);
create unique index wallet_funding_sessions_checkout on public.wallet_funding_sessions (provider, provider_checkout_id)
  where provider_checkout_id is not null;
create unique index wallet_funding_sessions_receipt on public.wallet_funding_sessions (provider, provider_receipt)
  where provider_receipt is not null;
create index wallet_funding_sessions_user_idx on public.wallet_funding_sessions (user_id, created_at, id);
create index wallet_funding_sessions_wallet_idx on public.wallet_funding_sessions (wallet_id);
create index wallet_funding_sessions_source_idx on public.wallet_funding_sessions (source_id);
create index wallet_funding_sessions_transaction_idx on public.wallet_funding_sessions (transaction_id) where transaction_id is not null;
create index wallet_funding_sessions_due_idx on public.wallet_funding_sessions (expires_at) where status = 'pending';
-- Sessions the provider never acknowledged (see hazina.funding_orphan_claim).
create index wallet_funding_sessions_unacknowledged_idx on public.wallet_funding_sessions (provider, amount, created_at)
  where status = 'expired' and provider_checkout_id is null;

-- The API shape of a funding session (the money-object pattern: *_payment_sources.sql).
create function public.funding_session_json(f public.wallet_funding_sessions) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', f.id, 'wallet_id', f.wallet_id, 'source_id', f.source_id, 'provider', f.provider,
                            'channel', f.channel, 'amount', f.amount::text, 'fee', f.fee::text, 'currency', f.currency,
                            'status', f.status, 'provider_request_id', f.provider_request_id,
                            'provider_checkout_id', f.provider_checkout_id, 'provider_receipt', f.provider_receipt,
                            'account_reference', f.account_reference, 'transaction_id', f.transaction_id,
                            'failure_code', f.failure_code, 'failure_reason', f.failure_reason,
                            'expires_at', public.api_time(f.expires_at), 'created_at', public.api_time(f.created_at),
                            'updated_at', public.api_time(f.updated_at), 'completed_at', public.api_time(f.completed_at))
$$;

create function hazina.funding_session_json(p_session_id uuid) returns jsonb
  language sql stable
  set search_path = ''
  as $$ select public.funding_session_json(f) from public.wallet_funding_sessions f where f.id = p_session_id $$;

-- Credit money that arrived at a provider to a wallet, less the catalog 'funding' fee
-- (paid by the wallet's owner), in one transaction, idempotent by p_ref. Returns
-- (transaction id, fee).
create function hazina.funding_post(
  p_ref text, p_provider text, p_wallet_id uuid, p_amount numeric, p_description text, p_metadata jsonb,
  out transaction_id uuid, out fee numeric
)
  language plpgsql
  set search_path = ''
  as $$
declare
  v_wallet record;
  v_clearing uuid;
  v_quote record;
begin
  select id, user_id, currency into v_wallet from public.wallets where id = p_wallet_id;
  v_clearing := hazina.provider_clearing_wallet(p_provider, v_wallet.currency);
  select * into v_quote from hazina.fee_quote('funding', p_amount, v_wallet.currency, v_wallet.user_id);
  fee := least(v_quote.fee, p_amount);
  if fee > 0 then
    transaction_id := hazina.post_transaction(p_ref, 'funding', jsonb_build_array(
      jsonb_build_object('wallet_id', v_clearing, 'direction', 'debit', 'amount', p_amount::text),
      jsonb_build_object('wallet_id', p_wallet_id, 'direction', 'credit', 'amount', p_amount::text),
      jsonb_build_object('wallet_id', p_wallet_id, 'direction', 'debit', 'amount', fee::text, 'leg', 'fee'),
      jsonb_build_object('wallet_id', hazina.system_wallet('fee_revenue', v_wallet.currency), 'direction', 'credit',
                         'amount', fee::text, 'leg', 'fee')),
      p_description, p_metadata);
    insert into public.billing_ledger (ref, transaction_id, payer_wallet_id, payer_user_id, transaction_type,
                                       direction, amount, currency, base_amount, rule_source, rule_id)
    values (transaction_id::text || '#fee', transaction_id, p_wallet_id, v_wallet.user_id, 'funding',
            'charge', fee, v_wallet.currency, p_amount, v_quote.rule_source, v_quote.rule_id)
    on conflict (ref) do nothing;
  else
    transaction_id := hazina.post_transaction(p_ref, 'funding', jsonb_build_array(
      jsonb_build_object('wallet_id', v_clearing, 'direction', 'debit', 'amount', p_amount::text),
      jsonb_build_object('wallet_id', p_wallet_id, 'direction', 'credit', 'amount', p_amount::text)),
      p_description, p_metadata);
  end if;
end
$$;

-- Start a top-up from one of the user's sources. Idempotent by (user, client_ref): the same
-- request returns the existing session (created = false), a different one is ref_conflict.
create function hazina.funding_start(
  p_user_id uuid, p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text,
  p_ttl interval default interval '3 minutes'
) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_source public.wallet_sources;
  v_wallet_id uuid;
  v_existing public.wallet_funding_sessions;
  v_session_id uuid;
begin
  select * into v_existing from public.wallet_funding_sessions where user_id = p_user_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.source_id is distinct from p_source_id or v_existing.amount <> p_amount
       or v_existing.currency <> p_currency then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_client_ref));
    end if;
    return hazina.funding_session_json(v_existing.id) || jsonb_build_object('created', false);
  end if;
  v_wallet_id := hazina.source_movement_check(p_user_id, p_source_id, p_amount, p_currency, p_client_ref, 'in');
  select * into v_source from public.wallet_sources where id = p_source_id;
  insert into public.wallet_funding_sessions (user_id, wallet_id, source_id, provider, channel, amount, currency,
                                              client_ref, payer_msisdn, expires_at)
  values (p_user_id, v_wallet_id, v_source.id, v_source.provider,
          case v_source.provider when 'mpesa' then 'stk_push' else 'bank_collection' end,
          p_amount, p_currency, p_client_ref, v_source.msisdn, now() + p_ttl)
  on conflict (user_id, client_ref) do nothing
  returning id into v_session_id;
  if v_session_id is null then
    raise exception using errcode = '40001', message = 'concurrent duplicate funding session; retry';
  end if;
  return hazina.funding_session_json(v_session_id) || jsonb_build_object('created', true);
end
$$;

-- Client API: start a top-up from one of my sources, as the caller (hazina.caller_id()).
create function public.funding_start(p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text)
  returns jsonb language sql security definer set search_path = ''
  as $$ select hazina.funding_start(hazina.caller_id(), p_source_id, p_amount, p_currency, p_client_ref) $$;

-- A callback can name a checkout id while the request that produced it is still being
-- recorded (funding_mark_requested). Both take this transaction lock before looking, so one
-- always sees the other's committed work: either the callback finds the session, or the
-- session finds the callback stored as 'unmatched' — never neither.
create function hazina.checkout_lock(p_provider text, p_checkout_id text) returns void
  language sql
  set search_path = ''
  as $$ select pg_advisory_xact_lock(hashtextextended('hazina.funding_checkout:' || coalesce(p_provider, '') || ':' || p_checkout_id, 0)) $$;

-- The provider accepted the request: remember its references, then apply any callback
-- that raced ahead of this (stored as 'unmatched' because it named an unknown checkout).
create function hazina.funding_mark_requested(p_session_id uuid, p_request_id text, p_checkout_id text)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_session public.wallet_funding_sessions;
  v_event_id uuid;
begin
  if p_checkout_id is null or length(p_checkout_id) not between 1 and 255 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'checkout_id'));
  end if;
  -- Serialise with a callback for the same checkout (see hazina.checkout_lock), before
  -- taking the session row lock: the callback takes them in the same order.
  perform hazina.checkout_lock((select provider from public.wallet_funding_sessions where id = p_session_id), p_checkout_id);
  select * into v_session from public.wallet_funding_sessions where id = p_session_id for update;
  if v_session.id is null then
    perform hazina.raise_error('funding_session_not_found', jsonb_build_object('funding_session_id', p_session_id));
  end if;
  if v_session.provider_checkout_id is not null and v_session.provider_checkout_id <> p_checkout_id then
    perform hazina.raise_error('funding_session_already_requested', jsonb_build_object('funding_session_id', p_session_id));
  end if;
  update public.wallet_funding_sessions
     set provider_request_id = coalesce(p_request_id, provider_request_id), provider_checkout_id = p_checkout_id,
         updated_at = now()
   where id = p_session_id;
  for v_event_id in
    select id from public.wallet_webhook_events
     where provider = v_session.provider and status = 'unmatched' and payload ->> 'checkout_id' = p_checkout_id
     order by received_at, id
  loop
    perform hazina.webhook_event_apply(v_event_id);
  end loop;
  return hazina.funding_session_json(p_session_id);
end
$$;

-- The provider says the money arrived. Credits the session's wallet exactly once.
-- p_amount must equal the session's amount (null: the provider's answer carries none, as
-- an STK status query does; the request was for exactly this amount).
create function hazina.funding_complete(p_session_id uuid, p_amount numeric, p_receipt text, p_payer_msisdn text default null)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_session public.wallet_funding_sessions;
  v_post record;
begin
  select * into v_session from public.wallet_funding_sessions where id = p_session_id for update;
  if v_session.id is null then
    perform hazina.raise_error('funding_session_not_found', jsonb_build_object('funding_session_id', p_session_id));
  end if;
  if v_session.status = 'completed' then
    if p_receipt is null or v_session.provider_receipt is null or v_session.provider_receipt = p_receipt then
      return hazina.funding_session_json(p_session_id) || jsonb_build_object('replayed', true);
    end if;
    perform hazina.raise_error('funding_session_not_pending', jsonb_build_object('funding_session_id', p_session_id, 'status', v_session.status));
  end if;
  if v_session.status not in ('pending', 'expired') then
    perform hazina.raise_error('funding_session_not_pending', jsonb_build_object('funding_session_id', p_session_id, 'status', v_session.status));
  end if;
  if p_amount is not null and p_amount <> v_session.amount then
    perform hazina.raise_error('funding_amount_mismatch', jsonb_build_object(
      'funding_session_id', p_session_id, 'expected', v_session.amount::text, 'received', p_amount::text));
  end if;
  select * into v_post from hazina.funding_post('funding:' || v_session.id, v_session.provider, v_session.wallet_id,
    v_session.amount, 'Top-up via ' || v_session.provider,
    jsonb_build_object('funding_session_id', v_session.id, 'provider_receipt', p_receipt));
  update public.wallet_funding_sessions
     set status = 'completed', transaction_id = v_post.transaction_id, fee = v_post.fee,
         provider_receipt = coalesce(p_receipt, provider_receipt),
         payer_msisdn = coalesce(p_payer_msisdn, payer_msisdn),
         failure_code = null, failure_reason = null, completed_at = now(), updated_at = now()
   where id = p_session_id;
  -- Money came in from this source, so it is the user's: withdrawals may go back to it.
  update public.wallet_sources set verification_status = 'verified', verified_at = now(), updated_at = now()
   where id = v_session.source_id and verification_status <> 'verified';
  return hazina.funding_session_json(p_session_id) || jsonb_build_object('replayed', false);
end
$$;

-- The provider says the top-up did not happen: p_status 'failed' or 'cancelled' (the
-- customer declined, M-Pesa ResultCode 1032). Repeating the same end state is a no-op.
create function hazina.funding_fail(p_session_id uuid, p_status text, p_code text, p_reason text)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_session public.wallet_funding_sessions;
begin
  if p_status is null or p_status not in ('failed', 'cancelled') then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'status'));
  end if;
  select * into v_session from public.wallet_funding_sessions where id = p_session_id for update;
  if v_session.id is null then
    perform hazina.raise_error('funding_session_not_found', jsonb_build_object('funding_session_id', p_session_id));
  end if;
  if v_session.status in ('failed', 'cancelled', 'expired') then
    return hazina.funding_session_json(p_session_id);
  end if;
  if v_session.status <> 'pending' then
    perform hazina.raise_error('funding_session_not_pending', jsonb_build_object('funding_session_id', p_session_id, 'status', v_session.status));
  end if;
  update public.wallet_funding_sessions
     set status = p_status, failure_code = left(p_code, 100), failure_reason = left(p_reason, 500), updated_at = now()
   where id = p_session_id;
  return hazina.funding_session_json(p_session_id);
end
$$;

-- Give up on a pending session (the sweep, after the provider could not confirm it).
create function hazina.funding_expire(p_session_id uuid, p_reason text default null)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_status text;
begin
  select status into v_status from public.wallet_funding_sessions where id = p_session_id for update;
  if v_status is null then
    perform hazina.raise_error('funding_session_not_found', jsonb_build_object('funding_session_id', p_session_id));
  end if;
  if v_status = 'pending' then
    update public.wallet_funding_sessions
       set status = 'expired', failure_code = 'expired', failure_reason = left(coalesce(p_reason, 'no answer from the provider'), 500),
           updated_at = now()
     where id = p_session_id;
  elsif v_status <> 'expired' then
    perform hazina.raise_error('funding_session_not_pending', jsonb_build_object('funding_session_id', p_session_id, 'status', v_status));
  end if;
  return hazina.funding_session_json(p_session_id);
end
$$;

-- A success callback naming a checkout we never learned: the STK push whose request
-- timed out on our side (or that the provider never acknowledged), which still reached the
-- customer, who paid. Daraja's callback does not echo our reference, so the session is
-- found by what it does carry: an expired M-Pesa STK session without a checkout id, for
-- the same amount, from a source with the payer's number, started at most 15 minutes
-- before the callback arrived (an STK prompt lives about a minute). When such sessions
-- belong to one wallet, the oldest is claimed: it takes the checkout id, so retries of the
-- callback find it directly. When they span several wallets (a number shared by two
-- users), none is: the event stays unmatched for an operator. Claims race safely: the
-- loser finds the checkout id taken and leaves its event unmatched, for the sweep to
-- re-apply (and then claim the next session).
create function hazina.funding_orphan_claim(p_provider text, p_checkout_id text, p_msisdn text, p_amount numeric,
                                            p_received_at timestamptz) returns uuid
  language plpgsql
  set search_path = ''
  as $$
declare
  v_wallets integer;
  v_id uuid;
begin
  if p_provider <> 'mpesa' or p_checkout_id is null or p_msisdn is null or p_amount is null then
    return null;
  end if;
  select count(distinct s.wallet_id), (array_agg(s.id order by s.created_at, s.id))[1]
    into v_wallets, v_id
    from public.wallet_funding_sessions s
    join public.wallet_sources src on src.id = s.source_id
   where s.provider = p_provider and s.status = 'expired' and s.provider_checkout_id is null
     and s.channel = 'stk_push' and s.amount = p_amount and src.msisdn = p_msisdn
     and s.created_at between p_received_at - interval '15 minutes' and p_received_at;
  if v_wallets <> 1 then
    return null;
  end if;
  update public.wallet_funding_sessions
     set provider_checkout_id = p_checkout_id, updated_at = now()
   where id = v_id and provider_checkout_id is null;
  if not found then
    return null;
  end if;
  return v_id;
end
$$;

-- Row level security: owners read their own sessions. Nobody writes directly.
alter table public.wallet_funding_sessions enable row level security;
revoke all on table public.wallet_funding_sessions from public, anon, authenticated;
grant select on table public.wallet_funding_sessions to authenticated, service_role;
create policy "owner reads own funding sessions" on public.wallet_funding_sessions
  for select to authenticated using (user_id = auth.uid());

revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function public.funding_start(uuid, numeric, text, text) from public, anon;
grant execute on function public.funding_start(uuid, numeric, text, text) to authenticated;
revoke execute on function public.funding_session_json(public.wallet_funding_sessions) from public, anon;
grant execute on function public.funding_session_json(public.wallet_funding_sessions) to authenticated, service_role;
grant execute on function hazina.funding_session_json(uuid),
  hazina.funding_start(uuid, uuid, numeric, text, text, interval),
  hazina.funding_mark_requested(uuid, text, text), hazina.funding_complete(uuid, numeric, text, text),
  hazina.funding_fail(uuid, text, text, text), hazina.funding_expire(uuid, text) to service_role;

-- migrate:down
drop function if exists hazina.funding_orphan_claim(text, text, text, numeric, timestamptz);
drop function if exists hazina.funding_expire(uuid, text);
drop function if exists hazina.funding_fail(uuid, text, text, text);
drop function if exists hazina.funding_complete(uuid, numeric, text, text);
drop function if exists hazina.funding_mark_requested(uuid, text, text);
drop function if exists hazina.checkout_lock(text, text);
drop function if exists public.funding_start(uuid, numeric, text, text);
drop function if exists hazina.funding_start(uuid, uuid, numeric, text, text, interval);
drop function if exists hazina.funding_post(text, text, uuid, numeric, text, jsonb);
drop function if exists hazina.funding_session_json(uuid);
drop function if exists public.funding_session_json(public.wallet_funding_sessions);
drop table if exists public.wallet_funding_sessions;
