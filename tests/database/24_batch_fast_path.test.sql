-- transfer_batch's set-based fast path writes exactly what posting the same transfers one
-- by one writes: same entries (wallet, direction, amount, leg, balance_after, ref), same
-- billing rows, same balances, same results. And it steps aside when it must.
begin;
select plan(13);

\ir helpers.psql

-- Only these fees apply: P2P 0.5% (1.00 to 100.00), merchant payments 1.5%.
delete from public.billing_fee_catalog;
insert into public.billing_fee_catalog (transaction_type, percentage_bps, minimum_amount, maximum_amount)
values ('p2p_transfer', 50, 1, 100), ('merchant_payment', 150, 0, null);
-- A pays B; the merchant M's wallet pools credits (8 buckets).
select pg_temp.wallet_open(pg_temp.user_create('customer', '24000000-0000-4000-8000-00000000000a')) as a,
       pg_temp.wallet_open(pg_temp.user_create('customer', '24000000-0000-4000-8000-00000000000b')) as b,
       pg_temp.wallet_open(pg_temp.user_create('merchant', '24000000-0000-4000-8000-00000000000c')) as m \gset
select pg_temp.fund(:'a', 1000, 'bf-fund');

-- B spends in item 2 what it receives in item 1; merchant payments pool; fees both ways.
select format('[
  {"ref": "bf-1", "from_wallet_id": "%1$s", "to_wallet_id": "%2$s", "amount": "100.00"},
  {"ref": "bf-2", "from_wallet_id": "%2$s", "to_wallet_id": "%3$s", "amount": "50.00", "transaction_type": "merchant_payment"},
  {"ref": "bf-3", "from_wallet_id": "%1$s", "to_wallet_id": "%3$s", "amount": "10.10", "transaction_type": "merchant_payment", "description": "tea"},
  {"ref": "bf-4", "from_wallet_id": "%2$s", "to_wallet_id": "%1$s", "amount": "20.55"},
  {"ref": "bf-5", "from_wallet_id": "%1$s", "to_wallet_id": "%2$s", "amount": "0.01"}
]', :'a', :'b', :'m') as items \gset

create function pg_temp.snapshot() returns text language sql as $$
  select jsonb_build_object(
    'entries', (select jsonb_agg(jsonb_build_array(t.ref || substring(l.ref from '#.*$'), l.wallet_id, l.direction, l.amount,
                                                   l.leg, l.balance_after, l.kind, l.description) order by t.ref, l.ref)
                  from public.wallet_ledger l join public.wallet_transactions t on t.id = l.transaction_id
                 where t.ref like 'bf-%' and t.ref <> 'bf-fund'),
    -- A fee record's ref is '<transaction id>#fee': named here by the transaction's own ref.
    'billing', (select jsonb_agg(jsonb_build_array(t.ref || substring(b.ref from '#.*$'), b.payer_wallet_id, b.payer_user_id,
                                                   b.amount, b.base_amount, b.rule_source) order by t.ref, b.ref)
                  from public.billing_ledger b join public.wallet_transactions t on t.id = b.transaction_id
                 where t.ref like 'bf-%'),
    'balances', (select jsonb_agg(jsonb_build_array(b.wallet_id, b.balance, b.held) order by w.user_id)
                   from public.wallet_balances b join public.wallets w on w.id = b.wallet_id
                  where w.user_id::text like '24000000%'),
    'reconcile', (select count(*) from hazina.reconcile()))::text
$$;

savepoint fast;
select hazina.transfer_batch_fast(:'items'::jsonb) as fast_results \gset
select ok(:'fast_results' <> '', 'a clean batch takes the set-based path (it returns results, not null)');
select pg_temp.snapshot() as fast_state \gset
select jsonb_path_query_array(:'fast_results'::jsonb, '$[*].status')::text as fast_statuses \gset
rollback to savepoint fast;

savepoint slow;
select jsonb_agg(hazina.transfer(i ->> 'ref', (i ->> 'from_wallet_id')::uuid, (i ->> 'to_wallet_id')::uuid,
                                 (i ->> 'amount')::numeric, coalesce(i ->> 'transaction_type', 'p2p_transfer'),
                                 i ->> 'description', '{}') order by n)::text as slow_results
  from jsonb_array_elements(:'items'::jsonb) with ordinality x(i, n) \gset
select pg_temp.snapshot() as slow_state \gset
rollback to savepoint slow;

select is(:'fast_statuses'::text, '["posted", "posted", "posted", "posted", "posted"]'::text, 'every item posted');
select is(:'fast_state'::text, :'slow_state'::text, 'entries, billing rows and balances equal posting the transfers one by one');
select is((:'fast_state'::jsonb ->> 'reconcile')::int, 0, 'the books reconcile after the fast path');
select is(
  (select jsonb_agg(r - 'transaction_id' - 'index' - 'status' order by (r ->> 'index')::int) from jsonb_array_elements(:'fast_results'::jsonb) r),
  (select jsonb_agg(r - 'transaction_id' order by n) from jsonb_array_elements(:'slow_results'::jsonb) with ordinality x(r, n)),
  'results carry the same fields and values as single transfers');
select is((:'fast_state'::jsonb -> 'balances' -> 0 ->> 1)::numeric, 908.4400::numeric,
  'A: 1000 - 100 - 1 (fee) - 10.10 + 20.55 - 0.01 - 1 (fee)');

-- An item B cannot afford at its turn: the fast path declines and writes nothing, and the
-- batch goes item by item.
select is(hazina.transfer_batch_fast(format('[
  {"ref": "bf-x1", "from_wallet_id": "%2$s", "to_wallet_id": "%1$s", "amount": "5.00"},
  {"ref": "bf-x2", "from_wallet_id": "%1$s", "to_wallet_id": "%2$s", "amount": "10.00"}
]', :'a', :'b')::jsonb), null, 'the fast path declines a batch with an item its payer cannot afford at its turn');
select is((select count(*)::int from public.wallet_ledger l join public.wallet_transactions t on t.id = l.transaction_id
            where t.ref like 'bf-x%') + (select count(*)::int from public.wallet_transactions where ref like 'bf-x%'),
          0, 'and writes no header and no entry');
select hazina.transfer_batch(format('[
  {"ref": "bf-x1", "from_wallet_id": "%2$s", "to_wallet_id": "%1$s", "amount": "5.00"},
  {"ref": "bf-x2", "from_wallet_id": "%1$s", "to_wallet_id": "%2$s", "amount": "10.00"}
]', :'a', :'b')::jsonb) as fallback \gset
select is(jsonb_path_query_array(:'fallback'::jsonb, '$[*].status')::text, '["failed", "posted"]'::text,
  'an unaffordable item fails alone (B had nothing before item 2), as item by item');
select is((select count(*)::int from public.wallet_transactions where ref like 'bf-x%'), 1, 'only the affordable item posted');
select is(hazina.transfer_batch(format('[
  {"ref": "bf-y1", "from_wallet_id": "%1$s", "to_wallet_id": "24000000-0000-4000-8000-0000000000ff", "amount": "1.00"}
]', :'a')::jsonb) -> 0 ->> 'error', 'wallet_not_found', 'an unknown wallet steps aside to the item-by-item path instead of raising');
select pg_temp.books_balance('the books reconcile');

select * from finish();
rollback;
