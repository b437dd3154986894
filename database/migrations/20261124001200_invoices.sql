-- migrate:up
-- Invoices (docs/invoices.md): a merchant drafts an invoice with items, finalises it (which
-- freezes the items, gives it the next number of the merchant's own gapless sequence and a
-- pay link), and the customer pays it through payment intents (the invoice_payments
-- migration). The states:
--   draft --finalize--> open --(intents cover the total)--> paid
--   draft --delete--> (gone: drafts have no number, so deleting one leaves no gap)
--   open | uncollectible --void (nothing paid)--> void
--   open --mark_uncollectible--> uncollectible --(paid after all)--> paid
--   paid --(a payment refunded)--> open
-- Every transition is one function here, which locks the invoice row, checks the state and
-- raises a stable code; every one writes an event (object_type 'invoice') in its transaction.
--
-- Rounding (the one rule, stated here, in docs/invoices.md and tested with awkward numbers):
-- each line's subtotal = round(quantity × unit_amount, the currency's minor units) and its
-- tax = round(subtotal × tax_rate / 10000, minor units) (tax_rate in basis points: 1600 =
-- 16% VAT), both half away from zero (PostgreSQL's round() on NUMERIC); line total =
-- subtotal + tax; the invoice's subtotal, tax and total are the sums of its lines. Totals
-- are computed here, never taken from the client.

-- Each merchant's invoice numbering: the next number and the prefix. The row is locked FOR
-- UPDATE by the finalising transaction, so numbers are handed out one at a time, and a
-- finalisation that rolls back gives its number back (no gap, no duplicate).
create table public.invoice_sequences (
  merchant_id    uuid primary key references public.auth_users (id),
  number_prefix  text not null default 'INV-' check (number_prefix ~ '^[A-Za-z0-9][A-Za-z0-9/_.-]{0,19}$'),
  next_number    bigint not null default 1 check (next_number >= 1),
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now()
);

create table public.invoices (
  id                       uuid primary key default gen_random_uuid(),
  merchant_id              uuid not null references public.auth_users (id),
  -- The customer: a Hazina user, or an email / phone for someone without an account.
  customer_id              uuid references public.auth_users (id),
  customer_email           text check (customer_email = lower(customer_email) and customer_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'
                                       and length(customer_email) <= 254),
  customer_phone           text check (customer_phone ~ '^\+?[1-9][0-9]{6,14}$'),
  customer_name            text check (length(customer_name) between 1 and 200),
  currency                 char(3) not null default 'KES' references public.currencies (code),
  status                   text not null default 'draft' check (status in ('draft', 'open', 'paid', 'void', 'uncollectible')),
  number                   text,              -- null until finalised
  sequence_number          bigint,            -- the number's place in the merchant's sequence
  due_date                 date,              -- a calendar day in East Africa Time (UTC+3)
  memo                     text check (length(memo) <= 2000),
  subtotal                 numeric(19, 4) not null default 0 check (subtotal >= 0),
  tax                      numeric(19, 4) not null default 0 check (tax >= 0),
  total                    numeric(19, 4) not null default 0 check (total >= 0),
  amount_paid              numeric(19, 4) not null default 0 check (amount_paid >= 0),
  amount_due               numeric(19, 4) not null default 0 check (amount_due >= 0),
  allow_partial_payment    boolean not null default false,
  -- The secret of the pay link (<functions>/invoices/<pay_token>/pay-link), from finalisation on.
  pay_token                text unique check (pay_token ~ '^inv_[0-9a-f]{48}$'),
  payment_attempts         integer not null default 0 check (payment_attempts >= 0),
  metadata                 jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object' and length(metadata::text) <= 16000),
  client_ref               text not null check (length(client_ref) between 1 and 255),
  request_hash             text not null,     -- what the create asked for, to tell a replay from a conflict
  finalized_at             timestamptz,
  paid_at                  timestamptz,
  voided_at                timestamptz,
  marked_uncollectible_at  timestamptz,
  overdue_at               timestamptz,       -- when the overdue job found it past due (once)
  created_at               timestamptz not null default now(),
  updated_at               timestamptz not null default now(),
  unique (merchant_id, client_ref),
  unique (merchant_id, number),
  unique (merchant_id, sequence_number),
  -- A draft is addressed as soon as it is written (hazina.invoice_apply checks it); the
  -- constraint holds the rule for every invoice past draft.
  constraint invoices_customer check (status = 'draft' or customer_id is not null or customer_email is not null
                                      or customer_phone is not null),
  constraint invoices_numbered check ((status = 'draft') = (number is null) and (number is null) = (sequence_number is null)
                                      and (number is null) = (pay_token is null) and (number is null) = (finalized_at is null)),
  constraint invoices_totals check (total = subtotal + tax and amount_paid <= total),
  constraint invoices_due check (amount_due = case when status in ('draft', 'void') then case when status = 'draft' then total else 0 end
                                                   else total - amount_paid end),
  constraint invoices_paid check ((status = 'paid') = (paid_at is not null) and (status <> 'paid' or amount_due = 0)),
  constraint invoices_voided check ((status = 'void') = (voided_at is not null))
);
create index invoices_merchant_idx on public.invoices (merchant_id, created_at, id);
create index invoices_customer_idx on public.invoices (customer_id, created_at, id) where customer_id is not null;
create index invoices_currency_idx on public.invoices (currency);
create index invoices_overdue_idx on public.invoices (due_date) where status = 'open' and overdue_at is null;

create table public.invoice_items (
  id           uuid primary key default gen_random_uuid(),
  invoice_id   uuid not null references public.invoices (id) on delete cascade,
  position     smallint not null check (position between 1 and 100),
  description  text not null check (length(description) between 1 and 500),
  quantity     numeric(19, 4) not null check (quantity > 0 and quantity < 1e9),
  unit_amount  numeric(19, 4) not null check (unit_amount >= 0 and unit_amount < 1e13),
  tax_rate     integer not null default 0 check (tax_rate between 0 and 10000),  -- basis points: 1600 = 16%
  subtotal     numeric(19, 4) not null check (subtotal >= 0),
  tax          numeric(19, 4) not null check (tax >= 0),
  total        numeric(19, 4) not null check (total = subtotal + tax),
  created_at   timestamptz not null default now(),
  unique (invoice_id, position)
);

-- The API shape of an invoice, with its items. The pay link's token is shown to those who
-- see the invoice (its merchant and its customer) once it is open.
create function public.invoice_json(i public.invoices) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', i.id, 'object', 'invoice', 'merchant_id', i.merchant_id, 'number', i.number,
                            'status', i.status,
                            'customer', jsonb_build_object('id', i.customer_id, 'email', i.customer_email,
                                                           'phone', i.customer_phone, 'name', i.customer_name),
                            'currency', i.currency, 'due_date', i.due_date::text, 'memo', i.memo,
                            'subtotal', i.subtotal::text, 'tax', i.tax::text, 'total', i.total::text,
                            'amount_paid', i.amount_paid::text, 'amount_due', i.amount_due::text,
                            'allow_partial_payment', i.allow_partial_payment, 'pay_token', i.pay_token,
                            'overdue', i.overdue_at is not null,
                            'items', coalesce((
                              select jsonb_agg(jsonb_build_object('position', t.position, 'description', t.description,
                                                                  'quantity', t.quantity::text, 'unit_amount', t.unit_amount::text,
                                                                  'tax_rate', t.tax_rate, 'subtotal', t.subtotal::text,
                                                                  'tax', t.tax::text, 'total', t.total::text)
                                               order by t.position)
                                from public.invoice_items t where t.invoice_id = i.id), '[]'::jsonb),
                            'metadata', i.metadata,
                            'finalized_at', public.api_time(i.finalized_at), 'paid_at', public.api_time(i.paid_at),
                            'voided_at', public.api_time(i.voided_at),
                            'marked_uncollectible_at', public.api_time(i.marked_uncollectible_at),
                            'overdue_at', public.api_time(i.overdue_at),
                            'created_at', public.api_time(i.created_at), 'updated_at', public.api_time(i.updated_at))
