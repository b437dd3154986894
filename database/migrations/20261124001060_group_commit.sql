-- migrate:up
-- Group commit of concurrent transfers at the edge (functions/_shared/group-commit.ts,
-- functions/wallets/transfer-group.ts; README "Configuration", GROUP_COMMIT_*): the POST
-- /wallets/transfers requests one edge process receives while an earlier group is still in
-- the database run together, in ONE transaction, through hazina.transfer_group below. Each
-- request keeps everything it has when it runs alone:
--   - its own caller: the item carries the verified JWT claims of its request, and before
--     anything is done for the item they become request.jwt.claims, exactly as PostgREST
--     (and userTx) sets them for a request of its own; hazina.caller_id() then decides,
--     for that item, whether the login is live and the user active (auth_caller migration),
--     and every auth.uid() (ownership, created_by, initiated_by) is that item's caller;
--   - its own Idempotency-Key record: hazina.idempotency_begin per item (same key + same
--     request → the stored response; different request → 422; a key another transaction
--     holds, or an earlier item of this very group, → 409 idempotency_key_in_use);
--   - its own checks and outcome: public.transfer's checks (now hazina.transfer_authorize,
--     shared by both paths), then the posting; one item failing (insufficient funds, a
--     wallet that is not the caller's, a revoked login, a disabled user) fails alone, in its
--     own subtransaction (a BEGIN … EXCEPTION block), with its own error code and details.
-- The postings go set-based through hazina.transfer_batch_fast when all of them can post,
-- else one by one after locking every wallet involved in the global lock order
-- (hazina.transfer_batch_lock, factored out of hazina.transfer_batch), so groups never
-- deadlock with each other, with batches or with single transfers.
-- The edge turns each item's outcome into its HTTP response (the error catalog is the
-- edge's) and stores the responses with hazina.idempotency_complete_group in the same
-- transaction: key records, postings and stored responses of the whole group commit together.

-- The checks of public.transfer before any money moves, for the caller in
-- request.jwt.claims: the caller may act (hazina.caller_id), the ref and description are
-- valid, the source wallet is the caller's, the destination exists and is not a system
-- wallet. Returns the ledger ref (namespaced by user), the transaction type (a merchant's
-- wallet makes it a merchant payment) and the metadata the posting carries.
create function hazina.transfer_authorize(p_from_wallet uuid, p_to_wallet uuid, p_ref text, p_description text,
  out user_id uuid, out ref text, out transaction_type text, out metadata jsonb)
  language plpgsql stable
  security definer
  set search_path = ''
  as $$
declare
  v_uid uuid := hazina.caller_id();
  v_to_kind text;
begin
  if p_ref is null or length(p_ref) not between 1 and 200 then
    perform hazina.raise_error('invalid_ref', jsonb_build_object('reason', 'ref must be 1 to 200 characters'));
  end if;
  if p_description is not null and length(p_description) > 500 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'description', 'reason', 'at most 500 characters'));
  end if;
  if not exists (select 1 from public.wallets w where w.id = p_from_wallet and w.user_id = v_uid) then
    perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', p_from_wallet));
  end if;
  select w.kind into v_to_kind from public.wallets w where w.id = p_to_wallet;
  if v_to_kind is null or v_to_kind = 'system' then
    perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', p_to_wallet));
  end if;
  user_id := v_uid;
  ref := 'transfer:' || v_uid || ':' || p_ref;
  transaction_type := case v_to_kind when 'merchant' then 'merchant_payment' else 'p2p_transfer' end;
  metadata := jsonb_build_object('initiated_by', v_uid);
end
$$;

-- Client API (unchanged behaviour): the checks are hazina.transfer_authorize's, then the transfer.
create or replace function public.transfer(
  p_from_wallet uuid,
  p_to_wallet uuid,
  p_amount numeric,
  p_ref text,
  p_description text default null
) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_auth record;
begin
  select * into v_auth from hazina.transfer_authorize(p_from_wallet, p_to_wallet, p_ref, p_description);
  return hazina.transfer(v_auth.ref, p_from_wallet, p_to_wallet, p_amount, v_auth.transaction_type,
                         p_description, v_auth.metadata)
         || jsonb_build_object('ref', p_ref);
end
$$;

