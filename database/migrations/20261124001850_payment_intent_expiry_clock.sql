-- migrate:up
-- Payment intent expiry on the commerce clock (COMMERCE.md: every time-based commerce rule
-- reads one clock, hazina.clock(), which tests move with hazina.clock_travel). Until now the
-- intents read now(): an intent created, confirmed, captured or swept after the clock moved
-- did not expire by the time the invoices, orders and installments around it saw. These are
-- the latest definitions (payment_intent_subjects, payment_intent_mpesa, payment_intents,
-- invoice_payments) with only their expiry reads changed:
--   * the creation default (expires_at = clock + expires_in_seconds, 24 h by default);
--   * confirm and capture refuse an intent past expires_at by the clock (intent_expired);
--   * the manual-capture authorisation (7 days from the confirm) is commerce time too, for
--     wallet parts at the confirm and for an M-Pesa part when its money arrives;
--   * an M-Pesa payment waits for its intent only while the clock has not passed expires_at;
--   * the expiry job (payments.expire_intents) cancels intents past expires_at by the clock;
--   * an invoice reuses its open intent only while it has 5 minutes left by the clock.
-- Unchanged, on ledger time (now()): the wallet holds' own expiry (hazina.hold_create,
-- hazina.expire_holds), the M-Pesa STK session's 3 minutes (money movement), and every
-- record timestamp (confirmed_at, succeeded_at, updated_at). A hold of an intent is created
-- with the intent's deadline as its expires_at: with the offset at zero (production) the two
-- are the same instant; with the clock moved forward the hold outlives the intent in ledger
-- time and the intent's expiry (commerce time) voids it, so a hold never ends before its
-- intent. See docs/payments.md "Expiry".

create or replace function hazina.payment_intent_open(
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
          hazina.clock() + make_interval(secs => coalesce(p_expires_in_seconds, 86400)),
          p_subject_type, p_subject_id, v_type)
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
  v_mpesa jsonb;
  v_topup_wallet uuid;
  v_session_id uuid;
  v_attempt integer;
  v_hold_id uuid;
  v_expires timestamptz;
  v_tx uuid;
  v_detail text;
  v_error jsonb;
