-- migrate:up
-- The checkout page pays codes bound to an invoice, an order or an intent (issue 18,
-- docs/checkout.md "Bound codes"). The page never opens a separate intent for them: it pays
-- the object's own intent.
--   invoice: the invoice's one unpaid intent (reused when it is for the same amount), else a
--            new one by hazina.invoice_pay with the invoice's pay token (which cancels any
--            other unconfirmed one); the amount is the amount due, or a part of it only when
--            the invoice allows partial payment (invoice_pay's rules).
--   order:   the order's own intent (its amount, its payee: escrow when escrowed).
--   intent:  the bound intent.
-- The code is the payer's authority, as a client_secret is: anyone holding the slug may pay the
-- object once. A signed-in payer pays from a wallet (hazina.qr_code_pay_wallet); a guest by
-- M-Pesa (hazina.qr_code_pay_mpesa: the confirm with one M-Pesa part happens here, and the
-- edge sends the STK push after the commit). An intent that is for a customer (an order's, or
-- an intent opened for one) is paid as that customer: from their own wallet when they are
-- signed in, or by M-Pesa, whose money tops up their wallet and pays the intent from it (the
-- payments rule for a customer's M-Pesa part); nobody else's wallet ever pays it.
-- Uses: an intent paid through a code carries the code (payment_intents.qr_code_id); the use
-- is counted once when it succeeds, as for an intent opened for the code. Races: the object's
-- intent is locked (an order's, an intent code's) or taken with SKIP LOCKED under the
-- invoice's lock (an invoice's, as invoice_pay does), so of two payers one pays, and the other
-- is told the payment is under way (qr_code_payment_in_progress) or done (qr_code_already_paid).

-- Which code an intent was paid through, when it is not an intent opened for the code itself.
alter table public.payment_intents add column qr_code_id uuid references public.qr_codes (id);
create index payment_intents_qr_code_id_idx on public.payment_intents (qr_code_id) where qr_code_id is not null;

-- The code an intent counts for: its subject (opened for the code) or the code it was paid through.
create function hazina.payment_intent_qr_code(p public.payment_intents) returns uuid
  language sql immutable
  set search_path = ''
  as $$ select case when p.subject_type = 'qr_code' then p.subject_id else p.qr_code_id end $$;

create or replace function hazina.qr_code_reserve_use() returns trigger
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_code public.qr_codes;
  v_reserved integer;
begin
  select * into v_code from public.qr_codes where id = hazina.payment_intent_qr_code(new) for update;
  if v_code.id is null then
    return new;
  end if;
  perform hazina.qr_code_assert_payable(v_code);
  if v_code.max_uses is not null then
    select count(*) into v_reserved from public.payment_intents
     where ((subject_type = 'qr_code' and subject_id = v_code.id) or qr_code_id = v_code.id) and id <> new.id
       and status in ('processing', 'requires_capture');
    if v_code.use_count + v_reserved >= v_code.max_uses then
      perform hazina.raise_error('qr_code_exhausted', jsonb_build_object('slug', v_code.slug, 'status', 'exhausted'));
    end if;
  end if;
  return new;
end
$$;

create or replace function hazina.qr_code_count_use() returns trigger
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
   where id = hazina.payment_intent_qr_code(new)
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

drop trigger payment_intents_qr_code_reserve on public.payment_intents;
create trigger payment_intents_qr_code_reserve before update of status on public.payment_intents
  for each row when ((new.subject_type = 'qr_code' or new.qr_code_id is not null) and old.status = 'requires_confirmation'
                     and new.status in ('processing', 'requires_capture', 'succeeded'))
  execute function hazina.qr_code_reserve_use();
drop trigger payment_intents_qr_code_use on public.payment_intents;
create trigger payment_intents_qr_code_use after update of status on public.payment_intents
  for each row when ((new.subject_type = 'qr_code' or new.qr_code_id is not null)
                     and new.status = 'succeeded' and old.status <> 'succeeded')
  execute function hazina.qr_code_count_use();

-- An intent code follows its intent, as invoice and order codes follow theirs: disabled once
-- the intent is paid or canceled (expired included).
create function hazina.intent_qr_on_close() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
begin
  perform hazina.qr_code_disable_bound('intent', new.id);
  return null;
end
$$;
create trigger payment_intents_qr_on_close after update of status on public.payment_intents
  for each row when (new.status in ('succeeded', 'canceled') and old.status is distinct from new.status
                     and new.subject_type is null)
  execute function hazina.intent_qr_on_close();

-- Reconciliation: a code's use_count is the number of its succeeded intents, opened for it or
-- paid through it.
create or replace function hazina.reconcile_qr_codes()
  returns table (check_name text, subject text, expected numeric, actual numeric)
  language sql stable
  security definer
  set search_path = ''
  as $$
  select 'qr_code_uses', q.id::text, count(p.id)::numeric, q.use_count::numeric
    from public.qr_codes q
    left join public.payment_intents p on ((p.subject_type = 'qr_code' and p.subject_id = q.id) or p.qr_code_id = q.id)
                                      and p.status = 'succeeded'
   group by q.id, q.use_count
  having count(p.id) <> q.use_count
$$;

-- Where a bound code's object stands: payable, paid (nothing more is due) or closed (void,
-- canceled, expired). Null for static and fixed codes.
create function hazina.qr_code_subject_state(q public.qr_codes) returns text
  language sql stable
  set search_path = ''
  as $$
  select case q.kind
    when 'invoice' then (select case i.status when 'paid' then 'paid' when 'void' then 'closed' else 'payable' end
                           from public.invoices i where i.id = q.invoice_id)
    when 'order' then (select case when o.status = 'pending_payment' then
                                     case when p.status = 'canceled' or (p.status = 'requires_confirmation' and p.expires_at <= now())
                                          then 'closed' else 'payable' end
                                   when o.status = 'canceled' then 'closed' else 'paid' end
                         from public.orders o left join public.payment_intents p on p.id = o.payment_intent_id
                        where o.id = q.order_id)
    when 'intent' then (select case when p.status = 'succeeded' then 'paid'
                                    when p.status = 'canceled' or (p.status = 'requires_confirmation' and p.expires_at <= now())
                                    then 'closed' else 'payable' end
                          from public.payment_intents p where p.id = q.payment_intent_id)
  end