-- The batch fast path, unchanged but for one thing: an item may name who created it
-- (`created_by`, for a group of several callers' transfers); otherwise auth.uid(), as before.
create or replace function hazina.transfer_batch_fast(p_items jsonb) returns jsonb
  language plpgsql
  set search_path = ''
  -- Planning the write statement takes ~1.5 ms: once per session, not once per batch
  -- (the generic plans are as fast for 1 item as for 250: measured).
  set plan_cache_mode = force_generic_plan
  as $$
declare
  v_n integer := jsonb_array_length(p_items);
  v_refs text[]; v_from uuid[]; v_to uuid[]; v_amounts numeric[]; v_types text[];
  v_descriptions text[]; v_metadata jsonb[]; v_created_by uuid[];
  v_tx_ids uuid[]; v_currencies text[]; v_fees numeric[]; v_payers uuid[]; v_payer_users uuid[];
  v_rule_sources text[]; v_rule_ids uuid[]; v_revenue uuid[]; v_fee_payers text[];
  v_valid boolean;
  v_bucket constant smallint := (pg_backend_pid() % 64)::smallint;
  v_results jsonb;
begin
  -- 1. Parse. A malformed value anywhere: not for the fast path.
  begin
    select array_agg(i ->> 'ref' order by n), array_agg((i ->> 'from_wallet_id')::uuid order by n),
           array_agg((i ->> 'to_wallet_id')::uuid order by n), array_agg((i ->> 'amount')::numeric order by n),
           array_agg(coalesce(i ->> 'transaction_type', 'p2p_transfer') order by n),
           array_agg(i ->> 'description' order by n), array_agg(coalesce(i -> 'metadata', '{}') order by n),
           array_agg(coalesce((i ->> 'created_by')::uuid, auth.uid()) order by n)
      into v_refs, v_from, v_to, v_amounts, v_types, v_descriptions, v_metadata, v_created_by
      from jsonb_array_elements(p_items) with ordinality as x(i, n);
  exception when invalid_text_representation or numeric_value_out_of_range or datatype_mismatch then
    return null;
  end;

  -- 2. Validate and price every item in one query.
  select bool_and(
           e.ref is not null and length(e.ref) between 1 and 255
           and e.f is not null and e.t is not null and e.f <> e.t
           and fw.id is not null and tw.id is not null and fw.currency = tw.currency
           and fw.status = 'active' and tw.status = 'active' and fw.credit_buckets = 1
           and e.amount > 0 and e.amount < 1e15 and e.amount = round(e.amount, c.minor_units)
           and tt.code is not null
           and coalesce(length(e.descr), 0) <= 500
           and jsonb_typeof(e.meta) = 'object'
           and not (tt.fee_payer = 'receiver' and q.fee > 0 and q.fee >= e.amount)),
         array_agg(hazina.uuid_v7() order by e.n), array_agg(fw.currency::text order by e.n),
         array_agg(q.fee order by e.n),
         array_agg(case tt.fee_payer when 'sender' then fw.id else tw.id end order by e.n),
         array_agg(case tt.fee_payer when 'sender' then fw.user_id else tw.user_id end order by e.n),
         array_agg(q.rule_source order by e.n), array_agg(q.rule_id order by e.n),
         array_agg(r.id order by e.n), array_agg(tt.fee_payer order by e.n)
    into v_valid, v_tx_ids, v_currencies, v_fees, v_payers, v_payer_users, v_rule_sources, v_rule_ids,
         v_revenue, v_fee_payers
    from unnest(v_refs, v_from, v_to, v_amounts, v_types, v_descriptions, v_metadata)
           with ordinality as e(ref, f, t, amount, ttype, descr, meta, n)
    -- (Lateral + offset 0: one index lookup per item, never a scan of all wallets.)
    left join lateral (select * from public.wallets w where w.id = e.f offset 0) fw on true
    left join lateral (select * from public.wallets w where w.id = e.t offset 0) tw on true
    left join public.currencies c on c.code = fw.currency
    -- Who pays the fee (hazina.fee_payer's table, joined: an unknown type is not refused
    -- here but left to the item-by-item path, which reports it on its own item).
    left join public.transaction_types tt on tt.code = e.ttype
    left join public.wallets r on r.system_code = 'fee_revenue' and r.currency = fw.currency
    -- The fee, priced set-based with the same rule lookup and rounding as fee_quote
    -- (both inline here; no function call per item).
    left join lateral hazina.fee_rule(e.ttype, fw.currency,
                                      case tt.fee_payer when 'sender' then fw.user_id else tw.user_id end) fr on true
    cross join lateral (select hazina.fee_apply(e.amount, fr.percentage_bps, fr.fixed_amount, fr.minimum_amount,
                                                fr.maximum_amount, fr.waived, c.minor_units) as fee,
                               coalesce(fr.source, 'none') as rule_source, fr.rule_id) q;
  if not coalesce(v_valid, false) then
    return null;
  end if;
  -- Refs must be new and distinct: retries and conflicts are the item-by-item path's job.
  if (select count(distinct r) from unnest(v_refs) r) <> v_n
     or exists (select 1 from public.wallet_transactions t where t.ref = any (v_refs)) then
    return null;
  end if;

  -- 3. Locks in the global order: rows of every plain wallet involved, then this
  --    connection's bucket of every pooled wallet credited.
  --    (One row at a time, in id order, by lateral lookup: with `id = any (array)` as the
  --    locking scan's condition, every row found locked re-ran the scan's array sorting
  --    when rechecked, and concurrent batches spent 40% more CPU.)
  perform 1
    from (select distinct id from unnest(v_from || v_to || v_payers) as x(id) order by id) x
   cross join lateral (select 1 from public.wallets w where w.id = x.id and w.credit_buckets = 1
                          for no key update) locked;
  perform 1 from public.wallet_balance_buckets b
   where (b.wallet_id, b.bucket) in (select w.id, v_bucket % w.credit_buckets from public.wallets w
                                      where w.id = any (v_to || v_revenue) and w.credit_buckets > 1)
   order by b.wallet_id, b.bucket for no key update of b;

  -- 4. Write everything in one statement, gated on affordability. `entries` lists the
  --    entries exactly as transfer() would write them, in item order, each with its
  --    wallet's running balance (the balance_after of plain wallets; pooled credits have
  --    none). `go` says that every plain user/merchant wallet can pay each item when its
  --    turn comes: checking the running balance after every entry is the same as checking
  --    after every item, since within an item a wallet's debits come after its credit or
  --    alone. If it cannot, the statement writes nothing (the locks stay, for the
  --    item-by-item path). The sub-statements all see the balances read under the locks.
  with entries as (
    select x.n, x.k, x.wallet_id, x.direction, x.amount, x.leg, x.signed, w.credit_buckets,
           w.credit_buckets > 1 as pooled, w.kind, w.held,
           w.balance + sum(x.signed) over (partition by x.wallet_id order by x.n, x.k) as running
      from (select e.n, v.k, v.wallet_id, v.direction, v.amount, v.leg,
                   case v.direction when 'credit' then v.amount else -v.amount end as signed
              from unnest(v_from, v_to, v_amounts, v_fees, v_payers, v_revenue) with ordinality
                     as e(f, t, amount, fee, payer, revenue, n)
             cross join lateral (values (1, e.f, 'debit', e.amount, 'principal'),
                                        (2, e.t, 'credit', e.amount, 'principal'),
                                        (3, e.payer, 'debit', e.fee, 'fee'),
                                        (4, e.revenue, 'credit', e.fee, 'fee')) v(k, wallet_id, direction, amount, leg)
             where v.k <= 2 or e.fee > 0) x
     cross join lateral (select * from public.wallets w where w.id = x.wallet_id offset 0) w
  ), go as (
    select coalesce(bool_and(pooled or kind = 'system' or running - held >= 0), false) as affordable from entries
  ), headers as (
    insert into public.wallet_transactions (id, ref, kind, request_hash, principal_amount, currency,
                                            description, metadata, created_by)
    select e.id, e.ref, e.ttype,
           md5(concat_ws('|', 'transfer', e.ttype, e.f, e.t, e.amount::numeric(19, 4))),
           e.amount, e.currency, e.descr, e.meta, e.created_by
      from unnest(v_tx_ids, v_refs, v_types, v_from, v_to, v_amounts, v_currencies, v_descriptions, v_metadata,
                  v_created_by)
             with ordinality as e(id, ref, ttype, f, t, amount, currency, descr, meta, created_by, n)
     where (select affordable from go)
     order by e.n
    returning 1
  ), ledger as (
    insert into public.wallet_ledger (transaction_id, wallet_id, direction, amount, currency, balance_after,
                                      leg, kind, description, metadata, ref)
    select v_tx_ids[b.n], b.wallet_id, b.direction, b.amount, v_currencies[b.n],
           case when not b.pooled then b.running end,
           b.leg, v_types[b.n], v_descriptions[b.n], v_metadata[b.n], v_tx_ids[b.n]::text || '#' || b.k
      from entries b
     where (select affordable from go)
     order by b.n, b.k
    returning 1
  ), billing as (
    insert into public.billing_ledger (ref, transaction_id, payer_wallet_id, payer_user_id, transaction_type,
                                       direction, amount, currency, base_amount, rule_source, rule_id)
    select e.id::text || '#fee', e.id, e.payer, e.payer_user, e.ttype, 'charge', e.fee, e.currency, e.amount,
           e.rule_source, e.rule_id
      from unnest(v_tx_ids, v_payers, v_payer_users, v_types, v_fees, v_currencies, v_amounts,
                  v_rule_sources, v_rule_ids) with ordinality
             as e(id, payer, payer_user, ttype, fee, currency, amount, rule_source, rule_id, n)
     where e.fee > 0 and (select affordable from go)
     order by e.n
    returning 1
  ), balances as (
    update public.wallets w
       set balance = w.balance + d.delta, updated_at = now()
      from (select wallet_id, sum(signed) as delta from entries where not pooled group by wallet_id) d
     where w.id = d.wallet_id and d.delta <> 0 and (select affordable from go)
    returning 1
  ), pooled_credits as (
    -- Pooled wallets only gain here (sources are plain, and a fee a merchant pays is less
    -- than the payment it comes out of): the net goes to this connection's bucket.
    update public.wallet_balance_buckets b
       set balance = b.balance + d.delta
      from (select wallet_id, credit_buckets, sum(signed) as delta from entries where pooled
             group by wallet_id, credit_buckets) d
     where b.wallet_id = d.wallet_id
       and b.bucket = v_bucket % d.credit_buckets and d.delta > 0
       and (select affordable from go)
    returning 1
  )
  select affordable into v_valid from go;
  if not v_valid then
    return null;  -- nothing written; locks are kept for the item-by-item path
  end if;

  select jsonb_agg(jsonb_build_object(
           'index', e.n - 1, 'status', 'posted', 'transaction_id', e.id, 'ref', e.ref, 'replayed', false,
           'from_wallet_id', e.f, 'to_wallet_id', e.t, 'amount', e.amount::numeric(19, 4)::text,
           'fee', e.fee::numeric(19, 4)::text, 'fee_payer', e.fee_payer, 'currency', e.currency,
           'transaction_type', e.ttype) order by e.n)
    into v_results
    from unnest(v_tx_ids, v_refs, v_from, v_to, v_amounts, v_fees, v_fee_payers, v_currencies, v_types)
           with ordinality as e(id, ref, f, t, amount, fee, fee_payer, currency, ttype, n);
  return v_results;
