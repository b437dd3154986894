-- migrate:up
-- Payment intents paid (partly or wholly) by M-Pesa STK push (docs/payments.md, "M-Pesa parts").
--   confirm with an mpesa part: requires_confirmation --confirm--> processing
--     (the wallet part, if any, is held at once; the M-Pesa part is a funding session: an STK
--      push the edge sends after this commit, never inside a transaction)
--   processing --the provider confirms the money (callback confirmed by a status query, or the sweep)-->
--     signed-in customer: the money tops up the customer's wallet and is held there like the
--       wallet part (one hold per part) → succeeded (automatic: both holds posted to the payee in
--       ONE ledger transaction) | requires_capture (manual)
--     guest (no customer, client_secret, automatic only): the money goes from mpesa_clearing
--       straight to the payee, less the merchant's fee: that posting is the capture → succeeded
--   processing --the part fails (1032 cancelled, failed, expired/timeout)--> requires_confirmation
--     (every hold of the attempt voided, last_payment_error set; confirm may be called again:
--      a new attempt, with its own parts and refs)
-- Money that arrives when nobody waits for it any more (the intent was canceled or expired, the
-- attempt failed, or another attempt is running) is never lost: a signed-in customer's stays
-- in their wallet (a top-up); a guest's is credited to the `suspense` system wallet, for an
-- operator to pay back to the phone by B2C (the event is in the ledger with the session id).
-- Lock order everywhere: the funding session row, then the intent row (the confirm creates its
-- session; cancel and expiry never lock sessions), so a callback racing the expiry job ends in
-- exactly one of the outcomes above.

-- Attempts: each confirm is one numbered attempt; its parts carry the number, and the intent
-- shows the parts of its latest attempt. Parts confirmed before this migration are attempt 1.
alter table public.payment_intents
  add column confirm_attempt integer not null default 0 check (confirm_attempt between 0 and 1000);
update public.payment_intents i set confirm_attempt = 1
 where exists (select 1 from public.payment_intent_parts p where p.payment_intent_id = i.id);

alter table public.payment_intent_parts
  add column attempt integer not null default 1 check (attempt between 1 and 1000),
  add column phone text check (phone ~ '^254[17][0-9]{8}$'),
  add column funding_session_id uuid unique references public.wallet_funding_sessions (id),
  alter column wallet_id drop not null,
  alter column hold_id drop not null,
  drop constraint payment_intent_parts_type_check,
  add constraint payment_intent_parts_type_check check (type in ('wallet', 'mpesa')),
  drop constraint payment_intent_parts_payment_intent_id_position_key,
  add constraint payment_intent_parts_attempt_position_key unique (payment_intent_id, attempt, position),
  -- A wallet part is a hold from its creation; an M-Pesa part is a funding session, and a
  -- hold on the customer's wallet once its money arrived (a guest's never has one).
  add constraint payment_intent_parts_shape check (
    case type when 'wallet' then wallet_id is not null and hold_id is not null and phone is null and funding_session_id is null
              else phone is not null and funding_session_id is not null end);
alter table public.payment_intent_parts alter column attempt drop default;

-- A funding session may belong to an intent's M-Pesa part: then it names no source (the payer
-- typed a phone number at checkout) and, for a guest, no user (its wallet is the payee's, where
-- the payment lands).
alter table public.wallet_funding_sessions
  add column payment_intent_id uuid references public.payment_intents (id),
  alter column user_id drop not null,
  drop constraint wallet_funding_sessions_source,
  add constraint wallet_funding_sessions_source check (
    case when payment_intent_id is null then (channel = 'paybill') = (source_id is null)
         else channel = 'stk_push' and source_id is null and payer_msisdn is not null end),
  add constraint wallet_funding_sessions_owner check (user_id is not null or payment_intent_id is not null);
create index wallet_funding_sessions_intent_idx on public.wallet_funding_sessions (payment_intent_id);

