-- migrate:up
-- Transfer batches: many transfers in one database transaction with one result per item
-- (bulk payouts). A clean batch posts set-based (transfer_batch_fast); otherwise each item
-- runs in its own savepoint through hazina.transfer and reports its own outcome.

-- Fast path of transfer_batch. When every item is well-formed and new, every source is a
-- plain (unpooled) active wallet, and every source can afford its items in order, the
-- whole batch posts set-based (one write statement for every table), instead of one
-- transfer at a time. The outcome is exactly what the item-by-item
-- path would produce (same refs, entries, balance_after, fees, billing rows, results).
-- Returns null, having written nothing, when any condition fails; the caller then runs
-- the item-by-item path, which reports each item's own outcome.
create function hazina.transfer_batch_fast(p_items jsonb) returns jsonb
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

-- Batch posting: many transfers in one database transaction, one result per item.
-- Items: [{"ref", "from_wallet_id", "to_wallet_id", "amount", "transaction_type"?, "description"?}]
-- Each item runs in its own savepoint: a failed item reports its error code and leaves
-- the others posted. Every row and bucket the batch touches is locked up front in the
-- global lock order (rows by id, then buckets), so batches never deadlock with postings.
create function hazina.transfer_batch(p_items jsonb) returns jsonb
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

-- Client API: bulk transfers from my wallets (e.g. a merchant's payouts), one result per
-- item. Items: [{"ref", "from_wallet_id", "to_wallet_id", "amount", "description"?}].
-- Refs share the namespace of single transfers, so retrying an item either way posts once.
-- Items from wallets I do not own, or to system wallets, fail alone with wallet_not_found.
create function public.transfer_batch(p_items jsonb) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_uid uuid := hazina.caller_id();
  v_prepared jsonb;
  v_results jsonb;
begin
  if jsonb_typeof(p_items) is distinct from 'array' or jsonb_array_length(p_items) not between 1 and 1000 then
    perform hazina.raise_error('invalid_entries', jsonb_build_object('reason', 'items must be an array of 1 to 1000 transfers'));
  end if;
  if exists (select 1 from jsonb_array_elements(p_items) i
              where jsonb_typeof(i) <> 'object' or coalesce(length(i ->> 'ref'), 0) not between 1 and 200) then
    perform hazina.raise_error('invalid_ref', jsonb_build_object('reason', 'every item needs a ref of 1 to 200 characters'));
  end if;
  -- Rewrite each item: namespaced ref, transfer type from the destination, and a
  -- deliberately unknown source wallet when the caller may not spend from it.
  select jsonb_agg(
           jsonb_build_object(
             'ref', 'transfer:' || v_uid || ':' || (i ->> 'ref'),
             'from_wallet_id', case when f.id is not null and t.kind <> 'system' then f.id::text
                                    else '00000000-0000-0000-0000-000000000000' end,
             'to_wallet_id', i ->> 'to_wallet_id',
             'amount', i -> 'amount',
             'transaction_type', case t.kind when 'merchant' then 'merchant_payment' else 'p2p_transfer' end,
             'description', i -> 'description',
             'metadata', jsonb_build_object('initiated_by', v_uid))
           order by n)
    into v_prepared
    from jsonb_array_elements(p_items) with ordinality as x(i, n)
    left join public.wallets f
      on f.id::text = i ->> 'from_wallet_id' and f.user_id = v_uid
    left join public.wallets t
      on t.id::text = i ->> 'to_wallet_id';
  v_results := hazina.transfer_batch(v_prepared);
  -- Give the caller back its own refs.
  select jsonb_agg(r || jsonb_build_object('ref', p_items -> (r ->> 'index')::int ->> 'ref') order by (r ->> 'index')::int)
    into v_results
    from jsonb_array_elements(v_results) r;
  return v_results;
end
$$;

revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function public.transfer_batch(jsonb) from public, anon;
grant execute on function public.transfer_batch(jsonb) to authenticated;
grant execute on function hazina.transfer_batch(jsonb) to service_role;

-- migrate:down
drop function if exists public.transfer_batch(jsonb);
drop function if exists hazina.transfer_batch(jsonb);
drop function if exists hazina.transfer_batch_fast(jsonb);
