-- migrate:up
-- Money in and out: payment sources, funding sessions (top-ups), withdrawals (payouts)
-- and every inbound provider message (webhook events). See docs/money-movement.md.
--
-- Ledger picture (all through hazina.post_transaction / holds, never by hand):
--   top-up completed     debit <provider>_clearing, credit user wallet (+ funding fee, if any)
--   paybill (C2B)         same, or credit `suspense` when the account reference is unknown
--   withdrawal requested  hold on the user wallet for payouts_in_flight (amount + withdrawal fee)
--   withdrawal completed  hold posted (user → payouts_in_flight, fee → fee_revenue), then
--                         payouts_in_flight → <provider>_clearing (the money left our account)
--   withdrawal failed     hold voided (nothing moved)
--   withdrawal reversed   the posting is reversed (fee refunded) and the settlement undone
-- A clearing wallet mirrors the money held at the provider, so it runs negative by what users
-- funded through it, and rises again by what they withdrew.
--
-- State machines (one function per verb; each locks its row, checks the state and raises
-- a stable code on an illegal transition):
--   funding:    pending → completed | failed | cancelled | expired;  expired → completed
--               (a late success the provider confirms is still credited: the money arrived)
--   withdrawal: pending → processing → completed → reversed;  pending | processing → failed;
--               pending (not yet submitted to the provider) → cancelled (by the owner)
--   webhook:    received → processed | unmatched | failed;  unmatched | failed → processed
--               (re-applied); duplicates and rejected (bad signature) rows never apply.

-- ---------------------------------------------------------------------------------------
-- Tables

create table public.wallet_sources (
  id                   uuid primary key default gen_random_uuid(),
  user_id              uuid not null references public.auth_users (id),
  provider             text not null check (provider in ('mpesa', 'kcb', 'dtb')),
  -- M-Pesa sources are mobile money (an MSISDN); KCB and DTB sources are bank accounts.
  kind                 text not null generated always as
                         (case provider when 'mpesa' then 'mobile_money' else 'bank_account' end) stored,
  msisdn               text check (msisdn ~ '^254(7|1)[0-9]{8}$'),
  account_number       text check (account_number ~ '^[0-9]{6,20}$'),
  account_name         text check (length(account_name) between 1 and 200),
  label                text check (length(label) between 1 and 60),
  is_default           boolean not null default false,
  -- verified once money has come in from this source (a completed top-up): withdrawals
  -- only go to verified sources, so a stolen session cannot cash out to a new number.
  verification_status  text not null default 'unverified' check (verification_status in ('unverified', 'verified', 'failed')),
  verified_at          timestamptz,
  status               text not null default 'active' check (status in ('active', 'removed')),
  created_at           timestamptz not null default now(),
  updated_at           timestamptz not null default now(),
  constraint wallet_sources_identifier check (
    case provider when 'mpesa' then msisdn is not null and account_number is null
                  else account_number is not null and msisdn is null end),
  constraint wallet_sources_verified_at check ((verification_status = 'verified') = (verified_at is not null))
);
create unique index wallet_sources_one_per_identifier on public.wallet_sources
  (user_id, provider, coalesce(msisdn, account_number)) where status = 'active';
create unique index wallet_sources_one_default on public.wallet_sources (user_id)
  where is_default and status = 'active';

-- Paybill (C2B) account references: a customer pays our paybill with this as the
-- "account number", and the money lands in this wallet.
create table public.wallet_account_references (
  reference   text primary key check (reference ~ '^[0-9]{8}$'),
  wallet_id   uuid not null unique references public.wallets (id),
  created_at  timestamptz not null default now()
);