$$;

-- What anyone holding a slug may know (as before), and for a bound code: the amount to pay now
-- (an invoice's amount due, an order's or intent's amount: the object's, never the code's
-- copy), whether the object is payable, paid or closed (a paid or closed object's code shows
-- that, not "disabled"), and for an invoice its number and whether it takes part payments.
create or replace function public.qr_code_resolve(p_slug text) returns jsonb
  language plpgsql stable
  security definer
  set search_path = ''
  as $$
declare
  v_code public.qr_codes;
  v_status text;
  v_name text;
  v_state text;
  v_amount numeric;
  v_minor integer;
  v_invoice public.invoices;
  v_result jsonb;
begin
  if p_slug is null or p_slug !~ '^[a-z2-7]{26}$' then
    return null;
  end if;
  select * into v_code from public.qr_codes where slug = p_slug;
  if v_code.id is null then
    return null;
  end if;
  v_status := hazina.qr_code_effective_status(v_code);
  v_state := hazina.qr_code_subject_state(v_code);
  select coalesce((select a.business_name from public.merchant_applications a
                    where a.user_id = v_code.merchant_id and a.status = 'approved' order by a.created_at desc limit 1),
                  nullif(btrim(u.name), ''), 'Merchant')
    into v_name from public.auth_users u where u.id = v_code.merchant_id;
  if v_status <> 'active' or v_state in ('paid', 'closed') then
    v_result := jsonb_build_object('object', 'qr_checkout', 'slug', v_code.slug, 'status', v_status, 'merchant_name', v_name);
    if v_state is not null then
      v_result := v_result || jsonb_build_object('kind', v_code.kind, 'subject_state', v_state);
    end if;
    return v_result;
  end if;
  select minor_units into v_minor from public.currencies where code = v_code.currency;
  v_amount := case v_code.kind
    when 'invoice' then (select amount_due from public.invoices where id = v_code.invoice_id)
    when 'order' then (select p.amount from public.orders o join public.payment_intents p on p.id = o.payment_intent_id
                        where o.id = v_code.order_id)
    when 'intent' then (select amount from public.payment_intents where id = v_code.payment_intent_id)
    else v_code.amount end;
  v_result := jsonb_build_object('object', 'qr_checkout', 'slug', v_code.slug, 'status', v_status, 'merchant_name', v_name,
                                 'kind', v_code.kind, 'label', v_code.label,
                                 'amount', round(v_amount, v_minor)::text, 'currency', v_code.currency, 'minor_units', v_minor);
  if v_state is not null then
    v_result := v_result || jsonb_build_object('subject_state', v_state);
  end if;
  if v_code.kind = 'invoice' then
    select * into v_invoice from public.invoices where id = v_code.invoice_id;
    v_result := v_result || jsonb_build_object('invoice_number', v_invoice.number,
                                               'allow_partial_payment', v_invoice.allow_partial_payment);
  end if;
  return v_result;
