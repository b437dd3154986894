-- migrate:up
-- Shops, products and orders (docs/commerce.md, COMMERCE model): the tables, their row level
-- security, and placing an order. The order's state machine, goods escrow and disputes are
-- the next migrations of this capability (*_1310_order_transitions.sql, *_1320_goods_escrow.sql).
--
--   shop:    active <-> suspended (the merchant's switch; a suspended shop sells nothing and
--            is invisible to everyone but its merchant)
--   product: active or not; stock null = unlimited, else the units left to sell
--   order:   pending_payment --intent succeeded--> paid --dispatch--> fulfilled --deliver / confirm--> completed
--            pending_payment --cancel / intent canceled or expired--> canceled (stock released)
--            paid --merchant cancels--> canceled (full refund, stock released)
--            paid | fulfilled | completed --refunds reaching the total--> refunded
--   (orders_status_known is a named CHECK so a later capability, installments, can widen it.)
--
-- Placing an order (hazina.order_place) prices it from the database (never the client),
-- snapshots every line into order_items (an order never changes when its product later
-- does), and reserves stock with one conditional update per product in product id order:
-- `stock = stock - q where stock >= q`. Concurrent orders for the same product queue on
-- that row; each sees the stock the previous one left, so the stock never goes below zero
-- and exactly as many orders as there are units succeed (the others: out_of_stock). Locking
-- in id order means two multi-product orders can never deadlock. Paying is a separate step
-- (hazina.order_open_payment: the order's payment intent, into the merchant's wallet or the
-- escrow system wallet), so a capability that pays an order otherwise (installments) reuses
-- the pricing and reservation alone. hazina.order_create is both, for POST /orders.
--
-- Rounding: none is needed. Prices are stored at the currency's minor unit (checked by
-- hazina.assert_valid_amount), quantities are whole numbers, so every line total
-- (unit_price × quantity) and the order total (their sum) are exact.

insert into public.transaction_types (code, fee_payer, description) values
  ('order_payment', 'receiver',
   'A customer pays a shop order straight into the merchant''s wallet (through its payment intent): '
   'the merchant bears the fee, out of what it receives.'),
  ('escrow_funding', 'receiver',
   'A customer pays an escrowed order into the escrow system wallet (through its payment intent). '
   'Never priced: the fee is charged once, when the escrow is released (escrow_release).'),
  ('escrow_release', 'receiver',
   'Goods escrow pays the merchant (buyer confirmed receipt, auto-release, or an admin''s resolution): '
   'the merchant bears the escrow_release fee, out of what it receives.');

