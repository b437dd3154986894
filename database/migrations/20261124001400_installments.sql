-- migrate:up
-- Installment plans (lay-by): an order paid as a deposit and a schedule of equal payments,
-- each through a payment intent into the escrow system wallet; the merchant receives the
-- money only when the plan completes (docs/installments.md, COMMERCE model). The platform
-- never lends: the goods stay with the shop (stock reserved) until the plan is paid.
--
--   plan:     active --(every row paid or waived)--> completed   (the order becomes paid)
--                    --(N missed payments, the job)--> defaulted  (refund less the cancellation fee)
--                    --(customer cancels)--> canceled             (same terms as a default)
--                    --(merchant cancels)--> canceled             (full refund, no fee)
--                    --(the deposit intent expires unpaid)--> canceled (nothing was paid)
--   schedule row: pending --(paid)--> paid
--                 pending --(its due date passes unpaid, or auto-collection fails)--> late --(paid)--> paid
--                 pending | late --(merchant waives it)--> waived
--
-- Schedule (hazina.installment_schedule_amounts): row 0 is the deposit, due when the plan is
-- created. The remainder (total - deposit) is split into `count` equal parts rounded DOWN to
-- the currency's minor unit; the last part carries the rounding remainder (so it is the
-- largest, by less than `count` minor units). Row k (1..count) is due k intervals after
-- the plan's start (month: PostgreSQL's month arithmetic, the 31st becomes the last day of
-- a shorter month).
--
-- Late fee: when a row is still unpaid `grace_days` after its due date it is "missed": the
-- late fee is charged on it once (priced by the fee catalog, transaction type
-- installment_late_fee, on the row's amount: the one fee rounding rule, a merchant fee
-- profile overrides the catalog), added to what the row owes, and paid with it into escrow.
-- It reaches the MERCHANT with the plan's money (decision: the seller bears the delay; the
-- platform earns its escrow_release fee on it). A shop may switch late fees off.
-- After `missed_payments_to_default` missed rows the plan defaults.
--
-- Default / customer cancel: the customer is refunded what it paid (late fees included) less
-- the shop's cancellation fee (fixed + bps of what was paid, rounded half up to the minor
-- unit), bounded by the platform's maximum (hazina.installment_limits: bps of what was paid)
-- and by what was paid. The fee goes to the merchant (installment_cancellation_fee); the refund goes back
-- through the plan's payment intents (refunds, newest intent first). The order is canceled
-- and its stock released.
--
-- Money a racing payment brings after the plan stopped needing it (two payments for the last
-- row, a payment confirmed after a cancel) is refunded at once to its payer through its intent.

