-- migrate:up
-- Payment intents: the one way a customer pays a merchant (docs/payments.md, COMMERCE model).
--   payment intent: requires_confirmation --confirm--> processing (an external part is on its way)
--                                         --confirm (wallet only)--> requires_capture (manual) | succeeded (automatic)
--                   requires_capture --capture--> succeeded
--                   requires_confirmation | processing | requires_capture --cancel / expiry--> canceled
--   succeeded --refund (partial or full, several)--> succeeded (amount_refunded grows, never above amount_received)
-- The customer's wallet part is a hold from their wallet to the payee wallet (type
-- payment_intent: the merchant bears the fee, out of what it receives, at capture). Capture
-- posts the hold (partly: the rest is released); cancel and expiry void it. A refund is a
-- partial reversal of the capture (principal back from the payee wallet; the fee is not
-- returned). Every transition locks the intent row first, so racing confirms, captures,
-- cancels and refunds end in exactly one outcome each.

insert into public.transaction_types (code, fee_payer, description) values
  ('payment_intent', 'receiver',
   'A customer pays a merchant through a payment intent (held, then captured): the merchant bears the fee, '
   'out of what it receives, as for merchant_payment.');

create table public.payment_intents (
  id                      uuid primary key default gen_random_uuid(),
  merchant_id             uuid not null references public.auth_users (id),
  payee_wallet_id         uuid not null references public.wallets (id),
  customer_id             uuid references public.auth_users (id),  -- null: anyone holding the client_secret may pay
  amount                  numeric(19, 4) not null check (amount > 0),
  currency                char(3) not null default 'KES' references public.currencies (code),
  status                  text not null default 'requires_confirmation'
                            check (status in ('requires_confirmation', 'processing', 'requires_capture', 'succeeded', 'canceled')),
  capture_method          text not null default 'automatic' check (capture_method in ('automatic', 'manual')),
  amount_capturable       numeric(19, 4) not null default 0 check (amount_capturable >= 0),
  amount_received         numeric(19, 4) not null default 0 check (amount_received >= 0),
  amount_refunded         numeric(19, 4) not null default 0 check (amount_refunded >= 0),
  description             text check (length(description) <= 500),
  metadata                jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object' and length(metadata::text) <= 16000),
  -- What created it (an invoice, order, installment or QR code), once those exist.
  subject_type            text check (subject_type in ('invoice', 'order', 'installment', 'qr_code')),
  subject_id              uuid,
  last_payment_error      jsonb,
  client_secret_hash      text not null,  -- sha256 hex of the client_secret, which is shown once
  client_ref              text not null check (length(client_ref) between 1 and 255),
  capture_transaction_id  uuid references public.wallet_transactions (id),
  expires_at              timestamptz not null,
  confirmed_at            timestamptz,
  succeeded_at            timestamptz,
  canceled_at             timestamptz,
  cancellation_reason     text check (length(cancellation_reason) <= 500),
  created_at              timestamptz not null default now(),
  updated_at              timestamptz not null default now(),
  unique (merchant_id, client_ref),
  constraint payment_intents_subject check ((subject_type is null) = (subject_id is null)),
  constraint payment_intents_amounts check (amount_capturable <= amount and amount_received <= amount
                                            and amount_refunded <= amount_received),
  constraint payment_intents_succeeded_captured check ((status = 'succeeded') = (capture_transaction_id is not null)),
  constraint payment_intents_canceled_at check ((status = 'canceled') = (canceled_at is not null))
);
create index payment_intents_merchant_idx on public.payment_intents (merchant_id, created_at, id);
create index payment_intents_customer_idx on public.payment_intents (customer_id, created_at, id) where customer_id is not null;
create index payment_intents_payee_wallet_idx on public.payment_intents (payee_wallet_id);
create index payment_intents_capture_idx on public.payment_intents (capture_transaction_id) where capture_transaction_id is not null;
create index payment_intents_due_idx on public.payment_intents (expires_at)
  where status in ('requires_confirmation', 'processing', 'requires_capture');

