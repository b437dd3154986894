-- migrate:up
-- QR payment links (docs/checkout.md, COMMERCE model). A merchant's code opens the hosted
-- checkout page (functions/checkout); a payment through a code is a payment intent opened
-- for it (subject_type 'qr_code', subject_id the code), so money moves only through intents.
--   qr code: active --merchant disables--> disabled --merchant re-enables--> active
--            active --expires_at passes (hazina.clock(); the job marks it)--> expired
--            active --use_count reaches max_uses--> exhausted
-- Kinds: static (the payer types the amount), fixed (a set amount), and invoice | order |
-- intent (bound to one object, subject_id; the invoice and order capabilities create theirs
-- with hazina.qr_code_create when those land: their foreign keys come with them).
--
-- Uses. A code counts one use per SUCCESSFUL payment, exactly once (the after-update trigger
-- below, when an intent of the code becomes succeeded). A use is RESERVED when the payer's
-- confirm moves the intent out of requires_confirmation (the before-update trigger locks the
-- code row and counts use_count plus the code's other intents that are processing or
-- requires_capture): so under max_uses the code refuses the confirm before any money is held
-- or any STK push is sent, and concurrent payers queue on the code row. The reservation is
-- released by itself when its intent fails back to requires_confirmation or is canceled
-- (expiry included): it is a count of live intents, never a counter to give back.

create table public.qr_codes (
  id           uuid primary key default gen_random_uuid(),
  merchant_id  uuid not null references public.auth_users (id),
  kind         text not null check (kind in ('static', 'fixed', 'invoice', 'order', 'intent')),
  -- 26 characters of base32 (RFC 4648 alphabet, lower case): 130 random bits.
  slug         text not null unique check (slug ~ '^[a-z2-7]{26}$'),
  label        text check (length(label) between 1 and 100),
  amount       numeric(19, 4) check (amount > 0),
  currency     char(3) not null default 'KES' references public.currencies (code),
  -- The bound invoice, order or intent (kinds invoice, order, intent). No foreign key yet: the
  -- invoices and orders tables arrive with their capabilities, which add theirs.
  subject_id   uuid,
  expires_at   timestamptz,
  max_uses     integer check (max_uses between 1 and 1000000),
  use_count    integer not null default 0 check (use_count >= 0),
  status       text not null default 'active' check (status in ('active', 'disabled', 'expired', 'exhausted')),
  client_ref   text not null check (length(client_ref) between 1 and 255),
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  unique (merchant_id, client_ref),
  constraint qr_codes_amount check ((kind = 'static') = (amount is null)),
  constraint qr_codes_subject check ((kind in ('invoice', 'order', 'intent')) = (subject_id is not null))
);
create index qr_codes_merchant_idx on public.qr_codes (merchant_id, created_at, id);
create index qr_codes_due_idx on public.qr_codes (expires_at) where status = 'active' and expires_at is not null;
create index payment_intents_qr_code_idx on public.payment_intents (subject_id) where subject_type = 'qr_code';

-- The API shape of a code (the merchant's view).
create function public.qr_code_json(q public.qr_codes) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', q.id, 'object', 'qr_code', 'merchant_id', q.merchant_id, 'kind', q.kind,
                            'slug', q.slug, 'label', q.label, 'amount', q.amount::text, 'currency', q.currency,
                            'subject_id', q.subject_id, 'expires_at', public.api_time(q.expires_at),
                            'max_uses', q.max_uses, 'use_count', q.use_count, 'status', q.status,
                            'created_at', public.api_time(q.created_at), 'updated_at', public.api_time(q.updated_at))
$$;

create function hazina.qr_code_json(p_id uuid) returns jsonb
  language sql stable
  set search_path = ''
  as $$ select public.qr_code_json(q) from public.qr_codes q where q.id = p_id $$;