-- The API shape of an intent: the parts of its latest attempt. An M-Pesa part shows the phone
-- masked (2547******78: the merchant sees that a phone paid, not whose), its funding session
-- and that session's status.
create or replace function public.payment_intent_json(p public.payment_intents) returns jsonb
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
                              select jsonb_agg(case s.type
                                when 'wallet' then jsonb_build_object('type', s.type, 'wallet_id', s.wallet_id,
                                                                      'amount', s.amount::text, 'hold_id', s.hold_id)
                                else jsonb_build_object('type', s.type, 'wallet_id', s.wallet_id, 'amount', s.amount::text,
                                                        'hold_id', s.hold_id,
                                                        'phone', left(s.phone, 4) || '******' || right(s.phone, 2),
                                                        'funding_session_id', s.funding_session_id,
                                                        'funding_status', (select f.status from public.wallet_funding_sessions f
                                                                            where f.id = s.funding_session_id))
                                end order by s.position)
                                from public.payment_intent_parts s
                               where s.payment_intent_id = p.id and s.attempt = p.confirm_attempt), '[]'::jsonb),
                            'last_payment_error', p.last_payment_error,
                            'capture_transaction_id', p.capture_transaction_id,
                            'expires_at', public.api_time(p.expires_at), 'confirmed_at', public.api_time(p.confirmed_at),
                            'succeeded_at', public.api_time(p.succeeded_at), 'canceled_at', public.api_time(p.canceled_at),
                            'cancellation_reason', p.cancellation_reason,
                            'created_at', public.api_time(p.created_at), 'updated_at', public.api_time(p.updated_at))
$$;

-- What a payer holding only the client_secret (a guest, the hosted checkout page) may read:
-- enough to show the payment and its progress, nothing about the merchant's books or other
-- payers. payment_intent_not_found for a wrong secret, as for a wrong id.
create function hazina.payment_intent_checkout_json(p_intent_id uuid, p_client_secret text) returns jsonb
  language plpgsql stable
  security definer
  set search_path = ''
  as $$
declare
  v_intent public.payment_intents;
begin
  select * into v_intent from public.payment_intents where id = p_intent_id;
  if v_intent.id is null or p_client_secret is null
     or encode(sha256(convert_to(p_client_secret, 'UTF8')), 'hex') <> v_intent.client_secret_hash then
    perform hazina.raise_error('payment_intent_not_found', jsonb_build_object('payment_intent_id', p_intent_id));
  end if;
  return jsonb_build_object('id', v_intent.id, 'object', 'payment_intent_checkout', 'amount', v_intent.amount::text,
    'currency', v_intent.currency, 'status', v_intent.status, 'capture_method', v_intent.capture_method,
    'amount_received', v_intent.amount_received::text, 'description', v_intent.description,
    'for_customer', v_intent.customer_id is not null,
    'sources', coalesce((select jsonb_agg(jsonb_build_object('type', s.type, 'amount', s.amount::text,
                                                             'funding_status', (select f.status from public.wallet_funding_sessions f
                                                                                 where f.id = s.funding_session_id))
                                          order by s.position)
                           from public.payment_intent_parts s
                          where s.payment_intent_id = v_intent.id and s.attempt = v_intent.confirm_attempt), '[]'::jsonb),
    'last_payment_error', case when v_intent.last_payment_error is not null
                               then jsonb_build_object('code', v_intent.last_payment_error ->> 'code',
                                                       'occurred_at', v_intent.last_payment_error ->> 'occurred_at') end,
    'expires_at', public.api_time(v_intent.expires_at), 'succeeded_at', public.api_time(v_intent.succeeded_at),
    'canceled_at', public.api_time(v_intent.canceled_at), 'created_at', public.api_time(v_intent.created_at),
    'updated_at', public.api_time(v_intent.updated_at));
end
$$;

-- The hold ref of a part: attempt 1 keeps the original form.
create function hazina.payment_intent_part_ref(p_intent_id uuid, p_attempt integer, p_position integer) returns text
  language sql immutable
  set search_path = ''
  as $$ select 'intent:' || p_intent_id || case when p_attempt > 1 then ':attempt:' || p_attempt else '' end
               || ':part:' || p_position $$;

-- The confirm: wallet parts as before; with an M-Pesa part (at most one, and then at most one
-- wallet part, whose wallet the M-Pesa money tops up) the intent goes to processing and the
-- reply names the funding session for the edge to send (`mpesa`). A guest (p_customer_id null,
-- with the client_secret) pays one M-Pesa part, automatic capture only.
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

