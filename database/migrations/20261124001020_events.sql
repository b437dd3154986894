-- migrate:up
-- Events: what happened to a merchant's objects, written in the same transaction as the
-- change, so an event exists exactly when its change committed. Merchants list them
-- (GET /payments/events); signed webhook delivery will read the same rows.
--   payment_intent.created | .processing | .requires_capture | .succeeded | .canceled
--   | .payment_failed (a confirm whose money could not be held: last_payment_error),
--   payment_refund.created
-- Triggers write them, so no transition (SQL function, job, future caller) can forget one.

create table public.events (
  id           uuid primary key default gen_random_uuid(),
  merchant_id  uuid not null references public.auth_users (id),
  type         text not null check (type ~ '^[a-z_]+\.[a-z_]+$' and length(type) <= 100),
  object_type  text not null check (object_type in ('payment_intent', 'payment_refund')),
  object_id    uuid not null,
  data         jsonb not null,  -- the object's API shape at the time of the event
  created_at   timestamptz not null default now()
);
create index events_merchant_idx on public.events (merchant_id, created_at, id);
create index events_object_idx on public.events (object_id, created_at);

create function public.event_json(e public.events) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', e.id, 'object', 'event', 'type', e.type, 'object_type', e.object_type,
                            'object_id', e.object_id, 'data', e.data, 'created_at', public.api_time(e.created_at))
$$;

create function hazina.payment_intent_event() returns trigger
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  if tg_op = 'INSERT' or new.status is distinct from old.status then
    insert into public.events (merchant_id, type, object_type, object_id, data)
    values (new.merchant_id, 'payment_intent.' || case when tg_op = 'INSERT' then 'created' else new.status end,
            'payment_intent', new.id, public.payment_intent_json(new));
  elsif new.last_payment_error is not null and new.last_payment_error is distinct from old.last_payment_error then
    insert into public.events (merchant_id, type, object_type, object_id, data)
    values (new.merchant_id, 'payment_intent.payment_failed', 'payment_intent', new.id, public.payment_intent_json(new));
  end if;
  return null;
end
$$;

create function hazina.payment_refund_event() returns trigger
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  insert into public.events (merchant_id, type, object_type, object_id, data)
  values (new.merchant_id, 'payment_refund.created', 'payment_refund', new.id, public.payment_refund_json(new));
  return null;
end
$$;

create trigger payment_intents_event after insert or update on public.payment_intents
  for each row execute function hazina.payment_intent_event();
create trigger payment_refunds_event after insert on public.payment_refunds
  for each row execute function hazina.payment_refund_event();

-- Row level security: a merchant reads its own events. Nobody writes directly.
alter table public.events enable row level security;
revoke all on table public.events from public, anon, authenticated;
grant select on table public.events to authenticated, service_role;
create policy "merchant reads own events" on public.events
  for select to authenticated using (merchant_id = auth.uid());

revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function public.event_json(public.events) from public, anon;
grant execute on function public.event_json(public.events) to authenticated, service_role;

-- migrate:down
drop trigger if exists payment_refunds_event on public.payment_refunds;
drop trigger if exists payment_intents_event on public.payment_intents;
drop function if exists hazina.payment_refund_event();
drop function if exists hazina.payment_intent_event();
drop function if exists public.event_json(public.events);
drop table if exists public.events;