$$;

create function hazina.invoice_json(p_invoice_id uuid) returns jsonb
  language sql stable
  set search_path = ''
  as $$ select public.invoice_json(i) from public.invoices i where i.id = p_invoice_id $$;

create function public.invoice_sequence_json(s public.invoice_sequences) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('object', 'invoice_settings', 'merchant_id', s.merchant_id, 'number_prefix', s.number_prefix,
                            'next_number', s.next_number, 'updated_at', public.api_time(s.updated_at))
$$;

-- Write one invoice event, with the invoice's shape after the change.
create function hazina.invoice_event(p_invoice_id uuid, p_type text) returns void
  language sql
  set search_path = ''
  as $$
  select hazina.event_emit(i.merchant_id, 'invoice.' || p_type, 'invoice', i.id, public.invoice_json(i))
    from public.invoices i where i.id = p_invoice_id
$$;

-- The invoice, locked, as its merchant sees it; invoice_not_found for anyone else.
create function hazina.invoice_lock(p_invoice_id uuid, p_merchant_id uuid) returns public.invoices
  language plpgsql
  set search_path = ''
  as $$
declare
  v_invoice public.invoices;
begin
  select * into v_invoice from public.invoices
   where id = p_invoice_id and (p_merchant_id is null or merchant_id = p_merchant_id) for update;
  if v_invoice.id is null then
    perform hazina.raise_error('invoice_not_found', jsonb_build_object('invoice_id', p_invoice_id));
  end if;
  return v_invoice;
