-- migrate:up
-- An invoice's QR code comes back when the invoice reopens (docs/invoices.md, docs/checkout.md).
-- A bound code is disabled when its invoice is paid or voided (20261124001660), and a refund
-- reopens a paid invoice (paid -> open: it is owed again), so its printed code must take the
-- payment again. Only a code disabled *because its object closed* comes back, never one the
-- merchant disabled: qr_codes.disabled_reason records which ('subject_closed' set by
-- hazina.qr_code_disable_bound, 'merchant' by DELETE /qr-codes/:id and PATCH status=disabled),
-- null unless the code is disabled. A void invoice never reopens, so its code stays disabled.

alter table public.qr_codes
  add column disabled_reason text check (disabled_reason in ('merchant', 'subject_closed'));

-- Backfill. A bound code disabled in the same transaction as its object's closing event (the
-- events' created_at is the transaction's now()) was disabled by the close; a bound order or
-- intent code whose object is closed likewise (nothing reopens them). Anything else disabled is
-- the merchant's: when in doubt, never bring a code back.
update public.qr_codes q
   set disabled_reason = case
     when q.kind = 'invoice' and exists (
            select 1 from public.events d join public.events c on c.created_at = d.created_at
             where d.object_id = q.id and d.type = 'qr_code.disabled'
               and c.object_id = q.invoice_id and c.type in ('invoice.paid', 'invoice.voided')
               and d.created_at = (select max(x.created_at) from public.events x
                                    where x.object_id = q.id and x.type = 'qr_code.disabled')) then 'subject_closed'
     when q.kind = 'order' and exists (select 1 from public.orders o where o.id = q.order_id and o.status <> 'pending_payment')
       then 'subject_closed'
     when q.kind = 'intent' and exists (select 1 from public.payment_intents p
                                         where p.id = q.payment_intent_id and p.status in ('succeeded', 'canceled'))
       then 'subject_closed'
     else 'merchant' end
 where q.status = 'disabled';

-- The reason follows the status: a code leaving disabled loses it; a disable that names none
-- (any other path) is the merchant's.
create function hazina.qr_code_disabled_reason() returns trigger
  language plpgsql set search_path = ''
  as $$
begin
  if new.status <> 'disabled' then
    new.disabled_reason := null;
  elsif new.disabled_reason is null then
    new.disabled_reason := 'merchant';
  end if;
  return new;
end
$$;
create trigger qr_codes_disabled_reason before insert or update of status, disabled_reason on public.qr_codes
  for each row execute function hazina.qr_code_disabled_reason();

alter table public.qr_codes
  add constraint qr_codes_disabled_reason check ((status = 'disabled') = (disabled_reason is not null));

-- As 20261124001750, now recording why.
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
    update public.qr_codes set status = 'disabled', disabled_reason = 'subject_closed', updated_at = now() where id = v_code.id;
    perform hazina.event_emit(v_code.merchant_id, 'qr_code.disabled', 'qr_code', v_code.id, hazina.qr_code_json(v_code.id));
  end loop;
end
$$;
revoke execute on function hazina.qr_code_disable_bound(text, uuid) from public, anon, authenticated;

-- DELETE /qr-codes/:id: as 20261124001500, and the merchant's word is recorded. Disabling a
-- code its object's close already disabled makes it the merchant's (it stays disabled when
-- the invoice reopens; no event: its status does not change).
create or replace function hazina.qr_code_disable(p_merchant_id uuid, p_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_code public.qr_codes := hazina.qr_code_lock(p_id, p_merchant_id);
begin
  if v_code.status = 'active' then
    update public.qr_codes set status = 'disabled', disabled_reason = 'merchant', updated_at = now() where id = p_id;
    perform hazina.event_emit(p_merchant_id, 'qr_code.disabled', 'qr_code', p_id, hazina.qr_code_json(p_id));
  elsif v_code.status = 'disabled' and v_code.disabled_reason <> 'merchant' then
    update public.qr_codes set disabled_reason = 'merchant', updated_at = now() where id = p_id;
  end if;
  return hazina.qr_code_json(p_id);
end
$$;

-- PATCH /qr-codes/:id: as 20261124001500; status=disabled is the merchant's word (also on a
-- code already disabled by its object's close).
create or replace function hazina.qr_code_update(p_merchant_id uuid, p_id uuid, p_label text, p_expires_at timestamptz,
                                      p_clear_expiry boolean, p_max_uses integer, p_clear_max_uses boolean, p_status text)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_code public.qr_codes := hazina.qr_code_lock(p_id, p_merchant_id);
  v_status text;
begin
  if p_status is not null and p_status not in ('active', 'disabled') then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'status', 'reason', 'active or disabled'));
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
  v_code.label := coalesce(p_label, v_code.label);
  v_code.expires_at := case when p_clear_expiry then null else coalesce(p_expires_at, v_code.expires_at) end;
  v_code.max_uses := case when p_clear_max_uses then null else coalesce(p_max_uses, v_code.max_uses) end;
  v_status := coalesce(p_status, case when v_code.status = 'disabled' then 'disabled' else 'active' end);
  if v_status = 'active' then
    v_status := case when v_code.max_uses is not null and v_code.use_count >= v_code.max_uses then 'exhausted'
                     when v_code.expires_at is not null and v_code.expires_at <= hazina.clock() then 'expired'
                     else 'active' end;
  end if;
  update public.qr_codes
     set label = v_code.label, expires_at = v_code.expires_at, max_uses = v_code.max_uses, status = v_status,
         disabled_reason = case when v_status <> 'disabled' then null
                                when p_status = 'disabled' then 'merchant'
                                else v_code.disabled_reason end,
         updated_at = now()
   where id = p_id;
  perform hazina.event_emit(p_merchant_id,
    case when v_status <> v_code.status then 'qr_code.' || v_status else 'qr_code.updated' end,
    'qr_code', p_id, hazina.qr_code_json(p_id));
  return hazina.qr_code_json(p_id);