-- Escrow funding is unpriced by construction: its receiver is a system wallet (no user, so no
-- merchant profile applies) and the catalog may not price it (a fee would be charged to the
-- escrow wallet itself, which holds only buyers' money).
alter table public.billing_fee_catalog add constraint billing_fee_catalog_escrow_funding_unpriced
  check (transaction_type::text <> 'escrow_funding');
alter table public.merchant_fee_profiles add constraint merchant_fee_profiles_escrow_funding_unpriced
  check (transaction_type::text <> 'escrow_funding');

create table public.shops (
  id                 uuid primary key default gen_random_uuid(),
  merchant_id        uuid not null references public.auth_users (id),
  name               text not null check (length(name) between 1 and 120),
  -- The storefront's address: lower-case letters, digits and inner hyphens, unique.
  slug               text not null unique check (slug ~ '^[a-z0-9]([a-z0-9-]{0,58}[a-z0-9])?$'),
  description        text check (length(description) <= 2000),
  currency           char(3) not null default 'KES' references public.currencies (code),
  status             text not null default 'active' constraint shops_status_known check (status in ('active', 'suspended')),
  -- none: orders pay the merchant; optional: the buyer chooses; required: every order is escrowed.
  escrow_policy      text not null default 'optional' check (escrow_policy in ('none', 'optional', 'required')),
  auto_release_days  integer not null default 7 check (auto_release_days between 1 and 60),
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now()
);
create index shops_merchant_idx on public.shops (merchant_id, created_at, id);

create table public.products (
  id           uuid primary key default gen_random_uuid(),
  shop_id      uuid not null references public.shops (id),
  name         text not null check (length(name) between 1 and 200),
  sku          text not null check (sku ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  description  text check (length(description) <= 2000),
  price        numeric(19, 4) not null check (price > 0),
  stock        integer check (stock >= 0),  -- null: unlimited
  active       boolean not null default true,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  unique (shop_id, sku)
);
create index products_shop_idx on public.products (shop_id, created_at, id);

create table public.orders (
  id                   uuid primary key default gen_random_uuid(),
  shop_id              uuid not null references public.shops (id),
  merchant_id          uuid not null references public.auth_users (id),  -- the shop's, at the time of the order
  customer_id          uuid not null references public.auth_users (id),
  status               text not null default 'pending_payment' constraint orders_status_known check (status in (
                         'pending_payment', 'paid', 'fulfilled', 'completed', 'canceled', 'refunded')),
  currency             char(3) not null references public.currencies (code),
  total                numeric(19, 4) not null check (total > 0),
  amount_paid          numeric(19, 4) not null default 0 check (amount_paid >= 0),
  amount_refunded      numeric(19, 4) not null default 0 check (amount_refunded >= 0),
  escrow               boolean not null default false,
  payment_intent_id    uuid unique references public.payment_intents (id),
  shipping             jsonb not null default '{}' check (jsonb_typeof(shipping) = 'object' and length(shipping::text) <= 4000),
  client_ref           text not null check (length(client_ref) between 1 and 255),
  paid_at              timestamptz,
  fulfilled_at         timestamptz,  -- dispatched
  delivered_at         timestamptz,
  completed_at         timestamptz,
  canceled_at          timestamptz,
  cancellation_reason  text check (length(cancellation_reason) <= 500),
  refunded_at          timestamptz,  -- refunds reached the total
  created_at           timestamptz not null default now(),
  updated_at           timestamptz not null default now(),
  unique (customer_id, client_ref),
  constraint orders_amounts check (amount_paid <= total and amount_refunded <= amount_paid),
  constraint orders_canceled_at check ((status = 'canceled') = (canceled_at is not null))
);
create index orders_shop_idx on public.orders (shop_id, created_at, id);
create index orders_merchant_idx on public.orders (merchant_id, created_at, id);
create index orders_customer_idx on public.orders (customer_id, created_at, id);

create table public.order_items (
  id                 uuid primary key default gen_random_uuid(),
  order_id           uuid not null references public.orders (id),
  position           smallint not null check (position between 1 and 50),
  product_id         uuid not null references public.products (id),
  -- The snapshot: what was sold, at what price, whatever the product becomes later.
  name               text not null,
  sku                text not null,
  unit_price         numeric(19, 4) not null check (unit_price > 0),
  quantity           integer not null check (quantity between 1 and 10000),
  line_total         numeric(19, 4) not null check (line_total > 0),
  refunded_quantity  integer not null default 0 check (refunded_quantity between 0 and quantity),
  created_at         timestamptz not null default now(),
  unique (order_id, position),
  constraint order_items_line_total check (line_total = unit_price * quantity)
);
create index order_items_product_idx on public.order_items (product_id);

-- Goods escrow: the buyer's money for an escrowed order, in the escrow system wallet from the
-- moment the order is paid until it is released to the merchant, refunded, or split.
--   funded --dispatch--> dispatched --deliver--> delivered --confirm / auto-release--> released
--   funded | dispatched | delivered --dispute--> disputed --admin--> released | refunded | split
--   any open state --refunds reaching the amount--> refunded
-- Money still escrowed = amount - released_amount - refunded_amount (0 once settled).
create table public.goods_escrows (
  id                      uuid primary key default gen_random_uuid(),
  order_id                uuid not null unique references public.orders (id),
  merchant_id             uuid not null references public.auth_users (id),
  customer_id             uuid not null references public.auth_users (id),
  wallet_id               uuid not null references public.wallets (id),  -- the escrow system wallet of the currency
  currency                char(3) not null references public.currencies (code),
  amount                  numeric(19, 4) not null check (amount > 0),  -- funded
  status                  text not null default 'funded' constraint goods_escrows_status_known check (status in (
                            'funded', 'dispatched', 'delivered', 'disputed', 'released', 'refunded', 'split')),
  released_amount         numeric(19, 4) not null default 0 check (released_amount >= 0),  -- principal paid to the merchant
  refunded_amount         numeric(19, 4) not null default 0 check (refunded_amount >= 0),  -- returned to the buyer
  auto_release_at         timestamptz,  -- delivered_at + the shop's auto_release_days (hazina.clock())
  dispatched_at           timestamptz,
  delivered_at            timestamptz,
  disputed_at             timestamptz,
  dispute_reason          text check (length(dispute_reason) <= 1000),
  resolution              text check (resolution in ('release', 'refund', 'split')),
  resolution_note         text check (length(resolution_note) <= 1000),
  resolved_by             uuid references public.auth_users (id),
  resolved_at             timestamptz,
  released_at             timestamptz,
  refunded_at             timestamptz,
  release_transaction_id  uuid references public.wallet_transactions (id),
  created_at              timestamptz not null default now(),
  updated_at              timestamptz not null default now(),
  constraint goods_escrows_amounts check (released_amount + refunded_amount <= amount),
  constraint goods_escrows_settled check (
    (status in ('released', 'refunded', 'split')) = (released_amount + refunded_amount = amount))
);
create index goods_escrows_merchant_idx on public.goods_escrows (merchant_id, created_at, id);
create index goods_escrows_customer_idx on public.goods_escrows (customer_id, created_at, id);
create index goods_escrows_wallet_idx on public.goods_escrows (wallet_id);
create index goods_escrows_release_tx_idx on public.goods_escrows (release_transaction_id) where release_transaction_id is not null;
create index goods_escrows_resolved_by_idx on public.goods_escrows (resolved_by) where resolved_by is not null;
create index goods_escrows_due_idx on public.goods_escrows (auto_release_at) where status = 'delivered';

-- Every change of a shop, a product and an escrow (disputes and their resolution) is audited.
create trigger shops_audit after insert or update on public.shops
  for each row execute function hazina.audit_row_change();
create trigger products_audit after insert or update on public.products
  for each row execute function hazina.audit_row_change();
create trigger goods_escrows_audit after insert or update on public.goods_escrows
  for each row execute function hazina.audit_row_change();

-- The API shapes -------------------------------------------------------------------------

create function public.shop_json(s public.shops) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', s.id, 'object', 'shop', 'merchant_id', s.merchant_id, 'name', s.name, 'slug', s.slug,
                            'description', s.description, 'currency', s.currency, 'status', s.status,
                            'escrow_policy', s.escrow_policy, 'auto_release_days', s.auto_release_days,
                            'created_at', public.api_time(s.created_at), 'updated_at', public.api_time(s.updated_at))
$$;

create function public.product_json(p public.products) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', p.id, 'object', 'product', 'shop_id', p.shop_id, 'name', p.name, 'sku', p.sku,
                            'description', p.description, 'price', p.price::text,
                            'currency', (select s.currency from public.shops s where s.id = p.shop_id),
                            'stock', p.stock, 'unlimited', p.stock is null, 'active', p.active,
                            'created_at', public.api_time(p.created_at), 'updated_at', public.api_time(p.updated_at))
