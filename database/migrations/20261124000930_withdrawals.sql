-- migrate:up
-- Withdrawals (payouts) to a user's verified source. The amount plus the withdrawal fee is
-- held until the provider answers.
--   withdrawal: pending → processing → completed → reversed;  pending | processing → failed;
--               pending (not yet submitted to the provider) → cancelled (by the owner)
-- One function per verb; each locks its row, checks the state and raises a stable code on
-- an illegal transition. See docs/money-movement.md.

create table public.wallet_withdrawals (
  id                         uuid primary key default gen_random_uuid(),
  user_id                    uuid not null references public.auth_users (id),
  wallet_id                  uuid not null references public.wallets (id),
  source_id                  uuid not null references public.wallet_sources (id),
  provider                   public.payment_provider not null,
  amount                     numeric(19, 4) not null check (amount > 0),
  fee                        numeric(19, 4) not null default 0 check (fee >= 0),
  currency                   char(3) not null references public.currencies (code),
  status                     text not null default 'pending'
                               check (status in ('pending', 'processing', 'completed', 'failed', 'reversed', 'cancelled')),
  client_ref                 text check (length(client_ref) between 1 and 255),
  hold_id                    uuid not null unique references public.wallet_holds (id),
  transaction_id             uuid references public.wallet_transactions (id),  -- the posted hold
  settlement_transaction_id  uuid references public.wallet_transactions (id),  -- payouts_in_flight → clearing
  reversal_transaction_id    uuid references public.wallet_transactions (id),
  -- We name the request (OriginatorConversationID = our id), the provider names its side.
  provider_request_id        text not null check (length(provider_request_id) <= 255),
  provider_conversation_id   text check (length(provider_conversation_id) <= 255),
  provider_receipt           text check (length(provider_receipt) <= 255),
  failure_code               text check (length(failure_code) <= 100),
  failure_reason             text check (length(failure_reason) <= 500),
  -- submitted_at: the request went (or may have gone) to the provider; from then on only
  -- the provider's answer (or a status query) decides, and the owner can no longer cancel.
  submitted_at               timestamptz,
  expires_at                 timestamptz not null,
  check_count                integer not null default 0 check (check_count >= 0),
  last_checked_at            timestamptz,
  created_at                 timestamptz not null default now(),
  updated_at                 timestamptz not null default now(),
  completed_at               timestamptz,
  unique (user_id, client_ref),
  unique (provider, provider_request_id),
  constraint wallet_withdrawals_completed_posted check (
    (status in ('completed', 'reversed')) = (transaction_id is not null and settlement_transaction_id is not null)),
  constraint wallet_withdrawals_reversed_posted check ((status = 'reversed') = (reversal_transaction_id is not null)),
  constraint wallet_withdrawals_processing_submitted check (status not in ('processing', 'completed') or submitted_at is not null)
);
create unique index wallet_withdrawals_conversation on public.wallet_withdrawals (provider, provider_conversation_id)
  where provider_conversation_id is not null;
create index wallet_withdrawals_user_idx on public.wallet_withdrawals (user_id, created_at, id);
create index wallet_withdrawals_wallet_idx on public.wallet_withdrawals (wallet_id);
create index wallet_withdrawals_source_idx on public.wallet_withdrawals (source_id);
create index wallet_withdrawals_transaction_idx on public.wallet_withdrawals (transaction_id) where transaction_id is not null;
create index wallet_withdrawals_settlement_idx on public.wallet_withdrawals (settlement_transaction_id) where settlement_transaction_id is not null;
create index wallet_withdrawals_reversal_idx on public.wallet_withdrawals (reversal_transaction_id) where reversal_transaction_id is not null;
create index wallet_withdrawals_due_idx on public.wallet_withdrawals (expires_at) where status in ('pending', 'processing');