create table public.wallet_funding_sessions (
  id                    uuid primary key default gen_random_uuid(),
  user_id               uuid not null references public.auth_users (id),
  wallet_id             uuid not null references public.wallets (id),
  source_id             uuid references public.wallet_sources (id),
  provider              text not null check (provider in ('mpesa', 'kcb', 'dtb')),
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
create index wallet_funding_sessions_due_idx on public.wallet_funding_sessions (expires_at) where status = 'pending';
-- Sessions the provider never acknowledged (see hazina.funding_orphan_claim).
create index wallet_funding_sessions_unacknowledged_idx on public.wallet_funding_sessions (provider, amount, created_at)
  where status = 'expired' and provider_checkout_id is null;

create table public.wallet_withdrawals (
  id                         uuid primary key default gen_random_uuid(),
  user_id                    uuid not null references public.auth_users (id),
  wallet_id                  uuid not null references public.wallets (id),
  source_id                  uuid not null references public.wallet_sources (id),
  provider                   text not null check (provider in ('mpesa', 'kcb', 'dtb')),
  amount                     numeric(19, 4) not null check (amount > 0),
  fee                        numeric(19, 4) not null default 0 check (fee >= 0),
  currency                   char(3) not null references public.currencies (code),
  status                     text not null default 'pending'
                               check (status in ('pending', 'processing', 'completed', 'failed', 'reversed', 'cancelled')),
  client_ref                 text check (length(client_ref) between 1 and 255),
  hold_id                    uuid not null unique references public.wallet_holds (id),
  transaction_id             uuid references public.wallet_transactions (id),  -- the posted hold
  settlement_transaction_id  uuid references public.wallet_transactions (id),  -- payouts_in_flight → clearing
  reversal_transaction_id    uuid references public.wallet_transactions (id),
  -- We name the request (OriginatorConversationID = our id), the provider names its side.
  provider_request_id        text not null check (length(provider_request_id) <= 255),
  provider_conversation_id   text check (length(provider_conversation_id) <= 255),
  provider_receipt           text check (length(provider_receipt) <= 255),
  failure_code               text check (length(failure_code) <= 100),
  failure_reason             text check (length(failure_reason) <= 500),
  -- submitted_at: the request went (or may have gone) to the provider; from then on only
  -- the provider's answer (or a status query) decides, and the owner can no longer cancel.
  submitted_at               timestamptz,
  expires_at                 timestamptz not null,
  check_count                integer not null default 0 check (check_count >= 0),
  last_checked_at            timestamptz,
  created_at                 timestamptz not null default now(),
  updated_at                 timestamptz not null default now(),
  completed_at               timestamptz,
  unique (user_id, client_ref),
  unique (provider, provider_request_id),
  constraint wallet_withdrawals_completed_posted check (
    (status in ('completed', 'reversed')) = (transaction_id is not null and settlement_transaction_id is not null)),
  constraint wallet_withdrawals_reversed_posted check ((status = 'reversed') = (reversal_transaction_id is not null)),
  constraint wallet_withdrawals_processing_submitted check (status not in ('processing', 'completed') or submitted_at is not null)
);
create unique index wallet_withdrawals_conversation on public.wallet_withdrawals (provider, provider_conversation_id)
  where provider_conversation_id is not null;
create index wallet_withdrawals_user_idx on public.wallet_withdrawals (user_id, created_at, id);
create index wallet_withdrawals_due_idx on public.wallet_withdrawals (expires_at) where status in ('pending', 'processing');

create table public.wallet_webhook_events (
  id                  uuid primary key default gen_random_uuid(),
  provider            text not null check (provider in ('mpesa', 'kcb', 'dtb')),
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

create trigger wallet_sources_audit after insert or update or delete on public.wallet_sources
  for each row execute function hazina.audit_row_change();

-- ---------------------------------------------------------------------------------------
-- Helpers

create function hazina.provider_clearing_wallet(p_provider text, p_currency text) returns uuid
  language plpgsql stable
  set search_path = ''
  as $$
declare
  v_wallet uuid := hazina.system_wallet(p_provider || '_clearing', p_currency);
begin
  if v_wallet is null then
    perform hazina.raise_error('provider_not_supported', jsonb_build_object('provider', p_provider, 'currency', p_currency));
  end if;
  return v_wallet;
end
$$;

-- Provider limits on one amount. M-Pesa moves whole shillings only (KES 1–250,000 for STK
-- and paybill, KES 10–250,000 for B2C); banks move cents.
create function hazina.assert_provider_amount(p_provider text, p_direction text, p_amount numeric, p_currency text)
  returns void
  language plpgsql stable
  set search_path = ''
  as $$
begin
  perform hazina.assert_valid_amount(p_amount, p_currency);
  if p_provider = 'mpesa' then
    if p_currency <> 'KES' then
      perform hazina.raise_error('currency_not_supported', jsonb_build_object('provider', p_provider, 'currency', p_currency));
    end if;
    if p_amount <> trunc(p_amount) then
      perform hazina.raise_error('invalid_amount', jsonb_build_object('reason', 'M-Pesa moves whole shillings'));
    end if;
    if p_amount < (case p_direction when 'out' then 10 else 1 end) or p_amount > 250000 then
      perform hazina.raise_error('amount_outside_provider_limits', jsonb_build_object(
        'provider', p_provider, 'minimum', case p_direction when 'out' then '10' else '1' end, 'maximum', '250000'));
    end if;
  end if;
end
$$;

create function hazina.wallet_source_json(p_source_id uuid) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', s.id, 'provider', s.provider, 'kind', s.kind, 'msisdn', s.msisdn,
                            'account_number', s.account_number, 'account_name', s.account_name, 'label', s.label,
                            'is_default', s.is_default, 'verification_status', s.verification_status,
                            'status', s.status, 'created_at', s.created_at, 'updated_at', s.updated_at)
    from public.wallet_sources s where s.id = p_source_id
$$;

create function hazina.funding_session_json(p_session_id uuid) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', f.id, 'wallet_id', f.wallet_id, 'source_id', f.source_id, 'provider', f.provider,
                            'channel', f.channel, 'amount', f.amount::text, 'fee', f.fee::text, 'currency', f.currency,
                            'status', f.status, 'provider_request_id', f.provider_request_id,
                            'provider_checkout_id', f.provider_checkout_id, 'provider_receipt', f.provider_receipt,
                            'account_reference', f.account_reference, 'transaction_id', f.transaction_id,
                            'failure_code', f.failure_code, 'failure_reason', f.failure_reason,
                            'expires_at', f.expires_at, 'created_at', f.created_at, 'updated_at', f.updated_at,
                            'completed_at', f.completed_at)
    from public.wallet_funding_sessions f where f.id = p_session_id
$$;

create function hazina.withdrawal_json(p_withdrawal_id uuid) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', w.id, 'wallet_id', w.wallet_id, 'source_id', w.source_id, 'provider', w.provider,
                            'amount', w.amount::text, 'fee', w.fee::text, 'currency', w.currency, 'status', w.status,
                            'hold_id', w.hold_id, 'transaction_id', w.transaction_id,
                            'provider_request_id', w.provider_request_id,
                            'provider_conversation_id', w.provider_conversation_id,
                            'provider_receipt', w.provider_receipt, 'failure_code', w.failure_code,
                            'failure_reason', w.failure_reason, 'submitted', w.submitted_at is not null,
                            'created_at', w.created_at, 'updated_at', w.updated_at, 'completed_at', w.completed_at)
    from public.wallet_withdrawals w where w.id = p_withdrawal_id
$$;

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

-- ---------------------------------------------------------------------------------------
-- Sources

create function hazina.wallet_source_add(
  p_user_id uuid, p_provider text, p_msisdn text, p_account_number text, p_account_name text,
  p_label text, p_is_default boolean default false
) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_msisdn text;
  v_source_id uuid;