-- 26 base32 characters from 26 random bytes (each byte's low 5 bits: uniform, 256 = 8 x 32).
create function hazina.qr_code_slug() returns text
  language sql volatile
  set search_path = ''
  as $$
  select string_agg(substr('abcdefghijklmnopqrstuvwxyz234567', (get_byte(b, i) & 31) + 1, 1), '' order by i)
    from (select extensions.gen_random_bytes(26) as b) r, generate_series(0, 25) i
$$;

-- The status a code has now: an active code past its expiry is expired even before the job
-- marks it, so no payment slips through between the two.
create function hazina.qr_code_effective_status(q public.qr_codes) returns text
  language sql stable
  set search_path = ''
  as $$
  select case when q.status = 'active' and q.expires_at is not null and q.expires_at <= hazina.clock() then 'expired'
              else q.status end
$$;

-- Refuse a payment through a code that is not active now, with the code that says why.
create function hazina.qr_code_assert_payable(q public.qr_codes) returns void
  language plpgsql stable
  set search_path = ''
  as $$
declare
  v_status text := hazina.qr_code_effective_status(q);
begin
  if v_status = 'expired' then
    perform hazina.raise_error('qr_code_expired', jsonb_build_object('slug', q.slug, 'status', v_status));
  elsif v_status = 'exhausted' then
    perform hazina.raise_error('qr_code_exhausted', jsonb_build_object('slug', q.slug, 'status', v_status));
  elsif v_status = 'disabled' then
    perform hazina.raise_error('qr_code_disabled', jsonb_build_object('slug', q.slug, 'status', v_status));
  end if;
end
$$;

-- The merchant's code, locked; qr_code_not_found for anyone else.
create function hazina.qr_code_lock(p_id uuid, p_merchant_id uuid) returns public.qr_codes
  language plpgsql
  set search_path = ''
  as $$
declare
  v_code public.qr_codes;
begin
  select * into v_code from public.qr_codes where id = p_id and merchant_id = p_merchant_id for update;
  if v_code.id is null then
    perform hazina.raise_error('qr_code_not_found', jsonb_build_object('qr_code_id', p_id));
  end if;
  return v_code;
end
$$;

-- A merchant creates a code. Idempotent by (merchant, client_ref): the same request returns
-- the same code (created: false); a different one is ref_conflict. Kinds invoice and order
-- are for their capabilities' own functions (they pass the subject); the API creates static,
-- fixed and intent codes.
create function hazina.qr_code_create(p_merchant_id uuid, p_kind text, p_label text, p_amount numeric, p_currency text,
                                      p_subject_id uuid, p_expires_at timestamptz, p_max_uses integer, p_client_ref text)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_existing public.qr_codes;
  v_currency text := coalesce(p_currency, 'KES');
  v_amount numeric := p_amount;
  v_intent public.payment_intents;
  v_id uuid := gen_random_uuid();
begin
  if p_client_ref is null or length(p_client_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref');
  end if;
  select * into v_existing from public.qr_codes where merchant_id = p_merchant_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.kind <> p_kind or (v_existing.amount is distinct from p_amount and p_kind <> 'intent')
       or v_existing.currency <> v_currency or v_existing.subject_id is distinct from p_subject_id
       or v_existing.label is distinct from p_label or v_existing.max_uses is distinct from p_max_uses
       or v_existing.expires_at is distinct from p_expires_at then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_client_ref));
    end if;
    return hazina.qr_code_json(v_existing.id) || jsonb_build_object('created', false);
  end if;
  if not exists (select 1 from public.auth_users where id = p_merchant_id and role = 'merchant') then
    perform hazina.raise_error('qr_codes_merchants_only');
  end if;
  if p_kind is null or p_kind not in ('static', 'fixed', 'invoice', 'order', 'intent') then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'kind', 'reason', 'static, fixed, invoice, order or intent'));
  end if;
  if p_label is not null and length(p_label) not between 1 and 100 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'label', 'reason', '1 to 100 characters'));
  end if;
  if p_max_uses is not null and p_max_uses not between 1 and 1000000 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'max_uses', 'reason', '1 to 1000000'));
  end if;
  if p_expires_at is not null and p_expires_at <= hazina.clock() then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'expires_at', 'reason', 'in the future'));
  end if;
  if (p_kind in ('invoice', 'order', 'intent')) <> (p_subject_id is not null) then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'subject_id',
      'reason', 'required for invoice, order and intent codes, and only for them'));
  end if;
  if p_kind = 'intent' then
    -- Bound to one of the merchant's own intents, still to be paid: its amount is the code's.
    select * into v_intent from public.payment_intents where id = p_subject_id and merchant_id = p_merchant_id;
    if v_intent.id is null then
      perform hazina.raise_error('payment_intent_not_found', jsonb_build_object('payment_intent_id', p_subject_id));
    end if;
    if v_intent.status <> 'requires_confirmation' then
      perform hazina.raise_error('intent_not_confirmable', jsonb_build_object('payment_intent_id', p_subject_id, 'status', v_intent.status));
    end if;
    v_amount := v_intent.amount;
    v_currency := v_intent.currency;
  elsif p_kind = 'static' then
    if p_amount is not null then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'amount', 'reason', 'a static code has no amount: the payer types it'));
    end if;
  elsif p_amount is null then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'amount', 'reason', 'required for a ' || p_kind || ' code'));
  end if;
  if not exists (select 1 from public.currencies where code = v_currency) then
    perform hazina.raise_error('currency_not_supported', jsonb_build_object('currency', v_currency));
  end if;
  if v_amount is not null then
    perform hazina.assert_valid_amount(v_amount, v_currency);
  end if;
  -- The money of a payment through it needs a home from the start.
  if not exists (select 1 from public.wallets where user_id = p_merchant_id and currency = v_currency
                                                  and kind = 'merchant' and status = 'active') then
    perform hazina.raise_error('merchant_wallet_required', jsonb_build_object('currency', v_currency));
  end if;
  insert into public.qr_codes (id, merchant_id, kind, slug, label, amount, currency, subject_id, expires_at, max_uses, client_ref)
  values (v_id, p_merchant_id, p_kind, hazina.qr_code_slug(), p_label, v_amount, v_currency, p_subject_id, p_expires_at,
          p_max_uses, p_client_ref)
  on conflict (merchant_id, client_ref) do nothing;
  if not found then
    raise exception using errcode = '40001', message = 'concurrent duplicate qr code; retry';
  end if;
  perform hazina.event_emit(p_merchant_id, 'qr_code.created', 'qr_code', v_id, hazina.qr_code_json(v_id));
  return hazina.qr_code_json(v_id) || jsonb_build_object('created', true);