$$;

create function public.goods_escrow_json(e public.goods_escrows) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', e.id, 'object', 'goods_escrow', 'order_id', e.order_id, 'merchant_id', e.merchant_id,
                            'customer_id', e.customer_id, 'amount', e.amount::text, 'currency', e.currency,
                            'status', e.status, 'released_amount', e.released_amount::text,
                            'refunded_amount', e.refunded_amount::text,
                            'held_amount', (e.amount - e.released_amount - e.refunded_amount)::numeric(19, 4)::text,
                            'auto_release_at', public.api_time(e.auto_release_at),
                            'dispatched_at', public.api_time(e.dispatched_at), 'delivered_at', public.api_time(e.delivered_at),
                            'disputed_at', public.api_time(e.disputed_at), 'dispute_reason', e.dispute_reason,
                            'resolution', e.resolution, 'resolution_note', e.resolution_note,
                            'resolved_by', e.resolved_by, 'resolved_at', public.api_time(e.resolved_at),
                            'released_at', public.api_time(e.released_at), 'refunded_at', public.api_time(e.refunded_at),
                            'release_transaction_id', e.release_transaction_id,
                            'created_at', public.api_time(e.created_at), 'updated_at', public.api_time(e.updated_at))
$$;

-- An order with its lines and its escrow (read under the caller's RLS, which shows them
-- exactly when it shows the order).
create function public.order_json(o public.orders) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', o.id, 'object', 'order', 'shop_id', o.shop_id, 'merchant_id', o.merchant_id,
                            'customer_id', o.customer_id, 'status', o.status, 'currency', o.currency,
                            'total', o.total::text, 'amount_paid', o.amount_paid::text,
                            'amount_refunded', o.amount_refunded::text, 'escrow', o.escrow,
                            'payment_intent_id', o.payment_intent_id, 'shipping', o.shipping,
                            'items', coalesce((
                              select jsonb_agg(jsonb_build_object('id', i.id, 'product_id', i.product_id, 'name', i.name,
                                                                  'sku', i.sku, 'unit_price', i.unit_price::text,
                                                                  'quantity', i.quantity, 'line_total', i.line_total::text,
                                                                  'refunded_quantity', i.refunded_quantity)
                                               order by i.position)
                                from public.order_items i where i.order_id = o.id), '[]'::jsonb),
                            'goods_escrow', (select public.goods_escrow_json(e) from public.goods_escrows e where e.order_id = o.id),
                            'paid_at', public.api_time(o.paid_at), 'fulfilled_at', public.api_time(o.fulfilled_at),
                            'delivered_at', public.api_time(o.delivered_at), 'completed_at', public.api_time(o.completed_at),
                            'canceled_at', public.api_time(o.canceled_at), 'cancellation_reason', o.cancellation_reason,
                            'refunded_at', public.api_time(o.refunded_at),
                            'created_at', public.api_time(o.created_at), 'updated_at', public.api_time(o.updated_at))
$$;

create function hazina.order_json(p_order_id uuid) returns jsonb
  language sql stable
  set search_path = ''
  as $$ select public.order_json(o) from public.orders o where o.id = p_order_id $$;

