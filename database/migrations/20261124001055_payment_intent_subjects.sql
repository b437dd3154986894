-- migrate:up
-- Payment intents for a commerce object: an invoice, an order, an installment plan or a QR
-- code opens an intent that names it (subject_type, subject_id), may pay into another wallet
-- than the merchant's (the escrow system wallet for escrowed orders and lay-by plans), and
-- may post as its own transaction type (its own fee rule: e.g. no fee on the way into escrow,
-- the escrow_release fee when it leaves). hazina.payment_intent_open is the one creator;
-- hazina.payment_intent_create (the merchant's own intents) calls it with no subject.
-- Capabilities react to an intent's outcome with triggers of their own on payment_intents
-- (when subject_type = theirs), never by editing these functions.

-- No foreign key to transaction_types, as for ledger rows (see the transaction_types
-- migration: every insert would KEY SHARE-lock the type's one row); the creator checks it.
alter table public.payment_intents
  add column transaction_type public.transaction_kind not null default 'payment_intent';

create function hazina.payment_intent_open(
  p_merchant_id uuid, p_amount numeric, p_currency text, p_capture_method text, p_customer_id uuid,
  p_description text, p_metadata jsonb, p_expires_in_seconds integer, p_client_ref text,
  p_subject_type text, p_subject_id uuid, p_payee_wallet_id uuid, p_transaction_type text
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
  v_type text := coalesce(p_transaction_type, 'payment_intent');
begin
  if p_client_ref is null or length(p_client_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref');
  end if;
  select * into v_existing from public.payment_intents where merchant_id = p_merchant_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.amount <> p_amount or v_existing.currency <> v_currency or v_existing.capture_method <> v_capture
       or v_existing.customer_id is distinct from p_customer_id
       or v_existing.subject_type is distinct from p_subject_type or v_existing.subject_id is distinct from p_subject_id then
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
  if (p_subject_type is null) <> (p_subject_id is null) then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'subject', 'reason', 'a type and an id, or neither'));
  end if;
  if not exists (select 1 from public.transaction_types where code = v_type) then
    perform hazina.raise_error('unknown_transaction_type', jsonb_build_object('type', v_type));
  end if;
  -- The payee is the merchant's own merchant wallet of the currency (which must exist even
  -- when a capability pays into another wallet, e.g. escrow, so the money has a home later).
  select id into v_wallet_id from public.wallets
   where user_id = p_merchant_id and currency = v_currency and kind = 'merchant' and status = 'active';
  if v_wallet_id is null then
    perform hazina.raise_error('merchant_wallet_required', jsonb_build_object('currency', v_currency));
  end if;
  if p_payee_wallet_id is not null then
    if not exists (select 1 from public.wallets where id = p_payee_wallet_id and currency = v_currency and status = 'active') then
      perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', p_payee_wallet_id));
    end if;
    v_wallet_id := p_payee_wallet_id;
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
                                      description, metadata, client_secret_hash, client_ref, expires_at,
                                      subject_type, subject_id, transaction_type)
  values (v_id, p_merchant_id, v_wallet_id, p_customer_id, p_amount, v_currency, v_capture, p_description,
          coalesce(p_metadata, '{}'), encode(sha256(convert_to(v_secret, 'UTF8')), 'hex'), p_client_ref,
          now() + make_interval(secs => coalesce(p_expires_in_seconds, 86400)),
          p_subject_type, p_subject_id, v_type)
  on conflict (merchant_id, client_ref) do nothing;
  if not found then
    raise exception using errcode = '40001', message = 'concurrent duplicate payment intent; retry';
  end if;
  return hazina.payment_intent_json(v_id) || jsonb_build_object('created', true, 'client_secret', v_secret);
end
$$;

create or replace function hazina.payment_intent_create(
  p_merchant_id uuid, p_amount numeric, p_currency text, p_capture_method text, p_customer_id uuid,
  p_description text, p_metadata jsonb, p_expires_in_seconds integer, p_client_ref text
) returns jsonb
  language sql
  security definer
  set search_path = ''
  as $$ select hazina.payment_intent_open(p_merchant_id, p_amount, p_currency, p_capture_method, p_customer_id,
                                          p_description, p_metadata, p_expires_in_seconds, p_client_ref,
                                          null, null, null, null) $$;

-- The confirm, as before, holding each part as the intent's transaction type.
create or replace function hazina.payment_intent_confirm(p_intent_id uuid, p_customer_id uuid, p_sources jsonb,
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
        v_intent.payee_wallet_id, (v_source ->> 'amount')::numeric, v_expires, v_intent.transaction_type,
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

revoke execute on all functions in schema hazina from public, anon, authenticated;

-- migrate:down
create or replace function hazina.payment_intent_create(
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

create or replace function hazina.payment_intent_confirm(p_intent_id uuid, p_customer_id uuid, p_sources jsonb,
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

drop function if exists hazina.payment_intent_open(uuid, numeric, text, text, uuid, text, jsonb, integer, text, text, uuid, uuid, text);
alter table public.payment_intents drop column if exists transaction_type;