begin
  if p_provider is null or p_provider not in ('mpesa', 'kcb', 'dtb') then
    perform hazina.raise_error('provider_not_supported', jsonb_build_object('provider', p_provider));
  end if;
  -- Accept 07XXXXXXXX, 01XXXXXXXX, +2547..., 2547...; store 2547XXXXXXXX (Daraja's form).
  if p_provider = 'mpesa' then
    v_msisdn := regexp_replace(coalesce(p_msisdn, ''), '[\s-]', '', 'g');
    v_msisdn := regexp_replace(v_msisdn, '^(\+?254|0)', '254');
    if v_msisdn !~ '^254(7|1)[0-9]{8}$' or p_account_number is not null then
      perform hazina.raise_error('invalid_source', jsonb_build_object('reason', 'an M-Pesa source needs a Kenyan mobile number (07XXXXXXXX)'));
    end if;
  elsif p_account_number is null or p_account_number !~ '^[0-9]{6,20}$' or p_msisdn is not null then
    perform hazina.raise_error('invalid_source', jsonb_build_object('reason', 'a bank source needs an account number of 6 to 20 digits'));
  end if;
  select id into v_source_id from public.wallet_sources
   where user_id = p_user_id and provider = p_provider and status = 'active'
     and coalesce(msisdn, account_number) = coalesce(v_msisdn, p_account_number)
   for update;
  if v_source_id is not null then
    -- Adding a source twice returns it (updating only its label and default flag).
    if coalesce(p_is_default, false) then
      update public.wallet_sources set is_default = false, updated_at = now()
       where user_id = p_user_id and is_default and id <> v_source_id;
    end if;
    update public.wallet_sources
       set label = coalesce(p_label, label), account_name = coalesce(p_account_name, account_name),
           is_default = is_default or coalesce(p_is_default, false), updated_at = now()
     where id = v_source_id;
    return hazina.wallet_source_json(v_source_id) || jsonb_build_object('created', false);
  end if;
  if coalesce(p_is_default, false) then
    update public.wallet_sources set is_default = false, updated_at = now() where user_id = p_user_id and is_default;
  end if;
  insert into public.wallet_sources (user_id, provider, msisdn, account_number, account_name, label, is_default)
  values (p_user_id, p_provider, v_msisdn, p_account_number, p_account_name, p_label,
          coalesce(p_is_default, false)
            or not exists (select 1 from public.wallet_sources where user_id = p_user_id and status = 'active'))
  returning id into v_source_id;
  return hazina.wallet_source_json(v_source_id) || jsonb_build_object('created', true);
end
$$;

create function public.wallet_source_add(
  p_provider text, p_msisdn text default null, p_account_number text default null,
  p_account_name text default null, p_label text default null, p_is_default boolean default false
) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  return hazina.wallet_source_add(hazina.caller_id(), p_provider, p_msisdn, p_account_number, p_account_name, p_label, p_is_default);
end
$$;

create function public.wallet_source_remove(p_source_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  perform hazina.caller_id();  -- signed in, or unauthenticated
  update public.wallet_sources set status = 'removed', is_default = false, updated_at = now()
   where id = p_source_id and user_id = auth.uid() and status = 'active';
  if not found and not exists (select 1 from public.wallet_sources where id = p_source_id and user_id = auth.uid()) then
    perform hazina.raise_error('source_not_found', jsonb_build_object('source_id', p_source_id));
  end if;
  return hazina.wallet_source_json(p_source_id);
end
$$;

-- My paybill account reference for a wallet (created on first use).
create function public.wallet_paybill_reference(p_currency text default 'KES') returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_wallet_id uuid;
  v_reference text;
begin
  perform hazina.caller_id();  -- signed in, or unauthenticated
  if p_currency is distinct from 'KES' then
    perform hazina.raise_error('currency_not_supported', jsonb_build_object('currency', p_currency, 'reason', 'paybill is KES only'));
  end if;
  select id into v_wallet_id from public.wallets where user_id = auth.uid() and currency = p_currency;
  if v_wallet_id is null then
    perform hazina.raise_error('wallet_not_found', jsonb_build_object('currency', p_currency));
  end if;
  select reference into v_reference from public.wallet_account_references where wallet_id = v_wallet_id;
  while v_reference is null loop
    insert into public.wallet_account_references (reference, wallet_id)
    values (lpad((floor(random() * 100000000))::bigint::text, 8, '0'), v_wallet_id)
    on conflict do nothing
    returning reference into v_reference;
    if v_reference is null then
      select reference into v_reference from public.wallet_account_references where wallet_id = v_wallet_id;
    end if;
  end loop;
  return jsonb_build_object('wallet_id', v_wallet_id, 'account_reference', v_reference, 'currency', p_currency);
end
$$;

-- ---------------------------------------------------------------------------------------
-- Funding sessions

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
  v_wallet record;
  v_existing public.wallet_funding_sessions;
  v_session_id uuid;
begin
  if p_client_ref is null or length(p_client_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref', jsonb_build_object('reason', 'client_ref must be 1 to 255 characters'));
  end if;
  select * into v_existing from public.wallet_funding_sessions where user_id = p_user_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.source_id is distinct from p_source_id or v_existing.amount <> p_amount
       or v_existing.currency <> p_currency then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_client_ref));
    end if;
    return hazina.funding_session_json(v_existing.id) || jsonb_build_object('created', false);
  end if;
  select * into v_source from public.wallet_sources where id = p_source_id and user_id = p_user_id and status = 'active';
  if v_source.id is null then
    perform hazina.raise_error('source_not_found', jsonb_build_object('source_id', p_source_id));
  end if;
  select id, status into v_wallet from public.wallets where user_id = p_user_id and currency = p_currency;
  if v_wallet.id is null then
    perform hazina.raise_error('wallet_not_found', jsonb_build_object('currency', p_currency));
  end if;
  if v_wallet.status <> 'active' then
    perform hazina.raise_error('wallet_not_active', jsonb_build_object('wallet_id', v_wallet.id, 'status', v_wallet.status));
  end if;
  perform hazina.assert_provider_amount(v_source.provider, 'in', p_amount, p_currency);
  perform hazina.provider_clearing_wallet(v_source.provider, p_currency);
  insert into public.wallet_funding_sessions (user_id, wallet_id, source_id, provider, channel, amount, currency,
                                              client_ref, payer_msisdn, expires_at)
  values (p_user_id, v_wallet.id, v_source.id, v_source.provider,
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

create function public.funding_start(p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  return hazina.funding_start(hazina.caller_id(), p_source_id, p_amount, p_currency, p_client_ref);
end
$$;

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

-- ---------------------------------------------------------------------------------------
-- Paybill (C2B)

-- Validation: may this account reference receive money? Never writes.
create function hazina.paybill_validate(p_account_reference text, p_amount numeric) returns jsonb
  language plpgsql stable
  security definer
  set search_path = ''
  as $$
declare
  v_wallet record;
begin
  select w.id, w.status into v_wallet
    from public.wallet_account_references r join public.wallets w on w.id = r.wallet_id
   where r.reference = upper(regexp_replace(coalesce(p_account_reference, ''), '\s', '', 'g'));
  if v_wallet.id is null then
    return jsonb_build_object('accept', false, 'reason', 'unknown_account');
  end if;
  if v_wallet.status <> 'active' then
    return jsonb_build_object('accept', false, 'reason', 'wallet_not_active');
  end if;
  if p_amount is null or p_amount <= 0 or p_amount <> trunc(p_amount) then
    return jsonb_build_object('accept', false, 'reason', 'invalid_amount');
  end if;
  return jsonb_build_object('accept', true, 'wallet_id', v_wallet.id);
end
$$;

-- Confirmation: the money is in our paybill. Credit the wallet named by the account
-- reference, or `suspense` when nobody matches (the books must still show the money; an
-- operator moves it on). Exactly once per provider transaction id.
create function hazina.paybill_credit(
  p_provider text, p_trans_id text, p_amount numeric, p_account_reference text, p_msisdn text
) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_reference text := upper(regexp_replace(coalesce(p_account_reference, ''), '\s', '', 'g'));
  v_wallet record;
  v_session_id uuid;
  v_post record;
  v_tx uuid;
begin
  if p_trans_id is null or length(p_trans_id) not between 1 and 100 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'trans_id'));
  end if;
  perform hazina.assert_valid_amount(p_amount, 'KES');
  select id into v_session_id from public.wallet_funding_sessions where provider = p_provider and provider_receipt = p_trans_id;
  if v_session_id is not null then
    return hazina.funding_session_json(v_session_id) || jsonb_build_object('matched', true, 'replayed', true);
  end if;
  select w.id, w.user_id, w.currency, w.status into v_wallet
    from public.wallet_account_references r join public.wallets w on w.id = r.wallet_id
   where r.reference = v_reference;
  if v_wallet.id is null or v_wallet.status <> 'active' then
    v_tx := hazina.post_transaction('paybill:' || p_provider || ':' || p_trans_id, 'funding', jsonb_build_array(
      jsonb_build_object('wallet_id', hazina.provider_clearing_wallet(p_provider, 'KES'), 'direction', 'debit', 'amount', p_amount::text),
      jsonb_build_object('wallet_id', hazina.system_wallet('suspense', 'KES'), 'direction', 'credit', 'amount', p_amount::text)),
      'Unmatched paybill payment', jsonb_build_object('provider_receipt', p_trans_id, 'account_reference', left(p_account_reference, 100),
                                                      'msisdn', left(p_msisdn, 20)));
    return jsonb_build_object('matched', false, 'transaction_id', v_tx, 'account_reference', left(p_account_reference, 100));
  end if;
  insert into public.wallet_funding_sessions (user_id, wallet_id, provider, channel, amount, currency, status,
                                              provider_receipt, payer_msisdn, account_reference, expires_at)
  values (v_wallet.user_id, v_wallet.id, p_provider, 'paybill', p_amount, v_wallet.currency, 'pending',
          p_trans_id, left(p_msisdn, 20), v_reference, now())
  returning id into v_session_id;
  select * into v_post from hazina.funding_post('paybill:' || p_provider || ':' || p_trans_id, p_provider, v_wallet.id, p_amount,
    'Paybill top-up', jsonb_build_object('funding_session_id', v_session_id, 'provider_receipt', p_trans_id));
  update public.wallet_funding_sessions
     set status = 'completed', transaction_id = v_post.transaction_id, fee = v_post.fee, completed_at = now()
   where id = v_session_id;
  return hazina.funding_session_json(v_session_id) || jsonb_build_object('matched', true, 'replayed', false);
end
$$;

-- ---------------------------------------------------------------------------------------
-- Withdrawals

-- Request a payout to one of the user's verified sources: the amount plus the catalog
-- 'withdrawal' fee is held on the wallet until the provider answers. Idempotent by
-- (user, client_ref).
create function hazina.withdrawal_request(
  p_user_id uuid, p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text,
  p_ttl interval default interval '10 minutes'
) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_source public.wallet_sources;
  v_wallet record;
  v_existing public.wallet_withdrawals;
  v_withdrawal_id uuid := gen_random_uuid();
  v_hold_id uuid;
begin
  if p_client_ref is null or length(p_client_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref', jsonb_build_object('reason', 'client_ref must be 1 to 255 characters'));
  end if;
  select * into v_existing from public.wallet_withdrawals where user_id = p_user_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.source_id <> p_source_id or v_existing.amount <> p_amount or v_existing.currency <> p_currency then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_client_ref));
    end if;
    return hazina.withdrawal_json(v_existing.id) || jsonb_build_object('created', false);
  end if;
  select * into v_source from public.wallet_sources where id = p_source_id and user_id = p_user_id and status = 'active';
  if v_source.id is null then
    perform hazina.raise_error('source_not_found', jsonb_build_object('source_id', p_source_id));
  end if;
  if v_source.verification_status <> 'verified' then
    perform hazina.raise_error('source_not_verified', jsonb_build_object('source_id', p_source_id));
  end if;
  select id, status into v_wallet from public.wallets where user_id = p_user_id and currency = p_currency;
  if v_wallet.id is null then
    perform hazina.raise_error('wallet_not_found', jsonb_build_object('currency', p_currency));
  end if;
  perform hazina.assert_provider_amount(v_source.provider, 'out', p_amount, p_currency);
  perform hazina.provider_clearing_wallet(v_source.provider, p_currency);
  -- The hold never expires on its own ('infinity'): only the provider's answer (through this
  -- state machine) may release or post it, or money could leave twice.
  v_hold_id := hazina.hold_create('withdrawal:' || v_withdrawal_id, v_wallet.id,
    hazina.system_wallet('payouts_in_flight', p_currency), p_amount, 'infinity', 'withdrawal',
    'Withdrawal to ' || v_source.provider, jsonb_build_object('withdrawal_id', v_withdrawal_id));
  insert into public.wallet_withdrawals (id, user_id, wallet_id, source_id, provider, amount, fee, currency, client_ref,
                                         hold_id, provider_request_id, expires_at)
  select v_withdrawal_id, p_user_id, v_wallet.id, v_source.id, v_source.provider, p_amount, h.fee_amount, p_currency,
         p_client_ref, v_hold_id, v_withdrawal_id::text, now() + p_ttl
    from public.wallet_holds h where h.id = v_hold_id
  on conflict (user_id, client_ref) do nothing;
  if not found then
    raise exception using errcode = '40001', message = 'concurrent duplicate withdrawal; retry';
  end if;
  return hazina.withdrawal_json(v_withdrawal_id) || jsonb_build_object('created', true);
