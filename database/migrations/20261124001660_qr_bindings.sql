-- migrate:up
-- QR bindings (issue 18, docs/checkout.md "binding plan"): an invoice gets its QR code when it
-- is finalised and an order when it is placed with its payment intent; the code follows its
-- object (disabled when the invoice is paid or voided, when the order leaves pending_payment).
-- Only triggers of this capability: no other capability's function is changed. Paying through
-- a bound code on the checkout page stays refused (qr_code_kind_not_payable): the object is
-- paid through its own path (an invoice through its pay link / hazina.invoice_pay, an order
-- through its own payment intent), never through a separate intent that would bypass its rules.

-- The bound code of an invoice or order, for the caller under RLS (the merchant's own codes);
-- null when there is none. The edge's URLs are <functions>/checkout/<slug> and
-- <functions>/qr-codes/<slug>.png.
create function public.qr_code_for(p_kind text, p_subject_id uuid) returns jsonb
  language sql stable security invoker set search_path = ''
  as $$ select public.qr_code_json(q) from public.qr_codes q
         where q.kind = p_kind and q.subject_id = p_subject_id and p_kind in ('invoice', 'order')
         order by q.created_at limit 1 $$;
revoke execute on function public.qr_code_for(text, uuid) from public, anon;
grant execute on function public.qr_code_for(text, uuid) to authenticated, service_role;

-- Disables the active bound code(s) of a subject, with the event.
create function hazina.qr_code_disable_bound(p_kind text, p_subject_id uuid) returns void
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

-- Finalised (draft -> open): the code, for the amount due, labelled with the invoice number.
-- An invoice with nothing due (total 0) gets no code (a code's amount is positive). No expiry:
-- an overdue invoice is still payable. The ref invoice:<id>:qr makes it once per invoice.
create function hazina.invoice_qr_on_finalise() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
begin
  if new.amount_due > 0 then
    perform hazina.qr_code_create(new.merchant_id, 'invoice', left('Invoice ' || coalesce(new.number, new.id::text), 100),
                                  new.amount_due, new.currency, new.id, null, null, 'invoice:' || new.id || ':qr');
  end if;
  return null;
end
$$;
create trigger invoices_qr_on_finalise after update of status on public.invoices
  for each row when (old.status = 'draft' and new.status = 'open')
  execute function hazina.invoice_qr_on_finalise();

create function hazina.invoice_qr_on_close() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
begin
  perform hazina.qr_code_disable_bound('invoice', new.id);
  return null;
end
$$;
create trigger invoices_qr_on_close after update of status on public.invoices
  for each row when (new.status in ('paid', 'void') and old.status is distinct from new.status)
  execute function hazina.invoice_qr_on_close();

-- Placed with its payment intent: the code, for the order's total. No expiry of its own: it is
-- disabled when the order leaves pending_payment (paid, or canceled when its intent expires).
create function hazina.order_qr_on_intent() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
begin
  perform hazina.qr_code_create(new.merchant_id, 'order', 'Order ' || left(new.id::text, 8), new.total, new.currency,
                                new.id, null, null, 'order:' || new.id || ':qr');
  return null;
end
$$;
create trigger orders_qr_on_intent after update of payment_intent_id on public.orders
  for each row when (old.payment_intent_id is null and new.payment_intent_id is not null and new.status = 'pending_payment')
  execute function hazina.order_qr_on_intent();

create function hazina.order_qr_on_close() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
begin
  perform hazina.qr_code_disable_bound('order', new.id);
  return null;
end
$$;
create trigger orders_qr_on_close after update of status on public.orders
  for each row when (old.status = 'pending_payment' and new.status <> 'pending_payment')
  execute function hazina.order_qr_on_close();

revoke execute on function hazina.qr_code_disable_bound(text, uuid), hazina.invoice_qr_on_finalise(), hazina.invoice_qr_on_close(),
  hazina.order_qr_on_intent(), hazina.order_qr_on_close() from public, anon, authenticated;

-- migrate:down
drop trigger orders_qr_on_close on public.orders;
drop trigger orders_qr_on_intent on public.orders;
drop trigger invoices_qr_on_close on public.invoices;
drop trigger invoices_qr_on_finalise on public.invoices;
drop function hazina.order_qr_on_close();
drop function hazina.order_qr_on_intent();
drop function hazina.invoice_qr_on_close();
drop function hazina.invoice_qr_on_finalise();
drop function hazina.qr_code_disable_bound(text, uuid);
drop function public.qr_code_for(text, uuid);