end
$$;

-- The wallet locks of a batch's item-by-item path, in the global lock order (from hazina.transfer_batch).
create function hazina.transfer_batch_lock(p_items jsonb) returns void
  language plpgsql
  set search_path = ''
  as $$
declare
  v_wallet_ids uuid[];
  v_debited_ids uuid[];
begin
  begin
    select array_agg(distinct w) filter (where w is not null),
           array_agg(distinct (i ->> 'from_wallet_id')::uuid) filter (where i ->> 'from_wallet_id' is not null)
      into v_wallet_ids, v_debited_ids
      from jsonb_array_elements(p_items) i,
           lateral (values ((i ->> 'from_wallet_id')::uuid), ((i ->> 'to_wallet_id')::uuid)) v(w);
  exception when invalid_text_representation then
    v_wallet_ids := null;  -- a malformed id: items report it one by one, no pre-locking
  end;
  if v_wallet_ids is not null then
    -- Rows: plain wallets and pooled wallets that will be debited, in id order (one at a
    -- time, as in the fast path: see there why not `id = any (array)`).
    perform 1
      from (select id from unnest(v_wallet_ids) as x(id) order by id) x
     cross join lateral (select 1 from public.wallets w
                          where w.id = x.id and (w.credit_buckets = 1 or w.id = any (v_debited_ids))
                            for no key update) locked;
    -- Buckets: all of a debited pooled wallet (it will fold), this connection's bucket of
    -- a credited one (including fee revenue), in (wallet, bucket) order.
    perform 1 from public.wallet_balance_buckets b
      join public.wallets w on w.id = b.wallet_id
     where (b.wallet_id = any (v_debited_ids))
        or ((b.wallet_id = any (v_wallet_ids) or w.system_code = 'fee_revenue')
            and b.bucket = (pg_backend_pid() % 64) % w.credit_buckets)
     order by b.wallet_id, b.bucket for no key update of b;
  end if;
