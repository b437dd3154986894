-- migrate:up
-- One transaction per mutating request (functions/_shared/idempotency.ts, `oneTransaction`):
-- for a request that calls no provider, the key record, the work and the stored response
-- commit together. Two things make that safe for the begin below:
--   - a concurrent duplicate is refused at once (409 idempotency_key_in_use) by a
--     transaction-level advisory try-lock on the key, instead of waiting on the uncommitted
--     insert of the first request (which is what the unique index alone would do);
--   - the key lookups always use the index, whatever the statistics say: a table analysed
--     while empty gave pooled connections cached full-scan plans (`enable_seqscan = off`
--     on every function that looks a key up; each lookup is an equality on a unique key).
-- The separate-transaction lifecycle (begin committed before a provider call) is unchanged.

create or replace function hazina.idempotency_begin(p_owner text, p_key text, p_scope text, p_request_hash text,
  p_per_minute integer default null,
  out outcome text, out response_status integer, out response_body jsonb)
  language plpgsql
  security definer
  set search_path = ''
  set plan_cache_mode = force_generic_plan
  set enable_seqscan = off
  as $$
declare
  v_row public.payment_idempotency;
  v_recent bigint;
  v_oldest timestamptz;
begin
  if p_key is null or p_key !~ '^[A-Za-z0-9_.:-]{8,255}$' then
    perform hazina.raise_error('invalid_idempotency_key',
      jsonb_build_object('reason', '8 to 255 characters of letters, digits, _ . : -'));
  end if;
  -- A concurrent duplicate is refused at once, never queued behind the first: while one
  -- transaction holds a key (begin → work → complete, uncommitted), its insert would make a
  -- second insert of the same key wait for it. The lock lasts the transaction.
  if not pg_try_advisory_xact_lock(hashtextextended('hazina.idempotency:' || p_owner || '/' || p_key, 0)) then
    perform hazina.raise_error('idempotency_key_in_use');
  end if;
  if p_per_minute is not null
     and not exists (select 1 from public.payment_idempotency where idempotency_key = p_owner || '/' || p_key) then
    select count(*), min(created_at) into v_recent, v_oldest
      from (select created_at from public.payment_idempotency
             where owner_id = p_owner and created_at > now() - interval '1 minute'
             order by created_at desc limit p_per_minute) recent;
    if v_recent >= p_per_minute then
      perform hazina.raise_error('rate_limited', jsonb_build_object('limit_per_minute', p_per_minute,
        'retry_after_seconds', greatest(1, ceil(extract(epoch from v_oldest + interval '1 minute' - now())))::integer));
    end if;
  end if;
  -- A few attempts: the record we collide with may be abandoned (deleted) between our
  -- insert and our read, in which case the next insert wins.
  for attempt in 1 .. 3 loop
    delete from public.payment_idempotency
     where idempotency_key = p_owner || '/' || p_key and expires_at <= now();
    insert into public.payment_idempotency (owner_id, client_key, scope, request_hash)
    values (p_owner, p_key, p_scope, p_request_hash)
    on conflict (idempotency_key) do nothing
    returning * into v_row;
    if v_row.id is not null then
      outcome := 'started';
      return;
    end if;
    select * into v_row from public.payment_idempotency
     where idempotency_key = p_owner || '/' || p_key for update;
    continue when v_row.id is null;
    if v_row.scope <> p_scope or v_row.request_hash <> p_request_hash then
      perform hazina.raise_error('idempotency_key_reused');
    end if;
    if v_row.status = 'completed' then
      outcome := 'replay';
      response_status := v_row.response_status;
      response_body := v_row.response_body;
      return;
    end if;
    if v_row.locked_until > now() then
      perform hazina.raise_error('idempotency_key_in_use');
    end if;
    update public.payment_idempotency set locked_until = now() + interval '60 seconds' where id = v_row.id;
    outcome := 'started';
    return;
  end loop;
  perform hazina.raise_error('idempotency_key_in_use');
end
$$;

alter function hazina.idempotency_complete(text, text, integer, jsonb) set enable_seqscan = off;
alter function hazina.idempotency_abandon(text, text) set enable_seqscan = off;
alter function hazina.idempotency_unlock(text, text) set enable_seqscan = off;

-- migrate:down
alter function hazina.idempotency_unlock(text, text) reset enable_seqscan;
alter function hazina.idempotency_abandon(text, text) reset enable_seqscan;
alter function hazina.idempotency_complete(text, text, integer, jsonb) reset enable_seqscan;
alter function hazina.idempotency_begin(text, text, text, text, integer) reset enable_seqscan;
create or replace function hazina.idempotency_begin(p_owner text, p_key text, p_scope text, p_request_hash text,
  p_per_minute integer default null,
  out outcome text, out response_status integer, out response_body jsonb)
  language plpgsql
  security definer
  set search_path = ''
  set plan_cache_mode = force_generic_plan
  as $$
declare
  v_row public.payment_idempotency;
  v_recent bigint;
  v_oldest timestamptz;
begin
  if p_key is null or p_key !~ '^[A-Za-z0-9_.:-]{8,255}$' then
    perform hazina.raise_error('invalid_idempotency_key',
      jsonb_build_object('reason', '8 to 255 characters of letters, digits, _ . : -'));
  end if;
  if p_per_minute is not null
     and not exists (select 1 from public.payment_idempotency where idempotency_key = p_owner || '/' || p_key) then
    select count(*), min(created_at) into v_recent, v_oldest
      from (select created_at from public.payment_idempotency
             where owner_id = p_owner and created_at > now() - interval '1 minute'
             order by created_at desc limit p_per_minute) recent;
    if v_recent >= p_per_minute then
      perform hazina.raise_error('rate_limited', jsonb_build_object('limit_per_minute', p_per_minute,
        'retry_after_seconds', greatest(1, ceil(extract(epoch from v_oldest + interval '1 minute' - now())))::integer));
    end if;
  end if;
  -- A few attempts: the record we collide with may be abandoned (deleted) between our
  -- insert and our read, in which case the next insert wins.
  for attempt in 1 .. 3 loop
    delete from public.payment_idempotency
     where idempotency_key = p_owner || '/' || p_key and expires_at <= now();
    insert into public.payment_idempotency (owner_id, client_key, scope, request_hash)
    values (p_owner, p_key, p_scope, p_request_hash)
    on conflict (idempotency_key) do nothing
    returning * into v_row;
    if v_row.id is not null then
      outcome := 'started';
      return;
    end if;
    select * into v_row from public.payment_idempotency
     where idempotency_key = p_owner || '/' || p_key for update;
    continue when v_row.id is null;
    if v_row.scope <> p_scope or v_row.request_hash <> p_request_hash then
      perform hazina.raise_error('idempotency_key_reused');
    end if;
    if v_row.status = 'completed' then
      outcome := 'replay';
      response_status := v_row.response_status;
      response_body := v_row.response_body;
      return;
    end if;
    if v_row.locked_until > now() then
      perform hazina.raise_error('idempotency_key_in_use');
    end if;
    update public.payment_idempotency set locked_until = now() + interval '60 seconds' where id = v_row.id;
    outcome := 'started';
    return;
  end loop;
  perform hazina.raise_error('idempotency_key_in_use');
end
$$;