end
$$;

create function public.qr_code_create(p_kind text, p_label text, p_amount numeric, p_currency text, p_subject_id uuid,
                                      p_expires_at timestamptz, p_max_uses integer, p_client_ref text) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.qr_code_create(hazina.caller_id(), p_kind, p_label, p_amount, p_currency, p_subject_id,
                                      p_expires_at, p_max_uses, p_client_ref) $$;

-- The merchant changes a code: its label, expiry, use limit, and active | disabled. A field
-- left null stays; p_clear_expiry / p_clear_max_uses remove a limit. After the change the
-- status follows the limits: a code at its limit is exhausted, one past its expiry expired;
-- a disabled code stays disabled until re-enabled.
create function hazina.qr_code_update(p_merchant_id uuid, p_id uuid, p_label text, p_expires_at timestamptz,
                                      p_clear_expiry boolean, p_max_uses integer, p_clear_max_uses boolean, p_status text)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_code public.qr_codes := hazina.qr_code_lock(p_id, p_merchant_id);
  v_status text;
begin
  if p_status is not null and p_status not in ('active', 'disabled') then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'status', 'reason', 'active or disabled'));
  end if;
  if p_label is not null and length(p_label) not between 1 and 100 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'label', 'reason', '1 to 100 characters'));
  end if;
  if p_max_uses is not null and p_max_uses not between 1 and 1000000 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'max_uses', 'reason', '1 to 1000000'));
  end if;
  if p_expires_at is not null and p_expires_at <= hazina.clock() then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'expires_at', 'reason', 'in the future'));
  end if;
  v_code.label := coalesce(p_label, v_code.label);
  v_code.expires_at := case when p_clear_expiry then null else coalesce(p_expires_at, v_code.expires_at) end;
  v_code.max_uses := case when p_clear_max_uses then null else coalesce(p_max_uses, v_code.max_uses) end;
  v_status := coalesce(p_status, case when v_code.status = 'disabled' then 'disabled' else 'active' end);
  if v_status = 'active' then
    v_status := case when v_code.max_uses is not null and v_code.use_count >= v_code.max_uses then 'exhausted'
                     when v_code.expires_at is not null and v_code.expires_at <= hazina.clock() then 'expired'
                     else 'active' end;
  end if;
  update public.qr_codes
     set label = v_code.label, expires_at = v_code.expires_at, max_uses = v_code.max_uses, status = v_status,
         updated_at = now()
   where id = p_id;
  perform hazina.event_emit(p_merchant_id,
    case when v_status <> v_code.status then 'qr_code.' || v_status else 'qr_code.updated' end,
    'qr_code', p_id, hazina.qr_code_json(p_id));
  return hazina.qr_code_json(p_id);