end
$$;

create or replace function hazina.transfer_batch(p_items jsonb) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_item jsonb;
  v_index integer := 0;
  v_results jsonb := '[]'::jsonb;
  v_result jsonb;
begin
  if jsonb_typeof(p_items) is distinct from 'array' or jsonb_array_length(p_items) = 0
     or jsonb_array_length(p_items) > 10000 then
    perform hazina.raise_error('invalid_entries', jsonb_build_object('reason', 'items must be an array of 1 to 10000 transfers'));
  end if;
  -- The common case (a clean batch) posts set-based; otherwise item by item below.
  v_results := hazina.transfer_batch_fast(p_items);
  if v_results is not null then
    return v_results;
  end if;
  v_results := '[]';
  perform hazina.transfer_batch_lock(p_items);

  for v_item in select value from jsonb_array_elements(p_items) loop
    begin
      v_result := hazina.transfer(
        v_item ->> 'ref',
        (v_item ->> 'from_wallet_id')::uuid,
        (v_item ->> 'to_wallet_id')::uuid,
        (v_item ->> 'amount')::numeric,
        coalesce(v_item ->> 'transaction_type', 'p2p_transfer'),
        v_item ->> 'description',
        coalesce(v_item -> 'metadata', '{}'));
      v_results := v_results || jsonb_build_array(
        jsonb_build_object('index', v_index, 'status', case when (v_result ->> 'replayed')::boolean then 'replayed' else 'posted' end)
        || v_result);
    exception
      when sqlstate 'P0001' then
        v_results := v_results || jsonb_build_array(
          jsonb_build_object('index', v_index, 'ref', v_item ->> 'ref', 'status', 'failed', 'error', sqlerrm));
      when invalid_text_representation or numeric_value_out_of_range or check_violation or not_null_violation then
        v_results := v_results || jsonb_build_array(
          jsonb_build_object('index', v_index, 'ref', v_item ->> 'ref', 'status', 'failed', 'error', 'invalid_argument'));
    end;
    v_index := v_index + 1;
  end loop;
  return v_results;
end
$$;
-- Group commit: many callers' transfers in the one transaction of the caller (the edge,
-- as service_role, never a client). Items: [{"owner", "key", "scope", "hash" (the
-- Idempotency-Key record's fields, as idempotent() computes them), "claims" (the verified
-- JWT claims of the item's request), "headers" (its request.headers), "from_wallet_id",
-- "to_wallet_id", "amount", "description"?}]. Returns one outcome per item, in order:
--   {"outcome": "refused", "error"}  the key could not be taken (in use, reused, rate
--                                    limited): nothing of the item is kept;
--   {"outcome": "replay", "status", "body"}  the key's stored response;
--   {"outcome": "posted", "result"}  what public.transfer returns, already stored as the
--                                    key's response (status p_posted_status: the route's
--                                    201; the body is the result, as the route answers it);
--   {"outcome": "failed", "error"}   the transfer was refused (or the caller may not act);
--                                    its key record stays in progress for the edge to
--                                    complete with the refusal (or abandon on a 5xx);
-- where "error" is {"sqlstate", "message", "detail"}, as the error would reach the edge.
create function hazina.transfer_group(p_items jsonb, p_per_minute integer default null,
                                      p_posted_status integer default 201) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_item jsonb;
  v_n integer := 0;
  v_outcomes jsonb[] := '{}'::jsonb[];
  v_begin record;
  v_auth record;
  v_posting jsonb := '[]'::jsonb;     -- the items that may post, as transfer_batch items
  v_slots integer[] := '{}'::integer[];   -- their positions among p_items
  v_results jsonb;
  v_result jsonb;
  v_state text;
  v_message text;
  v_detail text;
  v_stored jsonb := '[]'::jsonb;  -- the posted items' responses, stored at the end in one statement