-- The funding plan: the parts a confirm named, in order. A wallet part is a hold on the
-- customer's wallet (M-Pesa parts arrive with their funding sessions later).
create table public.payment_intent_parts (
  id                 uuid primary key default gen_random_uuid(),
  payment_intent_id  uuid not null references public.payment_intents (id),
  position           smallint not null check (position between 1 and 10),
  type               text not null check (type in ('wallet')),
  wallet_id          uuid not null references public.wallets (id),
  amount             numeric(19, 4) not null check (amount > 0),
  hold_id            uuid not null unique references public.wallet_holds (id),
  created_at         timestamptz not null default now(),
  unique (payment_intent_id, position)
);
create index payment_intent_parts_wallet_idx on public.payment_intent_parts (wallet_id);

create table public.payment_refunds (
  id                 uuid primary key default gen_random_uuid(),
  payment_intent_id  uuid not null references public.payment_intents (id),
  merchant_id        uuid not null references public.auth_users (id),
  customer_id        uuid references public.auth_users (id),
  amount             numeric(19, 4) not null check (amount > 0),
  currency           char(3) not null references public.currencies (code),
  reason             text check (length(reason) <= 500),
  status             text not null default 'succeeded' check (status in ('succeeded')),
  transaction_id     uuid not null unique references public.wallet_transactions (id),  -- the reversal
  client_ref         text not null check (length(client_ref) between 1 and 255),
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now(),
  unique (merchant_id, client_ref)
);
create index payment_refunds_intent_idx on public.payment_refunds (payment_intent_id, created_at, id);
create index payment_refunds_merchant_idx on public.payment_refunds (merchant_id, created_at, id);
create index payment_refunds_customer_idx on public.payment_refunds (customer_id, created_at, id) where customer_id is not null;

-- The API shape of an intent. Its sources are its parts (read under the caller's RLS, which
-- shows them exactly when it shows the intent).
create function public.payment_intent_json(p public.payment_intents) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', p.id, 'object', 'payment_intent', 'merchant_id', p.merchant_id,
                            'payee_wallet_id', p.payee_wallet_id, 'customer_id', p.customer_id,
                            'amount', p.amount::text, 'currency', p.currency, 'status', p.status,
                            'capture_method', p.capture_method, 'amount_capturable', p.amount_capturable::text,
                            'amount_received', p.amount_received::text, 'amount_refunded', p.amount_refunded::text,
                            'description', p.description, 'metadata', p.metadata,
                            'subject_type', p.subject_type, 'subject_id', p.subject_id,
                            'sources', coalesce((
                              select jsonb_agg(jsonb_build_object('type', s.type, 'wallet_id', s.wallet_id,
                                                                  'amount', s.amount::text, 'hold_id', s.hold_id)
                                               order by s.position)
                                from public.payment_intent_parts s where s.payment_intent_id = p.id), '[]'::jsonb),
                            'last_payment_error', p.last_payment_error,
                            'capture_transaction_id', p.capture_transaction_id,
                            'expires_at', public.api_time(p.expires_at), 'confirmed_at', public.api_time(p.confirmed_at),
                            'succeeded_at', public.api_time(p.succeeded_at), 'canceled_at', public.api_time(p.canceled_at),
                            'cancellation_reason', p.cancellation_reason,
                            'created_at', public.api_time(p.created_at), 'updated_at', public.api_time(p.updated_at))
$$;

create function hazina.payment_intent_json(p_intent_id uuid) returns jsonb
  language sql stable
  set search_path = ''
  as $$ select public.payment_intent_json(p) from public.payment_intents p where p.id = p_intent_id $$;

create function public.payment_refund_json(r public.payment_refunds) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', r.id, 'object', 'payment_refund', 'payment_intent_id', r.payment_intent_id,
                            'amount', r.amount::text, 'currency', r.currency, 'reason', r.reason, 'status', r.status,
                            'transaction_id', r.transaction_id,
                            'created_at', public.api_time(r.created_at), 'updated_at', public.api_time(r.updated_at))
$$;

create function hazina.payment_refund_json(p_refund_id uuid) returns jsonb
  language sql stable
  set search_path = ''
  as $$ select public.payment_refund_json(r) from public.payment_refunds r where r.id = p_refund_id $$;