end
$$;

create function public.qr_code_update(p_id uuid, p_label text, p_expires_at timestamptz, p_clear_expiry boolean,
                                      p_max_uses integer, p_clear_max_uses boolean, p_status text) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.qr_code_update(hazina.caller_id(), p_id, p_label, p_expires_at, p_clear_expiry, p_max_uses,
                                      p_clear_max_uses, p_status) $$;

-- Disable a code (DELETE): new payments are refused; payments already under way finish.
-- Disabling a disabled, expired or exhausted code changes nothing.
create function hazina.qr_code_disable(p_merchant_id uuid, p_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_code public.qr_codes := hazina.qr_code_lock(p_id, p_merchant_id);
begin
  if v_code.status = 'active' then
    update public.qr_codes set status = 'disabled', updated_at = now() where id = p_id;
    perform hazina.event_emit(p_merchant_id, 'qr_code.disabled', 'qr_code', p_id, hazina.qr_code_json(p_id));
  end if;
  return hazina.qr_code_json(p_id);
end
$$;

create function public.qr_code_disable(p_id uuid) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.qr_code_disable(hazina.caller_id(), p_id) $$;

-- What anyone holding a slug may know: what the checkout page shows. An active code gives the
-- merchant's display name, the label, the amount (null: the payer types it) and currency;
-- another code only its status (and the merchant's name, so the page can say whose code it
-- was); an unknown slug nothing (null). Never the merchant's id, the subject or the counts.
create function public.qr_code_resolve(p_slug text) returns jsonb
  language plpgsql stable
  security definer
  set search_path = ''
  as $$
declare
  v_code public.qr_codes;
  v_status text;
  v_name text;
begin
  if p_slug is null or p_slug !~ '^[a-z2-7]{26}$' then
    return null;
  end if;
  select * into v_code from public.qr_codes where slug = p_slug;
  if v_code.id is null then
    return null;
  end if;
  v_status := hazina.qr_code_effective_status(v_code);
  select coalesce((select a.business_name from public.merchant_applications a
                    where a.user_id = v_code.merchant_id and a.status = 'approved' order by a.created_at desc limit 1),
                  nullif(btrim(u.name), ''), 'Merchant')
    into v_name from public.auth_users u where u.id = v_code.merchant_id;
  if v_status <> 'active' then
    return jsonb_build_object('object', 'qr_checkout', 'slug', v_code.slug, 'status', v_status, 'merchant_name', v_name);
  end if;
  return jsonb_build_object('object', 'qr_checkout', 'slug', v_code.slug, 'status', v_status, 'merchant_name', v_name,
                            'kind', v_code.kind, 'label', v_code.label,
                            -- In the currency's own decimals (KES 150.00), for the page to show as is.
                            'amount', (select round(v_code.amount, c.minor_units)::text from public.currencies c
                                        where c.code = v_code.currency),
                            'currency', v_code.currency,
                            'minor_units', (select c.minor_units from public.currencies c where c.code = v_code.currency));
end
$$;

-- Open a payment intent for a code (the one way a payment through a code starts): the
-- code's amount, or the payer's for a static code; the payer is p_customer_id (signed in)
-- or nobody (a guest, who pays with the intent's client_secret). Idempotent by the payer's
-- attempt ref: the same attempt returns the same intent. Intents through a code expire after
-- 15 minutes (a checkout is a sitting, and an abandoned one frees its reservation).
create function hazina.qr_code_open_intent(p_slug text, p_customer_id uuid, p_amount numeric, p_attempt_ref text)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_code public.qr_codes;
  v_amount numeric;
begin
  if p_attempt_ref is null or length(p_attempt_ref) not between 8 and 200 then
    perform hazina.raise_error('invalid_ref');
  end if;
  select * into v_code from public.qr_codes where slug = p_slug;
  if v_code.id is null then
    perform hazina.raise_error('qr_code_not_found', jsonb_build_object('slug', p_slug));
  end if;
  if v_code.kind not in ('static', 'fixed') then
    -- Bound codes are paid through their object (invoice, order, intent): not yet here.
    perform hazina.raise_error('qr_code_kind_not_payable', jsonb_build_object('kind', v_code.kind));
  end if;
  if v_code.kind = 'static' then
    if p_amount is null then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'amount', 'reason', 'the amount to pay'));
    end if;
    v_amount := p_amount;
  else
    if p_amount is not null and p_amount <> v_code.amount then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'amount', 'reason', 'this code has a set amount'));
    end if;
    v_amount := v_code.amount;
  end if;
  -- A new attempt needs an active code; an attempt made before is answered as it is.
  if not exists (select 1 from public.payment_intents
                  where merchant_id = v_code.merchant_id and client_ref = 'qr:' || v_code.id || ':' || p_attempt_ref) then
    perform hazina.qr_code_assert_payable(v_code);
  end if;
  return hazina.payment_intent_open(v_code.merchant_id, v_amount, v_code.currency, 'automatic', p_customer_id,
    coalesce(v_code.label, 'QR payment'), jsonb_build_object('qr_code_slug', v_code.slug), 900,
    'qr:' || v_code.id || ':' || p_attempt_ref, 'qr_code', v_code.id, null, null);