-- Shops and products (the merchant's) ---------------------------------------------------

-- The shop, locked, as its merchant sees it; shop_not_found for anyone else.
create function hazina.shop_lock(p_shop_id uuid, p_merchant_id uuid) returns public.shops
  language plpgsql
  set search_path = ''
  as $$
declare
  v_shop public.shops;
begin
  select * into v_shop from public.shops where id = p_shop_id and merchant_id = p_merchant_id for update;
  if v_shop.id is null then
    perform hazina.raise_error('shop_not_found', jsonb_build_object('shop_id', p_shop_id));
  end if;
  return v_shop;
end
$$;

create function hazina.shop_create(p_merchant_id uuid, p_name text, p_slug text, p_currency text, p_escrow_policy text,
                                   p_auto_release_days integer, p_description text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_shop public.shops;
begin
  if not exists (select 1 from public.auth_users where id = p_merchant_id and role = 'merchant') then
    perform hazina.raise_error('shop_merchants_only');
  end if;
  if not exists (select 1 from public.currencies where code = coalesce(p_currency, 'KES')) then
    perform hazina.raise_error('currency_not_supported', jsonb_build_object('currency', p_currency));
  end if;
  if p_slug is null or p_slug !~ '^[a-z0-9]([a-z0-9-]{0,58}[a-z0-9])?$' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'slug',
      'reason', 'lower-case letters, digits and inner hyphens, at most 60'));
  end if;
  if p_name is null or length(p_name) not between 1 and 120 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'name', 'reason', '1 to 120 characters'));
  end if;
  if coalesce(p_escrow_policy, 'optional') not in ('none', 'optional', 'required') then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'escrow_policy', 'reason', 'none, optional or required'));
  end if;
  if coalesce(p_auto_release_days, 7) not between 1 and 60 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'auto_release_days', 'reason', '1 to 60'));
  end if;
  if length(p_description) > 2000 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'description', 'reason', 'at most 2000 characters'));
  end if;
  insert into public.shops (merchant_id, name, slug, currency, escrow_policy, auto_release_days, description)
  values (p_merchant_id, p_name, p_slug, coalesce(p_currency, 'KES'), coalesce(p_escrow_policy, 'optional'),
          coalesce(p_auto_release_days, 7), p_description)
  on conflict (slug) do nothing
  returning * into v_shop;
  if v_shop.id is null then
    perform hazina.raise_error('shop_slug_taken', jsonb_build_object('slug', p_slug));
  end if;
  return public.shop_json(v_shop);
end
$$;

create function public.shop_create(p_name text, p_slug text, p_currency text default 'KES',
                                   p_escrow_policy text default 'optional', p_auto_release_days integer default 7,
                                   p_description text default null) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.shop_create(hazina.caller_id(), p_name, p_slug, p_currency, p_escrow_policy, p_auto_release_days,
                                  p_description) $$;

-- Change a shop: the keys present in p_patch (name, slug, description, status,
-- escrow_policy, auto_release_days). The currency is fixed once the shop exists (its
-- products are priced in it). Orders already placed keep what they were placed with.
create function hazina.shop_update(p_merchant_id uuid, p_shop_id uuid, p_patch jsonb) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_shop public.shops := hazina.shop_lock(p_shop_id, p_merchant_id);
  v_key text;
begin
  if p_patch is null or jsonb_typeof(p_patch) <> 'object' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'body', 'reason', 'an object'));
  end if;
  for v_key in select jsonb_object_keys(p_patch) loop
    if v_key not in ('name', 'slug', 'description', 'status', 'escrow_policy', 'auto_release_days') then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', v_key, 'reason', 'cannot be changed'));
    end if;
  end loop;
  if p_patch ? 'slug' and p_patch ->> 'slug' is distinct from v_shop.slug then
    if p_patch ->> 'slug' is null or p_patch ->> 'slug' !~ '^[a-z0-9]([a-z0-9-]{0,58}[a-z0-9])?$' then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'slug',
        'reason', 'lower-case letters, digits and inner hyphens, at most 60'));
    end if;
    if exists (select 1 from public.shops where slug = p_patch ->> 'slug') then
      perform hazina.raise_error('shop_slug_taken', jsonb_build_object('slug', p_patch ->> 'slug'));
    end if;
  end if;
  begin
    update public.shops
       set name = case when p_patch ? 'name' then p_patch ->> 'name' else name end,
           slug = case when p_patch ? 'slug' then p_patch ->> 'slug' else slug end,
           description = case when p_patch ? 'description' then p_patch ->> 'description' else description end,
           status = case when p_patch ? 'status' then p_patch ->> 'status' else status end,
           escrow_policy = case when p_patch ? 'escrow_policy' then p_patch ->> 'escrow_policy' else escrow_policy end,
           auto_release_days = case when p_patch ? 'auto_release_days' then (p_patch ->> 'auto_release_days')::integer
                                    else auto_release_days end,
           updated_at = now()
     where id = p_shop_id
     returning * into v_shop;
  exception
    when check_violation or not_null_violation or invalid_text_representation or numeric_value_out_of_range then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'body', 'reason', sqlerrm));
    when unique_violation then
      perform hazina.raise_error('shop_slug_taken', jsonb_build_object('slug', p_patch ->> 'slug'));
  end;
  return public.shop_json(v_shop);