-- The API shape of a withdrawal (the money-object pattern: *_payment_sources.sql).
create function public.withdrawal_json(w public.wallet_withdrawals) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', w.id, 'wallet_id', w.wallet_id, 'source_id', w.source_id, 'provider', w.provider,
                            'amount', w.amount::text, 'fee', w.fee::text, 'currency', w.currency, 'status', w.status,
                            'hold_id', w.hold_id, 'transaction_id', w.transaction_id,
                            'provider_request_id', w.provider_request_id,
                            'provider_conversation_id', w.provider_conversation_id,
                            'provider_receipt', w.provider_receipt, 'failure_code', w.failure_code,
                            'failure_reason', w.failure_reason, 'submitted', w.submitted_at is not null,
                            'created_at', public.api_time(w.created_at), 'updated_at', public.api_time(w.updated_at),
                            'completed_at', public.api_time(w.completed_at))
$$;

create function hazina.withdrawal_json(p_withdrawal_id uuid) returns jsonb
  language sql stable
  set search_path = ''
  as $$ select public.withdrawal_json(w) from public.wallet_withdrawals w where w.id = p_withdrawal_id $$;

-- Request a payout to one of the user's verified sources: the amount plus the catalog
-- 'withdrawal' fee is held on the wallet until the provider answers. Idempotent by
-- (user, client_ref).
create function hazina.withdrawal_request(
  p_user_id uuid, p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text,
  p_ttl interval default interval '10 minutes'
) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_source public.wallet_sources;
  v_wallet_id uuid;
  v_existing public.wallet_withdrawals;
  v_withdrawal_id uuid := gen_random_uuid();
  v_hold_id uuid;
begin
  select * into v_existing from public.wallet_withdrawals where user_id = p_user_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.source_id <> p_source_id or v_existing.amount <> p_amount or v_existing.currency <> p_currency then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_client_ref));
    end if;
    return hazina.withdrawal_json(v_existing.id) || jsonb_build_object('created', false);
  end if;
  v_wallet_id := hazina.source_movement_check(p_user_id, p_source_id, p_amount, p_currency, p_client_ref, 'out');
  select * into v_source from public.wallet_sources where id = p_source_id;
  -- The hold never expires on its own ('infinity'): only the provider's answer (through this
  -- state machine) may release or post it, or money could leave twice.
  v_hold_id := hazina.hold_create('withdrawal:' || v_withdrawal_id, v_wallet_id,
    hazina.system_wallet('payouts_in_flight', p_currency), p_amount, 'infinity', 'withdrawal',
    'Withdrawal to ' || v_source.provider, jsonb_build_object('withdrawal_id', v_withdrawal_id));
  insert into public.wallet_withdrawals (id, user_id, wallet_id, source_id, provider, amount, fee, currency, client_ref,
                                         hold_id, provider_request_id, expires_at)
  select v_withdrawal_id, p_user_id, v_wallet_id, v_source.id, v_source.provider, p_amount, h.fee_amount, p_currency,
         p_client_ref, v_hold_id, v_withdrawal_id::text, now() + p_ttl
    from public.wallet_holds h where h.id = v_hold_id
  on conflict (user_id, client_ref) do nothing;
  if not found then
    raise exception using errcode = '40001', message = 'concurrent duplicate withdrawal; retry';
  end if;
  return hazina.withdrawal_json(v_withdrawal_id) || jsonb_build_object('created', true);
end
$$;

-- Client API: request a payout to one of my verified sources, as the caller.
create function public.withdrawal_request(p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text)
  returns jsonb language sql security definer set search_path = ''
  as $$ select hazina.withdrawal_request(hazina.caller_id(), p_source_id, p_amount, p_currency, p_client_ref) $$;

-- Hold a new withdrawal back from the provider for p_delay (WITHDRAWAL_SUBMIT_DELAY_SECONDS):
-- until the sweep sends it, the owner may cancel it.
create function hazina.withdrawal_defer(p_withdrawal_id uuid, p_delay interval) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  update public.wallet_withdrawals set expires_at = now() + p_delay, updated_at = now()
   where id = p_withdrawal_id and status = 'pending' and submitted_at is null;
  return hazina.withdrawal_json(p_withdrawal_id);