-- Post the latest attempt's holds up to p_amount and release the rest; returns the capture
-- transaction. Wallet parts only: each hold posted in part order (as before). With an M-Pesa
-- part (then every hold is on one wallet, the customer's): all the holds are released and the
-- amount moves in ONE transfer of the intent's type, in the same transaction, so the intent has
-- one capture transaction (what reconciliation and refunds reverse).
create or replace function hazina.payment_intent_post_parts(p_intent_id uuid, p_amount numeric) returns uuid
  language plpgsql
  set search_path = ''
  as $$
declare
  v_intent public.payment_intents;
  v_part public.payment_intent_parts;
  v_left numeric := p_amount;
  v_tx uuid;
  v_first uuid;
  v_wallet uuid;
begin
  select * into v_intent from public.payment_intents where id = p_intent_id;
  if exists (select 1 from public.payment_intent_parts
              where payment_intent_id = p_intent_id and attempt = v_intent.confirm_attempt and type = 'mpesa') then
    for v_part in select * from public.payment_intent_parts
                   where payment_intent_id = p_intent_id and attempt = v_intent.confirm_attempt order by position loop
      if exists (select 1 from public.wallet_holds where id = v_part.hold_id and status = 'pending' and expires_at <= now()) then
        perform hazina.raise_error('hold_expired', jsonb_build_object('hold_id', v_part.hold_id));
      end if;
      perform hazina.payment_intent_release_hold(v_part.hold_id);
      v_wallet := coalesce(v_wallet, v_part.wallet_id);
    end loop;
    return (hazina.transfer('intent:' || p_intent_id || ':attempt:' || v_intent.confirm_attempt || ':capture', v_wallet,
                            v_intent.payee_wallet_id, p_amount, v_intent.transaction_type,
                            coalesce(v_intent.description, 'Payment'),
                            jsonb_build_object('payment_intent_id', p_intent_id)) ->> 'transaction_id')::uuid;
  end if;
  for v_part in select * from public.payment_intent_parts
                 where payment_intent_id = p_intent_id and attempt = v_intent.confirm_attempt order by position loop
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

-- An attempt failed (a part's money did not come, or could not be held): void every hold of
-- the attempt and go back to requires_confirmation with the error. The caller holds the
-- intent row lock and has checked the attempt is the intent's current, processing one.
create function hazina.payment_intent_fail_attempt(p_intent_id uuid, p_error jsonb) returns void
  language plpgsql
  set search_path = ''
  as $$
declare
  v_part public.payment_intent_parts;
begin
  for v_part in select p.* from public.payment_intent_parts p join public.payment_intents i on i.id = p.payment_intent_id
                 where p.payment_intent_id = p_intent_id and p.attempt = i.confirm_attempt order by p.position loop
    perform hazina.payment_intent_release_hold(v_part.hold_id);
  end loop;
  update public.payment_intents
     set status = 'requires_confirmation', amount_capturable = 0, last_payment_error = p_error, updated_at = now()
   where id = p_intent_id;
end
$$;

-- The intent of a funding session's part, locked, when it still waits for that part's money:
-- processing, on the part's attempt, not past its expiry. Null otherwise.
create function hazina.payment_intent_waiting(p_session_id uuid) returns public.payment_intents
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

-- Where the money of an intent's M-Pesa session goes when the provider confirms it (called by
-- hazina.funding_complete instead of the top-up posting; p_session is locked):
--   signed-in customer: a top-up of their wallet, with no top-up fee (the payment's fee is the
--     merchant's, at capture); the part then joins the intent (hazina.payment_intent_mpesa_arrived).
--   guest, intent waiting: the capture itself, mpesa_clearing → payee less the merchant's fee
--     (catalog / merchant profile of the intent's type, the one rounding rule; capped at the
--     amount: the money has arrived, so it is never refused), and the intent succeeds.
--   guest, nobody waiting: mpesa_clearing → suspense.
create function hazina.payment_intent_mpesa_post(p_session public.wallet_funding_sessions, p_receipt text,
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

-- A signed-in customer's M-Pesa money arrived in their wallet: hold it for the intent like the
-- wallet part, then capture (automatic) or wait for the merchant (manual). When it cannot be
-- held (the wallet was frozen meanwhile, or its balance spent below the part), the attempt
-- fails and the money stays in the wallet. Nobody waiting: nothing to do (a top-up).
create function hazina.payment_intent_mpesa_arrived(p_session_id uuid) returns void
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

-- An intent's funding session changed state: the money arrived (signed-in: join the intent) or
-- will not (failed, cancelled on the phone = M-Pesa 1032, expired = timeout / unknown): the
-- attempt fails, if the intent still waits for it.
create function hazina.payment_intent_funding_changed() returns trigger
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_waiting public.payment_intents;
begin
  if new.status = 'completed' then
    if new.user_id is not null then
      perform hazina.payment_intent_mpesa_arrived(new.id);
    end if;
  elsif new.status in ('failed', 'cancelled', 'expired') and old.status = 'pending' then
    v_waiting := hazina.payment_intent_waiting(new.id);
    if v_waiting.id is not null then
      perform hazina.payment_intent_fail_attempt(v_waiting.id, jsonb_build_object(
        'code', case new.status when 'cancelled' then 'mpesa_cancelled' when 'expired' then 'mpesa_timeout'
                                else 'mpesa_failed' end,
        'details', jsonb_build_object('funding_session_id', new.id, 'provider_code', new.failure_code,
                                      'reason', new.failure_reason),
        'occurred_at', public.api_time(now())));
    end if;
  end if;
  return null;
end
$$;

create trigger wallet_funding_sessions_payment_intent after update of status on public.wallet_funding_sessions
  for each row when (new.payment_intent_id is not null and new.status is distinct from old.status)
  execute function hazina.payment_intent_funding_changed();

-- funding_complete, as before, except that an intent's session posts through
-- hazina.payment_intent_mpesa_post (above) instead of the top-up posting.
create or replace function hazina.funding_complete(p_session_id uuid, p_amount numeric, p_receipt text, p_payer_msisdn text default null)
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
  if v_session.payment_intent_id is not null then
    select * into v_post from hazina.payment_intent_mpesa_post(v_session, p_receipt);
  else
    select * into v_post from hazina.funding_post('funding:' || v_session.id, v_session.provider, v_session.wallet_id,
      v_session.amount, 'Top-up via ' || v_session.provider,
      jsonb_build_object('funding_session_id', v_session.id, 'provider_receipt', p_receipt));
  end if;
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

-- The orphan claim (a success callback naming a checkout id we never learned: our STK request
-- timed out) finds an intent's session too, by the phone the payer typed (it has no source).
create or replace function hazina.funding_orphan_claim(p_provider text, p_checkout_id text, p_msisdn text, p_amount numeric,
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
    left join public.wallet_sources src on src.id = s.source_id
   where s.provider = p_provider and s.status = 'expired' and s.provider_checkout_id is null
     and s.channel = 'stk_push' and s.amount = p_amount and coalesce(src.msisdn, s.payer_msisdn) = p_msisdn
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

revoke execute on all functions in schema hazina from public, anon, authenticated;
grant execute on function hazina.payment_intent_checkout_json(uuid, text) to service_role;

-- migrate:down
drop trigger if exists wallet_funding_sessions_payment_intent on public.wallet_funding_sessions;
drop function if exists hazina.payment_intent_funding_changed();
drop function if exists hazina.payment_intent_mpesa_arrived(uuid);
drop function if exists hazina.payment_intent_mpesa_post(public.wallet_funding_sessions, text);
drop function if exists hazina.payment_intent_waiting(uuid);
drop function if exists hazina.payment_intent_fail_attempt(uuid, jsonb);
drop function if exists hazina.payment_intent_part_ref(uuid, integer, integer);
drop function if exists hazina.payment_intent_checkout_json(uuid, text);
-- The functions as they were (payment_intents, payment_intent_subjects, funding migrations).
create or replace function hazina.funding_orphan_claim(p_provider text, p_checkout_id text, p_msisdn text, p_amount numeric,
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

create or replace function public.payment_intent_json(p public.payment_intents) returns jsonb
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

create or replace function hazina.payment_intent_post_parts(p_intent_id uuid, p_amount numeric) returns uuid
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

create or replace function hazina.funding_complete(p_session_id uuid, p_amount numeric, p_receipt text, p_payer_msisdn text default null)
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

delete from public.payment_intent_parts where type = 'mpesa';
alter table public.wallet_funding_sessions drop constraint wallet_funding_sessions_owner,
  drop constraint wallet_funding_sessions_source;
delete from public.wallet_funding_sessions where payment_intent_id is not null;
alter table public.wallet_funding_sessions
  add constraint wallet_funding_sessions_source check ((channel = 'paybill') = (source_id is null)),
  alter column user_id set not null,
  drop column payment_intent_id;
alter table public.payment_intent_parts drop constraint payment_intent_parts_shape,
  drop constraint payment_intent_parts_attempt_position_key,
  drop constraint payment_intent_parts_type_check,
  add constraint payment_intent_parts_type_check check (type in ('wallet')),
  alter column hold_id set not null, alter column wallet_id set not null,
  drop column funding_session_id, drop column phone, drop column attempt;
alter table public.payment_intent_parts add constraint payment_intent_parts_payment_intent_id_position_key
  unique (payment_intent_id, position);
alter table public.payment_intents drop column confirm_attempt;