-- (escrow_funding and escrow_release are the orders capability's types, migration 1300.)
insert into public.transaction_types (code, fee_payer, description) values
  ('installment_late_fee', 'sender',
   'The late fee on a missed installment: priced from the fee catalog on the missed payment''s amount, added to what '
   'the customer owes and paid with it into escrow; it reaches the merchant when the plan completes. Never posted on its own.'),
  ('installment_cancellation_fee', 'receiver',
   'The cancellation fee of a defaulted or canceled installment plan, from escrow to the merchant (what it keeps of the '
   'customer''s payments). Not priced: the platform earns nothing on a failed plan.');

insert into public.billing_fee_catalog (transaction_type, currency, percentage_bps, fixed_amount, minimum_amount,
                                        maximum_amount, active_from, description)
values ('installment_late_fee', 'KES', 500, 0, 50, 500, '2026-01-01T00:00:00Z',
        'Late fee on a missed installment: 5% of the payment, at least KES 50, at most KES 500.');

-- What the platform allows every shop (one row).
create table hazina.installment_limits (
  id                        boolean primary key default true check (id),
  max_count                 smallint not null default 52 check (max_count between 1 and 366),
  -- The cancellation fee may never exceed this share of what the customer paid.
  max_cancellation_fee_bps  integer not null default 1500 check (max_cancellation_fee_bps between 0 and 10000),
  -- How long before a due date the reminder goes out.
  reminder_lead             interval not null default interval '1 day' check (reminder_lead >= interval '0')
);
insert into hazina.installment_limits default values;

-- A shop's plan policy (its merchant sets it; absent = plans not allowed).
create table public.shop_installment_settings (
  shop_id                     uuid primary key references public.shops (id),
  allowed                     boolean not null default false,
  max_count                   smallint not null default 12 check (max_count between 1 and 366),
  intervals                   text[] not null default array['day', 'week', 'month']
                                check (intervals <@ array['day', 'week', 'month'] and cardinality(intervals) >= 1),
  min_deposit_bps             integer not null default 0 check (min_deposit_bps between 0 and 10000),
  grace_days                  smallint not null default 3 check (grace_days between 0 and 60),
  late_fee_enabled            boolean not null default true,
  cancellation_fee_bps        integer not null default 0 check (cancellation_fee_bps between 0 and 10000),
  cancellation_fee_fixed      numeric(19, 4) not null default 0 check (cancellation_fee_fixed >= 0),
  missed_payments_to_default  smallint not null default 2 check (missed_payments_to_default between 1 and 366),
  created_at                  timestamptz not null default now(),
  updated_at                  timestamptz not null default now()
);

create table public.installments (
  id                          uuid primary key default gen_random_uuid(),
  order_id                    uuid not null unique references public.orders (id),
  shop_id                     uuid not null references public.shops (id),
  merchant_id                 uuid not null references public.auth_users (id),
  customer_id                 uuid not null references public.auth_users (id),
  currency                    char(3) not null references public.currencies (code),
  total_amount                numeric(19, 4) not null check (total_amount > 0),
  deposit_amount              numeric(19, 4) not null check (deposit_amount > 0),
  installment_count           smallint not null check (installment_count between 1 and 366),
  "interval"                  text not null check ("interval" in ('day', 'week', 'month')),
  installment_amount          numeric(19, 4) not null check (installment_amount > 0),  -- each part; the last carries the remainder
  status                      text not null default 'active' check (status in ('active', 'completed', 'defaulted', 'canceled')),
  auto_collect                boolean not null default false,
  -- The shop's policy as it was when the plan was made (a later change does not touch it).
  grace_days                  smallint not null check (grace_days between 0 and 60),
  late_fee_enabled            boolean not null,
  missed_payments_to_default  smallint not null check (missed_payments_to_default >= 1),
  cancellation_fee_bps        integer not null check (cancellation_fee_bps between 0 and 10000),
  cancellation_fee_fixed      numeric(19, 4) not null check (cancellation_fee_fixed >= 0),
  max_cancellation_fee_bps    integer not null check (max_cancellation_fee_bps between 0 and 10000),
  -- Money: paid = applied to the schedule (in escrow while active); late_fees = charged on
  -- missed rows; waived = forgiven by the merchant; outstanding = total + late_fees - waived - paid.
  amount_paid                 numeric(19, 4) not null default 0 check (amount_paid >= 0),
  late_fees                   numeric(19, 4) not null default 0 check (late_fees >= 0),
  amount_waived               numeric(19, 4) not null default 0 check (amount_waived >= 0),
  amount_refunded             numeric(19, 4) not null default 0 check (amount_refunded >= 0),  -- to the customer on default/cancel
  amount_released             numeric(19, 4) not null default 0 check (amount_released >= 0),  -- to the merchant (completion, cancellation fee)
  cancellation_fee            numeric(19, 4) check (cancellation_fee >= 0),
  missed_count                smallint not null default 0 check (missed_count >= 0),
  deposit_intent_id           uuid references public.payment_intents (id),
  next_due_at                 timestamptz,
  starts_at                   timestamptz not null,
  completed_at                timestamptz,
  defaulted_at                timestamptz,
  canceled_at                 timestamptz,
  cancellation_reason         text check (length(cancellation_reason) <= 500),
  client_ref                  text not null check (length(client_ref) between 1 and 255),
  created_at                  timestamptz not null default now(),
  updated_at                  timestamptz not null default now(),
  unique (customer_id, client_ref),
  constraint installments_deposit_below_total check (deposit_amount < total_amount),
  constraint installments_outstanding check (amount_paid + amount_waived <= total_amount + late_fees),
  constraint installments_completed_at check ((status = 'completed') = (completed_at is not null)),
  constraint installments_defaulted_at check ((status = 'defaulted') = (defaulted_at is not null)),
  constraint installments_canceled_at check ((status = 'canceled') = (canceled_at is not null))
);
create index installments_customer_idx on public.installments (customer_id, created_at, id);
create index installments_merchant_idx on public.installments (merchant_id, created_at, id);
create index installments_shop_idx on public.installments (shop_id);
create index installments_deposit_intent_idx on public.installments (deposit_intent_id) where deposit_intent_id is not null;

create table public.installment_schedule (
  id                    uuid primary key default gen_random_uuid(),
  installment_id        uuid not null references public.installments (id),
  seq                   smallint not null check (seq >= 0),  -- 0: the deposit
  due_at                timestamptz not null,
  amount                numeric(19, 4) not null check (amount > 0),
  late_fee              numeric(19, 4) not null default 0 check (late_fee >= 0),
  amount_paid           numeric(19, 4) not null default 0 check (amount_paid >= 0),
  amount_waived         numeric(19, 4) not null default 0 check (amount_waived >= 0),  -- of the amount and the fee
  late_fee_waived       numeric(19, 4) not null default 0 check (late_fee_waived >= 0),  -- the fee's part of amount_waived
  status                text not null default 'pending' check (status in ('pending', 'paid', 'late', 'waived')),
  paid_intent_id        uuid references public.payment_intents (id),  -- the intent that settled it
  paid_at               timestamptz,
  late_at               timestamptz,
  late_fee_charged_at   timestamptz,
  missed_at             timestamptz,
  waived_at             timestamptz,
  reminded_at           timestamptz,
  collect_attempted_at  timestamptz,
  created_at            timestamptz not null default now(),
  updated_at            timestamptz not null default now(),
  unique (installment_id, seq),
  constraint installment_schedule_owed check (amount_paid + amount_waived <= amount + late_fee),
  constraint installment_schedule_fee_waived check (late_fee_waived <= late_fee and late_fee_waived <= amount_waived),
  constraint installment_schedule_settled check (
    (status in ('paid', 'waived')) = (amount_paid + amount_waived = amount + late_fee)),
  constraint installment_schedule_paid_at check ((status = 'paid') = (paid_at is not null))
);
create index installment_schedule_due_idx on public.installment_schedule (due_at) where status in ('pending', 'late');
create index installment_schedule_intent_idx on public.installment_schedule (paid_intent_id) where paid_intent_id is not null;

-- A plan's intents are found by their subject (closing a plan, reconciliation).
create index payment_intents_installment_idx on public.payment_intents (subject_id) where subject_type = 'installment';

-- The schedule of a plan: (seq, amount), deposit first. See the top of this file for the rule.
create function hazina.installment_schedule_amounts(p_total numeric, p_deposit numeric, p_count integer, p_currency text)
  returns table (seq integer, amount numeric)
  language sql stable
  set search_path = ''
  as $$
  with c as (select minor_units from public.currencies where code = p_currency),
       part as (select trunc((p_total - p_deposit) / p_count, c.minor_units) as each from c)
  select 0, p_deposit::numeric(19, 4)
  union all
  select k, (case when k < p_count then part.each
                  else (p_total - p_deposit) - part.each * (p_count - 1) end)::numeric(19, 4)
    from part, generate_series(1, p_count) k
  order by 1
$$;

-- When row k of a plan is due.
create function hazina.installment_due_at(p_starts_at timestamptz, p_interval text, p_k integer) returns timestamptz
  language sql immutable
  set search_path = ''
  as $$
  select p_starts_at + case p_interval when 'day' then make_interval(days => p_k)
                                       when 'week' then make_interval(weeks => p_k)
                                       else make_interval(months => p_k) end
$$;

-- The API shape of a plan, with its schedule (read under the caller's RLS, which shows the
-- rows exactly when it shows the plan).
create function public.installment_schedule_json(s public.installment_schedule) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('seq', s.seq, 'kind', case when s.seq = 0 then 'deposit' else 'installment' end,
                            'due_at', public.api_time(s.due_at), 'amount', s.amount::text, 'late_fee', s.late_fee::text,
                            'amount_paid', s.amount_paid::text, 'amount_waived', s.amount_waived::text,
                            'amount_due', (s.amount + s.late_fee - s.amount_paid - s.amount_waived)::numeric(19, 4)::text,
                            'status', s.status, 'paid_intent_id', s.paid_intent_id,
                            'paid_at', public.api_time(s.paid_at), 'late_at', public.api_time(s.late_at),
                            'late_fee_charged_at', public.api_time(s.late_fee_charged_at),
                            'missed_at', public.api_time(s.missed_at), 'waived_at', public.api_time(s.waived_at))
$$;

create function public.installment_json(i public.installments) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', i.id, 'object', 'installment', 'order_id', i.order_id, 'shop_id', i.shop_id,
                            'merchant_id', i.merchant_id, 'customer_id', i.customer_id, 'currency', i.currency,
                            'total_amount', i.total_amount::text, 'deposit_amount', i.deposit_amount::text,
                            'count', i.installment_count, 'interval', i."interval",
                            'installment_amount', i.installment_amount::text, 'status', i.status,
                            'auto_collect', i.auto_collect, 'grace_days', i.grace_days,
                            'late_fee_rule', jsonb_build_object('enabled', i.late_fee_enabled,
                                                                'transaction_type', 'installment_late_fee'),
                            'missed_payments_to_default', i.missed_payments_to_default,
                            'cancellation_fee_rule', jsonb_build_object('bps', i.cancellation_fee_bps,
                                                                        'fixed', i.cancellation_fee_fixed::text,
                                                                        'max_bps', i.max_cancellation_fee_bps),
                            'amount_paid', i.amount_paid::text, 'late_fees', i.late_fees::text,
                            'amount_waived', i.amount_waived::text,
                            'amount_outstanding', case when i.status = 'active'
                              then (i.total_amount + i.late_fees - i.amount_waived - i.amount_paid)::numeric(19, 4)::text
                              else '0.0000' end,
                            'amount_refunded', i.amount_refunded::text, 'amount_released', i.amount_released::text,
                            'cancellation_fee', i.cancellation_fee::text, 'missed_count', i.missed_count,
                            'deposit_intent_id', i.deposit_intent_id,
                            'next_due_at', public.api_time(i.next_due_at), 'starts_at', public.api_time(i.starts_at),
                            'completed_at', public.api_time(i.completed_at), 'defaulted_at', public.api_time(i.defaulted_at),
                            'canceled_at', public.api_time(i.canceled_at), 'cancellation_reason', i.cancellation_reason,
                            'schedule', coalesce((select jsonb_agg(public.installment_schedule_json(s) order by s.seq)
                                                    from public.installment_schedule s where s.installment_id = i.id), '[]'::jsonb),
                            'created_at', public.api_time(i.created_at), 'updated_at', public.api_time(i.updated_at))
$$;

create function hazina.installment_json(p_id uuid) returns jsonb
  language sql stable
  set search_path = ''
  as $$ select public.installment_json(i) from public.installments i where i.id = p_id $$;

-- The plan, locked, for its customer or its merchant (p_actor null: the platform);
-- installment_not_found for anyone else.
create function hazina.installment_lock(p_id uuid, p_actor uuid) returns public.installments
  language plpgsql
  set search_path = ''
  as $$
declare
  v_plan public.installments;
begin
  select * into v_plan from public.installments
   where id = p_id and (p_actor is null or customer_id = p_actor or merchant_id = p_actor) for update;
  if v_plan.id is null then
    perform hazina.raise_error('installment_not_found', jsonb_build_object('installment_id', p_id));
  end if;
  return v_plan;
end
$$;

-- Recompute the plan's next due date (the earliest unsettled row).
create function hazina.installment_refresh(p_id uuid) returns void
  language sql
  set search_path = ''
  as $$
  update public.installments i
     set next_due_at = (select min(s.due_at) from public.installment_schedule s
                         where s.installment_id = i.id and s.status in ('pending', 'late')),
         updated_at = now()
   where i.id = p_id
$$;