end
$$;

-- Replace a draft's items by p_items (an array of {description, quantity, unit_amount,
-- tax_rate?}; quantity and unit_amount as decimal strings) and recompute every total by the
-- rounding rule above.
create function hazina.invoice_set_items(p_invoice_id uuid, p_items jsonb) returns void
  language plpgsql
  set search_path = ''
  as $$
declare
  v_invoice public.invoices;
  v_item jsonb;
  v_position integer := 0;
  v_minor smallint;
  v_quantity numeric;
  v_unit numeric;
  v_rate integer;
  v_subtotal numeric;
  v_tax numeric;
begin
  select * into v_invoice from public.invoices where id = p_invoice_id;
  select minor_units into v_minor from public.currencies where code = v_invoice.currency;
  if p_items is null or jsonb_typeof(p_items) <> 'array' or jsonb_array_length(p_items) > 100 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items', 'reason', 'an array of at most 100 items'));
  end if;
  delete from public.invoice_items where invoice_id = p_invoice_id;
  for v_item in select value from jsonb_array_elements(p_items) loop
    v_position := v_position + 1;
    if jsonb_typeof(v_item) <> 'object' or jsonb_typeof(v_item -> 'description') is distinct from 'string'
       or length(v_item ->> 'description') not between 1 and 500 then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items.description', 'position', v_position,
        'reason', '1 to 500 characters'));
    end if;
    if jsonb_typeof(v_item -> 'quantity') is distinct from 'string' or v_item ->> 'quantity' !~ '^[0-9]{1,9}(\.[0-9]{1,4})?$'
       or (v_item ->> 'quantity')::numeric <= 0 then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items.quantity', 'position', v_position,
        'reason', 'a positive decimal string with at most 4 decimals, e.g. "1" or "0.333"'));
    end if;
    if jsonb_typeof(v_item -> 'unit_amount') is distinct from 'string' or v_item ->> 'unit_amount' !~ '^[0-9]{1,12}(\.[0-9]{1,4})?$' then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items.unit_amount', 'position', v_position,
        'reason', 'a decimal string with at most 4 decimals, e.g. "1250.00"'));
    end if;
    if v_item ? 'tax_rate' and (jsonb_typeof(v_item -> 'tax_rate') is distinct from 'number'
       or (v_item ->> 'tax_rate') !~ '^[0-9]{1,5}$' or (v_item ->> 'tax_rate')::integer > 10000) then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items.tax_rate', 'position', v_position,
        'reason', 'basis points, 0 to 10000 (1600 = 16%)'));
    end if;
    v_quantity := (v_item ->> 'quantity')::numeric;
    v_unit := (v_item ->> 'unit_amount')::numeric;
    v_rate := coalesce((v_item ->> 'tax_rate')::integer, 0);
    -- The rounding rule: half away from zero, to the currency's minor units, per line.
    v_subtotal := round(v_quantity * v_unit, v_minor);
    v_tax := round(v_subtotal * v_rate / 10000, v_minor);
    if v_subtotal + v_tax >= 1e15 then
      perform hazina.raise_error('invalid_amount', jsonb_build_object('currency', v_invoice.currency, 'position', v_position));
    end if;
    insert into public.invoice_items (invoice_id, position, description, quantity, unit_amount, tax_rate, subtotal, tax, total)
    values (p_invoice_id, v_position, v_item ->> 'description', v_quantity, v_unit, v_rate, v_subtotal, v_tax, v_subtotal + v_tax);
  end loop;
  update public.invoices i
     set subtotal = s.subtotal, tax = s.tax, total = s.subtotal + s.tax, amount_due = s.subtotal + s.tax, updated_at = now()
    from (select coalesce(sum(subtotal), 0) as subtotal, coalesce(sum(tax), 0) as tax
            from public.invoice_items where invoice_id = p_invoice_id) s
   where i.id = p_invoice_id;
  if (select total from public.invoices where id = p_invoice_id) >= 1e15 then
    perform hazina.raise_error('invalid_amount', jsonb_build_object('currency', v_invoice.currency));
  end if;