begin
  select * into v_intent from public.payment_intents where id = p_intent_id for update;
  -- Another customer's intent, or one for anybody without its secret, does not exist for the caller.
  if v_intent.id is null
     or (v_intent.customer_id is not null and v_intent.customer_id is distinct from p_customer_id)
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
  if v_intent.expires_at <= hazina.clock() then
    perform hazina.raise_error('intent_expired', jsonb_build_object('payment_intent_id', p_intent_id));
  end if;
  if p_sources is null or jsonb_typeof(p_sources) <> 'array' or jsonb_array_length(p_sources) not between 1 and 10 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources', 'reason', '1 to 10 sources'));
  end if;
  -- Check the whole plan before any money is held.
  for v_source in select value from jsonb_array_elements(p_sources) loop
    if v_source ->> 'type' is distinct from 'wallet' and v_source ->> 'type' is distinct from 'mpesa' then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources.type', 'reason', 'wallet or mpesa'));
    end if;
    if jsonb_typeof(v_source -> 'amount') is distinct from 'string' or v_source ->> 'amount' !~ '^[0-9]{1,15}(\.[0-9]{1,4})?$' then
      perform hazina.raise_error('invalid_amount', jsonb_build_object('currency', v_intent.currency));
    end if;
    v_amount := (v_source ->> 'amount')::numeric;
    perform hazina.assert_valid_amount(v_amount, v_intent.currency);
    if v_source ->> 'type' = 'mpesa' then
      if v_mpesa is not null then
        perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources', 'reason', 'one M-Pesa part'));
      end if;
      if jsonb_typeof(v_source -> 'phone') is distinct from 'string' or v_source ->> 'phone' !~ '^254[17][0-9]{8}$' then
        perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources.phone',
          'reason', 'an M-Pesa number such as 254712345678'));
      end if;
      perform hazina.assert_provider_amount('mpesa', 'in', v_amount, v_intent.currency);
      v_mpesa := v_source;
    else
      if p_customer_id is null then
        -- A guest has no wallet: it pays by M-Pesa.
        perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', v_source ->> 'wallet_id'));
      end if;
      if v_source ->> 'wallet_id' !~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' then
        perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', v_source ->> 'wallet_id'));
      end if;
      v_wallet_id := (v_source ->> 'wallet_id')::uuid;
      if not exists (select 1 from public.wallets where id = v_wallet_id and user_id = p_customer_id) then
        perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', v_wallet_id));
      end if;
      if v_wallet_id = any (v_wallets) then
        perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources', 'reason', 'one part per wallet'));
      end if;
      v_wallets := v_wallets || v_wallet_id;
    end if;
    v_total := v_total + v_amount;
  end loop;
  if v_total <> v_intent.amount then
    perform hazina.raise_error('sources_amount_mismatch', jsonb_build_object(
      'amount', v_intent.amount::text, 'sources_total', v_total::numeric(19, 4)::text));
  end if;
  if v_mpesa is not null then
    if cardinality(v_wallets) > 1 then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources',
        'reason', 'with an M-Pesa part, at most one wallet part (the wallet the M-Pesa money tops up)'));
    end if;
    if p_customer_id is null then
      if v_intent.capture_method <> 'automatic' then
        perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'capture_method',
          'reason', 'a guest pays intents with automatic capture only'));
      end if;
      v_topup_wallet := v_intent.payee_wallet_id;
    else
      -- The M-Pesa money tops up the wallet part's wallet, or the customer's wallet of the currency.
      v_topup_wallet := coalesce(v_wallets[1], (select id from public.wallets
                                                 where user_id = p_customer_id and currency = v_intent.currency
                                                   and kind = 'user' and status = 'active'
                                                 order by created_at, id limit 1));
      if v_topup_wallet is null then
        perform hazina.raise_error('wallet_not_found', jsonb_build_object('currency', v_intent.currency));
      end if;
    end if;
  end if;

  v_attempt := v_intent.confirm_attempt + 1;
  -- A manual-capture authorisation lasts 7 days from confirmation (commerce clock); the holds
  -- end with it (the same instant: a hold never ends before its intent, see docs/payments.md).
  v_expires := case v_intent.capture_method when 'manual' then hazina.clock() + interval '7 days' else v_intent.expires_at end;
  -- Money that cannot be held or posted (the payer's balance, a frozen wallet) is a failed
  -- attempt, not a refused request: its holds roll back to the savepoint, the intent keeps
  -- requires_confirmation with last_payment_error, and the reply says payment_error (the edge
  -- answers it as that error, after this commit).
  begin
    for v_source in select value from jsonb_array_elements(p_sources) loop
      v_position := v_position + 1;
      if v_source ->> 'type' = 'wallet' then
        v_hold_id := hazina.hold_create(hazina.payment_intent_part_ref(v_intent.id, v_attempt, v_position),
          (v_source ->> 'wallet_id')::uuid, v_intent.payee_wallet_id, (v_source ->> 'amount')::numeric, v_expires,
          v_intent.transaction_type, coalesce(v_intent.description, 'Payment'),
          jsonb_build_object('payment_intent_id', v_intent.id));
        insert into public.payment_intent_parts (payment_intent_id, attempt, position, type, wallet_id, amount, hold_id)
        values (v_intent.id, v_attempt, v_position, 'wallet', (v_source ->> 'wallet_id')::uuid,
                (v_source ->> 'amount')::numeric, v_hold_id);
      else
        -- The STK push is a funding session of the intent (sent by the edge after this commit;
        -- the sweep settles it if no callback comes). It lives 3 minutes, as a top-up's does.
        insert into public.wallet_funding_sessions (user_id, wallet_id, source_id, provider, channel, amount, currency,
                                                    client_ref, payer_msisdn, expires_at, payment_intent_id)
        values (p_customer_id, v_topup_wallet, null, 'mpesa', 'stk_push', (v_source ->> 'amount')::numeric,
                v_intent.currency, 'intent:' || v_intent.id || ':attempt:' || v_attempt, v_source ->> 'phone',
                now() + interval '3 minutes', v_intent.id)
        returning id into v_session_id;
        insert into public.payment_intent_parts (payment_intent_id, attempt, position, type, wallet_id, amount, phone,
                                                 funding_session_id)
        values (v_intent.id, v_attempt, v_position, 'mpesa', case when p_customer_id is not null then v_topup_wallet end,
                (v_source ->> 'amount')::numeric, v_source ->> 'phone', v_session_id);
      end if;
    end loop;

    if v_mpesa is not null then
      update public.payment_intents
         set status = 'processing', customer_id = p_customer_id, confirm_attempt = v_attempt, confirmed_at = now(),
             last_payment_error = null, updated_at = now()
       where id = v_intent.id;
    elsif v_intent.capture_method = 'automatic' then
      update public.payment_intents set confirm_attempt = v_attempt where id = v_intent.id;
      v_tx := hazina.payment_intent_post_parts(v_intent.id, v_intent.amount);
      update public.payment_intents
         set status = 'succeeded', customer_id = p_customer_id, amount_received = amount, amount_capturable = 0,
             capture_transaction_id = v_tx, confirmed_at = now(), succeeded_at = now(), last_payment_error = null,
             updated_at = now()
       where id = v_intent.id;
    else
      update public.payment_intents
         set status = 'requires_capture', customer_id = p_customer_id, amount_capturable = amount, expires_at = v_expires,
             confirm_attempt = v_attempt, confirmed_at = now(), last_payment_error = null, updated_at = now()
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
  if v_session_id is not null then
    return hazina.payment_intent_json(v_intent.id) || jsonb_build_object('mpesa', jsonb_build_object(
      'funding_session_id', v_session_id, 'provider', 'mpesa', 'amount', (v_mpesa ->> 'amount')::numeric(19, 4)::text,
      'currency', v_intent.currency, 'msisdn', v_mpesa ->> 'phone'));
  end if;
  return hazina.payment_intent_json(v_intent.id);
end
$$;

create or replace function hazina.payment_intent_capture(p_intent_id uuid, p_merchant_id uuid, p_amount numeric default null)
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
  if v_intent.expires_at <= hazina.clock() then
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

create or replace function hazina.payment_intent_waiting(p_session_id uuid) returns public.payment_intents
  language plpgsql
  set search_path = ''
  as $$
declare
  v_part public.payment_intent_parts;
  v_intent public.payment_intents;
begin
  select * into v_part from public.payment_intent_parts where funding_session_id = p_session_id;
  select * into v_intent from public.payment_intents where id = v_part.payment_intent_id for update;
  if v_intent.id is null or v_intent.status <> 'processing' or v_intent.confirm_attempt <> v_part.attempt
     or v_intent.expires_at <= hazina.clock() then
    return null;
  end if;
  return v_intent;
end
$$;

create or replace function hazina.payment_intent_mpesa_arrived(p_session_id uuid) returns void
  language plpgsql
  set search_path = ''
  as $$
declare
  v_waiting public.payment_intents;
  v_part public.payment_intent_parts;
  v_expires timestamptz;
  v_hold_id uuid;
  v_tx uuid;
  v_detail text;
begin
  v_waiting := hazina.payment_intent_waiting(p_session_id);
  if v_waiting.id is null then
    return;
  end if;
  select * into v_part from public.payment_intent_parts where funding_session_id = p_session_id;
  -- 7 days from the confirm on the commerce clock, as the confirm sets it (confirmed_at is a
  -- wall-clock record: shifted by the clock's offset).
  v_expires := case v_waiting.capture_method when 'manual' then v_waiting.confirmed_at + (hazina.clock() - now()) + interval '7 days'
                                                     else v_waiting.expires_at end;
  begin
    v_hold_id := hazina.hold_create(
      hazina.payment_intent_part_ref(v_waiting.id, v_part.attempt, v_part.position),
      v_part.wallet_id, v_waiting.payee_wallet_id, v_part.amount, v_expires,
      v_waiting.transaction_type, coalesce(v_waiting.description, 'Payment'),
      jsonb_build_object('payment_intent_id', v_waiting.id));
    update public.payment_intent_parts set hold_id = v_hold_id where id = v_part.id;
    if v_waiting.capture_method = 'automatic' then
      v_tx := hazina.payment_intent_post_parts(v_waiting.id, v_waiting.amount);
      update public.payment_intents
         set status = 'succeeded', amount_received = amount, amount_capturable = 0, capture_transaction_id = v_tx,
             succeeded_at = now(), last_payment_error = null, updated_at = now()
       where id = v_waiting.id;
    else
      update public.payment_intents
         set status = 'requires_capture', amount_capturable = amount, expires_at = v_expires, last_payment_error = null,
             updated_at = now()
       where id = v_waiting.id;
    end if;
  exception when sqlstate 'P0001' then
    if sqlerrm not in ('insufficient_funds', 'wallet_not_active', 'fee_exceeds_amount', 'hold_expired') then
      raise;
    end if;
    get stacked diagnostics v_detail = pg_exception_detail;
    perform hazina.payment_intent_fail_attempt(v_waiting.id, jsonb_build_object('code', sqlerrm,
      'details', coalesce(nullif(v_detail, '')::jsonb, '{}'::jsonb) || jsonb_build_object('funding_session_id', p_session_id),
      'occurred_at', public.api_time(now())));
  end;
end
$$;

create or replace function hazina.expire_payment_intents(p_limit integer default 500) returns integer
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
     where status in ('requires_confirmation', 'processing', 'requires_capture') and expires_at <= hazina.clock()
     order by expires_at limit p_limit
       for update skip locked
  loop
    perform hazina.payment_intent_cancel(v_id, null, 'expired');
    v_count := v_count + 1;
  end loop;
  return v_count;
end
$$;

create or replace function hazina.job_expire_payment_intents(p_limit integer) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_done integer := hazina.expire_payment_intents(p_limit);
begin
  return jsonb_build_object('processed', v_done,
    'remaining', (select count(*) from public.payment_intents
                   where status in ('requires_confirmation', 'processing', 'requires_capture') and expires_at <= hazina.clock()));
end
$$;

create or replace function hazina.invoice_pay(p_invoice_id uuid, p_payer_id uuid, p_amount numeric, p_pay_token text default null)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_invoice public.invoices;
  v_amount numeric;
  v_customer uuid;
  v_reuse public.payment_intents;
  v_result jsonb;
begin
  if p_pay_token is not null then
    select * into v_invoice from public.invoices where pay_token = p_pay_token for update;
  else
    select * into v_invoice from public.invoices
     where id = p_invoice_id and customer_id = p_payer_id and status <> 'draft' for update;
  end if;
  if v_invoice.id is null then
    perform hazina.raise_error('invoice_not_found', jsonb_build_object('invoice_id', p_invoice_id));
  end if;
  if v_invoice.status not in ('open', 'uncollectible') then
    perform hazina.raise_error('invoice_not_payable', jsonb_build_object('invoice_id', v_invoice.id, 'status', v_invoice.status));
  end if;
  v_amount := coalesce(p_amount, v_invoice.amount_due);
  perform hazina.assert_valid_amount(v_amount, v_invoice.currency);
  if v_amount > v_invoice.amount_due then
    perform hazina.raise_error('amount_exceeds_due', jsonb_build_object('invoice_id', v_invoice.id,
      'amount_due', v_invoice.amount_due::text));
  end if;
  if v_amount <> v_invoice.amount_due and not v_invoice.allow_partial_payment then
    perform hazina.raise_error('partial_payment_not_allowed', jsonb_build_object('invoice_id', v_invoice.id,
      'amount_due', v_invoice.amount_due::text));
  end if;
  v_customer := case when p_pay_token is null then p_payer_id end;
  -- The addressed customer asking again for the same amount gets the same intent back.
  if p_pay_token is null then
    select * into v_reuse from public.payment_intents
     where subject_type = 'invoice' and subject_id = v_invoice.id and status = 'requires_confirmation'
       and customer_id = v_customer and amount = v_amount and expires_at > hazina.clock() + interval '5 minutes'
     order by created_at desc limit 1;
  end if;
  perform hazina.invoice_release_intents(v_invoice.id, v_reuse.id);
  if v_reuse.id is not null then
    return hazina.payment_intent_json(v_reuse.id) || jsonb_build_object('created', false);
  end if;
  update public.invoices set payment_attempts = payment_attempts + 1, updated_at = now() where id = v_invoice.id
  returning * into v_invoice;
  v_result := hazina.payment_intent_open(v_invoice.merchant_id, v_amount, v_invoice.currency, 'automatic', v_customer,
    'Invoice ' || v_invoice.number, jsonb_build_object('invoice_id', v_invoice.id, 'invoice_number', v_invoice.number),
    null, 'invoice:' || v_invoice.id || ':attempt:' || v_invoice.payment_attempts, 'invoice', v_invoice.id, null, null);
  return v_result;
end
$$;

-- migrate:down
-- The definitions before (on now()).
create or replace function hazina.payment_intent_open(
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
  v_mpesa jsonb;
  v_topup_wallet uuid;
  v_session_id uuid;
  v_attempt integer;
  v_hold_id uuid;
  v_expires timestamptz;
  v_tx uuid;
  v_detail text;
  v_error jsonb;
begin
  select * into v_intent from public.payment_intents where id = p_intent_id for update;
  -- Another customer's intent, or one for anybody without its secret, does not exist for the caller.
  if v_intent.id is null
     or (v_intent.customer_id is not null and v_intent.customer_id is distinct from p_customer_id)
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
    if v_source ->> 'type' is distinct from 'wallet' and v_source ->> 'type' is distinct from 'mpesa' then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources.type', 'reason', 'wallet or mpesa'));
    end if;
    if jsonb_typeof(v_source -> 'amount') is distinct from 'string' or v_source ->> 'amount' !~ '^[0-9]{1,15}(\.[0-9]{1,4})?$' then
      perform hazina.raise_error('invalid_amount', jsonb_build_object('currency', v_intent.currency));
    end if;
    v_amount := (v_source ->> 'amount')::numeric;
    perform hazina.assert_valid_amount(v_amount, v_intent.currency);
    if v_source ->> 'type' = 'mpesa' then
      if v_mpesa is not null then
        perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources', 'reason', 'one M-Pesa part'));
      end if;
      if jsonb_typeof(v_source -> 'phone') is distinct from 'string' or v_source ->> 'phone' !~ '^254[17][0-9]{8}$' then
        perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources.phone',
          'reason', 'an M-Pesa number such as 254712345678'));
      end if;
      perform hazina.assert_provider_amount('mpesa', 'in', v_amount, v_intent.currency);
      v_mpesa := v_source;
    else
      if p_customer_id is null then
        -- A guest has no wallet: it pays by M-Pesa.
        perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', v_source ->> 'wallet_id'));
      end if;
      if v_source ->> 'wallet_id' !~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' then
        perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', v_source ->> 'wallet_id'));
      end if;
      v_wallet_id := (v_source ->> 'wallet_id')::uuid;
      if not exists (select 1 from public.wallets where id = v_wallet_id and user_id = p_customer_id) then
        perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', v_wallet_id));
      end if;
      if v_wallet_id = any (v_wallets) then
        perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources', 'reason', 'one part per wallet'));
      end if;
      v_wallets := v_wallets || v_wallet_id;
    end if;
    v_total := v_total + v_amount;
  end loop;
  if v_total <> v_intent.amount then
    perform hazina.raise_error('sources_amount_mismatch', jsonb_build_object(
      'amount', v_intent.amount::text, 'sources_total', v_total::numeric(19, 4)::text));
  end if;
  if v_mpesa is not null then
    if cardinality(v_wallets) > 1 then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources',
        'reason', 'with an M-Pesa part, at most one wallet part (the wallet the M-Pesa money tops up)'));
    end if;
    if p_customer_id is null then
      if v_intent.capture_method <> 'automatic' then
        perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'capture_method',
          'reason', 'a guest pays intents with automatic capture only'));
      end if;
      v_topup_wallet := v_intent.payee_wallet_id;
    else
      -- The M-Pesa money tops up the wallet part's wallet, or the customer's wallet of the currency.
      v_topup_wallet := coalesce(v_wallets[1], (select id from public.wallets
                                                 where user_id = p_customer_id and currency = v_intent.currency
                                                   and kind = 'user' and status = 'active'
                                                 order by created_at, id limit 1));
      if v_topup_wallet is null then
        perform hazina.raise_error('wallet_not_found', jsonb_build_object('currency', v_intent.currency));
      end if;
    end if;
  end if;

  v_attempt := v_intent.confirm_attempt + 1;
  -- A manual-capture authorisation lasts 7 days from confirmation; the holds end with it.
  v_expires := case v_intent.capture_method when 'manual' then now() + interval '7 days' else v_intent.expires_at end;
  -- Money that cannot be held or posted (the payer's balance, a frozen wallet) is a failed
  -- attempt, not a refused request: its holds roll back to the savepoint, the intent keeps
  -- requires_confirmation with last_payment_error, and the reply says payment_error (the edge
  -- answers it as that error, after this commit).
  begin
    for v_source in select value from jsonb_array_elements(p_sources) loop
      v_position := v_position + 1;
      if v_source ->> 'type' = 'wallet' then
        v_hold_id := hazina.hold_create(hazina.payment_intent_part_ref(v_intent.id, v_attempt, v_position),
          (v_source ->> 'wallet_id')::uuid, v_intent.payee_wallet_id, (v_source ->> 'amount')::numeric, v_expires,
          v_intent.transaction_type, coalesce(v_intent.description, 'Payment'),
          jsonb_build_object('payment_intent_id', v_intent.id));
        insert into public.payment_intent_parts (payment_intent_id, attempt, position, type, wallet_id, amount, hold_id)
        values (v_intent.id, v_attempt, v_position, 'wallet', (v_source ->> 'wallet_id')::uuid,
                (v_source ->> 'amount')::numeric, v_hold_id);
      else
        -- The STK push is a funding session of the intent (sent by the edge after this commit;
        -- the sweep settles it if no callback comes). It lives 3 minutes, as a top-up's does.
        insert into public.wallet_funding_sessions (user_id, wallet_id, source_id, provider, channel, amount, currency,
                                                    client_ref, payer_msisdn, expires_at, payment_intent_id)
        values (p_customer_id, v_topup_wallet, null, 'mpesa', 'stk_push', (v_source ->> 'amount')::numeric,
                v_intent.currency, 'intent:' || v_intent.id || ':attempt:' || v_attempt, v_source ->> 'phone',
                now() + interval '3 minutes', v_intent.id)
        returning id into v_session_id;
        insert into public.payment_intent_parts (payment_intent_id, attempt, position, type, wallet_id, amount, phone,
                                                 funding_session_id)
        values (v_intent.id, v_attempt, v_position, 'mpesa', case when p_customer_id is not null then v_topup_wallet end,
                (v_source ->> 'amount')::numeric, v_source ->> 'phone', v_session_id);
      end if;
    end loop;

    if v_mpesa is not null then
      update public.payment_intents
         set status = 'processing', customer_id = p_customer_id, confirm_attempt = v_attempt, confirmed_at = now(),
             last_payment_error = null, updated_at = now()
       where id = v_intent.id;
    elsif v_intent.capture_method = 'automatic' then
      update public.payment_intents set confirm_attempt = v_attempt where id = v_intent.id;
      v_tx := hazina.payment_intent_post_parts(v_intent.id, v_intent.amount);
      update public.payment_intents
         set status = 'succeeded', customer_id = p_customer_id, amount_received = amount, amount_capturable = 0,
             capture_transaction_id = v_tx, confirmed_at = now(), succeeded_at = now(), last_payment_error = null,
             updated_at = now()
       where id = v_intent.id;
    else
      update public.payment_intents
         set status = 'requires_capture', customer_id = p_customer_id, amount_capturable = amount, expires_at = v_expires,
             confirm_attempt = v_attempt, confirmed_at = now(), last_payment_error = null, updated_at = now()
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
  if v_session_id is not null then
    return hazina.payment_intent_json(v_intent.id) || jsonb_build_object('mpesa', jsonb_build_object(
      'funding_session_id', v_session_id, 'provider', 'mpesa', 'amount', (v_mpesa ->> 'amount')::numeric(19, 4)::text,
      'currency', v_intent.currency, 'msisdn', v_mpesa ->> 'phone'));
  end if;
  return hazina.payment_intent_json(v_intent.id);
end
$$;

create or replace function hazina.payment_intent_capture(p_intent_id uuid, p_merchant_id uuid, p_amount numeric default null)
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

create or replace function hazina.payment_intent_waiting(p_session_id uuid) returns public.payment_intents
  language plpgsql
  set search_path = ''
  as $$
declare
  v_part public.payment_intent_parts;
  v_intent public.payment_intents;
begin
  select * into v_part from public.payment_intent_parts where funding_session_id = p_session_id;
  select * into v_intent from public.payment_intents where id = v_part.payment_intent_id for update;
  if v_intent.id is null or v_intent.status <> 'processing' or v_intent.confirm_attempt <> v_part.attempt
     or v_intent.expires_at <= now() then
    return null;
  end if;
  return v_intent;
end
$$;

create or replace function hazina.payment_intent_mpesa_arrived(p_session_id uuid) returns void
  language plpgsql
  set search_path = ''
  as $$
declare
  v_waiting public.payment_intents;
  v_part public.payment_intent_parts;
  v_expires timestamptz;
  v_hold_id uuid;
  v_tx uuid;
  v_detail text;
begin
  v_waiting := hazina.payment_intent_waiting(p_session_id);
  if v_waiting.id is null then
    return;
  end if;
  select * into v_part from public.payment_intent_parts where funding_session_id = p_session_id;
  v_expires := case v_waiting.capture_method when 'manual' then v_waiting.confirmed_at + interval '7 days'
                                                     else v_waiting.expires_at end;
  begin
    v_hold_id := hazina.hold_create(
      hazina.payment_intent_part_ref(v_waiting.id, v_part.attempt, v_part.position),
      v_part.wallet_id, v_waiting.payee_wallet_id, v_part.amount, v_expires,
      v_waiting.transaction_type, coalesce(v_waiting.description, 'Payment'),
      jsonb_build_object('payment_intent_id', v_waiting.id));
    update public.payment_intent_parts set hold_id = v_hold_id where id = v_part.id;
    if v_waiting.capture_method = 'automatic' then
      v_tx := hazina.payment_intent_post_parts(v_waiting.id, v_waiting.amount);
      update public.payment_intents
         set status = 'succeeded', amount_received = amount, amount_capturable = 0, capture_transaction_id = v_tx,
             succeeded_at = now(), last_payment_error = null, updated_at = now()
       where id = v_waiting.id;
    else
      update public.payment_intents
         set status = 'requires_capture', amount_capturable = amount, expires_at = v_expires, last_payment_error = null,
             updated_at = now()
       where id = v_waiting.id;
    end if;
  exception when sqlstate 'P0001' then
    if sqlerrm not in ('insufficient_funds', 'wallet_not_active', 'fee_exceeds_amount', 'hold_expired') then
      raise;
    end if;
    get stacked diagnostics v_detail = pg_exception_detail;
    perform hazina.payment_intent_fail_attempt(v_waiting.id, jsonb_build_object('code', sqlerrm,
      'details', coalesce(nullif(v_detail, '')::jsonb, '{}'::jsonb) || jsonb_build_object('funding_session_id', p_session_id),
      'occurred_at', public.api_time(now())));
  end;
end
$$;

create or replace function hazina.expire_payment_intents(p_limit integer default 500) returns integer
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

create or replace function hazina.job_expire_payment_intents(p_limit integer) returns jsonb
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

create or replace function hazina.invoice_pay(p_invoice_id uuid, p_payer_id uuid, p_amount numeric, p_pay_token text default null)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_invoice public.invoices;
  v_amount numeric;
  v_customer uuid;
  v_reuse public.payment_intents;
  v_result jsonb;
begin
  if p_pay_token is not null then
    select * into v_invoice from public.invoices where pay_token = p_pay_token for update;
  else
    select * into v_invoice from public.invoices
     where id = p_invoice_id and customer_id = p_payer_id and status <> 'draft' for update;
  end if;
  if v_invoice.id is null then
    perform hazina.raise_error('invoice_not_found', jsonb_build_object('invoice_id', p_invoice_id));
  end if;
  if v_invoice.status not in ('open', 'uncollectible') then
    perform hazina.raise_error('invoice_not_payable', jsonb_build_object('invoice_id', v_invoice.id, 'status', v_invoice.status));
  end if;
  v_amount := coalesce(p_amount, v_invoice.amount_due);
  perform hazina.assert_valid_amount(v_amount, v_invoice.currency);
  if v_amount > v_invoice.amount_due then
    perform hazina.raise_error('amount_exceeds_due', jsonb_build_object('invoice_id', v_invoice.id,
      'amount_due', v_invoice.amount_due::text));
  end if;
  if v_amount <> v_invoice.amount_due and not v_invoice.allow_partial_payment then
    perform hazina.raise_error('partial_payment_not_allowed', jsonb_build_object('invoice_id', v_invoice.id,
      'amount_due', v_invoice.amount_due::text));
  end if;
  v_customer := case when p_pay_token is null then p_payer_id end;
  -- The addressed customer asking again for the same amount gets the same intent back.
  if p_pay_token is null then
    select * into v_reuse from public.payment_intents
     where subject_type = 'invoice' and subject_id = v_invoice.id and status = 'requires_confirmation'
       and customer_id = v_customer and amount = v_amount and expires_at > now() + interval '5 minutes'
     order by created_at desc limit 1;
  end if;
  perform hazina.invoice_release_intents(v_invoice.id, v_reuse.id);
  if v_reuse.id is not null then
    return hazina.payment_intent_json(v_reuse.id) || jsonb_build_object('created', false);
  end if;
  update public.invoices set payment_attempts = payment_attempts + 1, updated_at = now() where id = v_invoice.id
  returning * into v_invoice;
  v_result := hazina.payment_intent_open(v_invoice.merchant_id, v_amount, v_invoice.currency, 'automatic', v_customer,
    'Invoice ' || v_invoice.number, jsonb_build_object('invoice_id', v_invoice.id, 'invoice_number', v_invoice.number),
    null, 'invoice:' || v_invoice.id || ':attempt:' || v_invoice.payment_attempts, 'invoice', v_invoice.id, null, null);
  return v_result;
end
$$;