-- The payment intent every installment payment goes through: payee the escrow wallet,
-- posted as escrow_funding (unpriced), subject the plan.
create function hazina.installment_intent_open(p_plan public.installments, p_amount numeric, p_ref text,
                                               p_description text) returns jsonb
  language sql
  set search_path = ''
  as $$
  select hazina.payment_intent_open(p_plan.merchant_id, p_amount, p_plan.currency, 'automatic', p_plan.customer_id,
                                    p_description, jsonb_build_object('installment_id', p_plan.id, 'order_id', p_plan.order_id),
                                    null, p_ref, 'installment', p_plan.id,
                                    hazina.system_wallet('escrow', p_plan.currency), 'escrow_funding')
$$;

-- Create a plan for an order (called by order placement, in its transaction): check the
-- shop's policy, write the schedule and open the deposit intent. Returns the plan's JSON
-- with the deposit intent (and its client_secret) under "deposit_intent".
create function hazina.installment_create(p_order public.orders, p_deposit numeric, p_count integer,
                                          p_interval text, p_auto_collect boolean) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  p_shop_id uuid := p_order.shop_id;
  p_merchant_id uuid := p_order.merchant_id;
  p_customer_id uuid := p_order.customer_id;
  p_total numeric := p_order.total;
  p_currency text := p_order.currency;
  v_settings public.shop_installment_settings;
  v_limits hazina.installment_limits;
  v_plan public.installments;
  v_id uuid := gen_random_uuid();
  v_now timestamptz := hazina.clock();
  v_part numeric;
  v_intent jsonb;
begin
  select * into v_settings from public.shop_installment_settings where shop_id = p_shop_id;
  select * into v_limits from hazina.installment_limits;
  if v_settings.shop_id is null or not v_settings.allowed then
    perform hazina.raise_error('installments_not_allowed', jsonb_build_object('shop_id', p_shop_id));
  end if;
  if p_interval is null or p_interval not in ('day', 'week', 'month') or not (p_interval = any (v_settings.intervals)) then
    perform hazina.raise_error('installments_not_allowed', jsonb_build_object('shop_id', p_shop_id, 'field', 'interval',
      'allowed', to_jsonb(v_settings.intervals)));
  end if;
  if p_count is null or p_count < 1 or p_count > least(v_settings.max_count, v_limits.max_count) then
    perform hazina.raise_error('installments_not_allowed', jsonb_build_object('shop_id', p_shop_id, 'field', 'count',
      'max', least(v_settings.max_count, v_limits.max_count)));
  end if;
  if p_deposit is null then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'installments.deposit', 'reason', 'required'));
  end if;
  perform hazina.assert_valid_amount(p_deposit, p_currency);
  if p_order.status <> 'pending_payment' or p_order.payment_intent_id is not null then
    perform hazina.raise_error('order_not_payable', jsonb_build_object('order_id', p_order.id, 'status', p_order.status));
  end if;
  if p_deposit >= p_total then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'installments.deposit',
      'reason', 'below the order total'));
  end if;
  if p_deposit < round(p_total * v_settings.min_deposit_bps / 10000, (select minor_units from public.currencies where code = p_currency)) then
    perform hazina.raise_error('installments_not_allowed', jsonb_build_object('shop_id', p_shop_id, 'field', 'deposit',
      'min_deposit_bps', v_settings.min_deposit_bps));
  end if;
  select amount into v_part from hazina.installment_schedule_amounts(p_total, p_deposit, p_count, p_currency) where seq = 1;
  if v_part <= 0 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'installments.count',
      'reason', 'each payment must be at least one minor unit'));
  end if;
  insert into public.installments (id, order_id, shop_id, merchant_id, customer_id, currency, total_amount, deposit_amount,
                                   installment_count, "interval", installment_amount, auto_collect, grace_days,
                                   late_fee_enabled, missed_payments_to_default, cancellation_fee_bps,
                                   cancellation_fee_fixed, max_cancellation_fee_bps, starts_at, next_due_at, client_ref)
  values (v_id, p_order.id, p_shop_id, p_merchant_id, p_customer_id, p_currency, p_total, p_deposit, p_count, p_interval,
          v_part, coalesce(p_auto_collect, false), v_settings.grace_days, v_settings.late_fee_enabled,
          v_settings.missed_payments_to_default, v_settings.cancellation_fee_bps, v_settings.cancellation_fee_fixed,
          v_limits.max_cancellation_fee_bps, v_now, v_now, p_order.client_ref)
  returning * into v_plan;
  insert into public.installment_schedule (installment_id, seq, due_at, amount)
  select v_id, a.seq, hazina.installment_due_at(v_now, p_interval, a.seq), a.amount
    from hazina.installment_schedule_amounts(p_total, p_deposit, p_count, p_currency) a;
  v_intent := hazina.installment_intent_open(v_plan, p_deposit, 'installment:' || v_id || ':deposit', 'Deposit');
  update public.installments set deposit_intent_id = (v_intent ->> 'id')::uuid where id = v_id;
  perform hazina.event_emit(p_merchant_id, 'installment.created', 'installment', v_id, hazina.installment_json(v_id));
  return hazina.installment_json(v_id) || jsonb_build_object('deposit_intent', v_intent - 'created');
end
$$;

-- Apply money that reached escrow for the plan (an intent of it succeeded): cover the oldest
-- unsettled rows first; what the plan no longer needs goes back to the payer at once.
create function hazina.installment_apply_payment(p_intent public.payment_intents) returns void
  language plpgsql
  set search_path = ''
  as $$
declare
  v_plan public.installments := hazina.installment_lock(p_intent.subject_id, null);
  v_left numeric := p_intent.amount_received;
  v_row public.installment_schedule;
  v_take numeric;
  v_applied numeric := 0;
begin
  if v_plan.status = 'active' then
    for v_row in select * from public.installment_schedule
                  where installment_id = v_plan.id and status in ('pending', 'late') order by seq for update loop
      exit when v_left <= 0;
      v_take := least(v_left, v_row.amount + v_row.late_fee - v_row.amount_paid - v_row.amount_waived);
      update public.installment_schedule
         set amount_paid = amount_paid + v_take,
             status = case when amount_paid + v_take + amount_waived = amount + late_fee then 'paid' else status end,
             paid_at = case when amount_paid + v_take + amount_waived = amount + late_fee then hazina.clock() end,
             paid_intent_id = case when amount_paid + v_take + amount_waived = amount + late_fee then p_intent.id end,
             updated_at = now()
       where id = v_row.id;
      v_left := v_left - v_take;
      v_applied := v_applied + v_take;
    end loop;
    update public.installments set amount_paid = amount_paid + v_applied, updated_at = now() where id = v_plan.id;
    perform hazina.installment_refresh(v_plan.id);
    perform hazina.event_emit(v_plan.merchant_id, 'installment.paid', 'installment', v_plan.id,
      hazina.installment_json(v_plan.id) || jsonb_build_object('payment_intent_id', p_intent.id,
                                                               'amount', v_applied::numeric(19, 4)::text));
  end if;
  if v_left > 0 then
    perform set_config('hazina.installment_refund', v_plan.id::text, true);
    perform hazina.payment_refund_create(p_intent.merchant_id, p_intent.id, v_left,
      'installment plan needs no more money', 'installment:' || v_plan.id || ':excess:' || p_intent.id);
    perform set_config('hazina.installment_refund', '', true);
  end if;
  if v_plan.status = 'active' and not exists (select 1 from public.installment_schedule
                                               where installment_id = v_plan.id and status in ('pending', 'late')) then
    perform hazina.installment_complete(v_plan.id);
  end if;
end
$$;

-- Cancel the plan's open intents that nobody is confirming right now (skip locked: one being
-- confirmed concurrently will find the plan closed and refund itself).
create function hazina.installment_cancel_open_intents(p_id uuid) returns void
  language plpgsql
  set search_path = ''
  as $$
declare
  v_intent_id uuid;
begin
  for v_intent_id in select id from public.payment_intents
                      where subject_type = 'installment' and subject_id = p_id
                        and status in ('requires_confirmation', 'processing', 'requires_capture')
                      order by id for update skip locked loop
    perform hazina.payment_intent_cancel(v_intent_id, null, 'installment plan closed');
  end loop;
