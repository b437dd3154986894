-- The specification's index rule: every foreign key in public is served by an index whose
-- leading columns are the key's columns. Without one, deleting or re-keying a referenced
-- row scans the whole referencing table (under lock), and so does every join or lookup by
-- the key. A foreign key may go without only when it is listed below with its reason.
-- A partial index `where <column> is not null` counts: it serves every lookup by a value.
begin;
select plan(3);

create temp table fk_without_index_allowed (
  foreign_key text primary key,   -- table(columns) -> referenced table
  reason      text not null check (length(reason) > 20)
) on commit drop;
insert into fk_without_index_allowed values
  -- Currencies are reference data: rows are added, never deleted or re-keyed, so no check
  -- ever searches the referencing table; nothing is looked up by currency alone.
  ('billing_fee_catalog(currency) -> currencies', 'currencies are never deleted or re-keyed; fees are found by type first'),
  ('installments(currency) -> currencies', 'currencies are never deleted or re-keyed; plans are found by id, customer or merchant'),
  ('merchant_fee_profiles(currency) -> currencies', 'currencies are never deleted or re-keyed; profiles are found by merchant'),
  ('merchant_fee_profiles(transaction_type) -> transaction_types', 'transaction types are never deleted or re-keyed (no role may write them); profiles are found by merchant'),
  ('payment_intents(currency) -> currencies', 'currencies are never deleted or re-keyed; intents are found by id, merchant or customer'),
  ('payment_refunds(currency) -> currencies', 'currencies are never deleted or re-keyed; refunds are found by id, intent or merchant'),
  ('wallet_funding_sessions(currency) -> currencies', 'currencies are never deleted or re-keyed; sessions are found by id, user or wallet'),
  ('wallet_holds(currency) -> currencies', 'currencies are never deleted or re-keyed; and wallet_holds is a hot table (below)'),
  ('wallet_withdrawals(currency) -> currencies', 'currencies are never deleted or re-keyed; withdrawals are found by id, user or wallet'),
  ('shops(currency) -> currencies', 'currencies are never deleted or re-keyed; shops are found by id, slug or merchant'),
  ('orders(currency) -> currencies', 'currencies are never deleted or re-keyed; orders are found by id, shop, merchant or customer'),
  ('qr_codes(currency) -> currencies', 'currencies are never deleted or re-keyed; codes are found by id, slug or merchant'),
  ('goods_escrows(currency) -> currencies', 'currencies are never deleted or re-keyed; escrows are found by id, order or party'),
  ('wallets(currency) -> currencies', 'currencies are never deleted or re-keyed; wallets are found by (user_id, currency) or system code'),
  -- wallet_holds is written by hold_create and hold_post on the posting path (README, "Few
  -- indexes on the hot tables": every index is a write on every hold). Its references point
  -- at rows that are never deleted, and nothing looks holds up by them.
  ('wallet_holds(counterparty_id) -> wallets', 'hot table: hold_create would write it; wallets are closed, never deleted; holds are found by id, ref or owner wallet'),
  ('wallet_holds(transaction_id) -> wallet_transactions', 'hot table: hold_post would write it; transactions are immutable, never deleted; nothing looks a hold up by its transaction');

-- table(columns) -> referenced, for every foreign key in public no index leads with.
create temp view fk_without_index as
select format('%s(%s) -> %s', c.conrelid::regclass, cols.names, c.confrelid::regclass) as foreign_key
  from pg_constraint c
  cross join lateral (select string_agg(a.attname, ', ' order by k.n) as names
                        from unnest(c.conkey) with ordinality k(attnum, n)
                        join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum) cols
 where c.contype = 'f' and c.connamespace = 'public'::regnamespace
   and not exists (
     select 1 from pg_index i
      where i.indrelid = c.conrelid and i.indisvalid
        -- the first n key columns are the foreign key's n columns, in any order
        and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
        and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey
        and (i.indpred is null or (cardinality(c.conkey) = 1 and pg_get_expr(i.indpred, i.indrelid)
                                     = format('(%I IS NOT NULL)', cols.names))));

select ok((select count(*) from pg_constraint where contype = 'f' and connamespace = 'public'::regnamespace) > 30,
  'the guard sees the foreign keys of public');
select is(array(select foreign_key from fk_without_index except select foreign_key from fk_without_index_allowed order by 1),
  array[]::text[], 'every foreign key in public has an index leading with its columns, or a reason on the allow-list');
select is(array(select foreign_key from fk_without_index_allowed except select foreign_key from fk_without_index order by 1),
  array[]::text[], 'the allow-list names only foreign keys that exist and still lack an index');

select * from finish();
rollback;