end
$$;

create function public.withdrawal_request(p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  return hazina.withdrawal_request(hazina.caller_id(), p_source_id, p_amount, p_currency, p_client_ref);
end
$$;

-- About to send the request to the provider: from now on the owner cannot cancel.
-- Raises withdrawal_not_pending when it was cancelled (or already settled) meanwhile.
create function hazina.withdrawal_mark_submitted(p_withdrawal_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_status text;
begin
  select status into v_status from public.wallet_withdrawals where id = p_withdrawal_id for update;
  if v_status is null then
    perform hazina.raise_error('withdrawal_not_found', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  if v_status <> 'pending' then
    perform hazina.raise_error('withdrawal_not_pending', jsonb_build_object('withdrawal_id', p_withdrawal_id, 'status', v_status));
  end if;
  update public.wallet_withdrawals set submitted_at = coalesce(submitted_at, now()), updated_at = now()
   where id = p_withdrawal_id;
  return hazina.withdrawal_json(p_withdrawal_id);
end
$$;

-- The provider accepted the request. If its final answer already arrived (callbacks can
-- overtake the acknowledgement), this only records the conversation id.
create function hazina.withdrawal_mark_processing(p_withdrawal_id uuid, p_conversation_id text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_withdrawal public.wallet_withdrawals;
begin
  select * into v_withdrawal from public.wallet_withdrawals where id = p_withdrawal_id for update;
  if v_withdrawal.id is null then
    perform hazina.raise_error('withdrawal_not_found', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  if v_withdrawal.status = 'cancelled' then
    perform hazina.raise_error('withdrawal_not_pending', jsonb_build_object('withdrawal_id', p_withdrawal_id, 'status', v_withdrawal.status));
  end if;
  update public.wallet_withdrawals
     set status = case status when 'pending' then 'processing' else status end,
         submitted_at = coalesce(submitted_at, now()),
         provider_conversation_id = coalesce(provider_conversation_id, p_conversation_id),
         updated_at = now()
   where id = p_withdrawal_id;
  return hazina.withdrawal_json(p_withdrawal_id);
end
$$;

-- The provider paid out. Posts the hold (amount to payouts_in_flight, fee to revenue) and
-- settles payouts_in_flight against the provider's clearing wallet, exactly once.
create function hazina.withdrawal_complete(p_withdrawal_id uuid, p_receipt text, p_amount numeric default null)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_withdrawal public.wallet_withdrawals;
  v_posted uuid;
  v_settled uuid;
begin
  select * into v_withdrawal from public.wallet_withdrawals where id = p_withdrawal_id for update;
  if v_withdrawal.id is null then
    perform hazina.raise_error('withdrawal_not_found', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  if v_withdrawal.status = 'completed'
     and (p_receipt is null or v_withdrawal.provider_receipt is null or v_withdrawal.provider_receipt = p_receipt) then
    return hazina.withdrawal_json(p_withdrawal_id) || jsonb_build_object('replayed', true);
  end if;
  if v_withdrawal.status not in ('pending', 'processing') then
    perform hazina.raise_error('withdrawal_not_pending', jsonb_build_object('withdrawal_id', p_withdrawal_id, 'status', v_withdrawal.status));
  end if;
  if v_withdrawal.submitted_at is null then
    -- We never sent it, so no provider can have paid it.
    perform hazina.raise_error('withdrawal_not_submitted', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  if p_amount is not null and p_amount <> v_withdrawal.amount then
    perform hazina.raise_error('withdrawal_amount_mismatch', jsonb_build_object(
      'withdrawal_id', p_withdrawal_id, 'expected', v_withdrawal.amount::text, 'received', p_amount::text));
  end if;
  v_posted := hazina.hold_post(v_withdrawal.hold_id);
  v_settled := hazina.post_transaction('withdrawal:' || v_withdrawal.id || ':settle', 'withdrawal_settlement', jsonb_build_array(
    jsonb_build_object('wallet_id', hazina.system_wallet('payouts_in_flight', v_withdrawal.currency), 'direction', 'debit',
                       'amount', v_withdrawal.amount::text),
    jsonb_build_object('wallet_id', hazina.provider_clearing_wallet(v_withdrawal.provider, v_withdrawal.currency),
                       'direction', 'credit', 'amount', v_withdrawal.amount::text)),
    'Payout settled by ' || v_withdrawal.provider,
    jsonb_build_object('withdrawal_id', v_withdrawal.id, 'provider_receipt', p_receipt));
  update public.wallet_withdrawals
     set status = 'completed', transaction_id = v_posted, settlement_transaction_id = v_settled,
         fee = (select coalesce(sum(amount), 0) from hazina.transaction_fees(v_posted) where direction = 'charge'),
         provider_receipt = coalesce(p_receipt, provider_receipt), failure_code = null, failure_reason = null,
         completed_at = now(), updated_at = now()
   where id = p_withdrawal_id;
  return hazina.withdrawal_json(p_withdrawal_id) || jsonb_build_object('replayed', false);
end
$$;

-- The provider did not pay out: release the hold. Repeating it is a no-op.
create function hazina.withdrawal_fail(p_withdrawal_id uuid, p_code text, p_reason text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_withdrawal public.wallet_withdrawals;
begin
  select * into v_withdrawal from public.wallet_withdrawals where id = p_withdrawal_id for update;
  if v_withdrawal.id is null then
    perform hazina.raise_error('withdrawal_not_found', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  if v_withdrawal.status = 'failed' then
    return hazina.withdrawal_json(p_withdrawal_id);
  end if;
  if v_withdrawal.status not in ('pending', 'processing') then
    perform hazina.raise_error('withdrawal_not_pending', jsonb_build_object('withdrawal_id', p_withdrawal_id, 'status', v_withdrawal.status));
  end if;
  perform hazina.hold_void(v_withdrawal.hold_id);
  update public.wallet_withdrawals
     set status = 'failed', failure_code = left(p_code, 100), failure_reason = left(p_reason, 500), updated_at = now()
   where id = p_withdrawal_id;
  return hazina.withdrawal_json(p_withdrawal_id);
end
$$;

-- The owner cancels a withdrawal that has not been sent to the provider yet.
create function hazina.withdrawal_cancel(p_withdrawal_id uuid, p_user_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_withdrawal public.wallet_withdrawals;
begin
  select * into v_withdrawal from public.wallet_withdrawals
   where id = p_withdrawal_id and user_id = p_user_id for update;
  if v_withdrawal.id is null then
    perform hazina.raise_error('withdrawal_not_found', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  if v_withdrawal.status = 'cancelled' then
    return hazina.withdrawal_json(p_withdrawal_id);
  end if;
  if v_withdrawal.status <> 'pending' or v_withdrawal.submitted_at is not null then
    perform hazina.raise_error('withdrawal_not_cancellable', jsonb_build_object(
      'withdrawal_id', p_withdrawal_id, 'status', v_withdrawal.status, 'submitted', v_withdrawal.submitted_at is not null));
  end if;
  perform hazina.hold_void(v_withdrawal.hold_id);
  update public.wallet_withdrawals
     set status = 'cancelled', failure_code = 'cancelled', failure_reason = 'cancelled by the owner', updated_at = now()
   where id = p_withdrawal_id;
  return hazina.withdrawal_json(p_withdrawal_id);
end
$$;

create function public.withdrawal_cancel(p_withdrawal_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  return hazina.withdrawal_cancel(p_withdrawal_id, hazina.caller_id());
end
$$;

-- The provider reversed a payout it had made (money came back to our account): undo the
-- posting (fee refunded) and the settlement.
create function hazina.withdrawal_reverse(p_withdrawal_id uuid, p_reason text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_withdrawal public.wallet_withdrawals;
  v_reversal uuid;
begin
  select * into v_withdrawal from public.wallet_withdrawals where id = p_withdrawal_id for update;
  if v_withdrawal.id is null then
    perform hazina.raise_error('withdrawal_not_found', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  if v_withdrawal.status = 'reversed' then
    return hazina.withdrawal_json(p_withdrawal_id);
  end if;
  if v_withdrawal.status <> 'completed' then
    perform hazina.raise_error('withdrawal_not_completed', jsonb_build_object('withdrawal_id', p_withdrawal_id, 'status', v_withdrawal.status));
  end if;
  perform hazina.post_transaction('withdrawal:' || v_withdrawal.id || ':settle:reversal', 'withdrawal_settlement', jsonb_build_array(
    jsonb_build_object('wallet_id', hazina.provider_clearing_wallet(v_withdrawal.provider, v_withdrawal.currency),
                       'direction', 'debit', 'amount', v_withdrawal.amount::text),
    jsonb_build_object('wallet_id', hazina.system_wallet('payouts_in_flight', v_withdrawal.currency), 'direction', 'credit',
                       'amount', v_withdrawal.amount::text)),
    'Payout reversed by ' || v_withdrawal.provider, jsonb_build_object('withdrawal_id', v_withdrawal.id));
  v_reversal := hazina.reverse_transaction(v_withdrawal.transaction_id, 'withdrawal:' || v_withdrawal.id || ':reversal',
                                           null, left(coalesce(p_reason, 'payout reversed by the provider'), 500));
  update public.wallet_withdrawals
     set status = 'reversed', reversal_transaction_id = v_reversal,
         failure_code = 'reversed', failure_reason = left(p_reason, 500), updated_at = now()
   where id = p_withdrawal_id;
  return hazina.withdrawal_json(p_withdrawal_id);
end
$$;

-- ---------------------------------------------------------------------------------------
-- Webhook events: store first, then apply exactly once.

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

-- ---------------------------------------------------------------------------------------
-- Sweep

-- Claim up to p_limit overdue pending sessions and withdrawals for the sweep (which asks
-- the provider about each). Claiming pushes the item's next check out (backing off), so
-- concurrent sweeps never work on the same item.
create function hazina.money_sweep_claim(p_limit integer default 100)
  returns table (kind text, id uuid, provider text, status text, reference text, amount text,
                 submitted boolean, check_count integer, created_at timestamptz)
  language plpgsql
  security definer
  set search_path = ''
  as $$
#variable_conflict use_column
begin
  return query
  with due as (
    select f.id from public.wallet_funding_sessions f
     where f.status = 'pending' and f.expires_at <= now()
     order by f.expires_at limit p_limit for update skip locked
  ), claimed as (
    update public.wallet_funding_sessions f
       set check_count = f.check_count + 1, last_checked_at = now(),
           expires_at = now() + interval '1 minute' * least(f.check_count + 1, 30), updated_at = now()
      from due where f.id = due.id
    returning f.*
  )
  select 'funding'::text, c.id, c.provider, c.status, c.provider_checkout_id, c.amount::text,
         c.provider_checkout_id is not null, c.check_count, c.created_at
    from claimed c;
  return query
  with due as (
    select w.id from public.wallet_withdrawals w
     where w.status in ('pending', 'processing') and w.expires_at <= now()
     order by w.expires_at limit p_limit for update skip locked
  ), claimed as (
    update public.wallet_withdrawals w
       set check_count = w.check_count + 1, last_checked_at = now(),
           expires_at = now() + interval '1 minute' * least(w.check_count + 1, 30), updated_at = now()
      from due where w.id = due.id
    returning w.*
  )
  select 'withdrawal'::text, c.id, c.provider, c.status, c.provider_request_id, c.amount::text,
         c.submitted_at is not null, c.check_count, c.created_at
    from claimed c;
end
$$;

-- The part of the sweep SQL can do alone (pg_cron): expire sessions the provider never
-- acknowledged (no checkout id: nobody can pay them) once overdue, and any session still
-- pending after p_abandon_after (M-Pesa prompts die within minutes; a late success that
-- still arrives is credited, see funding_complete). Re-applies unmatched/failed events.
create function hazina.money_sweep_sql(p_abandon_after interval default interval '1 day') returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_expired integer := 0;
  v_retried integer := 0;
  v_id uuid;
begin
  for v_id in
    select f.id from public.wallet_funding_sessions f
     where f.status = 'pending'
       and ((f.provider_checkout_id is null and f.expires_at <= now()) or f.created_at <= now() - p_abandon_after)
     order by f.id for update skip locked
  loop
    perform hazina.funding_expire(v_id, 'abandoned by the sweep');
    v_expired := v_expired + 1;
  end loop;
  for v_id in
    select e.id from public.wallet_webhook_events e
     where e.status in ('unmatched', 'failed') and e.attempts < 10 and e.received_at > now() - interval '7 days'
     order by e.received_at for update skip locked
  loop
    if (hazina.webhook_event_apply(v_id) ->> 'status') = 'processed' then
      v_retried := v_retried + 1;
    end if;
  end loop;
  return jsonb_build_object('funding_expired', v_expired, 'events_applied', v_retried);
end
$$;

-- ---------------------------------------------------------------------------------------
-- Row level security: owners read their own sources, sessions, withdrawals and paybill
-- references; webhook events are for the service role only. Nobody writes directly.

alter table public.wallet_sources enable row level security;
alter table public.wallet_account_references enable row level security;
alter table public.wallet_funding_sessions enable row level security;
alter table public.wallet_withdrawals enable row level security;
alter table public.wallet_webhook_events enable row level security;

revoke all on table public.wallet_sources, public.wallet_account_references, public.wallet_funding_sessions,
  public.wallet_withdrawals, public.wallet_webhook_events from public, anon, authenticated;
grant select on table public.wallet_sources, public.wallet_account_references, public.wallet_funding_sessions,
  public.wallet_withdrawals to authenticated;
grant select on table public.wallet_sources, public.wallet_account_references, public.wallet_funding_sessions,
  public.wallet_withdrawals, public.wallet_webhook_events to service_role;

create policy "owner reads own sources" on public.wallet_sources
  for select to authenticated using (user_id = auth.uid());
create policy "owner reads own paybill references" on public.wallet_account_references
  for select to authenticated
  using (exists (select 1 from public.wallets w where w.id = wallet_id and w.user_id = auth.uid()));
create policy "owner reads own funding sessions" on public.wallet_funding_sessions
  for select to authenticated using (user_id = auth.uid());
create policy "owner reads own withdrawals" on public.wallet_withdrawals
  for select to authenticated using (user_id = auth.uid());

revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function public.wallet_source_add(text, text, text, text, text, boolean),
  public.wallet_source_remove(uuid), public.wallet_paybill_reference(text),
  public.funding_start(uuid, numeric, text, text), public.withdrawal_request(uuid, numeric, text, text),
  public.withdrawal_cancel(uuid) from public, anon;
grant execute on function public.wallet_source_add(text, text, text, text, text, boolean),
  public.wallet_source_remove(uuid), public.wallet_paybill_reference(text),
  public.funding_start(uuid, numeric, text, text), public.withdrawal_request(uuid, numeric, text, text),
  public.withdrawal_cancel(uuid) to authenticated;
grant execute on function
  hazina.provider_clearing_wallet(text, text),
  hazina.wallet_source_json(uuid), hazina.funding_session_json(uuid), hazina.withdrawal_json(uuid),
  hazina.wallet_source_add(uuid, text, text, text, text, text, boolean),
  hazina.funding_start(uuid, uuid, numeric, text, text, interval),
  hazina.funding_mark_requested(uuid, text, text), hazina.funding_complete(uuid, numeric, text, text),
  hazina.funding_fail(uuid, text, text, text), hazina.funding_expire(uuid, text),
  hazina.paybill_validate(text, numeric), hazina.paybill_credit(text, text, numeric, text, text),
  hazina.withdrawal_request(uuid, uuid, numeric, text, text, interval),
  hazina.withdrawal_mark_submitted(uuid), hazina.withdrawal_mark_processing(uuid, text),
  hazina.withdrawal_complete(uuid, text, numeric), hazina.withdrawal_fail(uuid, text, text),
  hazina.withdrawal_cancel(uuid, uuid), hazina.withdrawal_reverse(uuid, text),
  hazina.webhook_event_apply(uuid), hazina.webhook_ingest(text, text, text, text, jsonb, boolean, jsonb),
  hazina.money_sweep_claim(integer), hazina.money_sweep_sql(interval)
  to service_role;

-- The half of the sweep that asks providers runs in the `webhooks` edge function, so it
-- needs HTTP. On Supabase, pg_cron calls it through pg_net every minute: POST
-- <functions url>/webhooks/sweep with X-Sweep-Secret, both read from Supabase Vault at each
-- run (secrets `hazina_functions_url`, e.g. https://<ref>.supabase.co/functions/v1, and
-- `hazina_sweep_secret`, equal to SWEEP_SECRET), never written into the job. Until both
-- secrets exist the job does nothing. Returns false, scheduling nothing, where pg_cron,
-- pg_net or Vault is missing (elsewhere: any scheduler, see docs/money-movement.md).
create function hazina.schedule_provider_sweep() returns boolean
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  if to_regproc('cron.schedule') is null or to_regproc('net.http_post') is null
     or to_regclass('vault.decrypted_secrets') is null then
    return false;
  end if;
  execute format('select cron.schedule(%L, %L, %L)', 'hazina-provider-sweep', '* * * * *', $job$
    select net.http_post(url := s.url || '/webhooks/sweep', body := '{}'::jsonb,
                         headers := jsonb_build_object('content-type', 'application/json', 'x-sweep-secret', s.secret))
      from (select (select decrypted_secret from vault.decrypted_secrets where name = 'hazina_functions_url') as url,
                   (select decrypted_secret from vault.decrypted_secrets where name = 'hazina_sweep_secret') as secret) s
     where s.url is not null and s.secret is not null
  $job$);
  return true;
end
$$;
revoke execute on function hazina.schedule_provider_sweep() from public, anon, authenticated;
grant execute on function hazina.schedule_provider_sweep() to service_role;

-- Where pg_cron exists (Supabase), run the SQL half of the sweep every minute, and the
-- provider half too where pg_net and Vault exist.
do $$
begin
  if exists (select 1 from pg_extension where extname = 'pg_cron') then
    perform cron.schedule('hazina-money-sweep', '* * * * *', 'select hazina.money_sweep_sql()');
    perform hazina.schedule_provider_sweep();
  end if;
end
$$;

-- migrate:down
do $$
begin
  if exists (select 1 from pg_extension where extname = 'pg_cron') then
    perform cron.unschedule('hazina-money-sweep');
    if exists (select 1 from cron.job where jobname = 'hazina-provider-sweep') then
      perform cron.unschedule('hazina-provider-sweep');
    end if;
  end if;
end
$$;
drop function if exists hazina.schedule_provider_sweep();
drop function if exists hazina.money_sweep_sql(interval);
drop function if exists hazina.money_sweep_claim(integer);
drop function if exists hazina.webhook_ingest(text, text, text, text, jsonb, boolean, jsonb);
drop function if exists hazina.webhook_event_apply(uuid);
drop function if exists hazina.webhook_dispatch(public.wallet_webhook_events);
drop function if exists hazina.funding_orphan_claim(text, text, text, numeric, timestamptz);
drop function if exists hazina.withdrawal_reverse(uuid, text);
drop function if exists public.withdrawal_cancel(uuid);
drop function if exists hazina.withdrawal_cancel(uuid, uuid);
drop function if exists hazina.withdrawal_fail(uuid, text, text);
drop function if exists hazina.withdrawal_complete(uuid, text, numeric);
drop function if exists hazina.withdrawal_mark_processing(uuid, text);
drop function if exists hazina.withdrawal_mark_submitted(uuid);
drop function if exists public.withdrawal_request(uuid, numeric, text, text);
drop function if exists hazina.withdrawal_request(uuid, uuid, numeric, text, text, interval);
drop function if exists hazina.paybill_credit(text, text, numeric, text, text);
drop function if exists hazina.paybill_validate(text, numeric);
drop function if exists hazina.funding_expire(uuid, text);
drop function if exists hazina.funding_fail(uuid, text, text, text);
drop function if exists hazina.funding_complete(uuid, numeric, text, text);
drop function if exists hazina.funding_mark_requested(uuid, text, text);
drop function if exists hazina.checkout_lock(text, text);
drop function if exists public.funding_start(uuid, numeric, text, text);
drop function if exists hazina.funding_start(uuid, uuid, numeric, text, text, interval);
drop function if exists public.wallet_paybill_reference(text);
drop function if exists public.wallet_source_remove(uuid);
drop function if exists public.wallet_source_add(text, text, text, text, text, boolean);
drop function if exists hazina.wallet_source_add(uuid, text, text, text, text, text, boolean);
drop function if exists hazina.funding_post(text, text, uuid, numeric, text, jsonb);
drop function if exists hazina.withdrawal_json(uuid);
drop function if exists hazina.funding_session_json(uuid);
drop function if exists hazina.wallet_source_json(uuid);
drop function if exists hazina.assert_provider_amount(text, text, numeric, text);
drop function if exists hazina.provider_clearing_wallet(text, text);
drop table if exists public.wallet_webhook_events;
drop table if exists public.wallet_withdrawals;
drop table if exists public.wallet_funding_sessions;
drop table if exists public.wallet_account_references;
drop table if exists public.wallet_sources;