end
$$;

-- Reopened (a refund took a paid invoice back to open; any future X -> open other than the
-- draft's finalise): its codes disabled by the close are active again, with qr_code.active,
-- under the code's own limits as PATCH status=active applies them (a code at max_uses is
-- exhausted, one past expires_at expired, each with its event). The code's amount stays its
-- finalise-time copy: the checkout asks for the invoice's amount due now (qr_code_resolve).
-- Locks: the invoice is already held by the transition; then its codes, FOR UPDATE, in id
-- order (as qr_code_disable_bound).
create function hazina.invoice_qr_on_reopen() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
declare
  v_code public.qr_codes;
  v_status text;
begin
  for v_code in select * from public.qr_codes
                 where invoice_id = new.id and status = 'disabled' and disabled_reason = 'subject_closed'
                 order by id for update loop
    v_status := case when v_code.max_uses is not null and v_code.use_count >= v_code.max_uses then 'exhausted'
                     when v_code.expires_at is not null and v_code.expires_at <= hazina.clock() then 'expired'
                     else 'active' end;
    update public.qr_codes set status = v_status, disabled_reason = null, updated_at = now() where id = v_code.id;
    perform hazina.event_emit(v_code.merchant_id, 'qr_code.' || v_status, 'qr_code', v_code.id, hazina.qr_code_json(v_code.id));
  end loop;
  return null;
end
$$;
create trigger invoices_qr_on_reopen after update of status on public.invoices
  for each row when (new.status = 'open' and old.status in ('paid', 'uncollectible'))
  execute function hazina.invoice_qr_on_reopen();

revoke execute on function hazina.invoice_qr_on_reopen(), hazina.qr_code_disabled_reason() from public, anon, authenticated;

-- migrate:down
drop trigger invoices_qr_on_reopen on public.invoices;
drop function hazina.invoice_qr_on_reopen();
create or replace function hazina.qr_code_update(p_merchant_id uuid, p_id uuid, p_label text, p_expires_at timestamptz,
                                      p_clear_expiry boolean, p_max_uses integer, p_clear_max_uses boolean, p_status text)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_code public.qr_codes := hazina.qr_code_lock(p_id, p_merchant_id);
  v_status text;
begin
  if p_status is not null and p_status not in ('active', 'disabled') then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'status', 'reason', 'active or disabled'));
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
  v_code.label := coalesce(p_label, v_code.label);
  v_code.expires_at := case when p_clear_expiry then null else coalesce(p_expires_at, v_code.expires_at) end;
  v_code.max_uses := case when p_clear_max_uses then null else coalesce(p_max_uses, v_code.max_uses) end;
  v_status := coalesce(p_status, case when v_code.status = 'disabled' then 'disabled' else 'active' end);
  if v_status = 'active' then
    v_status := case when v_code.max_uses is not null and v_code.use_count >= v_code.max_uses then 'exhausted'
                     when v_code.expires_at is not null and v_code.expires_at <= hazina.clock() then 'expired'
                     else 'active' end;
  end if;
  update public.qr_codes
     set label = v_code.label, expires_at = v_code.expires_at, max_uses = v_code.max_uses, status = v_status,
         updated_at = now()
   where id = p_id;
  perform hazina.event_emit(p_merchant_id,
    case when v_status <> v_code.status then 'qr_code.' || v_status else 'qr_code.updated' end,
    'qr_code', p_id, hazina.qr_code_json(p_id));
  return hazina.qr_code_json(p_id);
end
$$;
create or replace function hazina.qr_code_disable(p_merchant_id uuid, p_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_code public.qr_codes := hazina.qr_code_lock(p_id, p_merchant_id);
begin
  if v_code.status = 'active' then
    update public.qr_codes set status = 'disabled', updated_at = now() where id = p_id;
    perform hazina.event_emit(p_merchant_id, 'qr_code.disabled', 'qr_code', p_id, hazina.qr_code_json(p_id));
  end if;
  return hazina.qr_code_json(p_id);
end
$$;
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
alter table public.qr_codes drop constraint qr_codes_disabled_reason;
drop trigger qr_codes_disabled_reason on public.qr_codes;
drop function hazina.qr_code_disabled_reason();
alter table public.qr_codes drop column disabled_reason;