end
$$;

-- The signed-in payer's wallet payment through a code, in one transaction: open the intent
-- for this attempt and confirm it from the wallet (automatic capture). Paying the same
-- attempt again returns the intent as it is (a double tap pays once). The answer is the
-- intent, with payment_error when the money could not be held (the intent stays payable).
create function hazina.qr_code_pay_wallet(p_slug text, p_customer_id uuid, p_wallet_id uuid, p_amount numeric,
                                          p_attempt_ref text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_opened jsonb;
  v_intent_id uuid;
  v_status text;
begin
  if p_customer_id is null then
    perform hazina.raise_error('unauthenticated');
  end if;
  v_opened := hazina.qr_code_open_intent(p_slug, p_customer_id, p_amount, p_attempt_ref);
  v_intent_id := (v_opened ->> 'id')::uuid;
  v_status := v_opened ->> 'status';
  if v_status <> 'requires_confirmation' then
    return hazina.payment_intent_json(v_intent_id);
  end if;
  return hazina.payment_intent_confirm(v_intent_id, p_customer_id,
    jsonb_build_array(jsonb_build_object('type', 'wallet', 'wallet_id', p_wallet_id, 'amount', (v_opened ->> 'amount'))));
end
$$;

create function public.qr_code_pay_wallet(p_slug text, p_wallet_id uuid, p_amount numeric, p_attempt_ref text)
  returns jsonb language sql security definer set search_path = ''
  as $$ select hazina.qr_code_pay_wallet(p_slug, hazina.caller_id(), p_wallet_id, p_amount, p_attempt_ref) $$;

-- A guest's intent for a code (no account: the M-Pesa path). The reply that creates it carries
-- the client_secret, with which the guest confirms it (POST /payments/intents/:id/confirm, an
-- M-Pesa part) and reads its progress (GET /payments/intents/:id?client_secret=). Anyone may
-- call it (the checkout page is public): it opens an intent and moves no money.
create function public.qr_code_open_guest_intent(p_slug text, p_amount numeric, p_attempt_ref text)
  returns jsonb language sql security definer set search_path = ''
  as $$ select hazina.qr_code_open_intent(p_slug, null, p_amount, p_attempt_ref) $$;

-- Reserve a use when a payer's confirm takes an intent of a code out of requires_confirmation
-- (to processing, requires_capture or succeeded): lock the code (payers of one code queue
-- here), refuse an inactive code, and refuse when its uses and live reservations (its other
-- intents processing or requires_capture) reach max_uses. The refusal rolls the whole confirm
-- back: no hold, no STK push.
create function hazina.qr_code_reserve_use() returns trigger
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_code public.qr_codes;
  v_reserved integer;
begin
  select * into v_code from public.qr_codes where id = new.subject_id for update;
  if v_code.id is null then
    return new;
  end if;
  perform hazina.qr_code_assert_payable(v_code);
  if v_code.max_uses is not null then
    select count(*) into v_reserved from public.payment_intents
     where subject_type = 'qr_code' and subject_id = v_code.id and id <> new.id
       and status in ('processing', 'requires_capture');
    if v_code.use_count + v_reserved >= v_code.max_uses then
      perform hazina.raise_error('qr_code_exhausted', jsonb_build_object('slug', v_code.slug, 'status', 'exhausted'));
    end if;
  end if;
  return new;
end
$$;

create trigger payment_intents_qr_code_reserve before update of status on public.payment_intents
  for each row when (new.subject_type = 'qr_code' and old.status = 'requires_confirmation'
                     and new.status in ('processing', 'requires_capture', 'succeeded'))
  execute function hazina.qr_code_reserve_use();

-- Count the use when an intent of a code succeeds (once: only the transition into succeeded),
-- and mark the code exhausted at its limit. A payment already reserved completes even if the
-- code was disabled or expired meanwhile: the money moved, so the use counts.
create function hazina.qr_code_count_use() returns trigger
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_code public.qr_codes;
begin
  update public.qr_codes
     set use_count = use_count + 1,
         status = case when status = 'active' and max_uses is not null and use_count + 1 >= max_uses then 'exhausted'
                       else status end,
         updated_at = now()
   where id = new.subject_id
  returning * into v_code;
  if v_code.id is null then
    return null;
  end if;
  perform hazina.event_emit(v_code.merchant_id, 'qr_code.used', 'qr_code', v_code.id,
    public.qr_code_json(v_code) || jsonb_build_object('payment_intent_id', new.id));
  if v_code.status = 'exhausted' and v_code.use_count = v_code.max_uses then
    perform hazina.event_emit(v_code.merchant_id, 'qr_code.exhausted', 'qr_code', v_code.id, public.qr_code_json(v_code));
  end if;
  return null;
end
$$;

create trigger payment_intents_qr_code_use after update of status on public.payment_intents
  for each row when (new.subject_type = 'qr_code' and new.status = 'succeeded' and old.status <> 'succeeded')
  execute function hazina.qr_code_count_use();

-- Expiry (a job): mark active codes past expires_at (hazina.clock()) expired. Skip locked, so
-- concurrent passes and a merchant's change each see a row once.
create function hazina.job_expire_qr_codes(p_limit integer) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_code public.qr_codes;
  v_done integer := 0;
begin
  for v_code in
    select * from public.qr_codes
     where status = 'active' and expires_at <= hazina.clock()
     order by expires_at limit p_limit
       for update skip locked
  loop
    update public.qr_codes set status = 'expired', updated_at = now() where id = v_code.id;
    perform hazina.event_emit(v_code.merchant_id, 'qr_code.expired', 'qr_code', v_code.id, hazina.qr_code_json(v_code.id));
    v_done := v_done + 1;
  end loop;
  return jsonb_build_object('processed', v_done,
    'remaining', (select count(*) from public.qr_codes where status = 'active' and expires_at <= hazina.clock()));
end
$$;

insert into hazina.jobs (name, runs_in, function, every, batch_size, exclusive, description) values
  ('qr_codes.expire', 'database', 'hazina.job_expire_qr_codes', interval '1 minute', 500, false,
   'Mark QR codes past their expiry expired (payments through them are refused at once, job or not).');

-- Reconciliation: a code's use_count is the number of its succeeded intents.
create function hazina.reconcile_qr_codes()
  returns table (check_name text, subject text, expected numeric, actual numeric)
  language sql stable
  security definer
  set search_path = ''
  as $$
  select 'qr_code_uses', q.id::text, count(p.id)::numeric, q.use_count::numeric
    from public.qr_codes q
    left join public.payment_intents p on p.subject_type = 'qr_code' and p.subject_id = q.id and p.status = 'succeeded'
   group by q.id, q.use_count
  having count(p.id) <> q.use_count
$$;

insert into hazina.reconciliation_checks (check_function, description) values
  ('hazina.reconcile_qr_codes()', 'qr codes: each code''s use_count is the number of its succeeded payment intents');

-- Row level security: the merchant reads its codes; nobody else (the public reads a code
-- only through public.qr_code_resolve). Nobody writes directly.
alter table public.qr_codes enable row level security;
revoke all on table public.qr_codes from public, anon, authenticated;
grant select on table public.qr_codes to authenticated, service_role;
create policy "merchant reads own qr codes" on public.qr_codes
  for select to authenticated using (merchant_id = auth.uid());

revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function
  public.qr_code_json(public.qr_codes),
  public.qr_code_create(text, text, numeric, text, uuid, timestamptz, integer, text),
  public.qr_code_update(uuid, text, timestamptz, boolean, integer, boolean, text),
  public.qr_code_disable(uuid), public.qr_code_resolve(text),
  public.qr_code_pay_wallet(text, uuid, numeric, text), public.qr_code_open_guest_intent(text, numeric, text)
  from public;
grant execute on function
  public.qr_code_create(text, text, numeric, text, uuid, timestamptz, integer, text),
  public.qr_code_update(uuid, text, timestamptz, boolean, integer, boolean, text),
  public.qr_code_disable(uuid), public.qr_code_pay_wallet(text, uuid, numeric, text)
  to authenticated;
-- The public functions anon may call (the checkout page and the images are public).
grant execute on function public.qr_code_resolve(text), public.qr_code_open_guest_intent(text, numeric, text)
  to anon, authenticated;
grant execute on function public.qr_code_json(public.qr_codes) to authenticated, service_role;
grant execute on function hazina.qr_code_json(uuid), hazina.qr_code_create(uuid, text, text, numeric, text, uuid, timestamptz, integer, text),
  hazina.qr_code_update(uuid, uuid, text, timestamptz, boolean, integer, boolean, text), hazina.qr_code_disable(uuid, uuid),
  hazina.qr_code_open_intent(text, uuid, numeric, text), hazina.qr_code_pay_wallet(text, uuid, uuid, numeric, text),
  hazina.job_expire_qr_codes(integer), hazina.reconcile_qr_codes() to service_role;

-- migrate:down
delete from hazina.reconciliation_checks where check_function = 'hazina.reconcile_qr_codes()'::regprocedure;
drop function if exists hazina.reconcile_qr_codes();
delete from hazina.jobs where name = 'qr_codes.expire';
drop function if exists hazina.job_expire_qr_codes(integer);
drop trigger if exists payment_intents_qr_code_use on public.payment_intents;
drop trigger if exists payment_intents_qr_code_reserve on public.payment_intents;
drop function if exists hazina.qr_code_count_use();
drop function if exists hazina.qr_code_reserve_use();
drop function if exists public.qr_code_open_guest_intent(text, numeric, text);
drop function if exists public.qr_code_pay_wallet(text, uuid, numeric, text);
drop function if exists hazina.qr_code_pay_wallet(text, uuid, uuid, numeric, text);
drop function if exists hazina.qr_code_open_intent(text, uuid, numeric, text);
drop function if exists public.qr_code_resolve(text);
drop function if exists public.qr_code_disable(uuid);
drop function if exists hazina.qr_code_disable(uuid, uuid);
drop function if exists public.qr_code_update(uuid, text, timestamptz, boolean, integer, boolean, text);
drop function if exists hazina.qr_code_update(uuid, uuid, text, timestamptz, boolean, integer, boolean, text);
drop function if exists public.qr_code_create(text, text, numeric, text, uuid, timestamptz, integer, text);
drop function if exists hazina.qr_code_create(uuid, text, text, numeric, text, uuid, timestamptz, integer, text);
drop function if exists hazina.qr_code_lock(uuid, uuid);
drop function if exists hazina.qr_code_assert_payable(public.qr_codes);
drop function if exists hazina.qr_code_effective_status(public.qr_codes);
drop function if exists hazina.qr_code_slug();
drop function if exists hazina.qr_code_json(uuid);
drop function if exists public.qr_code_json(public.qr_codes);
drop index if exists public.payment_intents_qr_code_idx;
drop table if exists public.qr_codes;