end
$$;

-- Apply the fields a create or an update names (a key present = set it) to a draft.
create function hazina.invoice_apply(p_invoice_id uuid, p_fields jsonb) returns void
  language plpgsql
  set search_path = ''
  as $$
declare
  v_invoice public.invoices;
  v_unknown text;
begin
  if p_fields is null or jsonb_typeof(p_fields) <> 'object' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'body', 'reason', 'an object'));
  end if;
  select k into v_unknown from jsonb_object_keys(p_fields) k
   where k not in ('customer_id', 'customer_email', 'customer_phone', 'customer_name', 'currency', 'due_date', 'memo',
                   'allow_partial_payment', 'metadata', 'items') limit 1;
  if v_unknown is not null then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', v_unknown, 'reason', 'not an invoice field'));
  end if;
  select * into v_invoice from public.invoices where id = p_invoice_id;
  if p_fields ? 'currency' then
    if not exists (select 1 from public.currencies where code = p_fields ->> 'currency') then
      perform hazina.raise_error('currency_not_supported', jsonb_build_object('currency', p_fields ->> 'currency'));
    end if;
    v_invoice.currency := p_fields ->> 'currency';
  end if;
  if p_fields ? 'customer_id' then
    if p_fields ->> 'customer_id' is not null then
      if p_fields ->> 'customer_id' !~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
         or not exists (select 1 from public.auth_users where id = (p_fields ->> 'customer_id')::uuid) then
        perform hazina.raise_error('customer_not_found', jsonb_build_object('customer_id', p_fields ->> 'customer_id'));
      end if;
      if (p_fields ->> 'customer_id')::uuid = v_invoice.merchant_id then
        perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'customer_id', 'reason', 'a merchant cannot invoice itself'));
      end if;
    end if;
    v_invoice.customer_id := (p_fields ->> 'customer_id')::uuid;
  end if;
  if p_fields ? 'customer_email' then
    if p_fields ->> 'customer_email' is not null and (lower(p_fields ->> 'customer_email') !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'
       or length(p_fields ->> 'customer_email') > 254) then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'customer_email', 'reason', 'an email address'));
    end if;
    v_invoice.customer_email := lower(p_fields ->> 'customer_email');
  end if;
  if p_fields ? 'customer_phone' then
    if p_fields ->> 'customer_phone' !~ '^\+?[1-9][0-9]{6,14}$' then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'customer_phone', 'reason', 'a phone number such as +254712345678'));
    end if;
    v_invoice.customer_phone := p_fields ->> 'customer_phone';
  end if;
  if p_fields ? 'customer_name' then
    if length(p_fields ->> 'customer_name') not between 1 and 200 then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'customer_name', 'reason', '1 to 200 characters'));
    end if;
    v_invoice.customer_name := p_fields ->> 'customer_name';
  end if;
  if p_fields ? 'due_date' then
    if p_fields ->> 'due_date' !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'due_date', 'reason', 'a date, YYYY-MM-DD'));
    end if;
    begin
      v_invoice.due_date := (p_fields ->> 'due_date')::date;
    exception when others then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'due_date', 'reason', 'a date, YYYY-MM-DD'));
    end;
  end if;
  if p_fields ? 'memo' then
    if length(p_fields ->> 'memo') > 2000 then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'memo', 'reason', 'at most 2000 characters'));
    end if;
    v_invoice.memo := p_fields ->> 'memo';
  end if;
  if p_fields ? 'allow_partial_payment' then
    if jsonb_typeof(p_fields -> 'allow_partial_payment') <> 'boolean' then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'allow_partial_payment', 'reason', 'true or false'));
    end if;
    v_invoice.allow_partial_payment := (p_fields ->> 'allow_partial_payment')::boolean;
  end if;
  if p_fields ? 'metadata' then
    if jsonb_typeof(p_fields -> 'metadata') <> 'object' or length((p_fields -> 'metadata')::text) > 16000 then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'metadata', 'reason', 'an object of at most 16000 characters'));
    end if;
    v_invoice.metadata := p_fields -> 'metadata';
  end if;
  if v_invoice.customer_id is null and v_invoice.customer_email is null and v_invoice.customer_phone is null then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'customer_id',
      'reason', 'an invoice is addressed to a customer: customer_id, customer_email or customer_phone'));
  end if;
  -- The merchant is paid into its merchant wallet of the currency: it must have one.
  if not exists (select 1 from public.wallets where user_id = v_invoice.merchant_id and currency = v_invoice.currency
                                               and kind = 'merchant' and status = 'active') then
    perform hazina.raise_error('merchant_wallet_required', jsonb_build_object('currency', v_invoice.currency));
  end if;
  update public.invoices
     set customer_id = v_invoice.customer_id, customer_email = v_invoice.customer_email,
         customer_phone = v_invoice.customer_phone, customer_name = v_invoice.customer_name, currency = v_invoice.currency,
         due_date = v_invoice.due_date, memo = v_invoice.memo, allow_partial_payment = v_invoice.allow_partial_payment,
         metadata = v_invoice.metadata, updated_at = now()
   where id = p_invoice_id;
  -- Items are recomputed when they change and when the currency does (its minor units).
  if p_fields ? 'items' or p_fields ? 'currency' then
    perform hazina.invoice_set_items(p_invoice_id, coalesce(p_fields -> 'items', (
      select coalesce(jsonb_agg(jsonb_build_object('description', t.description, 'quantity', t.quantity::text,
                                                   'unit_amount', t.unit_amount::text, 'tax_rate', t.tax_rate)
                                order by t.position), '[]'::jsonb)
        from public.invoice_items t where t.invoice_id = p_invoice_id)));
  end if;