begin
  if jsonb_typeof(p_items) is distinct from 'array' or jsonb_array_length(p_items) not between 1 and 1000 then
    perform hazina.raise_error('invalid_entries', jsonb_build_object('reason', 'items must be an array of 1 to 1000 transfers'));
  end if;
  -- 1. Per item, as its own caller: take its key, then run public.transfer's checks.
  for v_item in select value from jsonb_array_elements(p_items) loop
    v_n := v_n + 1;
    perform set_config('request.jwt.claims', coalesce(v_item -> 'claims', '{}')::text, true),
            set_config('request.headers', coalesce(v_item -> 'headers', '{}')::text, true);
    begin
      select * into v_begin
        from hazina.idempotency_begin(v_item ->> 'owner', v_item ->> 'key', v_item ->> 'scope', v_item ->> 'hash',
                                      p_per_minute);
    exception when sqlstate 'P0001' then
      get stacked diagnostics v_state = returned_sqlstate, v_message = message_text, v_detail = pg_exception_detail;
      v_outcomes[v_n] := jsonb_build_object('outcome', 'refused',
        'error', jsonb_build_object('sqlstate', v_state, 'message', v_message, 'detail', v_detail));
      continue;
    end;
    if v_begin.outcome = 'replay' then
      v_outcomes[v_n] := jsonb_build_object('outcome', 'replay', 'status', v_begin.response_status,
                                            'body', v_begin.response_body);
      continue;
    end if;
    begin
      select * into v_auth
        from hazina.transfer_authorize((v_item ->> 'from_wallet_id')::uuid, (v_item ->> 'to_wallet_id')::uuid,
                                       v_item ->> 'key', v_item ->> 'description');
    exception when others then
      get stacked diagnostics v_state = returned_sqlstate, v_message = message_text, v_detail = pg_exception_detail;
      v_outcomes[v_n] := jsonb_build_object('outcome', 'failed',
        'error', jsonb_build_object('sqlstate', v_state, 'message', v_message, 'detail', v_detail));
      continue;
    end;
    v_slots := v_slots || v_n;
    v_posting := v_posting || jsonb_build_array(jsonb_build_object(
      'ref', v_auth.ref, 'from_wallet_id', v_item -> 'from_wallet_id', 'to_wallet_id', v_item -> 'to_wallet_id',
      'amount', v_item -> 'amount', 'transaction_type', v_auth.transaction_type,
      'description', v_item -> 'description', 'metadata', v_auth.metadata, 'created_by', v_auth.user_id,
      'client_ref', v_item -> 'key', 'claims', v_item -> 'claims', 'headers', v_item -> 'headers'));
  end loop;

  -- 2. Post: all at once when every item can (the common case), else one by one.
  if cardinality(v_slots) > 0 then
    v_results := hazina.transfer_batch_fast(v_posting);
    if v_results is not null then
      for k in 1 .. cardinality(v_slots) loop
        v_outcomes[v_slots[k]] := jsonb_build_object('outcome', 'posted',
          'result', (v_results -> (k - 1)) - 'index' - 'status'
                    || jsonb_build_object('ref', v_posting -> (k - 1) -> 'client_ref'));
      end loop;
    else
      perform hazina.transfer_batch_lock(v_posting);
      for k in 1 .. cardinality(v_slots) loop
        v_item := v_posting -> (k - 1);
        perform set_config('request.jwt.claims', coalesce(v_item -> 'claims', '{}')::text, true),
                set_config('request.headers', coalesce(v_item -> 'headers', '{}')::text, true);
        begin
          v_result := hazina.transfer(v_item ->> 'ref', (v_item ->> 'from_wallet_id')::uuid,
                                      (v_item ->> 'to_wallet_id')::uuid, (v_item ->> 'amount')::numeric,
                                      v_item ->> 'transaction_type', v_item ->> 'description', v_item -> 'metadata');
          v_outcomes[v_slots[k]] := jsonb_build_object('outcome', 'posted',
            'result', v_result || jsonb_build_object('ref', v_item -> 'client_ref'));
        exception when others then
          get stacked diagnostics v_state = returned_sqlstate, v_message = message_text, v_detail = pg_exception_detail;
          v_outcomes[v_slots[k]] := jsonb_build_object('outcome', 'failed',
            'error', jsonb_build_object('sqlstate', v_state, 'message', v_message, 'detail', v_detail));
        end;
      end loop;
    end if;
  end if;
  -- 3. Store the posted items' responses (refusals are stored by the edge, which owns the
  --    error catalog, with idempotency_complete_group in this same transaction).
  select coalesce(jsonb_agg(jsonb_build_object('owner', p_items -> (n::integer - 1) -> 'owner', 'key', p_items -> (n::integer - 1) -> 'key',
                                               'status', p_posted_status, 'body', o -> 'result')), '[]'::jsonb)
    into v_stored
    from unnest(v_outcomes) with ordinality as x(o, n)
   where o ->> 'outcome' = 'posted';
  if jsonb_array_length(v_stored) > 0 then
    perform hazina.idempotency_complete_group(v_stored);
  end if;
  return to_jsonb(v_outcomes);
end
$$;

-- The stored responses of a group's keys, in the group's transaction: [{"owner", "key",
-- "status", "body"}] completes a key with its response; an item with no "status" (a 5xx:
-- nothing is stored, the client may retry) abandons it. Lookups by the unique key only.
create function hazina.idempotency_complete_group(p_items jsonb) returns void
  language plpgsql
  security definer
  set search_path = ''
  set enable_seqscan = off
  as $$
begin
  update public.payment_idempotency p
     set status = 'completed', response_status = (x.i ->> 'status')::integer, response_body = x.i -> 'body',
         completed_at = now()
    from jsonb_array_elements(p_items) x(i)
   where p.idempotency_key = (x.i ->> 'owner') || '/' || (x.i ->> 'key') and p.status = 'in_progress'
     and x.i ? 'status';
  delete from public.payment_idempotency p
   using jsonb_array_elements(p_items) x(i)
   where p.idempotency_key = (x.i ->> 'owner') || '/' || (x.i ->> 'key') and p.status = 'in_progress'
     and not x.i ? 'status';
end
$$;