end
$$;

-- The object's intent a payment through a bound code pays, locked, tagged with the code; the
-- refusals say why no payment may start: qr_code_already_paid, qr_code_subject_closed,
-- qr_code_payment_in_progress, then the code's own (disabled, expired). p_amount: only a
-- partial payment of an invoice that allows it (else the object's amount; a different amount
-- is invalid_argument). p_for_customer: the signed-in payer (wallet), null for M-Pesa.
create function hazina.qr_code_bound_intent(p_code public.qr_codes, p_payer_id uuid, p_amount numeric)
  returns public.payment_intents
  language plpgsql
  set search_path = ''
  as $$
declare
  v_invoice public.invoices;
  v_order public.orders;
  v_intent public.payment_intents;
  v_intent_id uuid;
  v_amount numeric;
begin
  if p_code.kind = 'invoice' then
    -- The invoice first (as invoice_pay and void hold it), then its intents with SKIP LOCKED.
    select * into v_invoice from public.invoices where id = p_code.invoice_id for update;
    if v_invoice.status = 'paid' then
      perform hazina.raise_error('qr_code_already_paid', jsonb_build_object('kind', 'invoice', 'status', v_invoice.status));
    elsif v_invoice.status not in ('open', 'uncollectible') then
      perform hazina.raise_error('qr_code_subject_closed', jsonb_build_object('kind', 'invoice', 'status', v_invoice.status));
    end if;
    if exists (select 1 from public.payment_intents
                where subject_type = 'invoice' and subject_id = v_invoice.id and status in ('processing', 'requires_capture')) then
      perform hazina.raise_error('qr_code_payment_in_progress', jsonb_build_object('kind', 'invoice'));
    end if;
    perform hazina.qr_code_assert_payable(p_code);
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
    -- Reuse the one unpaid intent when it pays the same amount and this payer may pay it (one
    -- for nobody in particular, or this payer's; a customer's is paid by M-Pesa as theirs).
    select * into v_intent from public.payment_intents
     where subject_type = 'invoice' and subject_id = v_invoice.id and status = 'requires_confirmation'
       and amount = v_amount and expires_at > now() + interval '5 minutes'
       and (customer_id is null or p_payer_id is null or customer_id = p_payer_id)
     order by created_at desc limit 1
       for update skip locked;
    if v_intent.id is not null then
      perform hazina.invoice_release_intents(v_invoice.id, v_intent.id);
    else
      v_intent_id := (hazina.invoice_pay(null, null, v_amount, v_invoice.pay_token) ->> 'id')::uuid;
      select * into v_intent from public.payment_intents where id = v_intent_id for update;
    end if;
  else
    if p_amount is not null then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'amount', 'reason',
        'the amount is the ' || p_code.kind || '''s'));
    end if;
    if p_code.kind = 'order' then
      select * into v_order from public.orders where id = p_code.order_id;
      v_intent_id := v_order.payment_intent_id;
    else
      v_intent_id := p_code.payment_intent_id;
    end if;
    -- The intent's lock: a second payer waits here, then sees the first one's outcome.
    select * into v_intent from public.payment_intents where id = v_intent_id for update;
    if v_intent.status = 'succeeded' then
      perform hazina.raise_error('qr_code_already_paid', jsonb_build_object('kind', p_code.kind, 'status', v_intent.status));
    elsif v_intent.id is null or v_intent.status = 'canceled' or v_intent.expires_at <= now() then
      perform hazina.raise_error('qr_code_subject_closed', jsonb_build_object('kind', p_code.kind, 'status', v_intent.status));
    elsif v_intent.status <> 'requires_confirmation' then
      perform hazina.raise_error('qr_code_payment_in_progress', jsonb_build_object('kind', p_code.kind));
    end if;
    if p_code.kind = 'order' then
      select * into v_order from public.orders where id = p_code.order_id;
      if v_order.status <> 'pending_payment' then
        perform hazina.raise_error('qr_code_subject_closed', jsonb_build_object('kind', 'order', 'status', v_order.status));
      end if;
    end if;
    perform hazina.qr_code_assert_payable(p_code);
  end if;
  if v_intent.customer_id is not null and p_payer_id is not null and v_intent.customer_id <> p_payer_id then
    perform hazina.raise_error('qr_code_payer_not_customer', jsonb_build_object('kind', p_code.kind));
  end if;
  if v_intent.qr_code_id is distinct from p_code.id then
    update public.payment_intents set qr_code_id = p_code.id where id = v_intent.id returning * into v_intent;
  end if;
  return v_intent;
end
$$;

-- Confirm a bound code's intent on the code's authority. An intent for a customer is
-- confirmed as that customer (who the caller checked is the payer, or nobody: M-Pesa). An
-- intent for nobody is paid by whoever holds its client_secret, of which only the hash is
-- kept: under the intent's lock, the confirm is given a one-time secret for this call and the
-- intent's own secret hash is put back before anything commits (so the merchant's secret
-- still works, and no secret ever leaves the database).
create function hazina.qr_code_confirm_bound(p_intent public.payment_intents, p_payer_id uuid, p_sources jsonb)
  returns jsonb
  language plpgsql
  set search_path = ''
  as $$
declare
  v_secret text;
  v_result jsonb;
begin
  if p_intent.customer_id is not null then
    return hazina.payment_intent_confirm(p_intent.id, p_intent.customer_id, p_sources, null);
  end if;
  v_secret := encode(extensions.gen_random_bytes(24), 'hex');
  update public.payment_intents set client_secret_hash = encode(sha256(convert_to(v_secret, 'UTF8')), 'hex')
   where id = p_intent.id;
  v_result := hazina.payment_intent_confirm(p_intent.id, p_payer_id, p_sources, v_secret);
  update public.payment_intents set client_secret_hash = p_intent.client_secret_hash where id = p_intent.id;
  return v_result;
end
$$;

-- The signed-in payer's wallet payment through a code: static and fixed codes as before (an
-- intent of the code for this attempt); bound codes pay the object's intent.
create or replace function hazina.qr_code_pay_wallet(p_slug text, p_customer_id uuid, p_wallet_id uuid, p_amount numeric,
                                                     p_attempt_ref text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_code public.qr_codes;
  v_opened jsonb;
  v_intent public.payment_intents;
  v_intent_id uuid;
  v_status text;
begin
  if p_customer_id is null then
    perform hazina.raise_error('unauthenticated');
  end if;
  select * into v_code from public.qr_codes where slug = p_slug;
  if v_code.id is not null and v_code.kind in ('invoice', 'order', 'intent') then
    if p_attempt_ref is null or length(p_attempt_ref) not between 8 and 200 then
      perform hazina.raise_error('invalid_ref');
    end if;
    v_intent := hazina.qr_code_bound_intent(v_code, p_customer_id, p_amount);
    return hazina.qr_code_confirm_bound(v_intent, p_customer_id,
      jsonb_build_array(jsonb_build_object('type', 'wallet', 'wallet_id', p_wallet_id, 'amount', v_intent.amount::text)));
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

-- A payer pays a bound code by M-Pesa (a guest: no token). One transaction: the object's intent
-- confirmed with one M-Pesa part of its whole amount (processing, with its funding session);
-- the edge sends the STK push after the commit and the payer polls
-- hazina.qr_code_payment_json. The reply carries the confirm's mpesa block for the edge.
create function hazina.qr_code_pay_mpesa(p_slug text, p_phone text, p_amount numeric) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_code public.qr_codes;
  v_intent public.payment_intents;
  v_result jsonb;
begin
  select * into v_code from public.qr_codes where slug = p_slug;
  if v_code.id is null then
    perform hazina.raise_error('qr_code_not_found', jsonb_build_object('slug', p_slug));
  end if;
  if v_code.kind not in ('invoice', 'order', 'intent') then
    -- Static and fixed codes: POST /checkout/<slug>/pay/mpesa opens the code's own intent.
    perform hazina.raise_error('qr_code_not_bound', jsonb_build_object('kind', v_code.kind));
  end if;
  v_intent := hazina.qr_code_bound_intent(v_code, null, p_amount);
  v_result := hazina.qr_code_confirm_bound(v_intent, null,
    jsonb_build_array(jsonb_build_object('type', 'mpesa', 'phone', p_phone, 'amount', v_intent.amount::text)));
  return hazina.qr_code_payment_json(p_slug, v_intent.id) || jsonb_strip_nulls(jsonb_build_object('mpesa', v_result -> 'mpesa'));
end
$$;

-- A payment through a code, for whoever started it: the slug and the intent's id (which only
-- the payer's answer carried) are the authority, as a client_secret is. Only what the page
-- shows: the amount, the status and the provider's error code. payment_intent_not_found when
-- the intent was not paid through this code.
create function hazina.qr_code_payment_json(p_slug text, p_intent_id uuid) returns jsonb
  language plpgsql stable
  security definer
  set search_path = ''
  as $$
declare
  v_code public.qr_codes;
  v_intent public.payment_intents;
begin
  select * into v_code from public.qr_codes where slug = p_slug;
  select * into v_intent from public.payment_intents where id = p_intent_id;
  if v_code.id is null or v_intent.id is null or hazina.payment_intent_qr_code(v_intent) is distinct from v_code.id then
    perform hazina.raise_error('payment_intent_not_found', jsonb_build_object('payment_intent_id', p_intent_id));
  end if;
  return jsonb_build_object('id', v_intent.id, 'object', 'checkout_payment', 'kind', v_code.kind,
    'amount', v_intent.amount::text, 'currency', v_intent.currency, 'status', v_intent.status,
    'last_payment_error', case when v_intent.last_payment_error is not null
                               then jsonb_build_object('code', v_intent.last_payment_error ->> 'code') end,
    'succeeded_at', public.api_time(v_intent.succeeded_at));
end
$$;

revoke execute on function hazina.payment_intent_qr_code(public.payment_intents), hazina.intent_qr_on_close(),
  hazina.qr_code_subject_state(public.qr_codes), hazina.qr_code_bound_intent(public.qr_codes, uuid, numeric),
  hazina.qr_code_confirm_bound(public.payment_intents, uuid, jsonb), hazina.qr_code_pay_mpesa(text, text, numeric),
  hazina.qr_code_payment_json(text, uuid)
  from public, anon, authenticated;
grant execute on function hazina.qr_code_pay_mpesa(text, text, numeric), hazina.qr_code_payment_json(text, uuid)
  to service_role;

-- migrate:down
drop function hazina.qr_code_payment_json(text, uuid);
drop function hazina.qr_code_pay_mpesa(text, text, numeric);
drop function hazina.qr_code_confirm_bound(public.payment_intents, uuid, jsonb);
drop function hazina.qr_code_bound_intent(public.qr_codes, uuid, numeric);
drop trigger payment_intents_qr_on_close on public.payment_intents;
drop function hazina.intent_qr_on_close();
drop trigger payment_intents_qr_code_use on public.payment_intents;
create trigger payment_intents_qr_code_use after update of status on public.payment_intents
  for each row when (new.subject_type = 'qr_code' and new.status = 'succeeded' and old.status <> 'succeeded')
  execute function hazina.qr_code_count_use();
drop trigger payment_intents_qr_code_reserve on public.payment_intents;
create trigger payment_intents_qr_code_reserve before update of status on public.payment_intents
  for each row when (new.subject_type = 'qr_code' and old.status = 'requires_confirmation'
                     and new.status in ('processing', 'requires_capture', 'succeeded'))
  execute function hazina.qr_code_reserve_use();
-- The functions as 20261124001500 defined them.
create or replace function hazina.qr_code_reserve_use() returns trigger
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

create or replace function hazina.qr_code_count_use() returns trigger
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

create or replace function hazina.reconcile_qr_codes()
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

create or replace function public.qr_code_resolve(p_slug text) returns jsonb
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

create or replace function hazina.qr_code_pay_wallet(p_slug text, p_customer_id uuid, p_wallet_id uuid, p_amount numeric,
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
drop function hazina.qr_code_subject_state(public.qr_codes);
drop function hazina.payment_intent_qr_code(public.payment_intents);
drop index public.payment_intents_qr_code_id_idx;
alter table public.payment_intents drop column qr_code_id;