end
$$;

-- A merchant drafts an invoice. Idempotent by (merchant, client_ref): the same request
-- returns the same invoice (created: false); a different one is ref_conflict.
create function hazina.invoice_create(p_merchant_id uuid, p_fields jsonb, p_client_ref text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_existing public.invoices;
  v_id uuid := gen_random_uuid();
  v_hash text := encode(sha256(convert_to(coalesce(p_fields, 'null'::jsonb)::text, 'UTF8')), 'hex');
begin
  if p_client_ref is null or length(p_client_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref');
  end if;
  select * into v_existing from public.invoices where merchant_id = p_merchant_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.request_hash <> v_hash then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_client_ref));
    end if;
    return public.invoice_json(v_existing) || jsonb_build_object('created', false);
  end if;
  insert into public.invoices (id, merchant_id, client_ref, request_hash)
  values (v_id, p_merchant_id, p_client_ref, v_hash)
  on conflict (merchant_id, client_ref) do nothing;
  if not found then
    raise exception using errcode = '40001', message = 'concurrent duplicate invoice; retry';
  end if;
  perform hazina.invoice_apply(v_id, coalesce(p_fields, '{}'::jsonb) ||
    case when p_fields ? 'items' then '{}'::jsonb else '{"items": []}'::jsonb end);
  perform hazina.invoice_event(v_id, 'created');
  return hazina.invoice_json(v_id) || jsonb_build_object('created', true);