revoke execute on all functions in schema hazina from public, anon, authenticated;
grant execute on function hazina.transfer_group(jsonb, integer, integer), hazina.idempotency_complete_group(jsonb)
  to service_role;

-- migrate:down
drop function if exists hazina.idempotency_complete_group(jsonb);
drop function if exists hazina.transfer_group(jsonb, integer, integer);
create or replace function hazina.transfer_batch(p_items jsonb) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_item jsonb;
  v_index integer := 0;
  v_results jsonb := '[]'::jsonb;
  v_result jsonb;
  v_wallet_ids uuid[];
  v_debited_ids uuid[];
begin
  if jsonb_typeof(p_items) is distinct from 'array' or jsonb_array_length(p_items) = 0
     or jsonb_array_length(p_items) > 10000 then
    perform hazina.raise_error('invalid_entries', jsonb_build_object('reason', 'items must be an array of 1 to 10000 transfers'));
  end if;
  -- The common case (a clean batch) posts set-based; otherwise item by item below.
  v_results := hazina.transfer_batch_fast(p_items);
  if v_results is not null then
    return v_results;
  end if;
  v_results := '[]';
  begin
    select array_agg(distinct w) filter (where w is not null),
           array_agg(distinct (i ->> 'from_wallet_id')::uuid) filter (where i ->> 'from_wallet_id' is not null)
      into v_wallet_ids, v_debited_ids
      from jsonb_array_elements(p_items) i,
           lateral (values ((i ->> 'from_wallet_id')::uuid), ((i ->> 'to_wallet_id')::uuid)) v(w);
  exception when invalid_text_representation then
    v_wallet_ids := null;  -- a malformed id: items report it one by one, no pre-locking
  end;
  if v_wallet_ids is not null then
    -- Rows: plain wallets and pooled wallets that will be debited, in id order (one at a
    -- time, as in the fast path: see there why not `id = any (array)`).
    perform 1
      from (select id from unnest(v_wallet_ids) as x(id) order by id) x
     cross join lateral (select 1 from public.wallets w
                          where w.id = x.id and (w.credit_buckets = 1 or w.id = any (v_debited_ids))
                            for no key update) locked;
    -- Buckets: all of a debited pooled wallet (it will fold), this connection's bucket of
    -- a credited one (including fee revenue), in (wallet, bucket) order.
    perform 1 from public.wallet_balance_buckets b
      join public.wallets w on w.id = b.wallet_id
     where (b.wallet_id = any (v_debited_ids))
        or ((b.wallet_id = any (v_wallet_ids) or w.system_code = 'fee_revenue')
            and b.bucket = (pg_backend_pid() % 64) % w.credit_buckets)
     order by b.wallet_id, b.bucket for no key update of b;
  end if;

  for v_item in select value from jsonb_array_elements(p_items) loop
    begin
      v_result := hazina.transfer(
        v_item ->> 'ref',
        (v_item ->> 'from_wallet_id')::uuid,
        (v_item ->> 'to_wallet_id')::uuid,
        (v_item ->> 'amount')::numeric,
        coalesce(v_item ->> 'transaction_type', 'p2p_transfer'),
        v_item ->> 'description',
        coalesce(v_item -> 'metadata', '{}'));
      v_results := v_results || jsonb_build_array(
        jsonb_build_object('index', v_index, 'status', case when (v_result ->> 'replayed')::boolean then 'replayed' else 'posted' end)
        || v_result);
    exception
      when sqlstate 'P0001' then
        v_results := v_results || jsonb_build_array(
          jsonb_build_object('index', v_index, 'ref', v_item ->> 'ref', 'status', 'failed', 'error', sqlerrm));
      when invalid_text_representation or numeric_value_out_of_range or check_violation or not_null_violation then
        v_results := v_results || jsonb_build_array(
          jsonb_build_object('index', v_index, 'ref', v_item ->> 'ref', 'status', 'failed', 'error', 'invalid_argument'));
    end;
    v_index := v_index + 1;
  end loop;
  return v_results;
end
$$;
drop function if exists hazina.transfer_batch_lock(jsonb);
create or replace function hazina.transfer_batch_fast(p_items jsonb) returns jsonb
  language plpgsql
  set search_path = ''
  -- Planning the write statement takes ~1.5 ms: once per session, not once per batch
  -- (the generic plans are as fast for 1 item as for 250: measured).
  set plan_cache_mode = force_generic_plan
  as $$
declare
  v_n integer := jsonb_array_length(p_items);
  v_refs text[]; v_from uuid[]; v_to uuid[]; v_amounts numeric[]; v_types text[];
  v_descriptions text[]; v_metadata jsonb[];
  v_tx_ids uuid[]; v_currencies text[]; v_fees numeric[]; v_payers uuid[]; v_payer_users uuid[];
  v_rule_sources text[]; v_rule_ids uuid[]; v_revenue uuid[]; v_fee_payers text[];
  v_valid boolean;
  v_bucket constant smallint := (pg_backend_pid() % 64)::smallint;
  v_results jsonb;
