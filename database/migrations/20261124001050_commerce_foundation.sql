-- migrate:up
-- What the commerce capabilities (invoices, shops and orders, goods escrow, installments,
-- QR codes) share, so each of them adds rows and triggers of its own instead of editing
-- another's:
--   * hazina.clock(): the time every commerce rule reads (due dates, overdue, escrow
--     auto-release, installment collection, QR expiry). It is now() plus an offset that only
--     the database owner can move (hazina.clock_travel), so tests and demos advance time
--     instead of sleeping. In production the offset stays zero; moving it is audited.
--   * events may describe every commerce object (one list here), and hazina.event_emit is the
--     one way a capability writes an event (in the same transaction as its change).

create table hazina.clock_offset (
  id          boolean primary key default true check (id),
  "offset"    interval not null default interval '0',
  updated_at  timestamptz not null default now()
);
insert into hazina.clock_offset default values;

create function hazina.clock() returns timestamptz
  language sql stable
  set search_path = ''
  as $$
  select now() + coalesce((select "offset" from hazina.clock_offset), interval '0')
$$;

-- (Clients never call hazina functions: SECURITY DEFINER functions read the clock.)
-- Move the commerce clock forward (or back to zero with p_reset). Owner only: no role a
-- request runs as can execute it.
create function hazina.clock_travel(p_by interval, p_reset boolean default false) returns timestamptz
  language plpgsql
  set search_path = ''
  as $$
begin
  update hazina.clock_offset
     set "offset" = case when p_reset then interval '0' else "offset" + p_by end, updated_at = now();
  return hazina.clock();
end
$$;

alter table public.events drop constraint events_object_type_check;
alter table public.events add constraint events_object_type_check check (object_type in (
  'payment_intent', 'payment_refund', 'invoice', 'order', 'goods_escrow', 'installment', 'qr_code'));

-- Write one event for a merchant's object, in the caller's transaction.
create function hazina.event_emit(p_merchant_id uuid, p_type text, p_object_type text, p_object_id uuid, p_data jsonb)
  returns uuid
  language sql
  security definer
  set search_path = ''
  as $$
  insert into public.events (merchant_id, type, object_type, object_id, data)
  values (p_merchant_id, p_type, p_object_type, p_object_id, p_data)
  returning id
$$;

-- Every move of the clock is in audit_logs (table clock_offset).
create trigger clock_offset_audit after update on hazina.clock_offset
  for each row execute function hazina.audit_row_change();

revoke all on table hazina.clock_offset from public, anon, authenticated;
revoke execute on all functions in schema hazina from public, anon, authenticated;

-- migrate:down
drop function if exists hazina.event_emit(uuid, text, text, uuid, jsonb);
alter table public.events drop constraint events_object_type_check;
alter table public.events add constraint events_object_type_check check (object_type in ('payment_intent', 'payment_refund'));
drop function if exists hazina.clock_travel(interval, boolean);
drop function if exists hazina.clock();
drop table if exists hazina.clock_offset;