end
$$;

-- Completion: every row paid or waived. The plan is completed, then its order is paid
-- (hazina.installment_settle).
create function hazina.installment_complete(p_id uuid) returns void
  language plpgsql
  set search_path = ''
  as $$
declare
  v_plan public.installments := hazina.installment_lock(p_id, null);
begin
  update public.installments
     set status = 'completed', completed_at = hazina.clock(), next_due_at = null, updated_at = now()
   where id = p_id
  returning * into v_plan;
  perform hazina.installment_cancel_open_intents(p_id);
  perform hazina.installment_settle(v_plan);
  perform hazina.event_emit(v_plan.merchant_id, 'installment.completed', 'installment', p_id, hazina.installment_json(p_id));
end
$$;

-- The completed plan's order becomes paid and follows the orders capability's rules from
-- there: a direct order's money goes to the merchant now (escrow -> merchant wallet, ref
-- 'installment:<id>:release', type escrow_release: the merchant bears that fee); an escrowed
-- order's money stays in escrow as its goods escrow, funded with everything the plan was paid,
-- late fees included, released on receipt, auto-release or an admin's resolution. The
-- order's amount_paid is the price paid (total less what was waived; late fees are not part
-- of the order's price).
create function hazina.installment_settle(p_plan public.installments) returns void
  language plpgsql
  set search_path = ''
  as $$
declare
  v_order public.orders;
  v_wallet uuid;
  v_escrow_id uuid;
begin
  select * into v_order from public.orders where id = p_plan.order_id for update;
  update public.orders set status = 'paid', amount_paid = p_plan.total_amount - p_plan.amount_waived, paid_at = now(),
         updated_at = now()
   where id = v_order.id and status = 'pending_payment';
  if v_order.escrow then
    insert into public.goods_escrows (order_id, merchant_id, customer_id, wallet_id, currency, amount)
    values (v_order.id, v_order.merchant_id, v_order.customer_id, hazina.system_wallet('escrow', p_plan.currency),
            p_plan.currency, p_plan.amount_paid)
    returning id into v_escrow_id;
    perform hazina.escrow_event(v_escrow_id, 'escrow.funded');
  else
    select id into v_wallet from public.wallets
     where user_id = p_plan.merchant_id and currency = p_plan.currency and kind = 'merchant';
    if v_wallet is null then
      perform hazina.raise_error('merchant_wallet_required', jsonb_build_object('currency', p_plan.currency));
    end if;
    perform hazina.transfer('installment:' || p_plan.id || ':release', hazina.system_wallet('escrow', p_plan.currency),
      v_wallet, p_plan.amount_paid, 'escrow_release', 'Installment plan completed',
      jsonb_build_object('installment_id', p_plan.id, 'order_id', p_plan.order_id));
  end if;
  update public.installments set amount_released = amount_released + p_plan.amount_paid where id = p_plan.id;
  perform hazina.order_event(v_order.id, 'order.paid');
end
$$;

-- The cancellation fee on what was paid (see the top of this file).
create function hazina.installment_cancellation_fee(p_plan public.installments) returns numeric
  language sql stable
  set search_path = ''
  as $$
  select least(round(p_plan.cancellation_fee_fixed + p_plan.amount_paid * p_plan.cancellation_fee_bps / 10000, c.minor_units),
               round(p_plan.amount_paid * p_plan.max_cancellation_fee_bps / 10000, c.minor_units),
               p_plan.amount_paid)::numeric(19, 4)
    from public.currencies c where c.code = p_plan.currency
$$;

-- Close a plan that will not complete (defaulted or canceled): cancel its open intents,
-- refund what was paid less p_fee through its intents (newest first), release the fee to the
-- merchant, and release the order (hazina.installment_release_order, the orders glue).
create function hazina.installment_close(p_id uuid, p_status text, p_fee numeric, p_reason text) returns void
  language plpgsql
  set search_path = ''
  as $$
declare
  v_plan public.installments := hazina.installment_lock(p_id, null);
  v_refund numeric := v_plan.amount_paid - p_fee;
  v_intent public.payment_intents;
  v_take numeric;
begin
  -- The plan is closed first, so nothing that follows (an open intent canceled, a racing
  -- payment) treats it as active.
  update public.installments
     set status = p_status, cancellation_fee = p_fee, amount_refunded = v_plan.amount_paid - p_fee,
         amount_released = amount_released + p_fee, next_due_at = null,
         defaulted_at = case when p_status = 'defaulted' then hazina.clock() end,
         canceled_at = case when p_status = 'canceled' then hazina.clock() end,
         cancellation_reason = left(p_reason, 500), updated_at = now()
   where id = p_id;
  perform hazina.installment_cancel_open_intents(p_id);
  for v_intent in select * from public.payment_intents
                   where subject_type = 'installment' and subject_id = p_id and status = 'succeeded'
                     and amount_received > amount_refunded
                   order by succeeded_at desc, id desc for update loop
    exit when v_refund <= 0;
    v_take := least(v_refund, v_intent.amount_received - v_intent.amount_refunded);
    perform set_config('hazina.installment_refund', p_id::text, true);
    perform hazina.payment_refund_create(v_intent.merchant_id, v_intent.id, v_take, 'installment plan ' || p_status,
                                         'installment:' || p_id || ':refund:' || v_intent.id);
    perform set_config('hazina.installment_refund', '', true);
    v_refund := v_refund - v_take;
  end loop;
  if v_refund <> 0 then
    raise exception 'installment % refund left % unrefunded', p_id, v_refund;
  end if;
  if p_fee > 0 then
    perform hazina.transfer('installment:' || p_id || ':cancellation_fee', hazina.system_wallet('escrow', v_plan.currency),
      (select id from public.wallets where user_id = v_plan.merchant_id and currency = v_plan.currency and kind = 'merchant'),
      p_fee, 'installment_cancellation_fee', 'Installment plan cancellation fee', jsonb_build_object('installment_id', p_id));
  end if;
  perform hazina.installment_release_order(v_plan, p_status);
end
$$;

-- Release the order of a plan that will not complete: the orders capability's cancel (an
-- unpaid order with no intent of its own: canceled, its stock released, order.canceled).
create function hazina.installment_release_order(p_plan public.installments, p_status text) returns void
  language plpgsql
  set search_path = ''
  as $$
begin
  if exists (select 1 from public.orders where id = p_plan.order_id and status = 'pending_payment') then
    perform hazina.order_cancel(p_plan.order_id, p_plan.merchant_id, 'installment plan ' || p_status);
  end if;
end
$$;

-- An order with an active plan changes state only through its plan (its cancel is
-- POST /installments/:id/cancel): the order's own verbs are refused while the plan runs.
create function hazina.installment_guard_order() returns trigger
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  if exists (select 1 from public.installments where order_id = new.id and status = 'active') then
    perform hazina.raise_error('order_has_installment_plan', jsonb_build_object('order_id', new.id,
      'installment_id', (select id from public.installments where order_id = new.id)));
  end if;
  return new;
end
$$;

create trigger orders_installment_guard before update of status on public.orders
  for each row when (old.status = 'pending_payment' and new.status is distinct from old.status)
  execute function hazina.installment_guard_order();

-- The customer cancels (refund less the cancellation fee) or the merchant cancels (full refund).
create function hazina.installment_cancel(p_id uuid, p_actor uuid, p_reason text default null) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_plan public.installments := hazina.installment_lock(p_id, p_actor);
  v_fee numeric;
begin
  if v_plan.status = 'canceled' then
    return hazina.installment_json(p_id);
  end if;
  if v_plan.status <> 'active' then
    perform hazina.raise_error('installment_not_active', jsonb_build_object('installment_id', p_id, 'status', v_plan.status));
  end if;
  v_fee := case when p_actor = v_plan.merchant_id then 0 else hazina.installment_cancellation_fee(v_plan) end;
  perform hazina.installment_close(p_id, 'canceled', v_fee,
    coalesce(p_reason, case when p_actor = v_plan.merchant_id then 'canceled_by_merchant' else 'canceled_by_customer' end));
  perform hazina.event_emit(v_plan.merchant_id, 'installment.canceled', 'installment', p_id, hazina.installment_json(p_id));
  return hazina.installment_json(p_id);
