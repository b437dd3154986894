-- migrate:up
-- QR codes: a foreign key per bound kind (issue 18, docs/checkout.md). The bound object was
-- one untyped subject_id; now an invoice code references its invoice (invoice_id), an order
-- code its order (order_id), an intent code its payment intent (payment_intent_id), and a
-- CHECK says exactly the column of the code's kind is set (none for static and fixed codes).
-- subject_id stays, as a generated column (whichever of the three is set), so the API's
-- subject_id field and filter read as before. Existing rows are migrated.

alter table public.qr_codes
  add column invoice_id uuid references public.invoices (id),
  add column order_id uuid references public.orders (id),
  add column payment_intent_id uuid references public.payment_intents (id);

update public.qr_codes set invoice_id = subject_id where kind = 'invoice';
update public.qr_codes set order_id = subject_id where kind = 'order';
update public.qr_codes set payment_intent_id = subject_id where kind = 'intent';

alter table public.qr_codes drop constraint qr_codes_subject;
alter table public.qr_codes drop column subject_id;
alter table public.qr_codes
  add column subject_id uuid generated always as (coalesce(invoice_id, order_id, payment_intent_id)) stored,
  add constraint qr_codes_subject check ((invoice_id is not null) = (kind = 'invoice')
                                         and (order_id is not null) = (kind = 'order')
                                         and (payment_intent_id is not null) = (kind = 'intent'));

-- One index per foreign key (tests/database/03_foreign_key_indexes.test.sql); most codes are
-- static or fixed, so partial. An invoice or order has at most one code (its ref), an intent
-- may be bound by several of its merchant's codes.
create index qr_codes_invoice_idx on public.qr_codes (invoice_id) where invoice_id is not null;
create index qr_codes_order_idx on public.qr_codes (order_id) where order_id is not null;
create index qr_codes_payment_intent_idx on public.qr_codes (payment_intent_id) where payment_intent_id is not null;

-- The creator fills the column of its kind, and checks the bound object is the merchant's
-- (an unknown id is the object's not-found code, never a foreign-key error). An intent code
-- binds one of the merchant's own intents with no subject of its own (an invoice's or order's
-- intent is paid through that object's code), still requires_confirmation; its amount and
-- currency are the intent's (an amount in the request is refused).
create or replace function hazina.qr_code_create(p_merchant_id uuid, p_kind text, p_label text, p_amount numeric, p_currency text,
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
       or (v_existing.currency <> v_currency and p_kind <> 'intent') or v_existing.subject_id is distinct from p_subject_id
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
    select * into v_intent from public.payment_intents where id = p_subject_id and merchant_id = p_merchant_id;
    if v_intent.id is null then
      perform hazina.raise_error('payment_intent_not_found', jsonb_build_object('payment_intent_id', p_subject_id));
    end if;
    if v_intent.status <> 'requires_confirmation' or v_intent.expires_at <= now() then
      perform hazina.raise_error('intent_not_confirmable', jsonb_build_object('payment_intent_id', p_subject_id, 'status', v_intent.status));
    end if;
    if v_intent.subject_type is not null then
      perform hazina.raise_error('qr_code_intent_has_subject', jsonb_build_object('payment_intent_id', p_subject_id,
        'subject_type', v_intent.subject_type));
    end if;
    if p_amount is not null then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'amount', 'reason', 'an intent code''s amount is its intent''s'));
    end if;
    v_amount := v_intent.amount;
    v_currency := v_intent.currency;
  elsif p_kind = 'invoice' then
    if not exists (select 1 from public.invoices where id = p_subject_id and merchant_id = p_merchant_id) then
      perform hazina.raise_error('invoice_not_found', jsonb_build_object('invoice_id', p_subject_id));
    end if;
  elsif p_kind = 'order' then
    if not exists (select 1 from public.orders where id = p_subject_id and merchant_id = p_merchant_id) then
      perform hazina.raise_error('order_not_found', jsonb_build_object('order_id', p_subject_id));
    end if;
  end if;
  if p_kind = 'static' then
    if p_amount is not null then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'amount', 'reason', 'a static code has no amount: the payer types it'));
    end if;
  elsif v_amount is null then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'amount', 'reason', 'required for a ' || p_kind || ' code'));
  end if;
  if not exists (select 1 from public.currencies where code = v_currency) then
    perform hazina.raise_error('currency_not_supported', jsonb_build_object('currency', v_currency));
  end if;
  if v_amount is not null then
    perform hazina.assert_valid_amount(v_amount, v_currency);
  end if;
  if not exists (select 1 from public.wallets where user_id = p_merchant_id and currency = v_currency
                                                  and kind = 'merchant' and status = 'active') then
    perform hazina.raise_error('merchant_wallet_required', jsonb_build_object('currency', v_currency));
  end if;
  insert into public.qr_codes (id, merchant_id, kind, slug, label, amount, currency, invoice_id, order_id, payment_intent_id,
                               expires_at, max_uses, client_ref)
  values (v_id, p_merchant_id, p_kind, hazina.qr_code_slug(), p_label, v_amount, v_currency,
          case when p_kind = 'invoice' then p_subject_id end, case when p_kind = 'order' then p_subject_id end,
          case when p_kind = 'intent' then p_subject_id end, p_expires_at, p_max_uses, p_client_ref)
  on conflict (merchant_id, client_ref) do nothing;
  if not found then
    raise exception using errcode = '40001', message = 'concurrent duplicate qr code; retry';
  end if;
  perform hazina.event_emit(p_merchant_id, 'qr_code.created', 'qr_code', v_id, hazina.qr_code_json(v_id));
  return hazina.qr_code_json(v_id) || jsonb_build_object('created', true);
