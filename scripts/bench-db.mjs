// The prepared database of `npm run bench` and `npm run profile:edge`: the migrations, the
// fee catalog (P2P 0.5% min 0.01 max 100; merchant payment 1.5%; payment intent 1.5%),
// `walletCount` customers with one funded wallet each (10 000 000.00 KES through the
// ledger, one top-up each, as real funding arrives), one merchant with 8 credit buckets,
// and `public.bench_wallets` (n → wallet: n > 0 customers, 0 the merchant, -1 fee revenue).
import postgres from "postgres";
import { dbmate } from "./lib.mjs";

/** Create database `name` (on `admin`'s server, reachable at `url`) and fill it as above. */
export async function prepareBenchDb(admin, url, name, walletCount) {
  await admin.unsafe(`create database "${name}"`);
  dbmate(url, ["--no-dump-schema", "up"], { quiet: true });
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  await sql.unsafe(`
    insert into public.billing_fee_catalog (transaction_type, percentage_bps, minimum_amount, maximum_amount)
    values ('p2p_transfer', 50, 0.01, 100), ('merchant_payment', 150, 0, null), ('payment_intent', 150, 0, null);
    insert into public.auth_users (id, email, role)
    select gen_random_uuid(), 'bench' || n || '@bench.test', case when n = 0 then 'merchant' else 'customer' end
      from generate_series(0, ${walletCount}) n;
    create table public.bench_wallets (n integer primary key, wallet_id uuid not null);
    alter table public.bench_wallets enable row level security;
    insert into public.wallets (user_id, kind, currency, credit_buckets)
    select id, case role when 'merchant' then 'merchant' else 'user' end, 'KES', case role when 'merchant' then 8 else 1 end
      from public.auth_users where email like 'bench%';
    insert into public.wallet_balance_buckets (wallet_id, bucket)
    select w.id, b from public.wallets w cross join generate_series(0, w.credit_buckets - 1) b where w.kind = 'merchant';
    insert into public.bench_wallets (n, wallet_id)
    select substring(u.email from 'bench([0-9]+)@')::int, w.id
      from public.auth_users u join public.wallets w on w.user_id = u.id where u.email like 'bench%';
    insert into public.bench_wallets (n, wallet_id) values (-1, hazina.system_wallet('fee_revenue', 'KES'));
  `);
  // Fund every customer through the ledger, one top-up each (as real funding arrives).
  await sql.unsafe(`
    do $$
    declare w record;
    begin
      for w in select wallet_id from public.bench_wallets where n > 0 loop
        perform hazina.post_transaction('bench-funding-' || w.wallet_id, 'funding', jsonb_build_array(
          jsonb_build_object('wallet_id', hazina.system_wallet('mpesa_clearing'), 'direction', 'debit', 'amount', '10000000'),
          jsonb_build_object('wallet_id', w.wallet_id, 'direction', 'credit', 'amount', '10000000')));
      end loop;
    end $$;
  `);
  await sql.unsafe("vacuum analyze");
  await sql.end();
}