end
$$;

create function public.installment_cancel(p_id uuid, p_reason text default null) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.installment_cancel(p_id, hazina.caller_id(), p_reason) $$;

-- The customer pays p_amount (default: what is due now, else the next row; never above the
-- outstanding balance) through a new intent; with p_wallet_id it is confirmed from that
-- wallet at once. Returns {installment, payment_intent}.
create function hazina.installment_pay(p_id uuid, p_customer_id uuid, p_amount numeric, p_wallet_id uuid,
                                       p_client_ref text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_plan public.installments := hazina.installment_lock(p_id, p_customer_id);
  v_outstanding numeric;
  v_amount numeric;
  v_intent jsonb;
  v_confirmed jsonb;
begin
  if v_plan.customer_id <> p_customer_id then
    perform hazina.raise_error('installment_not_found', jsonb_build_object('installment_id', p_id));
  end if;
  if p_client_ref is null or length(p_client_ref) not between 1 and 200 then
    perform hazina.raise_error('invalid_ref');
  end if;
  -- A replay of the same request returns the intent it opened.
  if exists (select 1 from public.payment_intents where merchant_id = v_plan.merchant_id
                and client_ref = 'installment:' || p_id || ':pay:' || p_client_ref) then
    select hazina.payment_intent_json(id) into v_intent from public.payment_intents
     where merchant_id = v_plan.merchant_id and client_ref = 'installment:' || p_id || ':pay:' || p_client_ref;
    return jsonb_build_object('installment', hazina.installment_json(p_id), 'payment_intent', v_intent);
  end if;
  if v_plan.status <> 'active' then
    perform hazina.raise_error('installment_not_active', jsonb_build_object('installment_id', p_id, 'status', v_plan.status));
  end if;
  v_outstanding := v_plan.total_amount + v_plan.late_fees - v_plan.amount_waived - v_plan.amount_paid;
  v_amount := coalesce(p_amount, (
    -- what is due by now, else the next unsettled row
    select coalesce(nullif(sum(s.amount + s.late_fee - s.amount_paid - s.amount_waived) filter (where s.due_at <= hazina.clock()), 0),
                    (array_agg(s.amount + s.late_fee - s.amount_paid - s.amount_waived order by s.seq))[1])
      from public.installment_schedule s where s.installment_id = p_id and s.status in ('pending', 'late')));
  perform hazina.assert_valid_amount(v_amount, v_plan.currency);
  if v_amount > v_outstanding then
    perform hazina.raise_error('amount_exceeds_outstanding', jsonb_build_object('outstanding', v_outstanding::numeric(19, 4)::text));
  end if;
  v_intent := hazina.installment_intent_open(v_plan, v_amount, 'installment:' || p_id || ':pay:' || p_client_ref,
                                             'Installment payment');
  if p_wallet_id is not null then
    v_confirmed := hazina.payment_intent_confirm((v_intent ->> 'id')::uuid, p_customer_id,
      jsonb_build_array(jsonb_build_object('type', 'wallet', 'wallet_id', p_wallet_id, 'amount', v_amount::text)));
    v_intent := v_confirmed || jsonb_build_object('client_secret', v_intent -> 'client_secret');
  end if;
  return jsonb_build_object('installment', hazina.installment_json(p_id), 'payment_intent', v_intent - 'created');
end
$$;

create function public.installment_pay(p_id uuid, p_amount numeric, p_wallet_id uuid, p_client_ref text) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.installment_pay(p_id, hazina.caller_id(), p_amount, p_wallet_id, p_client_ref) $$;

-- The merchant waives a row's late fee (what of it is unpaid) or the whole unpaid row.
create function hazina.installment_waive(p_id uuid, p_merchant_id uuid, p_seq integer, p_what text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_plan public.installments := hazina.installment_lock(p_id, p_merchant_id);
  v_row public.installment_schedule;
  v_waived numeric;
begin
  if v_plan.merchant_id <> p_merchant_id then
    perform hazina.raise_error('forbidden', jsonb_build_object('reason', 'only the shop''s merchant waives'));
  end if;
  if v_plan.status <> 'active' then
    perform hazina.raise_error('installment_not_active', jsonb_build_object('installment_id', p_id, 'status', v_plan.status));
  end if;
  if p_what is null or p_what not in ('late_fee', 'payment') then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'what', 'reason', 'late_fee or payment'));
  end if;
  select * into v_row from public.installment_schedule where installment_id = p_id and seq = p_seq for update;
  if v_row.id is null then
    perform hazina.raise_error('installment_row_not_found', jsonb_build_object('installment_id', p_id, 'seq', p_seq));
  end if;
  if v_row.status not in ('pending', 'late') then
    perform hazina.raise_error('installment_row_not_waivable', jsonb_build_object('seq', p_seq, 'status', v_row.status));
  end if;
  if p_what = 'late_fee' then
    -- The part of the fee neither paid (money pays the row's amount first, then its fee)
    -- nor waived before.
    v_waived := least(v_row.late_fee - v_row.late_fee_waived - greatest(v_row.amount_paid - v_row.amount, 0),
                      v_row.amount + v_row.late_fee - v_row.amount_paid - v_row.amount_waived);
    if v_waived <= 0 then
      perform hazina.raise_error('installment_row_not_waivable', jsonb_build_object('seq', p_seq, 'reason', 'no unpaid late fee'));
    end if;
  else
    if v_row.seq = 0 then
      perform hazina.raise_error('installment_row_not_waivable', jsonb_build_object('seq', p_seq, 'reason', 'the deposit cannot be waived'));
    end if;
    v_waived := v_row.amount + v_row.late_fee - v_row.amount_paid - v_row.amount_waived;
  end if;
  update public.installment_schedule
     set amount_waived = amount_waived + v_waived,
         late_fee_waived = late_fee_waived + case when p_what = 'late_fee' then v_waived else 0 end,
         status = case when amount_paid + amount_waived + v_waived = amount + late_fee then 'waived' else status end,
         waived_at = hazina.clock(), updated_at = now()
   where id = v_row.id;
  update public.installments set amount_waived = amount_waived + v_waived, updated_at = now() where id = p_id;
  perform hazina.installment_refresh(p_id);
  perform hazina.event_emit(v_plan.merchant_id, 'installment.waived', 'installment', p_id,
    hazina.installment_json(p_id) || jsonb_build_object('seq', p_seq, 'what', p_what, 'amount', v_waived::numeric(19, 4)::text));
  if not exists (select 1 from public.installment_schedule where installment_id = p_id and status in ('pending', 'late')) then
    perform hazina.installment_complete(p_id);
  end if;
  return hazina.installment_json(p_id);
end
$$;

create function public.installment_waive(p_id uuid, p_seq integer, p_what text) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.installment_waive(p_id, hazina.caller_id(), p_seq, p_what) $$;

-- React to the plan's intents: a success applies the money; the deposit intent canceled
-- (expired) before anything was paid cancels the plan (and its order).
create function hazina.installment_on_intent() returns trigger
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_plan public.installments;
begin
  if new.status = 'succeeded' then
    perform hazina.installment_apply_payment(new);
  elsif new.status = 'canceled' then
    select * into v_plan from public.installments where deposit_intent_id = new.id;
    if v_plan.id is not null and v_plan.status = 'active' and v_plan.amount_paid = 0 then
      perform hazina.installment_close(v_plan.id, 'canceled', 0, 'deposit_not_paid');
      perform hazina.event_emit(v_plan.merchant_id, 'installment.canceled', 'installment', v_plan.id,
                                hazina.installment_json(v_plan.id));
    end if;
  end if;
  return null;
end
$$;

create trigger payment_intents_installment after update of status on public.payment_intents
  for each row when (new.subject_type = 'installment' and old.status is distinct from new.status
                     and new.status in ('succeeded', 'canceled'))
  execute function hazina.installment_on_intent();

-- A plan's payments are refunded only by the plan (a default, a cancel, money it did not
-- need), which marks its refunds with the transaction-local setting hazina.installment_refund;
-- a merchant refunding a plan's intent directly (POST /payments/refunds) would take money out
-- of escrow behind the plan's back, so it is refused.
create function hazina.installment_guard_refund() returns trigger
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_plan_id uuid;
begin
  select subject_id into v_plan_id from public.payment_intents
   where id = new.payment_intent_id and subject_type = 'installment';
  if v_plan_id is not null and current_setting('hazina.installment_refund', true) is distinct from v_plan_id::text then
    perform hazina.raise_error('installment_refund_not_allowed', jsonb_build_object('installment_id', v_plan_id,
      'payment_intent_id', new.payment_intent_id));
  end if;
  return new;