-- The intent, locked, as its merchant sees it; payment_intent_not_found for anyone else.
create function hazina.payment_intent_lock(p_intent_id uuid, p_merchant_id uuid) returns public.payment_intents
  language plpgsql
  set search_path = ''
  as $$
declare
  v_intent public.payment_intents;
begin
  select * into v_intent from public.payment_intents
   where id = p_intent_id and (p_merchant_id is null or merchant_id = p_merchant_id) for update;
  if v_intent.id is null then
    perform hazina.raise_error('payment_intent_not_found', jsonb_build_object('payment_intent_id', p_intent_id));
  end if;
  return v_intent;
end
$$;

-- A merchant creates an intent to be paid into its wallet of the currency. Idempotent by
-- (merchant, client_ref): the same request returns the same intent (created: false, and no
-- client_secret: that is shown once); a different one is ref_conflict.
create function hazina.payment_intent_create(
  p_merchant_id uuid, p_amount numeric, p_currency text, p_capture_method text, p_customer_id uuid,
  p_description text, p_metadata jsonb, p_expires_in_seconds integer, p_client_ref text
) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_existing public.payment_intents;
  v_wallet_id uuid;
  v_id uuid := gen_random_uuid();
  v_secret text;
  v_currency text := coalesce(p_currency, 'KES');
  v_capture text := coalesce(p_capture_method, 'automatic');
begin
  if p_client_ref is null or length(p_client_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref');
  end if;
  select * into v_existing from public.payment_intents where merchant_id = p_merchant_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.amount <> p_amount or v_existing.currency <> v_currency or v_existing.capture_method <> v_capture
       or v_existing.customer_id is distinct from p_customer_id then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_client_ref));
    end if;
    return hazina.payment_intent_json(v_existing.id) || jsonb_build_object('created', false);
  end if;
  if not exists (select 1 from public.currencies where code = v_currency) then
    perform hazina.raise_error('currency_not_supported', jsonb_build_object('currency', v_currency));
  end if;
  perform hazina.assert_valid_amount(p_amount, v_currency);
  if v_capture not in ('automatic', 'manual') then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'capture_method', 'reason', 'automatic or manual'));
  end if;
  if p_expires_in_seconds is not null and p_expires_in_seconds not between 60 and 7 * 86400 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'expires_in_seconds',
      'reason', 'between 60 seconds and 7 days'));
  end if;
  if p_metadata is not null and (jsonb_typeof(p_metadata) <> 'object' or length(p_metadata::text) > 16000) then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'metadata', 'reason', 'an object of at most 16000 characters'));
  end if;
  if length(p_description) > 500 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'description', 'reason', 'at most 500 characters'));
  end if;
  -- The payee is the merchant's own merchant wallet of the currency.
  select id into v_wallet_id from public.wallets
   where user_id = p_merchant_id and currency = v_currency and kind = 'merchant' and status = 'active';
  if v_wallet_id is null then
    perform hazina.raise_error('merchant_wallet_required', jsonb_build_object('currency', v_currency));
  end if;
  if p_customer_id is not null then
    if p_customer_id = p_merchant_id then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'customer_id', 'reason', 'a merchant cannot pay itself'));
    end if;
    if not exists (select 1 from public.auth_users where id = p_customer_id) then
      perform hazina.raise_error('customer_not_found', jsonb_build_object('customer_id', p_customer_id));
    end if;
  end if;
  v_secret := 'pi_' || replace(v_id::text, '-', '') || '_secret_' || encode(extensions.gen_random_bytes(24), 'hex');
  insert into public.payment_intents (id, merchant_id, payee_wallet_id, customer_id, amount, currency, capture_method,
                                      description, metadata, client_secret_hash, client_ref, expires_at)
  values (v_id, p_merchant_id, v_wallet_id, p_customer_id, p_amount, v_currency, v_capture, p_description,
          coalesce(p_metadata, '{}'), encode(sha256(convert_to(v_secret, 'UTF8')), 'hex'), p_client_ref,
          now() + make_interval(secs => coalesce(p_expires_in_seconds, 86400)))
  on conflict (merchant_id, client_ref) do nothing;
  if not found then
    raise exception using errcode = '40001', message = 'concurrent duplicate payment intent; retry';
  end if;
  return hazina.payment_intent_json(v_id) || jsonb_build_object('created', true, 'client_secret', v_secret);