end
$$;

-- The bound lookups by the typed columns (their indexes).
create or replace function public.qr_code_for(p_kind text, p_subject_id uuid) returns jsonb
  language sql stable security invoker set search_path = ''
  as $$ select public.qr_code_json(q) from public.qr_codes q
         where (p_kind = 'invoice' and q.invoice_id = p_subject_id) or (p_kind = 'order' and q.order_id = p_subject_id)
         order by q.created_at limit 1 $$;

create or replace function hazina.qr_code_disable_bound(p_kind text, p_subject_id uuid) returns void
  language plpgsql security definer set search_path = ''
  as $$
declare
  v_code public.qr_codes;
begin
  for v_code in select * from public.qr_codes
                 where ((p_kind = 'invoice' and invoice_id = p_subject_id) or (p_kind = 'order' and order_id = p_subject_id)
                        or (p_kind = 'intent' and payment_intent_id = p_subject_id))
                   and status = 'active'
                 order by id for update loop
    update public.qr_codes set status = 'disabled', updated_at = now() where id = v_code.id;
    perform hazina.event_emit(v_code.merchant_id, 'qr_code.disabled', 'qr_code', v_code.id, hazina.qr_code_json(v_code.id));
  end loop;
end
$$;

revoke execute on function hazina.qr_code_disable_bound(text, uuid) from public, anon, authenticated;

-- migrate:down
create or replace function hazina.qr_code_disable_bound(p_kind text, p_subject_id uuid) returns void
  language plpgsql security definer set search_path = ''
  as $$
declare
  v_code public.qr_codes;
begin
  for v_code in select * from public.qr_codes where kind = p_kind and subject_id = p_subject_id and status = 'active'
                   order by id for update loop
    update public.qr_codes set status = 'disabled', updated_at = now() where id = v_code.id;
    perform hazina.event_emit(v_code.merchant_id, 'qr_code.disabled', 'qr_code', v_code.id, hazina.qr_code_json(v_code.id));
  end loop;
end
$$;
create or replace function public.qr_code_for(p_kind text, p_subject_id uuid) returns jsonb
  language sql stable security invoker set search_path = ''
  as $$ select public.qr_code_json(q) from public.qr_codes q
         where q.kind = p_kind and q.subject_id = p_subject_id and p_kind in ('invoice', 'order')
         order by q.created_at limit 1 $$;
alter table public.qr_codes drop constraint qr_codes_subject;
alter table public.qr_codes drop column subject_id;
alter table public.qr_codes add column subject_id uuid;
update public.qr_codes set subject_id = coalesce(invoice_id, order_id, payment_intent_id);
alter table public.qr_codes
  add constraint qr_codes_subject check ((kind in ('invoice', 'order', 'intent')) = (subject_id is not null)),
  drop column invoice_id, drop column order_id, drop column payment_intent_id;
-- The creator as 20261124001500 defined it.
create or replace function hazina.qr_code_create(p_merchant_id uuid, p_kind text, p_label text, p_amount numeric, p_currency text,
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