end
$$;

create trigger payment_refunds_installment_guard before insert on public.payment_refunds
  for each row execute function hazina.installment_guard_refund();

-- The due-date work of one plan, in order: auto-collect what fell due (once per row), mark
-- unpaid due rows late, charge the late fee on rows past their grace (once: they are
-- missed), and default the plan after too many missed rows.
create function hazina.installment_process(p_id uuid) returns void
  language plpgsql
  set search_path = ''
  as $$
declare
  v_plan public.installments := hazina.installment_lock(p_id, null);
  v_now timestamptz := hazina.clock();
  v_row public.installment_schedule;
  v_due numeric;
  v_wallet uuid;
  v_intent jsonb;
  v_result jsonb;
  v_fee numeric;
begin
  -- Nothing falls due before the deposit is paid (its intent expiring cancels the plan).
  if v_plan.status <> 'active'
     or not exists (select 1 from public.installment_schedule where installment_id = p_id and seq = 0 and status = 'paid') then
    return;
  end if;
  if v_plan.auto_collect then
    for v_row in select * from public.installment_schedule
                  where installment_id = p_id and status in ('pending', 'late') and seq > 0 and due_at <= v_now
                    and collect_attempted_at is null order by seq for update loop
      update public.installment_schedule set collect_attempted_at = v_now, updated_at = now() where id = v_row.id;
      select status into v_plan.status from public.installments where id = p_id;
      exit when v_plan.status <> 'active';
      v_due := v_row.amount + v_row.late_fee - v_row.amount_paid - v_row.amount_waived;
      select id into v_wallet from public.wallets
       where user_id = v_plan.customer_id and currency = v_plan.currency and status = 'active';
      if v_wallet is null then
        continue;
      end if;
      v_intent := hazina.installment_intent_open(v_plan, v_due, 'installment:' || p_id || ':collect:' || v_row.seq,
                                                 'Installment auto-collection');
      -- An unaffordable collection is a failed attempt (nothing held, nothing overdrawn):
      -- the intent is canceled and the row turns late below.
      v_result := hazina.payment_intent_confirm((v_intent ->> 'id')::uuid, v_plan.customer_id,
        jsonb_build_array(jsonb_build_object('type', 'wallet', 'wallet_id', v_wallet, 'amount', v_due::text)));
      if v_result ? 'payment_error' then
        perform hazina.payment_intent_cancel((v_intent ->> 'id')::uuid, null, 'auto_collection_failed');
      end if;
    end loop;
    select * into v_plan from public.installments where id = p_id;
    if v_plan.status <> 'active' then
      return;
    end if;
  end if;
  for v_row in select * from public.installment_schedule
                where installment_id = p_id and status = 'pending' and seq > 0 and due_at <= v_now order by seq for update loop
    update public.installment_schedule set status = 'late', late_at = v_now, updated_at = now() where id = v_row.id;
    perform hazina.event_emit(v_plan.merchant_id, 'installment.overdue', 'installment', p_id,
      hazina.installment_json(p_id) || jsonb_build_object('seq', v_row.seq));
  end loop;
  for v_row in select * from public.installment_schedule
                where installment_id = p_id and status = 'late' and missed_at is null
                  and due_at + make_interval(days => v_plan.grace_days) <= v_now order by seq for update loop
    v_fee := case when v_plan.late_fee_enabled
                  then (hazina.fee_quote('installment_late_fee', v_row.amount, v_plan.currency, v_plan.merchant_id)).fee
                  else 0 end;
    update public.installment_schedule
       set missed_at = v_now, late_fee = v_fee, late_fee_charged_at = case when v_fee > 0 then v_now end, updated_at = now()
     where id = v_row.id;
    update public.installments set late_fees = late_fees + v_fee, missed_count = missed_count + 1, updated_at = now()
     where id = p_id returning * into v_plan;
    perform hazina.event_emit(v_plan.merchant_id, 'installment.missed', 'installment', p_id,
      hazina.installment_json(p_id) || jsonb_build_object('seq', v_row.seq, 'late_fee', v_fee::numeric(19, 4)::text));
  end loop;
  perform hazina.installment_refresh(p_id);
  if v_plan.missed_count >= v_plan.missed_payments_to_default then
    perform hazina.installment_close(p_id, 'defaulted', hazina.installment_cancellation_fee(v_plan), 'missed_payments');
    perform hazina.event_emit(v_plan.merchant_id, 'installment.defaulted', 'installment', p_id, hazina.installment_json(p_id));
  end if;
end
$$;

-- The plans with due-date work now.
create function hazina.installments_due(p_now timestamptz) returns setof uuid
  language sql stable
  set search_path = ''
  as $$
  select distinct s.installment_id
    from public.installment_schedule s join public.installments i on i.id = s.installment_id
   where s.status in ('pending', 'late') and s.seq > 0 and s.due_at <= p_now and i.status = 'active'
     and exists (select 1 from public.installment_schedule d where d.installment_id = i.id and d.seq = 0 and d.status = 'paid')
     and (s.status = 'pending'
          or (s.missed_at is null and s.due_at + make_interval(days => i.grace_days) <= p_now)
          or (i.auto_collect and s.seq > 0 and s.collect_attempted_at is null))
$$;

-- The job: each plan with work, claimed with skip locked (concurrent passes never process
-- one plan twice; a plan being paid right now waits for the next pass).
create function hazina.job_installments_due(p_limit integer) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_id uuid;
  v_count integer := 0;
begin
  for v_id in select i.id from public.installments i
               where i.id in (select hazina.installments_due(hazina.clock())) and i.status = 'active'
               order by i.next_due_at nulls last, i.id limit p_limit for update skip locked loop
    perform hazina.installment_process(v_id);
    v_count := v_count + 1;
  end loop;
  return jsonb_build_object('processed', v_count,
                            'remaining', (select count(*) from hazina.installments_due(hazina.clock())));
end
$$;

-- Reminders: claim rows due within the platform's lead time that were not reminded yet
-- (skip locked, marked in the same transaction: each row is reminded once), emit
-- installment.due_soon, and return whom to mail (the edge job sends after commit).
create function hazina.installment_claim_reminders(p_limit integer) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_now timestamptz := hazina.clock();
  v_lead interval := (select reminder_lead from hazina.installment_limits);
  v_row record;
  v_out jsonb := '[]'::jsonb;
begin
  for v_row in select s.id, s.installment_id, s.seq, s.due_at,
                      (s.amount + s.late_fee - s.amount_paid - s.amount_waived)::numeric(19, 4) as due,
                      i.currency, i.merchant_id, i.auto_collect, u.email
                 from public.installment_schedule s
                 join public.installments i on i.id = s.installment_id
                 join public.auth_users u on u.id = i.customer_id
                where s.status = 'pending' and s.seq > 0 and s.reminded_at is null and i.status = 'active'
                  and s.due_at > v_now and s.due_at <= v_now + v_lead
                  and exists (select 1 from public.installment_schedule d
                               where d.installment_id = i.id and d.seq = 0 and d.status = 'paid')
                order by s.due_at, s.id limit p_limit
                  for update of s skip locked loop
    update public.installment_schedule set reminded_at = v_now, updated_at = now() where id = v_row.id;
    perform hazina.event_emit(v_row.merchant_id, 'installment.due_soon', 'installment', v_row.installment_id,
      hazina.installment_json(v_row.installment_id) || jsonb_build_object('seq', v_row.seq, 'amount_due', v_row.due::text,
                                                                          'due_at', public.api_time(v_row.due_at)));
    v_out := v_out || jsonb_build_object('installment_id', v_row.installment_id, 'seq', v_row.seq, 'email', v_row.email,
                                         'amount', v_row.due::text, 'currency', v_row.currency,
                                         'due_at', public.api_time(v_row.due_at), 'auto_collect', v_row.auto_collect);
  end loop;
  return jsonb_build_object('reminders', v_out,
    'remaining', (select count(*) from public.installment_schedule s join public.installments i on i.id = s.installment_id
                   where s.status = 'pending' and s.seq > 0 and s.reminded_at is null and i.status = 'active'
                     and s.due_at > v_now and s.due_at <= v_now + v_lead
                     and exists (select 1 from public.installment_schedule d
                                  where d.installment_id = i.id and d.seq = 0 and d.status = 'paid')));