end
$$;

create function public.payment_intent_create(
  p_amount numeric, p_currency text, p_capture_method text, p_customer_id uuid, p_description text, p_metadata jsonb,
  p_expires_in_seconds integer, p_client_ref text
) returns jsonb language sql security definer set search_path = ''
  as $$ select hazina.payment_intent_create(hazina.caller_id(), p_amount, p_currency, p_capture_method, p_customer_id,
                                             p_description, p_metadata, p_expires_in_seconds, p_client_ref) $$;

-- The payer confirms with a funding plan: parts that sum to the amount. The intent's customer
-- pays with their token; an intent for nobody in particular is paid by a signed-in user who
-- presents its client_secret (and becomes its customer). Each wallet part is a hold from the
-- payer's wallet to the payee wallet; automatic capture posts it at once, in this transaction.
create function hazina.payment_intent_confirm(p_intent_id uuid, p_customer_id uuid, p_sources jsonb,
                                              p_client_secret text default null) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_intent public.payment_intents;
  v_source jsonb;
  v_position integer := 0;
  v_total numeric := 0;
  v_amount numeric;
  v_wallet_id uuid;
  v_wallets uuid[] := '{}'::uuid[];
  v_hold_id uuid;
  v_expires timestamptz;
  v_tx uuid;
  v_detail text;
  v_error jsonb;