begin
  -- 1. Parse. A malformed value anywhere: not for the fast path.
  begin
    select array_agg(i ->> 'ref' order by n), array_agg((i ->> 'from_wallet_id')::uuid order by n),
           array_agg((i ->> 'to_wallet_id')::uuid order by n), array_agg((i ->> 'amount')::numeric order by n),
           array_agg(coalesce(i ->> 'transaction_type', 'p2p_transfer') order by n),
           array_agg(i ->> 'description' order by n), array_agg(coalesce(i -> 'metadata', '{}') order by n)
      into v_refs, v_from, v_to, v_amounts, v_types, v_descriptions, v_metadata
      from jsonb_array_elements(p_items) with ordinality as x(i, n);
  exception when invalid_text_representation or numeric_value_out_of_range or datatype_mismatch then
    return null;
  end;

  -- 2. Validate and price every item in one query.
  select bool_and(
           e.ref is not null and length(e.ref) between 1 and 255
           and e.f is not null and e.t is not null and e.f <> e.t
           and fw.id is not null and tw.id is not null and fw.currency = tw.currency
           and fw.status = 'active' and tw.status = 'active' and fw.credit_buckets = 1
           and e.amount > 0 and e.amount < 1e15 and e.amount = round(e.amount, c.minor_units)
           and tt.code is not null
           and coalesce(length(e.descr), 0) <= 500
           and jsonb_typeof(e.meta) = 'object'
           and not (tt.fee_payer = 'receiver' and q.fee > 0 and q.fee >= e.amount)),
         array_agg(hazina.uuid_v7() order by e.n), array_agg(fw.currency::text order by e.n),
         array_agg(q.fee order by e.n),
         array_agg(case tt.fee_payer when 'sender' then fw.id else tw.id end order by e.n),
         array_agg(case tt.fee_payer when 'sender' then fw.user_id else tw.user_id end order by e.n),
         array_agg(q.rule_source order by e.n), array_agg(q.rule_id order by e.n),
         array_agg(r.id order by e.n), array_agg(tt.fee_payer order by e.n)
    into v_valid, v_tx_ids, v_currencies, v_fees, v_payers, v_payer_users, v_rule_sources, v_rule_ids,
         v_revenue, v_fee_payers
    from unnest(v_refs, v_from, v_to, v_amounts, v_types, v_descriptions, v_metadata)
           with ordinality as e(ref, f, t, amount, ttype, descr, meta, n)
    -- (Lateral + offset 0: one index lookup per item, never a scan of all wallets.)
    left join lateral (select * from public.wallets w where w.id = e.f offset 0) fw on true
    left join lateral (select * from public.wallets w where w.id = e.t offset 0) tw on true
    left join public.currencies c on c.code = fw.currency
    -- Who pays the fee (hazina.fee_payer's table, joined: an unknown type is not refused
    -- here but left to the item-by-item path, which reports it on its own item).
    left join public.transaction_types tt on tt.code = e.ttype
    left join public.wallets r on r.system_code = 'fee_revenue' and r.currency = fw.currency
    -- The fee, priced set-based with the same rule lookup and rounding as fee_quote
    -- (both inline here; no function call per item).
    left join lateral hazina.fee_rule(e.ttype, fw.currency,
                                      case tt.fee_payer when 'sender' then fw.user_id else tw.user_id end) fr on true
    cross join lateral (select hazina.fee_apply(e.amount, fr.percentage_bps, fr.fixed_amount, fr.minimum_amount,
                                                fr.maximum_amount, fr.waived, c.minor_units) as fee,
                               coalesce(fr.source, 'none') as rule_source, fr.rule_id) q;
  if not coalesce(v_valid, false) then
    return null;
  end if;
  -- Refs must be new and distinct: retries and conflicts are the item-by-item path's job.
  if (select count(distinct r) from unnest(v_refs) r) <> v_n
     or exists (select 1 from public.wallet_transactions t where t.ref = any (v_refs)) then
    return null;
  end if;

  -- 3. Locks in the global order: rows of every plain wallet involved, then this
  --    connection's bucket of every pooled wallet credited.
  --    (One row at a time, in id order, by lateral lookup: with `id = any (array)` as the
  --    locking scan's condition, every row found locked re-ran the scan's array sorting
  --    when rechecked, and concurrent batches spent 40% more CPU.)
  perform 1
    from (select distinct id from unnest(v_from || v_to || v_payers) as x(id) order by id) x
   cross join lateral (select 1 from public.wallets w where w.id = x.id and w.credit_buckets = 1
                          for no key update) locked;
  perform 1 from public.wallet_balance_buckets b
   where (b.wallet_id, b.bucket) in (select w.id, v_bucket % w.credit_buckets from public.wallets w
                                      where w.id = any (v_to || v_revenue) and w.credit_buckets > 1)
   order by b.wallet_id, b.bucket for no key update of b;

  -- 4. Write everything in one statement, gated on affordability. `entries` lists the
  --    entries exactly as transfer() would write them, in item order, each with its
  --    wallet's running balance (the balance_after of plain wallets; pooled credits have
  --    none). `go` says that every plain user/merchant wallet can pay each item when its
  --    turn comes: checking the running balance after every entry is the same as checking
  --    after every item, since within an item a wallet's debits come after its credit or
  --    alone. If it cannot, the statement writes nothing (the locks stay, for the
  --    item-by-item path). The sub-statements all see the balances read under the locks.
  with entries as (
    select x.n, x.k, x.wallet_id, x.direction, x.amount, x.leg, x.signed, w.credit_buckets,
           w.credit_buckets > 1 as pooled, w.kind, w.held,
           w.balance + sum(x.signed) over (partition by x.wallet_id order by x.n, x.k) as running
      from (select e.n, v.k, v.wallet_id, v.direction, v.amount, v.leg,
                   case v.direction when 'credit' then v.amount else -v.amount end as signed
              from unnest(v_from, v_to, v_amounts, v_fees, v_payers, v_revenue) with ordinality
                     as e(f, t, amount, fee, payer, revenue, n)
             cross join lateral (values (1, e.f, 'debit', e.amount, 'principal'),
                                        (2, e.t, 'credit', e.amount, 'principal'),
                                        (3, e.payer, 'debit', e.fee, 'fee'),
                                        (4, e.revenue, 'credit', e.fee, 'fee')) v(k, wallet_id, direction, amount, leg)
             where v.k <= 2 or e.fee > 0) x
     cross join lateral (select * from public.wallets w where w.id = x.wallet_id offset 0) w
  ), go as (
    select coalesce(bool_and(pooled or kind = 'system' or running - held >= 0), false) as affordable from entries
  ), headers as (
    insert into public.wallet_transactions (id, ref, kind, request_hash, principal_amount, currency,
                                            description, metadata, created_by)
    select e.id, e.ref, e.ttype,
           md5(concat_ws('|', 'transfer', e.ttype, e.f, e.t, e.amount::numeric(19, 4))),
           e.amount, e.currency, e.descr, e.meta, auth.uid()
      from unnest(v_tx_ids, v_refs, v_types, v_from, v_to, v_amounts, v_currencies, v_descriptions, v_metadata)
             with ordinality as e(id, ref, ttype, f, t, amount, currency, descr, meta, n)
     where (select affordable from go)
     order by e.n
    returning 1
  ), ledger as (
    insert into public.wallet_ledger (transaction_id, wallet_id, direction, amount, currency, balance_after,
                                      leg, kind, description, metadata, ref)
    select v_tx_ids[b.n], b.wallet_id, b.direction, b.amount, v_currencies[b.n],
           case when not b.pooled then b.running end,
           b.leg, v_types[b.n], v_descriptions[b.n], v_metadata[b.n], v_tx_ids[b.n]::text || '#' || b.k
      from entries b
     where (select affordable from go)
     order by b.n, b.k
    returning 1
  ), billing as (
    insert into public.billing_ledger (ref, transaction_id, payer_wallet_id, payer_user_id, transaction_type,
                                       direction, amount, currency, base_amount, rule_source, rule_id)
    select e.id::text || '#fee', e.id, e.payer, e.payer_user, e.ttype, 'charge', e.fee, e.currency, e.amount,
           e.rule_source, e.rule_id
      from unnest(v_tx_ids, v_payers, v_payer_users, v_types, v_fees, v_currencies, v_amounts,
                  v_rule_sources, v_rule_ids) with ordinality
             as e(id, payer, payer_user, ttype, fee, currency, amount, rule_source, rule_id, n)
     where e.fee > 0 and (select affordable from go)
     order by e.n
    returning 1
  ), balances as (
    update public.wallets w
       set balance = w.balance + d.delta, updated_at = now()
      from (select wallet_id, sum(signed) as delta from entries where not pooled group by wallet_id) d
     where w.id = d.wallet_id and d.delta <> 0 and (select affordable from go)
    returning 1
  ), pooled_credits as (
    -- Pooled wallets only gain here (sources are plain, and a fee a merchant pays is less
    -- than the payment it comes out of): the net goes to this connection's bucket.
    update public.wallet_balance_buckets b
       set balance = b.balance + d.delta
      from (select wallet_id, credit_buckets, sum(signed) as delta from entries where pooled
             group by wallet_id, credit_buckets) d
     where b.wallet_id = d.wallet_id
       and b.bucket = v_bucket % d.credit_buckets and d.delta > 0
       and (select affordable from go)
    returning 1
  )
  select affordable into v_valid from go;
  if not v_valid then
    return null;  -- nothing written; locks are kept for the item-by-item path
  end if;

  select jsonb_agg(jsonb_build_object(
           'index', e.n - 1, 'status', 'posted', 'transaction_id', e.id, 'ref', e.ref, 'replayed', false,
           'from_wallet_id', e.f, 'to_wallet_id', e.t, 'amount', e.amount::numeric(19, 4)::text,
           'fee', e.fee::numeric(19, 4)::text, 'fee_payer', e.fee_payer, 'currency', e.currency,
           'transaction_type', e.ttype) order by e.n)
    into v_results
    from unnest(v_tx_ids, v_refs, v_from, v_to, v_amounts, v_fees, v_fee_payers, v_currencies, v_types)
           with ordinality as e(id, ref, f, t, amount, fee, fee_payer, currency, ttype, n);
  return v_results;