end
$$;

insert into hazina.jobs (name, runs_in, function, every, batch_size, exclusive, description) values
  ('installments.due', 'database', 'hazina.job_installments_due', interval '1 minute', 200, false,
   'Installment plans: auto-collect due payments, mark late rows, charge late fees once, default after missed payments.'),
  ('installments.remind', 'edge', null, interval '5 minutes', 200, false,
   'Installment plans: mail the customer before a payment falls due (installment.due_soon).');

-- Reconciliation: a plan's figures agree with its schedule, and the money it holds in escrow
-- (what its intents received, less their refunds, less what was released to the merchant)
-- is what it has been paid while active, nothing once closed.
create function hazina.installment_escrow_held(p_id uuid) returns numeric
  language sql stable
  set search_path = ''
  as $$
  select coalesce((select sum(p.amount_received - p.amount_refunded) from public.payment_intents p
                    where p.subject_type = 'installment' and p.subject_id = p_id), 0)
         - (select amount_released from public.installments where id = p_id)
$$;

-- The escrow wallet owes active plans what they were paid (the orders capability's
-- obligations view, with the plans' rows added: its reconciliation check covers both).
create or replace view hazina.escrow_obligations as
  select e.currency, 'goods_escrow'::text as subject_type, e.id as subject_id,
         (e.amount - e.released_amount - e.refunded_amount) as amount
    from public.goods_escrows e
   where e.amount - e.released_amount - e.refunded_amount <> 0
  union all
  select i.currency, 'installment'::text, i.id, i.amount_paid
    from public.installments i
   where i.status = 'active' and i.amount_paid <> 0;

create function hazina.reconcile_installments()
  returns table (check_name text, subject text, expected numeric, actual numeric)
  language sql stable
  security definer
  set search_path = ''
  as $$
  select 'installment_paid_matches_schedule', i.id::text, i.amount_paid, coalesce(sum(s.amount_paid), 0)
    from public.installments i left join public.installment_schedule s on s.installment_id = i.id
   group by i.id having i.amount_paid <> coalesce(sum(s.amount_paid), 0)
  union all
  select 'installment_late_fees_match_schedule', i.id::text, i.late_fees, coalesce(sum(s.late_fee), 0)
    from public.installments i left join public.installment_schedule s on s.installment_id = i.id
   group by i.id having i.late_fees <> coalesce(sum(s.late_fee), 0)
  union all
  select 'installment_waived_matches_schedule', i.id::text, i.amount_waived, coalesce(sum(s.amount_waived), 0)
    from public.installments i left join public.installment_schedule s on s.installment_id = i.id
   group by i.id having i.amount_waived <> coalesce(sum(s.amount_waived), 0)
  union all
  select 'installment_total_matches_schedule', i.id::text, i.total_amount, coalesce(sum(s.amount), 0)
    from public.installments i left join public.installment_schedule s on s.installment_id = i.id
   group by i.id having i.total_amount <> coalesce(sum(s.amount), 0)
  union all
  select 'installment_escrow_held', i.id::text,
         case when i.status = 'active' then i.amount_paid else 0 end, hazina.installment_escrow_held(i.id)
    from public.installments i
   where hazina.installment_escrow_held(i.id) <> case when i.status = 'active' then i.amount_paid else 0 end
  union all
  select 'installment_closed_money_accounted', i.id::text, i.amount_paid, i.amount_refunded + i.amount_released
    from public.installments i
   where i.status in ('completed', 'defaulted', 'canceled') and i.amount_paid <> i.amount_refunded + i.amount_released
$$;

insert into hazina.reconciliation_checks (check_function, description) values
  ('hazina.reconcile_installments()', 'installment plans: figures agree with the schedule; money held in escrow is what active plans were paid');

-- POST /orders with `installments`: place the order (priced, stock reserved: the orders
-- capability's hazina.order_place) and make its plan instead of opening the order's own
-- payment intent: the order stays pending_payment, its stock reserved, for the plan's life.
-- p_installments: {"deposit": "100.00", "count": 3, "interval": "week", "auto_collect": true}.
-- Idempotent as order placement is: the same request returns the same order and plan.
create function hazina.order_create_installments(p_customer_id uuid, p_shop_id uuid, p_items jsonb, p_escrow boolean,
                                                 p_shipping jsonb, p_client_ref text, p_installments jsonb) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_order public.orders;
  v_plan jsonb;
  v_created boolean;
begin
  if p_installments is null or jsonb_typeof(p_installments) <> 'object'
     or jsonb_typeof(p_installments -> 'deposit') is distinct from 'string'
     or p_installments ->> 'deposit' !~ '^[0-9]{1,15}(\.[0-9]{1,4})?$'
     or jsonb_typeof(p_installments -> 'count') is distinct from 'number' or p_installments ->> 'count' !~ '^[0-9]{1,3}$'
     or (p_installments ? 'auto_collect' and jsonb_typeof(p_installments -> 'auto_collect') <> 'boolean') then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'installments',
      'reason', '{deposit: "<amount>", count: <n>, interval: day|week|month, auto_collect?: boolean}'));
  end if;
  v_order := hazina.order_place(p_customer_id, p_shop_id, p_items, p_escrow, p_shipping, p_client_ref);
  v_created := not exists (select 1 from public.installments where order_id = v_order.id);
  if v_created then
    v_plan := hazina.installment_create(v_order, (p_installments ->> 'deposit')::numeric, (p_installments ->> 'count')::integer,
                                        p_installments ->> 'interval', coalesce((p_installments ->> 'auto_collect')::boolean, false));
  else
    select hazina.installment_json(id) || jsonb_build_object('deposit_intent', hazina.payment_intent_json(deposit_intent_id))
      into v_plan from public.installments where order_id = v_order.id;
  end if;
  return hazina.order_json(v_order.id) || jsonb_build_object('installment', v_plan - 'deposit_intent',
                                                             'payment_intent', v_plan -> 'deposit_intent',
                                                             'created', v_created);
end
$$;

create function public.order_create_installments(p_shop_id uuid, p_items jsonb, p_escrow boolean, p_shipping jsonb,
                                                 p_client_ref text, p_installments jsonb) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.order_create_installments(hazina.caller_id(), p_shop_id, p_items, p_escrow, p_shipping, p_client_ref,
                                                p_installments) $$;

-- Row level security: the plan's customer and the shop's merchant read the plan and its
-- schedule; the merchant reads and sets its shops' plan settings, anyone reads whether a
-- shop offers plans; nobody writes the plans directly.
alter table public.installments enable row level security;
alter table public.installment_schedule enable row level security;
alter table public.shop_installment_settings enable row level security;
revoke all on table public.installments, public.installment_schedule, public.shop_installment_settings
  from public, anon, authenticated;
grant select on table public.installments, public.installment_schedule to authenticated, service_role;
grant select on table public.shop_installment_settings to anon, authenticated, service_role;
create policy "customer or merchant reads own installment plans" on public.installments
  for select to authenticated using (customer_id = auth.uid() or merchant_id = auth.uid());
create policy "customer or merchant reads schedules of own installment plans" on public.installment_schedule
  for select to authenticated using (exists (
    select 1 from public.installments i
     where i.id = installment_id and (i.customer_id = auth.uid() or i.merchant_id = auth.uid())));
create policy "anyone reads plan settings of active shops" on public.shop_installment_settings
  for select to anon, authenticated using (exists (
    select 1 from public.shops s where s.id = shop_id and (s.status = 'active' or s.merchant_id = auth.uid())));