end
$$;

create function public.shop_update(p_shop_id uuid, p_patch jsonb) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.shop_update(hazina.caller_id(), p_shop_id, p_patch) $$;

create function hazina.product_create(p_merchant_id uuid, p_shop_id uuid, p_name text, p_sku text, p_price numeric,
                                      p_stock integer, p_active boolean, p_description text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_shop public.shops := hazina.shop_lock(p_shop_id, p_merchant_id);
  v_product public.products;
begin
  perform hazina.assert_valid_amount(p_price, v_shop.currency);
  if p_stock < 0 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'stock', 'reason', 'zero or more, or null for unlimited'));
  end if;
  if p_sku is null or p_sku !~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sku', 'reason', 'letters, digits and . _ -, at most 64'));
  end if;
  if p_name is null or length(p_name) not between 1 and 200 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'name', 'reason', '1 to 200 characters'));
  end if;
  if length(p_description) > 2000 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'description', 'reason', 'at most 2000 characters'));
  end if;
  insert into public.products (shop_id, name, sku, price, stock, active, description)
  values (p_shop_id, p_name, p_sku, p_price, p_stock, coalesce(p_active, true), p_description)
  on conflict (shop_id, sku) do nothing
  returning * into v_product;
  if v_product.id is null then
    perform hazina.raise_error('product_sku_taken', jsonb_build_object('sku', p_sku));
  end if;
  return public.product_json(v_product);
end
$$;

create function public.product_create(p_shop_id uuid, p_name text, p_sku text, p_price numeric,
                                      p_stock integer default null, p_active boolean default true,
                                      p_description text default null) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.product_create(hazina.caller_id(), p_shop_id, p_name, p_sku, p_price, p_stock, p_active,
                                     p_description) $$;

-- Change a product: the keys present in p_patch (name, sku, description, price, stock
-- (null = unlimited), active). Orders already placed keep their snapshot.
create function hazina.product_update(p_merchant_id uuid, p_shop_id uuid, p_product_id uuid, p_patch jsonb) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_shop public.shops;
  v_product public.products;
  v_key text;
begin
  select * into v_shop from public.shops where id = p_shop_id and merchant_id = p_merchant_id;
  if v_shop.id is null then
    perform hazina.raise_error('shop_not_found', jsonb_build_object('shop_id', p_shop_id));
  end if;
  select * into v_product from public.products where id = p_product_id and shop_id = p_shop_id for update;
  if v_product.id is null then
    perform hazina.raise_error('product_not_found', jsonb_build_object('product_id', p_product_id));
  end if;
  if p_patch is null or jsonb_typeof(p_patch) <> 'object' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'body', 'reason', 'an object'));
  end if;
  for v_key in select jsonb_object_keys(p_patch) loop
    if v_key not in ('name', 'sku', 'description', 'price', 'stock', 'active') then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', v_key, 'reason', 'cannot be changed'));
    end if;
  end loop;
  if p_patch ? 'price' then
    if jsonb_typeof(p_patch -> 'price') is distinct from 'string' or p_patch ->> 'price' !~ '^[0-9]{1,15}(\.[0-9]{1,4})?$' then
      perform hazina.raise_error('invalid_amount', jsonb_build_object('currency', v_shop.currency));
    end if;
    perform hazina.assert_valid_amount((p_patch ->> 'price')::numeric, v_shop.currency);
  end if;
  if p_patch ? 'sku' and p_patch ->> 'sku' is distinct from v_product.sku
     and exists (select 1 from public.products where shop_id = p_shop_id and sku = p_patch ->> 'sku') then
    perform hazina.raise_error('product_sku_taken', jsonb_build_object('sku', p_patch ->> 'sku'));
  end if;
  begin
    update public.products
       set name = case when p_patch ? 'name' then p_patch ->> 'name' else name end,
           sku = case when p_patch ? 'sku' then p_patch ->> 'sku' else sku end,
           description = case when p_patch ? 'description' then p_patch ->> 'description' else description end,
           price = case when p_patch ? 'price' then (p_patch ->> 'price')::numeric else price end,
           stock = case when p_patch ? 'stock' then (p_patch ->> 'stock')::integer else stock end,
           active = case when p_patch ? 'active' then (p_patch ->> 'active')::boolean else active end,
           updated_at = now()
     where id = p_product_id
     returning * into v_product;
  exception
    when check_violation or not_null_violation or invalid_text_representation or numeric_value_out_of_range then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'body', 'reason', sqlerrm));
    when unique_violation then
      perform hazina.raise_error('product_sku_taken', jsonb_build_object('sku', p_patch ->> 'sku'));
  end;
  return public.product_json(v_product);