begin
  select * into v_intent from public.payment_intents where id = p_intent_id for update;
  -- Another customer's intent, or one for anybody without its secret, does not exist for the caller.
  if v_intent.id is null
     or (v_intent.customer_id is not null and v_intent.customer_id <> p_customer_id)
     or (v_intent.customer_id is null and (p_client_secret is null
         or encode(sha256(convert_to(p_client_secret, 'UTF8')), 'hex') <> v_intent.client_secret_hash)) then
    perform hazina.raise_error('payment_intent_not_found', jsonb_build_object('payment_intent_id', p_intent_id));
  end if;
  if v_intent.merchant_id = p_customer_id then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources', 'reason', 'a merchant cannot pay itself'));
  end if;
  if v_intent.status <> 'requires_confirmation' then
    perform hazina.raise_error('intent_not_confirmable', jsonb_build_object('payment_intent_id', p_intent_id, 'status', v_intent.status));
  end if;
  if v_intent.expires_at <= now() then
    perform hazina.raise_error('intent_expired', jsonb_build_object('payment_intent_id', p_intent_id));
  end if;
  if p_sources is null or jsonb_typeof(p_sources) <> 'array' or jsonb_array_length(p_sources) not between 1 and 10 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources', 'reason', '1 to 10 sources'));
  end if;
  -- Check the whole plan before any money is held.
  for v_source in select value from jsonb_array_elements(p_sources) loop
    if v_source ->> 'type' = 'mpesa' then
      perform hazina.raise_error('source_type_not_supported', jsonb_build_object('type', 'mpesa'));
    end if;
    if v_source ->> 'type' is distinct from 'wallet' then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources.type', 'reason', 'wallet'));
    end if;
    if jsonb_typeof(v_source -> 'amount') is distinct from 'string' or v_source ->> 'amount' !~ '^[0-9]{1,15}(\.[0-9]{1,4})?$' then
      perform hazina.raise_error('invalid_amount', jsonb_build_object('currency', v_intent.currency));
    end if;
    if v_source ->> 'wallet_id' !~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' then
      perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', v_source ->> 'wallet_id'));
    end if;
    v_amount := (v_source ->> 'amount')::numeric;
    perform hazina.assert_valid_amount(v_amount, v_intent.currency);
    v_wallet_id := (v_source ->> 'wallet_id')::uuid;
    if not exists (select 1 from public.wallets where id = v_wallet_id and user_id = p_customer_id) then
      perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', v_wallet_id));
    end if;
    if v_wallet_id = any (v_wallets) then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources', 'reason', 'one part per wallet'));
    end if;
    v_wallets := v_wallets || v_wallet_id;
    v_total := v_total + v_amount;
  end loop;
  if v_total <> v_intent.amount then
    perform hazina.raise_error('sources_amount_mismatch', jsonb_build_object(
      'amount', v_intent.amount::text, 'sources_total', v_total::numeric(19, 4)::text));
  end if;

  -- A manual-capture authorisation lasts 7 days from confirmation; the holds end with it.
  v_expires := case v_intent.capture_method when 'manual' then now() + interval '7 days' else v_intent.expires_at end;
  -- Money that cannot be held or posted (the payer's balance, a frozen wallet) is a failed
  -- attempt, not a refused request: its holds roll back to the savepoint, the intent keeps
  -- requires_confirmation with last_payment_error, and the reply says payment_error (the edge
  -- answers it as that error, after this commit).
  begin
    for v_source in select value from jsonb_array_elements(p_sources) loop
      v_position := v_position + 1;
      v_hold_id := hazina.hold_create('intent:' || v_intent.id || ':part:' || v_position, (v_source ->> 'wallet_id')::uuid,
        v_intent.payee_wallet_id, (v_source ->> 'amount')::numeric, v_expires, 'payment_intent',
        coalesce(v_intent.description, 'Payment'), jsonb_build_object('payment_intent_id', v_intent.id));
      insert into public.payment_intent_parts (payment_intent_id, position, type, wallet_id, amount, hold_id)
      values (v_intent.id, v_position, 'wallet', (v_source ->> 'wallet_id')::uuid, (v_source ->> 'amount')::numeric, v_hold_id);
    end loop;

    if v_intent.capture_method = 'automatic' then
      v_tx := hazina.payment_intent_post_parts(v_intent.id, v_intent.amount);
      update public.payment_intents
         set status = 'succeeded', customer_id = p_customer_id, amount_received = amount, amount_capturable = 0,
             capture_transaction_id = v_tx, confirmed_at = now(), succeeded_at = now(), last_payment_error = null,
             updated_at = now()
       where id = v_intent.id;
    else
      update public.payment_intents
         set status = 'requires_capture', customer_id = p_customer_id, amount_capturable = amount, expires_at = v_expires,
             confirmed_at = now(), last_payment_error = null, updated_at = now()
       where id = v_intent.id;
    end if;
  exception when sqlstate 'P0001' then
    if sqlerrm not in ('insufficient_funds', 'wallet_not_active', 'fee_exceeds_amount') then
      raise;
    end if;
    get stacked diagnostics v_detail = pg_exception_detail;
    v_error := jsonb_build_object('code', sqlerrm, 'details', coalesce(nullif(v_detail, '')::jsonb, '{}'::jsonb),
                                  'occurred_at', public.api_time(now()));
    update public.payment_intents set last_payment_error = v_error, updated_at = now() where id = v_intent.id;
    return hazina.payment_intent_json(v_intent.id) || jsonb_build_object('payment_error', v_error);
  end;
  return hazina.payment_intent_json(v_intent.id);
end
$$;

create function public.payment_intent_confirm(p_intent_id uuid, p_sources jsonb, p_client_secret text default null)
  returns jsonb language sql security definer set search_path = ''
  as $$ select hazina.payment_intent_confirm(p_intent_id, hazina.caller_id(), p_sources, p_client_secret) $$;

-- Post the intent's holds up to p_amount, in part order, and release the rest. Returns the
-- capture transaction (a wallet-funded intent has one wallet part, hence one posting).
create function hazina.payment_intent_post_parts(p_intent_id uuid, p_amount numeric) returns uuid
  language plpgsql
  set search_path = ''
  as $$
declare
  v_part public.payment_intent_parts;
  v_left numeric := p_amount;
  v_tx uuid;
  v_first uuid;
begin
  for v_part in select * from public.payment_intent_parts where payment_intent_id = p_intent_id order by position loop
    if v_left > 0 then
      v_tx := hazina.hold_post(v_part.hold_id, least(v_left, v_part.amount));
      v_first := coalesce(v_first, v_tx);
      v_left := v_left - least(v_left, v_part.amount);
    else
      perform hazina.payment_intent_release_hold(v_part.hold_id);
    end if;
  end loop;
  return v_first;
end
$$;

-- Void a part's hold unless the hold sweep already expired it (then it is already released).
create function hazina.payment_intent_release_hold(p_hold_id uuid) returns void
  language plpgsql
  set search_path = ''
  as $$
begin
  if exists (select 1 from public.wallet_holds where id = p_hold_id and status = 'pending') then
    perform hazina.hold_void(p_hold_id);
  end if;
end
$$;

-- The merchant captures an authorised intent: all of it, or p_amount (the rest is released).
-- Capturing a succeeded intent again with no amount or the same amount is a no-op.
create function hazina.payment_intent_capture(p_intent_id uuid, p_merchant_id uuid, p_amount numeric default null)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_intent public.payment_intents := hazina.payment_intent_lock(p_intent_id, p_merchant_id);
  v_amount numeric := coalesce(p_amount, v_intent.amount_capturable);
  v_tx uuid;
begin
  if v_intent.status = 'succeeded' and v_intent.capture_method = 'manual'
     and (p_amount is null or p_amount = v_intent.amount_received) then
    return hazina.payment_intent_json(p_intent_id);
  end if;
  if v_intent.status <> 'requires_capture' then
    perform hazina.raise_error('intent_not_capturable', jsonb_build_object('payment_intent_id', p_intent_id, 'status', v_intent.status));
  end if;
  if v_intent.expires_at <= now() then
    perform hazina.raise_error('intent_expired', jsonb_build_object('payment_intent_id', p_intent_id));
  end if;
  perform hazina.assert_valid_amount(v_amount, v_intent.currency);
  if v_amount > v_intent.amount_capturable then
    perform hazina.raise_error('capture_exceeds_authorized', jsonb_build_object('amount_capturable', v_intent.amount_capturable::text));
  end if;
  v_tx := hazina.payment_intent_post_parts(p_intent_id, v_amount);
  update public.payment_intents
     set status = 'succeeded', amount_received = v_amount, amount_capturable = 0, capture_transaction_id = v_tx,
         succeeded_at = now(), updated_at = now()
   where id = p_intent_id;
  return hazina.payment_intent_json(p_intent_id);
end
$$;

create function public.payment_intent_capture(p_intent_id uuid, p_amount numeric default null) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.payment_intent_capture(p_intent_id, hazina.caller_id(), p_amount) $$;

-- Cancel an intent not yet paid: release its holds. p_merchant_id null is the platform (the
-- expiry job). Cancelling a canceled intent is a no-op.
create function hazina.payment_intent_cancel(p_intent_id uuid, p_merchant_id uuid, p_reason text default null) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_intent public.payment_intents := hazina.payment_intent_lock(p_intent_id, p_merchant_id);
  v_part public.payment_intent_parts;
begin
  if v_intent.status = 'canceled' then
    return hazina.payment_intent_json(p_intent_id);
  end if;
  if v_intent.status not in ('requires_confirmation', 'processing', 'requires_capture') then
    perform hazina.raise_error('intent_not_cancelable', jsonb_build_object('payment_intent_id', p_intent_id, 'status', v_intent.status));
  end if;
  for v_part in select * from public.payment_intent_parts where payment_intent_id = p_intent_id order by position loop
    perform hazina.payment_intent_release_hold(v_part.hold_id);
  end loop;
  update public.payment_intents
     set status = 'canceled', amount_capturable = 0, canceled_at = now(),
         cancellation_reason = left(coalesce(p_reason, 'requested_by_merchant'), 500), updated_at = now()
   where id = p_intent_id;
  return hazina.payment_intent_json(p_intent_id);
end
$$;

create function public.payment_intent_cancel(p_intent_id uuid, p_reason text default null) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.payment_intent_cancel(p_intent_id, hazina.caller_id(), p_reason) $$;

-- The merchant refunds a succeeded intent, all that remains or p_amount, as a partial
-- reversal of its capture (principal from the payee wallet back to the customer; the fee
-- stays charged). Idempotent by (merchant, client_ref).
create function hazina.payment_refund_create(p_merchant_id uuid, p_intent_id uuid, p_amount numeric, p_reason text,
                                             p_client_ref text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_existing public.payment_refunds;
  v_intent public.payment_intents;
  v_remaining numeric;
  v_amount numeric;
  v_id uuid := gen_random_uuid();
  v_tx uuid;
begin
  if p_client_ref is null or length(p_client_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref');
  end if;
  v_intent := hazina.payment_intent_lock(p_intent_id, p_merchant_id);
  -- Under the intent's lock: a concurrent duplicate has committed by now, or not at all.
  select * into v_existing from public.payment_refunds where merchant_id = p_merchant_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.payment_intent_id <> p_intent_id or (p_amount is not null and v_existing.amount <> p_amount) then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_client_ref));
    end if;
    return hazina.payment_refund_json(v_existing.id) || jsonb_build_object('created', false);
  end if;
  if v_intent.status <> 'succeeded' then
    perform hazina.raise_error('intent_not_refundable', jsonb_build_object('payment_intent_id', p_intent_id, 'status', v_intent.status));
  end if;
  v_remaining := v_intent.amount_received - v_intent.amount_refunded;
  v_amount := coalesce(p_amount, v_remaining);
  if v_amount <= 0 and p_amount is null then
    perform hazina.raise_error('refund_exceeds_captured', jsonb_build_object('refundable', v_remaining::numeric(19, 4)::text));
  end if;
  perform hazina.assert_valid_amount(v_amount, v_intent.currency);
  if v_amount > v_remaining then
    perform hazina.raise_error('refund_exceeds_captured', jsonb_build_object('refundable', v_remaining::numeric(19, 4)::text));
  end if;
  v_tx := hazina.reverse_transaction(v_intent.capture_transaction_id, 'payment_refund:' || v_id, v_amount,
                                     left(coalesce(p_reason, 'Refund'), 500));
  insert into public.payment_refunds (id, payment_intent_id, merchant_id, customer_id, amount, currency, reason,
                                      transaction_id, client_ref)
  values (v_id, p_intent_id, p_merchant_id, v_intent.customer_id, v_amount, v_intent.currency, left(p_reason, 500), v_tx,
          p_client_ref);
  update public.payment_intents set amount_refunded = amount_refunded + v_amount, updated_at = now() where id = p_intent_id;
  return hazina.payment_refund_json(v_id) || jsonb_build_object('created', true);
end
$$;

create function public.payment_refund_create(p_intent_id uuid, p_amount numeric, p_reason text, p_client_ref text)
  returns jsonb language sql security definer set search_path = ''
  as $$ select hazina.payment_refund_create(hazina.caller_id(), p_intent_id, p_amount, p_reason, p_client_ref) $$;

-- Expiry (a job): cancel unpaid intents past expires_at and release their holds. Skip locked,
-- so concurrent passes and racing confirms/captures each see the row once.
create function hazina.expire_payment_intents(p_limit integer default 500) returns integer
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_id uuid;
  v_count integer := 0;
begin
  for v_id in
    select id from public.payment_intents
     where status in ('requires_confirmation', 'processing', 'requires_capture') and expires_at <= now()
     order by expires_at limit p_limit
       for update skip locked
  loop
    perform hazina.payment_intent_cancel(v_id, null, 'expired');
    v_count := v_count + 1;
  end loop;
  return v_count;
end
$$;

create function hazina.job_expire_payment_intents(p_limit integer) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_done integer := hazina.expire_payment_intents(p_limit);
begin
  return jsonb_build_object('processed', v_done,
    'remaining', (select count(*) from public.payment_intents
                   where status in ('requires_confirmation', 'processing', 'requires_capture') and expires_at <= now()));
end
$$;

insert into hazina.jobs (name, runs_in, function, every, batch_size, exclusive, description) values
  ('payments.expire_intents', 'database', 'hazina.job_expire_payment_intents', interval '1 minute', 500, false,
   'Cancel payment intents past their expiry and release their holds.');

-- Row level security: the merchant reads its intents and refunds, the customer those it
-- pays; nobody else, anon nothing. Nobody writes directly.
alter table public.payment_intents enable row level security;
alter table public.payment_intent_parts enable row level security;
alter table public.payment_refunds enable row level security;
revoke all on table public.payment_intents, public.payment_intent_parts, public.payment_refunds
  from public, anon, authenticated;
grant select on table public.payment_intents, public.payment_intent_parts, public.payment_refunds
  to authenticated, service_role;
create policy "merchant or customer reads own payment intents" on public.payment_intents
  for select to authenticated using (merchant_id = auth.uid() or customer_id = auth.uid());
create policy "merchant or customer reads parts of own payment intents" on public.payment_intent_parts
  for select to authenticated using (exists (
    select 1 from public.payment_intents p
     where p.id = payment_intent_id and (p.merchant_id = auth.uid() or p.customer_id = auth.uid())));
create policy "merchant or customer reads own payment refunds" on public.payment_refunds
  for select to authenticated using (merchant_id = auth.uid() or customer_id = auth.uid());

revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function
  public.payment_intent_create(numeric, text, text, uuid, text, jsonb, integer, text),
  public.payment_intent_confirm(uuid, jsonb, text),
  public.payment_intent_capture(uuid, numeric), public.payment_intent_cancel(uuid, text),
  public.payment_refund_create(uuid, numeric, text, text),
  public.payment_intent_json(public.payment_intents), public.payment_refund_json(public.payment_refunds)
  from public, anon;
grant execute on function
  public.payment_intent_create(numeric, text, text, uuid, text, jsonb, integer, text),
  public.payment_intent_confirm(uuid, jsonb, text),
  public.payment_intent_capture(uuid, numeric), public.payment_intent_cancel(uuid, text),
  public.payment_refund_create(uuid, numeric, text, text)
  to authenticated;
grant execute on function public.payment_intent_json(public.payment_intents), public.payment_refund_json(public.payment_refunds)
  to authenticated, service_role;
grant execute on function hazina.payment_intent_json(uuid), hazina.payment_refund_json(uuid),
  hazina.payment_intent_create(uuid, numeric, text, text, uuid, text, jsonb, integer, text),
  hazina.payment_intent_confirm(uuid, uuid, jsonb, text), hazina.payment_intent_capture(uuid, uuid, numeric),
  hazina.payment_intent_cancel(uuid, uuid, text), hazina.payment_refund_create(uuid, uuid, numeric, text, text),
  hazina.expire_payment_intents(integer), hazina.job_expire_payment_intents(integer) to service_role;

-- migrate:down
delete from hazina.jobs where name = 'payments.expire_intents';
drop function if exists hazina.job_expire_payment_intents(integer);
drop function if exists hazina.expire_payment_intents(integer);
drop function if exists public.payment_refund_create(uuid, numeric, text, text);
drop function if exists hazina.payment_refund_create(uuid, uuid, numeric, text, text);
drop function if exists public.payment_intent_cancel(uuid, text);
drop function if exists hazina.payment_intent_cancel(uuid, uuid, text);
drop function if exists public.payment_intent_capture(uuid, numeric);
drop function if exists hazina.payment_intent_capture(uuid, uuid, numeric);
drop function if exists hazina.payment_intent_release_hold(uuid);
drop function if exists hazina.payment_intent_post_parts(uuid, numeric);
drop function if exists public.payment_intent_confirm(uuid, jsonb, text);
drop function if exists hazina.payment_intent_confirm(uuid, uuid, jsonb, text);
drop function if exists public.payment_intent_create(numeric, text, text, uuid, text, jsonb, integer, text);
drop function if exists hazina.payment_intent_create(uuid, numeric, text, text, uuid, text, jsonb, integer, text);
drop function if exists hazina.payment_intent_lock(uuid, uuid);
drop function if exists hazina.payment_refund_json(uuid);
drop function if exists public.payment_refund_json(public.payment_refunds);
drop function if exists hazina.payment_intent_json(uuid);
drop function if exists public.payment_intent_json(public.payment_intents);
drop table if exists public.payment_refunds;
drop table if exists public.payment_intent_parts;
drop table if exists public.payment_intents;
delete from public.transaction_types where code = 'payment_intent';
