-- migrate:up
-- One lock order for an installment plan's intents: intent, then plan, then wallets.
-- Every plan verb (pay, collect, cancel, default, waive) locks the plan first and then moves
-- money (wallet rows, the escrow wallet); a customer confirming the plan's open intent
-- through the payments API (POST /payments/intents/:id/confirm, or its M-Pesa money
-- arriving) locked the intent, held and posted the money (wallet rows) and only then, in the
-- trigger that applies the payment, the plan: the merchant's cancel racing it deadlocked
-- (tests/functions/commerce-http-races.test.ts: 409 deadlock_detected to the customer).
-- Now the confirm and the M-Pesa posting lock the intent's subject right after the intent,
-- before any money moves (hazina.payment_intent_lock_subject): the racing cancel, which skips
-- intents being confirmed (installment_cancel_open_intents), either runs first (the confirm
-- then finds the plan closed and its money is refunded at once) or after (it refunds the
-- payment with the rest). Orders need nothing here: their verbs lock the intent first
-- (hazina.order_lock_intent).

-- Lock the subject of an intent whose capability locks it before moving money, after the
-- intent itself (the caller holds the intent's row lock). Installment plans only.
create function hazina.payment_intent_lock_subject(p_intent public.payment_intents) returns void
  language plpgsql
  set search_path = ''
  as $$
begin
  if p_intent.subject_type = 'installment' then
    perform 1 from public.installments where id = p_intent.subject_id for update;
  end if;
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
  -- The intent's subject next, before any money (hazina.payment_intent_lock_subject).
  perform hazina.payment_intent_lock_subject(v_intent);
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

create or replace function hazina.payment_intent_mpesa_post(p_session public.wallet_funding_sessions, p_receipt text,
                                                 out transaction_id uuid, out fee numeric)
  language plpgsql
  set search_path = ''
  as $$
declare
  v_intent public.payment_intents;
  v_clearing uuid := hazina.provider_clearing_wallet(p_session.provider, p_session.currency);
  v_waiting public.payment_intents;
  v_quote record;
  v_fee numeric;
  v_meta jsonb := jsonb_build_object('funding_session_id', p_session.id, 'payment_intent_id', p_session.payment_intent_id,
                                     'provider_receipt', p_receipt);
begin
  fee := 0;
  -- Lock order: the session (the caller holds it), the intent, then wallets, as the confirm,
  -- cancel and the expiry job take them (intent, then holds and wallets); crediting the
  -- customer's wallet before taking the intent would deadlock with an expiry voiding its hold.
  select * into v_intent from public.payment_intents where id = p_session.payment_intent_id for update;
  if v_intent.id is not null then
    perform hazina.payment_intent_lock_subject(v_intent);  -- then its subject, before any money
  end if;
  if p_session.user_id is not null then
    transaction_id := hazina.post_transaction('funding:' || p_session.id, 'funding', jsonb_build_array(
      jsonb_build_object('wallet_id', v_clearing, 'direction', 'debit', 'amount', p_session.amount::text),
      jsonb_build_object('wallet_id', p_session.wallet_id, 'direction', 'credit', 'amount', p_session.amount::text)),
      'Payment via ' || p_session.provider, v_meta);
    return;
  end if;
  v_waiting := hazina.payment_intent_waiting(p_session.id);
  if v_waiting.id is null then
    transaction_id := hazina.post_transaction('funding:' || p_session.id, 'funding', jsonb_build_array(
      jsonb_build_object('wallet_id', v_clearing, 'direction', 'debit', 'amount', p_session.amount::text),
      jsonb_build_object('wallet_id', hazina.system_wallet('suspense', p_session.currency), 'direction', 'credit',
                         'amount', p_session.amount::text)),
      'Guest payment that arrived after its intent stopped waiting (to pay back)', v_meta);
    return;
  end if;
  select * into v_quote from hazina.fee_quote(v_waiting.transaction_type, p_session.amount, p_session.currency,
                                              v_waiting.merchant_id);
  v_fee := least(v_quote.fee, p_session.amount);
  if v_fee > 0 then
    transaction_id := hazina.post_transaction('funding:' || p_session.id, v_waiting.transaction_type, jsonb_build_array(
      jsonb_build_object('wallet_id', v_clearing, 'direction', 'debit', 'amount', p_session.amount::text),
      jsonb_build_object('wallet_id', p_session.wallet_id, 'direction', 'credit', 'amount', p_session.amount::text),
      jsonb_build_object('wallet_id', p_session.wallet_id, 'direction', 'debit', 'amount', v_fee::text, 'leg', 'fee'),
      jsonb_build_object('wallet_id', hazina.system_wallet('fee_revenue', p_session.currency), 'direction', 'credit',
                         'amount', v_fee::text, 'leg', 'fee')),
      coalesce(v_waiting.description, 'Payment'), v_meta);
    insert into public.billing_ledger (ref, transaction_id, payer_wallet_id, payer_user_id, transaction_type,
                                       direction, amount, currency, base_amount, rule_source, rule_id)
    values (transaction_id::text || '#fee', transaction_id, p_session.wallet_id, v_waiting.merchant_id,
            v_waiting.transaction_type, 'charge', v_fee, p_session.currency, p_session.amount,
            v_quote.rule_source, v_quote.rule_id);
  else
    transaction_id := hazina.post_transaction('funding:' || p_session.id, v_waiting.transaction_type, jsonb_build_array(
      jsonb_build_object('wallet_id', v_clearing, 'direction', 'debit', 'amount', p_session.amount::text),
      jsonb_build_object('wallet_id', p_session.wallet_id, 'direction', 'credit', 'amount', p_session.amount::text)),
      coalesce(v_waiting.description, 'Payment'), v_meta);
  end if;
  update public.payment_intents
     set status = 'succeeded', amount_received = amount, amount_capturable = 0, capture_transaction_id = transaction_id,
         succeeded_at = now(), last_payment_error = null, updated_at = now()
   where id = v_waiting.id;
end
$$;

revoke execute on all functions in schema hazina from public, anon, authenticated;

-- migrate:down
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

create or replace function hazina.payment_intent_mpesa_post(p_session public.wallet_funding_sessions, p_receipt text,
                                                 out transaction_id uuid, out fee numeric)
  language plpgsql
  set search_path = ''
  as $$
declare
  v_clearing uuid := hazina.provider_clearing_wallet(p_session.provider, p_session.currency);
  v_waiting public.payment_intents;
  v_quote record;
  v_fee numeric;
  v_meta jsonb := jsonb_build_object('funding_session_id', p_session.id, 'payment_intent_id', p_session.payment_intent_id,
                                     'provider_receipt', p_receipt);
begin
  fee := 0;
  -- Lock order: the session (the caller holds it), the intent, then wallets, as the confirm,
  -- cancel and the expiry job take them (intent, then holds and wallets); crediting the
  -- customer's wallet before taking the intent would deadlock with an expiry voiding its hold.
  perform 1 from public.payment_intents where id = p_session.payment_intent_id for update;
  if p_session.user_id is not null then
    transaction_id := hazina.post_transaction('funding:' || p_session.id, 'funding', jsonb_build_array(
      jsonb_build_object('wallet_id', v_clearing, 'direction', 'debit', 'amount', p_session.amount::text),
      jsonb_build_object('wallet_id', p_session.wallet_id, 'direction', 'credit', 'amount', p_session.amount::text)),
      'Payment via ' || p_session.provider, v_meta);
    return;
  end if;
  v_waiting := hazina.payment_intent_waiting(p_session.id);
  if v_waiting.id is null then
    transaction_id := hazina.post_transaction('funding:' || p_session.id, 'funding', jsonb_build_array(
      jsonb_build_object('wallet_id', v_clearing, 'direction', 'debit', 'amount', p_session.amount::text),
      jsonb_build_object('wallet_id', hazina.system_wallet('suspense', p_session.currency), 'direction', 'credit',
                         'amount', p_session.amount::text)),
      'Guest payment that arrived after its intent stopped waiting (to pay back)', v_meta);
    return;
  end if;
  select * into v_quote from hazina.fee_quote(v_waiting.transaction_type, p_session.amount, p_session.currency,
                                              v_waiting.merchant_id);
  v_fee := least(v_quote.fee, p_session.amount);
  if v_fee > 0 then
    transaction_id := hazina.post_transaction('funding:' || p_session.id, v_waiting.transaction_type, jsonb_build_array(
      jsonb_build_object('wallet_id', v_clearing, 'direction', 'debit', 'amount', p_session.amount::text),
      jsonb_build_object('wallet_id', p_session.wallet_id, 'direction', 'credit', 'amount', p_session.amount::text),
      jsonb_build_object('wallet_id', p_session.wallet_id, 'direction', 'debit', 'amount', v_fee::text, 'leg', 'fee'),
      jsonb_build_object('wallet_id', hazina.system_wallet('fee_revenue', p_session.currency), 'direction', 'credit',
                         'amount', v_fee::text, 'leg', 'fee')),
      coalesce(v_waiting.description, 'Payment'), v_meta);
    insert into public.billing_ledger (ref, transaction_id, payer_wallet_id, payer_user_id, transaction_type,
                                       direction, amount, currency, base_amount, rule_source, rule_id)
    values (transaction_id::text || '#fee', transaction_id, p_session.wallet_id, v_waiting.merchant_id,
            v_waiting.transaction_type, 'charge', v_fee, p_session.currency, p_session.amount,
            v_quote.rule_source, v_quote.rule_id);
  else
    transaction_id := hazina.post_transaction('funding:' || p_session.id, v_waiting.transaction_type, jsonb_build_array(
      jsonb_build_object('wallet_id', v_clearing, 'direction', 'debit', 'amount', p_session.amount::text),
      jsonb_build_object('wallet_id', p_session.wallet_id, 'direction', 'credit', 'amount', p_session.amount::text)),
      coalesce(v_waiting.description, 'Payment'), v_meta);
  end if;
  update public.payment_intents
     set status = 'succeeded', amount_received = amount, amount_capturable = 0, capture_transaction_id = transaction_id,
         succeeded_at = now(), last_payment_error = null, updated_at = now()
   where id = v_waiting.id;
end
$$;

drop function if exists hazina.payment_intent_lock_subject(public.payment_intents);