end
$$;

create function public.product_update(p_shop_id uuid, p_product_id uuid, p_patch jsonb) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.product_update(hazina.caller_id(), p_shop_id, p_product_id, p_patch) $$;

-- Orders: placing one ------------------------------------------------------------------

-- Price and reserve: the order and its lines, stock taken, status pending_payment, no
-- payment yet. p_items: [{product_id, quantity}], 1 to 50 lines, one per product.
-- p_escrow null follows the shop's policy (required: escrowed; otherwise not); true on a
-- shop with policy none is escrow_not_offered, false on one with policy required is
-- escrow_required. Idempotent by (customer, client_ref): the same request returns the same
-- order (created: false); a different one is ref_conflict.
create function hazina.order_place(p_customer_id uuid, p_shop_id uuid, p_items jsonb, p_escrow boolean,
                                   p_shipping jsonb, p_client_ref text) returns public.orders
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_existing public.orders;
  v_shop public.shops;
  v_order public.orders;
  v_item jsonb;
  v_line record;
  v_product public.products;
  v_escrow boolean;
  v_total numeric := 0;
  v_ids uuid[] := '{}'::uuid[];
begin
  if p_client_ref is null or length(p_client_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref');
  end if;
  select * into v_existing from public.orders where customer_id = p_customer_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.shop_id <> p_shop_id
       or (select jsonb_agg(jsonb_build_object('product_id', i.product_id, 'quantity', i.quantity) order by i.position)
             from public.order_items i where i.order_id = v_existing.id)
          is distinct from (select jsonb_agg(jsonb_build_object('product_id', (e ->> 'product_id')::uuid,
                                                                'quantity', (e ->> 'quantity')::integer) order by n)
                              from jsonb_array_elements(p_items) with ordinality as x(e, n)) then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_client_ref));
    end if;
    return v_existing;
  end if;
  select * into v_shop from public.shops where id = p_shop_id;
  if v_shop.id is null or (v_shop.status <> 'active' and v_shop.merchant_id <> p_customer_id) then
    perform hazina.raise_error('shop_not_found', jsonb_build_object('shop_id', p_shop_id));
  end if;
  if v_shop.merchant_id = p_customer_id then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'shop_id', 'reason', 'a merchant cannot buy from its own shop'));
  end if;
  if v_shop.status <> 'active' then
    perform hazina.raise_error('shop_not_active', jsonb_build_object('shop_id', p_shop_id));
  end if;
  v_escrow := case v_shop.escrow_policy when 'required' then coalesce(p_escrow, true) else coalesce(p_escrow, false) end;
  if v_escrow and v_shop.escrow_policy = 'none' then
    perform hazina.raise_error('escrow_not_offered', jsonb_build_object('shop_id', p_shop_id));
  end if;
  if not v_escrow and v_shop.escrow_policy = 'required' then
    perform hazina.raise_error('escrow_required', jsonb_build_object('shop_id', p_shop_id));
  end if;
  if p_shipping is not null and (jsonb_typeof(p_shipping) <> 'object' or length(p_shipping::text) > 4000) then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'shipping', 'reason', 'an object of at most 4000 characters'));
  end if;
  if p_items is null or jsonb_typeof(p_items) <> 'array' or jsonb_array_length(p_items) not between 1 and 50 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items', 'reason', '1 to 50 items'));
  end if;
  for v_item in select value from jsonb_array_elements(p_items) loop
    if jsonb_typeof(v_item) <> 'object'
       or v_item ->> 'product_id' !~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items.product_id', 'reason', 'a UUID'));
    end if;
    if jsonb_typeof(v_item -> 'quantity') is distinct from 'number' or v_item ->> 'quantity' !~ '^[0-9]{1,5}$'
       or (v_item ->> 'quantity')::integer not between 1 and 10000 then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items.quantity', 'reason', 'a whole number from 1 to 10000'));
    end if;
    if (v_item ->> 'product_id')::uuid = any (v_ids) then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items', 'reason', 'one line per product'));
    end if;
    v_ids := v_ids || (v_item ->> 'product_id')::uuid;
  end loop;

  insert into public.orders (shop_id, merchant_id, customer_id, currency, total, escrow, shipping, client_ref)
  values (v_shop.id, v_shop.merchant_id, p_customer_id, v_shop.currency, 1, v_escrow, coalesce(p_shipping, '{}'), p_client_ref)
  on conflict (customer_id, client_ref) do nothing
  returning * into v_order;
  if v_order.id is null then
    raise exception using errcode = '40001', message = 'concurrent duplicate order; retry';
  end if;

  -- Reserve in product id order (the one lock order: no deadlock between multi-line orders).
  for v_line in
    select (e ->> 'product_id')::uuid as product_id, (e ->> 'quantity')::integer as quantity, n::smallint as position
      from jsonb_array_elements(p_items) with ordinality as x(e, n)
     order by (e ->> 'product_id')::uuid
  loop
    update public.products
       set stock = stock - v_line.quantity, updated_at = now()
     where id = v_line.product_id and shop_id = v_shop.id and active and (stock is null or stock >= v_line.quantity)
     returning * into v_product;
    if v_product.id is null then
      select * into v_product from public.products where id = v_line.product_id and shop_id = v_shop.id;
      if v_product.id is null or not v_product.active then
        perform hazina.raise_error('product_not_found', jsonb_build_object('product_id', v_line.product_id));
      end if;
      perform hazina.raise_error('out_of_stock', jsonb_build_object('product_id', v_line.product_id,
        'requested', v_line.quantity, 'available', v_product.stock));
    end if;
    insert into public.order_items (order_id, position, product_id, name, sku, unit_price, quantity, line_total)
    values (v_order.id, v_line.position, v_product.id, v_product.name, v_product.sku, v_product.price, v_line.quantity,
            v_product.price * v_line.quantity);
    v_total := v_total + v_product.price * v_line.quantity;
  end loop;
  perform hazina.assert_valid_amount(v_total, v_shop.currency);
  update public.orders set total = v_total where id = v_order.id returning * into v_order;
  perform hazina.event_emit(v_order.merchant_id, 'order.created', 'order', v_order.id, public.order_json(v_order));
  return v_order;