end
$$;
create or replace function public.transfer(
  p_from_wallet uuid,
  p_to_wallet uuid,
  p_amount numeric,
  p_ref text,
  p_description text default null
) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_uid uuid := hazina.caller_id();
  v_to_kind text;
  v_result jsonb;
begin
  if p_ref is null or length(p_ref) not between 1 and 200 then
    perform hazina.raise_error('invalid_ref', jsonb_build_object('reason', 'ref must be 1 to 200 characters'));
  end if;
  if p_description is not null and length(p_description) > 500 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'description', 'reason', 'at most 500 characters'));
  end if;
  if not exists (select 1 from public.wallets where id = p_from_wallet and user_id = v_uid) then
    perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', p_from_wallet));
  end if;
  select kind into v_to_kind from public.wallets where id = p_to_wallet;
  if v_to_kind is null or v_to_kind = 'system' then
    perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', p_to_wallet));
  end if;
  v_result := hazina.transfer(
    'transfer:' || v_uid || ':' || p_ref, p_from_wallet, p_to_wallet, p_amount,
    case v_to_kind when 'merchant' then 'merchant_payment' else 'p2p_transfer' end,
    p_description, jsonb_build_object('initiated_by', v_uid));
  return v_result || jsonb_build_object('ref', p_ref);
end
$$;

drop function if exists hazina.transfer_authorize(uuid, uuid, text, text);