end
$$;

-- About to send the request to the provider: from now on the owner cannot cancel, and the
-- sweep asks about it only after the provider has had time to answer.
-- Raises withdrawal_not_pending when it was cancelled (or already settled) meanwhile.
create function hazina.withdrawal_mark_submitted(p_withdrawal_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_status text;
begin
  select status into v_status from public.wallet_withdrawals where id = p_withdrawal_id for update;
  if v_status is null then
    perform hazina.raise_error('withdrawal_not_found', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  if v_status <> 'pending' then
    perform hazina.raise_error('withdrawal_not_pending', jsonb_build_object('withdrawal_id', p_withdrawal_id, 'status', v_status));
  end if;
  update public.wallet_withdrawals
     set submitted_at = coalesce(submitted_at, now()), expires_at = greatest(expires_at, now() + interval '10 minutes'),
         updated_at = now()
   where id = p_withdrawal_id;
  return hazina.withdrawal_json(p_withdrawal_id);
end
$$;

-- The provider accepted the request. If its final answer already arrived (callbacks can
-- overtake the acknowledgement), this only records the conversation id.
create function hazina.withdrawal_mark_processing(p_withdrawal_id uuid, p_conversation_id text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_withdrawal public.wallet_withdrawals;
begin
  select * into v_withdrawal from public.wallet_withdrawals where id = p_withdrawal_id for update;
  if v_withdrawal.id is null then
    perform hazina.raise_error('withdrawal_not_found', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  if v_withdrawal.status = 'cancelled' then
    perform hazina.raise_error('withdrawal_not_pending', jsonb_build_object('withdrawal_id', p_withdrawal_id, 'status', v_withdrawal.status));
  end if;
  update public.wallet_withdrawals
     set status = case status when 'pending' then 'processing' else status end,
         submitted_at = coalesce(submitted_at, now()),
         provider_conversation_id = coalesce(provider_conversation_id, p_conversation_id),
         updated_at = now()
   where id = p_withdrawal_id;
  return hazina.withdrawal_json(p_withdrawal_id);
end
$$;

-- The provider paid out. Posts the hold (amount to payouts_in_flight, fee to revenue) and
-- settles payouts_in_flight against the provider's clearing wallet, exactly once.
create function hazina.withdrawal_complete(p_withdrawal_id uuid, p_receipt text, p_amount numeric default null)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_withdrawal public.wallet_withdrawals;
  v_posted uuid;
  v_settled uuid;
begin
  select * into v_withdrawal from public.wallet_withdrawals where id = p_withdrawal_id for update;
  if v_withdrawal.id is null then
    perform hazina.raise_error('withdrawal_not_found', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  if v_withdrawal.status = 'completed'
     and (p_receipt is null or v_withdrawal.provider_receipt is null or v_withdrawal.provider_receipt = p_receipt) then
    return hazina.withdrawal_json(p_withdrawal_id) || jsonb_build_object('replayed', true);
  end if;
  if v_withdrawal.status not in ('pending', 'processing') then
    perform hazina.raise_error('withdrawal_not_pending', jsonb_build_object('withdrawal_id', p_withdrawal_id, 'status', v_withdrawal.status));
  end if;
  if v_withdrawal.submitted_at is null then
    -- We never sent it, so no provider can have paid it.
    perform hazina.raise_error('withdrawal_not_submitted', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  if p_amount is not null and p_amount <> v_withdrawal.amount then
    perform hazina.raise_error('withdrawal_amount_mismatch', jsonb_build_object(
      'withdrawal_id', p_withdrawal_id, 'expected', v_withdrawal.amount::text, 'received', p_amount::text));
  end if;
  v_posted := hazina.hold_post(v_withdrawal.hold_id);
  v_settled := hazina.post_transaction('withdrawal:' || v_withdrawal.id || ':settle', 'withdrawal_settlement', jsonb_build_array(
    jsonb_build_object('wallet_id', hazina.system_wallet('payouts_in_flight', v_withdrawal.currency), 'direction', 'debit',
                       'amount', v_withdrawal.amount::text),
    jsonb_build_object('wallet_id', hazina.provider_clearing_wallet(v_withdrawal.provider, v_withdrawal.currency),
                       'direction', 'credit', 'amount', v_withdrawal.amount::text)),
    'Payout settled by ' || v_withdrawal.provider,
    jsonb_build_object('withdrawal_id', v_withdrawal.id, 'provider_receipt', p_receipt));
  update public.wallet_withdrawals
     set status = 'completed', transaction_id = v_posted, settlement_transaction_id = v_settled,
         fee = (select coalesce(sum(amount), 0) from hazina.transaction_fees(v_posted) where direction = 'charge'),
         provider_receipt = coalesce(p_receipt, provider_receipt), failure_code = null, failure_reason = null,
         completed_at = now(), updated_at = now()
   where id = p_withdrawal_id;
  return hazina.withdrawal_json(p_withdrawal_id) || jsonb_build_object('replayed', false);
end
$$;

-- The provider did not pay out: release the hold. Repeating it is a no-op.
create function hazina.withdrawal_fail(p_withdrawal_id uuid, p_code text, p_reason text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_withdrawal public.wallet_withdrawals;
begin
  select * into v_withdrawal from public.wallet_withdrawals where id = p_withdrawal_id for update;
  if v_withdrawal.id is null then
    perform hazina.raise_error('withdrawal_not_found', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  if v_withdrawal.status = 'failed' then
    return hazina.withdrawal_json(p_withdrawal_id);
  end if;
  if v_withdrawal.status not in ('pending', 'processing') then
    perform hazina.raise_error('withdrawal_not_pending', jsonb_build_object('withdrawal_id', p_withdrawal_id, 'status', v_withdrawal.status));
  end if;
  perform hazina.hold_void(v_withdrawal.hold_id);
  update public.wallet_withdrawals
     set status = 'failed', failure_code = left(p_code, 100), failure_reason = left(p_reason, 500), updated_at = now()
   where id = p_withdrawal_id;
  return hazina.withdrawal_json(p_withdrawal_id);
end
$$;

-- The owner cancels a withdrawal that has not been sent to the provider yet.
create function hazina.withdrawal_cancel(p_withdrawal_id uuid, p_user_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_withdrawal public.wallet_withdrawals;
begin
  select * into v_withdrawal from public.wallet_withdrawals
   where id = p_withdrawal_id and user_id = p_user_id for update;
  if v_withdrawal.id is null then
    perform hazina.raise_error('withdrawal_not_found', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  if v_withdrawal.status = 'cancelled' then
    return hazina.withdrawal_json(p_withdrawal_id);
  end if;
  if v_withdrawal.status <> 'pending' or v_withdrawal.submitted_at is not null then
    perform hazina.raise_error('withdrawal_not_cancellable', jsonb_build_object(
      'withdrawal_id', p_withdrawal_id, 'status', v_withdrawal.status, 'submitted', v_withdrawal.submitted_at is not null));
  end if;
  perform hazina.hold_void(v_withdrawal.hold_id);
  update public.wallet_withdrawals
     set status = 'cancelled', failure_code = 'cancelled', failure_reason = 'cancelled by the owner', updated_at = now()
   where id = p_withdrawal_id;
  return hazina.withdrawal_json(p_withdrawal_id);
end
$$;

create function public.withdrawal_cancel(p_withdrawal_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  return hazina.withdrawal_cancel(p_withdrawal_id, hazina.caller_id());
end
$$;

-- The provider reversed a payout it had made (money came back to our account): undo the
-- posting (fee refunded) and the settlement.
create function hazina.withdrawal_reverse(p_withdrawal_id uuid, p_reason text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_withdrawal public.wallet_withdrawals;
  v_reversal uuid;
begin
  select * into v_withdrawal from public.wallet_withdrawals where id = p_withdrawal_id for update;
  if v_withdrawal.id is null then
    perform hazina.raise_error('withdrawal_not_found', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  if v_withdrawal.status = 'reversed' then
    return hazina.withdrawal_json(p_withdrawal_id);
  end if;
  if v_withdrawal.status <> 'completed' then
    perform hazina.raise_error('withdrawal_not_completed', jsonb_build_object('withdrawal_id', p_withdrawal_id, 'status', v_withdrawal.status));
  end if;
  perform hazina.post_transaction('withdrawal:' || v_withdrawal.id || ':settle:reversal', 'withdrawal_settlement', jsonb_build_array(
    jsonb_build_object('wallet_id', hazina.provider_clearing_wallet(v_withdrawal.provider, v_withdrawal.currency),
                       'direction', 'debit', 'amount', v_withdrawal.amount::text),
    jsonb_build_object('wallet_id', hazina.system_wallet('payouts_in_flight', v_withdrawal.currency), 'direction', 'credit',
                       'amount', v_withdrawal.amount::text)),
    'Payout reversed by ' || v_withdrawal.provider, jsonb_build_object('withdrawal_id', v_withdrawal.id));
  v_reversal := hazina.reverse_transaction(v_withdrawal.transaction_id, 'withdrawal:' || v_withdrawal.id || ':reversal',
                                           null, left(coalesce(p_reason, 'payout reversed by the provider'), 500));
  update public.wallet_withdrawals
     set status = 'reversed', reversal_transaction_id = v_reversal,
         failure_code = 'reversed', failure_reason = left(p_reason, 500), updated_at = now()
   where id = p_withdrawal_id;
  return hazina.withdrawal_json(p_withdrawal_id);
end
$$;

-- Row level security: owners read their own withdrawals. Nobody writes directly.
alter table public.wallet_withdrawals enable row level security;
revoke all on table public.wallet_withdrawals from public, anon, authenticated;
grant select on table public.wallet_withdrawals to authenticated, service_role;
create policy "owner reads own withdrawals" on public.wallet_withdrawals
  for select to authenticated using (user_id = auth.uid());

revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function public.withdrawal_request(uuid, numeric, text, text), public.withdrawal_cancel(uuid)
  from public, anon;
grant execute on function public.withdrawal_request(uuid, numeric, text, text), public.withdrawal_cancel(uuid)
  to authenticated;
revoke execute on function public.withdrawal_json(public.wallet_withdrawals) from public, anon;
grant execute on function public.withdrawal_json(public.wallet_withdrawals) to authenticated, service_role;
grant execute on function hazina.withdrawal_json(uuid),
  hazina.withdrawal_request(uuid, uuid, numeric, text, text, interval),
  hazina.withdrawal_defer(uuid, interval), hazina.withdrawal_mark_submitted(uuid), hazina.withdrawal_mark_processing(uuid, text),
  hazina.withdrawal_complete(uuid, text, numeric), hazina.withdrawal_fail(uuid, text, text),
  hazina.withdrawal_cancel(uuid, uuid), hazina.withdrawal_reverse(uuid, text) to service_role;

-- migrate:down
drop function if exists hazina.withdrawal_reverse(uuid, text);
drop function if exists public.withdrawal_cancel(uuid);
drop function if exists hazina.withdrawal_cancel(uuid, uuid);
drop function if exists hazina.withdrawal_fail(uuid, text, text);
drop function if exists hazina.withdrawal_complete(uuid, text, numeric);
drop function if exists hazina.withdrawal_mark_processing(uuid, text);
drop function if exists hazina.withdrawal_mark_submitted(uuid);
drop function if exists hazina.withdrawal_defer(uuid, interval);
drop function if exists public.withdrawal_request(uuid, numeric, text, text);
drop function if exists hazina.withdrawal_request(uuid, uuid, numeric, text, text, interval);
drop function if exists hazina.withdrawal_json(uuid);
drop function if exists public.withdrawal_json(public.wallet_withdrawals);
drop table if exists public.wallet_withdrawals;