end
$$;

create function public.invoice_create(p_fields jsonb, p_client_ref text) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.invoice_create(hazina.caller_id(), p_fields, p_client_ref) $$;

-- Change a draft (only a draft can be edited).
create function hazina.invoice_update(p_invoice_id uuid, p_merchant_id uuid, p_fields jsonb) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_invoice public.invoices := hazina.invoice_lock(p_invoice_id, p_merchant_id);
begin
  if v_invoice.status <> 'draft' then
    perform hazina.raise_error('invoice_not_draft', jsonb_build_object('invoice_id', p_invoice_id, 'status', v_invoice.status));
  end if;
  perform hazina.invoice_apply(p_invoice_id, p_fields);
  perform hazina.invoice_event(p_invoice_id, 'updated');
  return hazina.invoice_json(p_invoice_id);
end
$$;

create function public.invoice_update(p_invoice_id uuid, p_fields jsonb) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.invoice_update(p_invoice_id, hazina.caller_id(), p_fields) $$;

-- Delete a draft (it has no number, so no gap). Returns its last shape, marked deleted.
create function hazina.invoice_delete(p_invoice_id uuid, p_merchant_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_invoice public.invoices := hazina.invoice_lock(p_invoice_id, p_merchant_id);
  v_json jsonb;
begin
  if v_invoice.status <> 'draft' then
    perform hazina.raise_error('invoice_not_draft', jsonb_build_object('invoice_id', p_invoice_id, 'status', v_invoice.status));
  end if;
  v_json := hazina.invoice_json(p_invoice_id) || jsonb_build_object('deleted', true);
  perform hazina.event_emit(v_invoice.merchant_id, 'invoice.deleted', 'invoice', p_invoice_id, v_json);
  delete from public.invoices where id = p_invoice_id;
  return v_json;
end
$$;

create function public.invoice_delete(p_invoice_id uuid) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.invoice_delete(p_invoice_id, hazina.caller_id()) $$;

-- The merchant's numbering (created with the defaults on first use).
create function hazina.invoice_sequence_get(p_merchant_id uuid) returns jsonb
  language sql
  security definer
  set search_path = ''
  as $$
  insert into public.invoice_sequences (merchant_id) values (p_merchant_id) on conflict do nothing;
  select public.invoice_sequence_json(s) from public.invoice_sequences s where s.merchant_id = p_merchant_id;
$$;

create function public.invoice_settings() returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.invoice_sequence_get(hazina.caller_id()) $$;

-- Change the prefix of the numbers still to come (issued numbers keep theirs; the count
-- goes on, so a new prefix never restarts at 1 and never repeats a number).
create function hazina.invoice_settings_update(p_merchant_id uuid, p_number_prefix text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  if p_number_prefix is null or p_number_prefix !~ '^[A-Za-z0-9][A-Za-z0-9/_.-]{0,19}$' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'number_prefix',
      'reason', '1 to 20 letters, digits or / _ . -, starting with a letter or digit'));
  end if;
  if not exists (select 1 from public.wallets where user_id = p_merchant_id and kind = 'merchant') then
    perform hazina.raise_error('merchant_wallet_required', jsonb_build_object());
  end if;
  insert into public.invoice_sequences as s (merchant_id, number_prefix) values (p_merchant_id, p_number_prefix)
  on conflict (merchant_id) do update set number_prefix = excluded.number_prefix, updated_at = now();
  return hazina.invoice_sequence_get(p_merchant_id);