end
$$;

-- Put an order's reserved stock back (a canceled order). Products in id order, as reserved;
-- an unlimited product (stock null) stays unlimited.
create function hazina.order_release_stock(p_order_id uuid) returns void
  language sql
  security definer
  set search_path = ''
  as $$
  update public.products p
     set stock = p.stock + i.quantity, updated_at = now()
    from (select product_id, quantity from public.order_items where order_id = p_order_id order by product_id) i
   where p.id = i.product_id and p.stock is not null
$$;

-- How long an unpaid order keeps its stock: its payment intent expires after this long,
-- and the intent expiry job then cancels the order and puts the stock back.
create function hazina.order_payment_window() returns integer
  language sql immutable
  set search_path = ''
  as $$ select 1800 $$;

-- Open the order's payment intent (once): automatic capture, for the customer, into the
-- merchant's wallet (transaction type order_payment) or, escrowed, into the escrow system
-- wallet (escrow_funding, never priced). Its ref is 'order:<id>'. Returns the intent, with
-- its client_secret when this call created it.
create function hazina.order_open_payment(p_order_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_order public.orders;
  v_intent jsonb;
begin
  select * into v_order from public.orders where id = p_order_id for update;
  if v_order.id is null then
    perform hazina.raise_error('order_not_found', jsonb_build_object('order_id', p_order_id));
  end if;
  if v_order.payment_intent_id is not null then
    return hazina.payment_intent_json(v_order.payment_intent_id) || jsonb_build_object('created', false);
  end if;
  if v_order.status <> 'pending_payment' then
    perform hazina.raise_error('order_not_payable', jsonb_build_object('order_id', p_order_id, 'status', v_order.status));
  end if;
  v_intent := hazina.payment_intent_open(
    v_order.merchant_id, v_order.total, v_order.currency, 'automatic', v_order.customer_id,
    left('Order ' || v_order.id::text || ' at ' || (select s.name from public.shops s where s.id = v_order.shop_id), 500),
    jsonb_build_object('order_id', v_order.id::text, 'shop_id', v_order.shop_id::text),
    hazina.order_payment_window(), 'order:' || v_order.id,
    'order', v_order.id,
    case when v_order.escrow then hazina.system_wallet('escrow', v_order.currency) end,
    case when v_order.escrow then 'escrow_funding' else 'order_payment' end);
  update public.orders set payment_intent_id = (v_intent ->> 'id')::uuid, updated_at = now() where id = p_order_id;
  return v_intent;
end
$$;

-- POST /orders: place the order and open its payment. Returns the order with its intent
-- (the client_secret only on the reply that created it) and created.
create function hazina.order_create(p_customer_id uuid, p_shop_id uuid, p_items jsonb, p_escrow boolean,
                                    p_shipping jsonb, p_client_ref text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_order public.orders := hazina.order_place(p_customer_id, p_shop_id, p_items, p_escrow, p_shipping, p_client_ref);
  v_created boolean := v_order.payment_intent_id is null;
  v_intent jsonb := hazina.order_open_payment(v_order.id);
begin
  return hazina.order_json(v_order.id) || jsonb_build_object('payment_intent', v_intent - 'created', 'created', v_created);
end
$$;

create function public.order_create(p_shop_id uuid, p_items jsonb, p_escrow boolean default null,
                                    p_shipping jsonb default null, p_client_ref text default null) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.order_create(hazina.caller_id(), p_shop_id, p_items, p_escrow, p_shipping, p_client_ref) $$;

-- Row level security ---------------------------------------------------------------------
-- Storefronts are public: anon and every signed-in user read active shops and the active
-- products of active shops (supabase-js with the anon key works). The merchant reads all
-- its shops and products; the customer and the merchant read their orders, lines and
-- escrows; nobody else sees an order. Nobody writes directly: the functions above do.
alter table public.shops enable row level security;
alter table public.products enable row level security;
alter table public.orders enable row level security;
alter table public.order_items enable row level security;
alter table public.goods_escrows enable row level security;
revoke all on table public.shops, public.products, public.orders, public.order_items, public.goods_escrows
  from public, anon, authenticated;
grant select on table public.shops, public.products to anon, authenticated, service_role;
grant select on table public.orders, public.order_items, public.goods_escrows to authenticated, service_role;

create policy "anyone reads active shops" on public.shops
  for select to anon, authenticated using (status = 'active');
create policy "merchant reads own shops" on public.shops
  for select to authenticated using (merchant_id = auth.uid());
create policy "anyone reads active products of active shops" on public.products
  for select to anon, authenticated using (active and exists (
    select 1 from public.shops s where s.id = shop_id and s.status = 'active'));
create policy "merchant reads own products" on public.products
  for select to authenticated using (exists (
    select 1 from public.shops s where s.id = shop_id and s.merchant_id = auth.uid()));
create policy "merchant or customer reads own orders" on public.orders
  for select to authenticated using (merchant_id = auth.uid() or customer_id = auth.uid());
create policy "merchant or customer reads lines of own orders" on public.order_items
  for select to authenticated using (exists (
    select 1 from public.orders o where o.id = order_id and (o.merchant_id = auth.uid() or o.customer_id = auth.uid())));
create policy "merchant or customer reads own goods escrows" on public.goods_escrows
  for select to authenticated using (merchant_id = auth.uid() or customer_id = auth.uid());

revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function
  public.shop_create(text, text, text, text, integer, text), public.shop_update(uuid, jsonb),
  public.product_create(uuid, text, text, numeric, integer, boolean, text), public.product_update(uuid, uuid, jsonb),
  public.order_create(uuid, jsonb, boolean, jsonb, text),
  public.shop_json(public.shops), public.product_json(public.products), public.order_json(public.orders),
  public.goods_escrow_json(public.goods_escrows)
  from public, anon;
grant execute on function
  public.shop_create(text, text, text, text, integer, text), public.shop_update(uuid, jsonb),
  public.product_create(uuid, text, text, numeric, integer, boolean, text), public.product_update(uuid, uuid, jsonb),
  public.order_create(uuid, jsonb, boolean, jsonb, text)
  to authenticated;
grant execute on function public.shop_json(public.shops), public.product_json(public.products) to anon, authenticated, service_role;
grant execute on function public.order_json(public.orders), public.goods_escrow_json(public.goods_escrows)
  to authenticated, service_role;

-- migrate:down
drop function if exists public.order_create(uuid, jsonb, boolean, jsonb, text);
drop function if exists hazina.order_create(uuid, uuid, jsonb, boolean, jsonb, text);
drop function if exists hazina.order_open_payment(uuid);
drop function if exists hazina.order_payment_window();
drop function if exists hazina.order_release_stock(uuid);
drop function if exists hazina.order_place(uuid, uuid, jsonb, boolean, jsonb, text);
drop function if exists public.product_update(uuid, uuid, jsonb);
drop function if exists hazina.product_update(uuid, uuid, uuid, jsonb);
drop function if exists public.product_create(uuid, text, text, numeric, integer, boolean, text);
drop function if exists hazina.product_create(uuid, uuid, text, text, numeric, integer, boolean, text);
drop function if exists public.shop_update(uuid, jsonb);
drop function if exists hazina.shop_update(uuid, uuid, jsonb);
drop function if exists public.shop_create(text, text, text, text, integer, text);
drop function if exists hazina.shop_create(uuid, text, text, text, text, integer, text);
drop function if exists hazina.shop_lock(uuid, uuid);
drop function if exists hazina.order_json(uuid);
drop function if exists public.order_json(public.orders);
drop function if exists public.goods_escrow_json(public.goods_escrows);
drop function if exists public.product_json(public.products);
drop function if exists public.shop_json(public.shops);
drop table if exists public.goods_escrows;
drop table if exists public.order_items;
drop table if exists public.orders;
drop table if exists public.products;
drop table if exists public.shops;
alter table public.merchant_fee_profiles drop constraint if exists merchant_fee_profiles_escrow_funding_unpriced;
alter table public.billing_fee_catalog drop constraint if exists billing_fee_catalog_escrow_funding_unpriced;
delete from public.transaction_types where code in ('order_payment', 'escrow_funding', 'escrow_release');