-- The merchant sets its shop's plan policy (the whole policy; omitted fields keep their value).
create function hazina.shop_installment_settings_set(p_shop_id uuid, p_merchant_id uuid, p_settings jsonb) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_row public.shop_installment_settings;
begin
  if not exists (select 1 from public.shops where id = p_shop_id and merchant_id = p_merchant_id) then
    perform hazina.raise_error('shop_not_found', jsonb_build_object('shop_id', p_shop_id));
  end if;
  if p_settings is null or jsonb_typeof(p_settings) <> 'object' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'settings', 'reason', 'an object'));
  end if;
  insert into public.shop_installment_settings (shop_id) values (p_shop_id) on conflict (shop_id) do nothing;
  begin
    update public.shop_installment_settings
       set allowed = coalesce((p_settings ->> 'allowed')::boolean, allowed),
           max_count = coalesce((p_settings ->> 'max_count')::smallint, max_count),
           intervals = coalesce((select array_agg(value order by value) from jsonb_array_elements_text(p_settings -> 'intervals')
                                  where jsonb_typeof(p_settings -> 'intervals') = 'array'), intervals),
           min_deposit_bps = coalesce((p_settings ->> 'min_deposit_bps')::integer, min_deposit_bps),
           grace_days = coalesce((p_settings ->> 'grace_days')::smallint, grace_days),
           late_fee_enabled = coalesce((p_settings ->> 'late_fee_enabled')::boolean, late_fee_enabled),
           cancellation_fee_bps = coalesce((p_settings ->> 'cancellation_fee_bps')::integer, cancellation_fee_bps),
           cancellation_fee_fixed = coalesce((p_settings ->> 'cancellation_fee_fixed')::numeric, cancellation_fee_fixed),
           missed_payments_to_default = coalesce((p_settings ->> 'missed_payments_to_default')::smallint, missed_payments_to_default),
           updated_at = now()
     where shop_id = p_shop_id
    returning * into v_row;
  exception when check_violation or invalid_text_representation or numeric_value_out_of_range then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'installment_settings', 'reason', sqlerrm));
  end;
  return public.shop_installment_settings_json(v_row);
end
$$;

-- (Security definer: it reads the platform's bound, which clients cannot read directly.)
create function public.shop_installment_settings_json(s public.shop_installment_settings) returns jsonb
  language sql stable
  security definer
  set search_path = ''
  as $$
  select jsonb_build_object('object', 'shop_installment_settings', 'shop_id', s.shop_id, 'allowed', s.allowed,
                            'max_count', s.max_count, 'intervals', to_jsonb(s.intervals),
                            'min_deposit_bps', s.min_deposit_bps, 'grace_days', s.grace_days,
                            'late_fee_enabled', s.late_fee_enabled, 'late_fee_transaction_type', 'installment_late_fee',
                            'cancellation_fee_bps', s.cancellation_fee_bps,
                            'cancellation_fee_fixed', s.cancellation_fee_fixed::text,
                            'max_cancellation_fee_bps', (select max_cancellation_fee_bps from hazina.installment_limits),
                            'missed_payments_to_default', s.missed_payments_to_default,
                            'updated_at', public.api_time(s.updated_at))
$$;

create function public.shop_installment_settings_set(p_shop_id uuid, p_settings jsonb) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.shop_installment_settings_set(p_shop_id, hazina.caller_id(), p_settings) $$;

revoke all on table hazina.installment_limits from public, anon, authenticated;
revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function public.installment_cancel(uuid, text), public.installment_pay(uuid, numeric, uuid, text),
  public.installment_waive(uuid, integer, text), public.shop_installment_settings_set(uuid, jsonb),
  public.order_create_installments(uuid, jsonb, boolean, jsonb, text, jsonb),
  public.installment_json(public.installments), public.installment_schedule_json(public.installment_schedule),
  public.shop_installment_settings_json(public.shop_installment_settings)
  from public, anon;
grant execute on function public.installment_cancel(uuid, text), public.installment_pay(uuid, numeric, uuid, text),
  public.installment_waive(uuid, integer, text), public.shop_installment_settings_set(uuid, jsonb),
  public.order_create_installments(uuid, jsonb, boolean, jsonb, text, jsonb) to authenticated;
grant execute on function public.installment_json(public.installments), public.installment_schedule_json(public.installment_schedule)
  to authenticated, service_role;
grant execute on function public.shop_installment_settings_json(public.shop_installment_settings) to authenticated, service_role;
grant execute on function hazina.installment_json(uuid), hazina.job_installments_due(integer),
  hazina.installment_claim_reminders(integer), hazina.reconcile_installments() to service_role;

-- migrate:down
create or replace view hazina.escrow_obligations as
  select e.currency, 'goods_escrow'::text as subject_type, e.id as subject_id,
         (e.amount - e.released_amount - e.refunded_amount) as amount
    from public.goods_escrows e
   where e.amount - e.released_amount - e.refunded_amount <> 0;
drop trigger if exists orders_installment_guard on public.orders;
drop function if exists hazina.installment_guard_order();
delete from hazina.reconciliation_checks where check_function = 'hazina.reconcile_installments()'::regprocedure;
delete from hazina.jobs where name in ('installments.due', 'installments.remind');
drop trigger if exists payment_intents_installment on public.payment_intents;
drop trigger if exists payment_refunds_installment_guard on public.payment_refunds;
drop function if exists hazina.installment_guard_refund();
drop function if exists public.shop_installment_settings_set(uuid, jsonb);
drop function if exists hazina.shop_installment_settings_set(uuid, uuid, jsonb);
drop function if exists public.shop_installment_settings_json(public.shop_installment_settings);
drop function if exists hazina.reconcile_installments();
drop function if exists hazina.installment_escrow_held(uuid);
drop function if exists hazina.installment_claim_reminders(integer);
drop function if exists hazina.job_installments_due(integer);
drop function if exists hazina.installments_due(timestamptz);
drop function if exists hazina.installment_process(uuid);
drop function if exists hazina.installment_on_intent();
drop function if exists public.installment_waive(uuid, integer, text);
drop function if exists hazina.installment_waive(uuid, uuid, integer, text);
drop function if exists public.installment_pay(uuid, numeric, uuid, text);
drop function if exists hazina.installment_pay(uuid, uuid, numeric, uuid, text);
drop function if exists public.installment_cancel(uuid, text);
drop function if exists hazina.installment_cancel(uuid, uuid, text);
drop function if exists hazina.installment_close(uuid, text, numeric, text);
drop function if exists hazina.installment_release_order(public.installments, text);
drop function if exists hazina.installment_cancellation_fee(public.installments);
drop function if exists hazina.installment_complete(uuid);
drop function if exists hazina.installment_settle(public.installments);
drop function if exists hazina.installment_cancel_open_intents(uuid);
drop function if exists hazina.installment_apply_payment(public.payment_intents);
drop function if exists public.order_create_installments(uuid, jsonb, boolean, jsonb, text, jsonb);
drop function if exists hazina.order_create_installments(uuid, uuid, jsonb, boolean, jsonb, text, jsonb);
drop function if exists hazina.installment_create(public.orders, numeric, integer, text, boolean);
drop function if exists hazina.installment_intent_open(public.installments, numeric, text, text);
drop function if exists hazina.installment_refresh(uuid);
drop function if exists hazina.installment_lock(uuid, uuid);
drop function if exists hazina.installment_json(uuid);
drop function if exists public.installment_json(public.installments);
drop function if exists public.installment_schedule_json(public.installment_schedule);
drop function if exists hazina.installment_due_at(timestamptz, text, integer);
drop function if exists hazina.installment_schedule_amounts(numeric, numeric, integer, text);
drop index if exists public.payment_intents_installment_idx;
drop table if exists public.installment_schedule;
drop table if exists public.installments;
drop table if exists public.shop_installment_settings;
drop table if exists hazina.installment_limits;
delete from public.billing_fee_catalog where transaction_type = 'installment_late_fee';
delete from public.transaction_types where code in ('installment_late_fee', 'installment_cancellation_fee');