end
$$;

create function public.invoice_settings_update(p_number_prefix text) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.invoice_settings_update(hazina.caller_id(), p_number_prefix) $$;

-- Finalise a draft: freeze it, number it (the merchant's counter row is locked until this
-- transaction ends, so concurrent finalisations take consecutive numbers and a rollback
-- gives its number back), give it its pay link, and make it payable. No due date: net 30.
create function hazina.invoice_finalize(p_invoice_id uuid, p_merchant_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_invoice public.invoices := hazina.invoice_lock(p_invoice_id, p_merchant_id);
  v_sequence public.invoice_sequences;
begin
  if v_invoice.status <> 'draft' then
    perform hazina.raise_error('invoice_not_draft', jsonb_build_object('invoice_id', p_invoice_id, 'status', v_invoice.status));
  end if;
  if v_invoice.total <= 0 then
    perform hazina.raise_error('invoice_empty', jsonb_build_object('invoice_id', p_invoice_id));
  end if;
  if not exists (select 1 from public.wallets where user_id = v_invoice.merchant_id and currency = v_invoice.currency
                                               and kind = 'merchant' and status = 'active') then
    perform hazina.raise_error('merchant_wallet_required', jsonb_build_object('currency', v_invoice.currency));
  end if;
  insert into public.invoice_sequences (merchant_id) values (v_invoice.merchant_id) on conflict do nothing;
  select * into v_sequence from public.invoice_sequences where merchant_id = v_invoice.merchant_id for update;
  update public.invoice_sequences set next_number = next_number + 1, updated_at = now()
   where merchant_id = v_invoice.merchant_id;
  update public.invoices
     set status = 'open', sequence_number = v_sequence.next_number,
         number = v_sequence.number_prefix || case when v_sequence.next_number < 1000000
                                                   then lpad(v_sequence.next_number::text, 6, '0')
                                                   else v_sequence.next_number::text end,
         pay_token = 'inv_' || encode(extensions.gen_random_bytes(24), 'hex'),
         due_date = coalesce(due_date, (hazina.clock() at time zone 'Africa/Nairobi')::date + 30),
         amount_due = total, finalized_at = hazina.clock(), updated_at = now()
   where id = p_invoice_id;
  perform hazina.invoice_event(p_invoice_id, 'finalized');
  return hazina.invoice_json(p_invoice_id);
end
$$;

create function public.invoice_finalize(p_invoice_id uuid) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.invoice_finalize(p_invoice_id, hazina.caller_id()) $$;

-- Mark an open invoice uncollectible (it can still be paid, or voided while nothing is paid).
create function hazina.invoice_mark_uncollectible(p_invoice_id uuid, p_merchant_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_invoice public.invoices := hazina.invoice_lock(p_invoice_id, p_merchant_id);
begin
  if v_invoice.status = 'uncollectible' then
    return hazina.invoice_json(p_invoice_id);
  end if;
  if v_invoice.status <> 'open' then
    perform hazina.raise_error('invoice_not_open', jsonb_build_object('invoice_id', p_invoice_id, 'status', v_invoice.status));
  end if;
  update public.invoices set status = 'uncollectible', marked_uncollectible_at = hazina.clock(), updated_at = now()
   where id = p_invoice_id;
  perform hazina.invoice_event(p_invoice_id, 'marked_uncollectible');
  return hazina.invoice_json(p_invoice_id);
end
$$;

create function public.invoice_mark_uncollectible(p_invoice_id uuid) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.invoice_mark_uncollectible(p_invoice_id, hazina.caller_id()) $$;

-- Row level security: the merchant reads its invoices (drafts included) and its numbering;
-- the customer an invoice is addressed to reads it once it is finalised (never a draft);
-- nobody else; anon nothing. Nobody writes directly: the functions above do.
alter table public.invoice_sequences enable row level security;
alter table public.invoices enable row level security;
alter table public.invoice_items enable row level security;
revoke all on table public.invoice_sequences, public.invoices, public.invoice_items from public, anon, authenticated;
grant select on table public.invoice_sequences, public.invoices, public.invoice_items to authenticated, service_role;
create policy "merchant reads own invoice numbering" on public.invoice_sequences
  for select to authenticated using (merchant_id = auth.uid());
create policy "merchant or addressed customer reads invoices" on public.invoices
  for select to authenticated using (merchant_id = auth.uid() or (customer_id = auth.uid() and status <> 'draft'));
create policy "merchant or addressed customer reads invoice items" on public.invoice_items
  for select to authenticated using (exists (
    select 1 from public.invoices i
     where i.id = invoice_id and (i.merchant_id = auth.uid() or (i.customer_id = auth.uid() and i.status <> 'draft'))));

create trigger invoice_sequences_audit after insert or update on public.invoice_sequences
  for each row execute function hazina.audit_row_change();

revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function
  public.invoice_create(jsonb, text), public.invoice_update(uuid, jsonb), public.invoice_delete(uuid),
  public.invoice_finalize(uuid), public.invoice_mark_uncollectible(uuid), public.invoice_settings(),
  public.invoice_settings_update(text), public.invoice_json(public.invoices),
  public.invoice_sequence_json(public.invoice_sequences)
  from public, anon;
grant execute on function
  public.invoice_create(jsonb, text), public.invoice_update(uuid, jsonb), public.invoice_delete(uuid),
  public.invoice_finalize(uuid), public.invoice_mark_uncollectible(uuid), public.invoice_settings(),
  public.invoice_settings_update(text)
  to authenticated;
grant execute on function public.invoice_json(public.invoices), public.invoice_sequence_json(public.invoice_sequences)
  to authenticated, service_role;
grant execute on function hazina.invoice_json(uuid), hazina.invoice_create(uuid, jsonb, text),
  hazina.invoice_update(uuid, uuid, jsonb), hazina.invoice_delete(uuid, uuid), hazina.invoice_finalize(uuid, uuid),
  hazina.invoice_mark_uncollectible(uuid, uuid), hazina.invoice_sequence_get(uuid),
  hazina.invoice_settings_update(uuid, text) to service_role;

-- migrate:down
drop function if exists public.invoice_mark_uncollectible(uuid);
drop function if exists hazina.invoice_mark_uncollectible(uuid, uuid);
drop function if exists public.invoice_finalize(uuid);
drop function if exists hazina.invoice_finalize(uuid, uuid);
drop function if exists public.invoice_settings_update(text);
drop function if exists hazina.invoice_settings_update(uuid, text);
drop function if exists public.invoice_settings();
drop function if exists hazina.invoice_sequence_get(uuid);
drop function if exists public.invoice_delete(uuid);
drop function if exists hazina.invoice_delete(uuid, uuid);
drop function if exists public.invoice_update(uuid, jsonb);
drop function if exists hazina.invoice_update(uuid, uuid, jsonb);
drop function if exists public.invoice_create(jsonb, text);
drop function if exists hazina.invoice_create(uuid, jsonb, text);
drop function if exists hazina.invoice_apply(uuid, jsonb);
drop function if exists hazina.invoice_set_items(uuid, jsonb);
drop function if exists hazina.invoice_lock(uuid, uuid);
drop function if exists hazina.invoice_event(uuid, text);
drop function if exists public.invoice_sequence_json(public.invoice_sequences);
drop function if exists hazina.invoice_json(uuid);
drop function if exists public.invoice_json(public.invoices);
drop table if exists public.invoice_items;
drop table if exists public.invoices;
drop table if exists public.invoice_sequences;
