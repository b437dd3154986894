-- migrate:up
-- Merchant applications: a merchant account starts as a request an admin approves. Being a
-- merchant is worth money (payments to a merchant wallet are merchant payments: the
-- merchant bears the fee and the payer none), so nobody makes themselves one: sign-up, the
-- Supabase Auth mirror and POST /auth/merchant-request record a pending application and
-- the user stays a customer. An admin (the rule in *_auth_caller.sql) approves or rejects
-- it through the ops function; every change is audited (this table, and auth_users' role).
--
-- Approval makes the user a merchant and turns their existing user wallets into merchant
-- wallets that pool credits (as wallet_open opens them for merchants), so payments to the
-- wallet they already have become merchant payments from then on; payments already posted
-- stay what they were. Wallets opened later are merchant wallets (wallet_open reads the role).

create table public.merchant_applications (
  id               uuid primary key default gen_random_uuid(),
  user_id          uuid not null references public.auth_users (id) on delete cascade,
  business_name    text not null check (length(btrim(business_name)) between 1 and 200),
  status           text not null default 'pending' check (status in ('pending', 'approved', 'rejected')),
  decided_by       uuid references public.auth_users (id),
  decided_at       timestamptz,
  decision_reason  text check (length(decision_reason) <= 500),
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  constraint merchant_applications_decided check ((status = 'pending') = (decided_at is null))
);
-- One open application per user (pending, or approved: they are a merchant). A rejected
-- applicant may apply again.
create unique index merchant_applications_one_open on public.merchant_applications (user_id)
  where status in ('pending', 'approved');
create index merchant_applications_user_idx on public.merchant_applications (user_id, created_at);
create index merchant_applications_pending_idx on public.merchant_applications (created_at) where status = 'pending';
create index merchant_applications_decided_by_idx on public.merchant_applications (decided_by);

create trigger merchant_applications_audit after insert or update or delete on public.merchant_applications
  for each row execute function hazina.audit_row_change();

-- An application as the API shows it.
create function hazina.merchant_application_json(p_id uuid) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', a.id, 'user_id', a.user_id, 'business_name', a.business_name, 'status', a.status,
                            'decided_by', a.decided_by, 'decided_at', a.decided_at, 'decision_reason', a.decision_reason,
                            'created_at', a.created_at, 'updated_at', a.updated_at)
    from public.merchant_applications a where a.id = p_id
$$;

-- Record a request to become a merchant (sign-up as service_role, or the signed-in user
-- through public.merchant_apply). Idempotent: a pending application is returned as it is
-- (created = false). A merchant is one already (already_merchant); admins are not merchants.
create function hazina.merchant_application_submit(p_user_id uuid, p_business_name text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_role text;
  v_id uuid;
begin
  if p_business_name is null or length(btrim(p_business_name)) not between 1 and 200 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'business_name', 'reason', '1 to 200 characters'));
  end if;
  -- The user row lock serialises concurrent submissions and decisions for one user.
  select role into v_role from public.auth_users where id = p_user_id for update;
  if v_role is null then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'user_id', 'reason', 'no such user'));
  end if;
  if v_role = 'merchant' then
    perform hazina.raise_error('already_merchant');
  end if;
  if v_role <> 'customer' then
    perform hazina.raise_error('forbidden', jsonb_build_object('reason', 'only customers apply to become merchants'));
  end if;
  select id into v_id from public.merchant_applications where user_id = p_user_id and status = 'pending';
  if v_id is not null then
    return hazina.merchant_application_json(v_id) || jsonb_build_object('created', false);
  end if;
  insert into public.merchant_applications (user_id, business_name)
  values (p_user_id, btrim(p_business_name))
  returning id into v_id;
  return hazina.merchant_application_json(v_id) || jsonb_build_object('created', true);
end
$$;

-- Client API: I ask to become a merchant (POST /auth/merchant-request, or supabase-js rpc).
create function public.merchant_apply(p_business_name text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  return hazina.merchant_application_submit(hazina.caller_id(), p_business_name);
end
$$;

-- The decision on a user's application, by an admin. Approving: the application is
-- approved, the user becomes a merchant and their user wallets merchant wallets. Rejecting:
-- the application is rejected and the user stays a customer. Deciding the same way again
-- returns the decided application (safe to retry); the other way is
-- merchant_application_not_pending.
create function hazina.merchant_application_decide(p_user_id uuid, p_status text, p_reason text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_app public.merchant_applications;
  c_buckets constant smallint := 8;  -- as wallet_open gives a merchant wallet
begin
  perform hazina.assert_admin();
  if p_reason is not null and length(p_reason) > 500 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'reason', 'reason', 'at most 500 characters'));
  end if;
  perform 1 from public.auth_users where id = p_user_id for update;
  select * into v_app from public.merchant_applications
   where user_id = p_user_id order by (status = 'pending') desc, created_at desc limit 1 for update;
  if not found then
    perform hazina.raise_error('merchant_application_not_found', jsonb_build_object('user_id', p_user_id));
  end if;
  if v_app.status <> 'pending' then
    if v_app.status = p_status then
      return hazina.merchant_application_json(v_app.id);
    end if;
    perform hazina.raise_error('merchant_application_not_pending', jsonb_build_object('user_id', p_user_id, 'status', v_app.status));
  end if;

  update public.merchant_applications
     set status = p_status, decided_by = auth.uid(), decided_at = now(), decision_reason = p_reason, updated_at = now()
   where id = v_app.id;
  if p_status = 'approved' then
    update public.auth_users set role = 'merchant', updated_at = now() where id = p_user_id and role = 'customer';
    -- Wallet rows are locked by the update, so a payment in flight posts before or after
    -- the change, never half of each.
    update public.wallets set kind = 'merchant', credit_buckets = c_buckets, updated_at = now()
     where user_id = p_user_id and kind = 'user';
    insert into public.wallet_balance_buckets (wallet_id, bucket)
    select w.id, b from public.wallets w cross join generate_series(0, c_buckets - 1) b
     where w.user_id = p_user_id and w.kind = 'merchant'
    on conflict do nothing;
  end if;
  return hazina.merchant_application_json(v_app.id);
end
$$;

create function public.ops_merchant_approve(p_user_id uuid, p_reason text default null) returns jsonb
  language sql
  security definer
  set search_path = ''
  as $$ select hazina.merchant_application_decide(p_user_id, 'approved', p_reason) $$;

create function public.ops_merchant_reject(p_user_id uuid, p_reason text default null) returns jsonb
  language sql
  security definer
  set search_path = ''
  as $$ select hazina.merchant_application_decide(p_user_id, 'rejected', p_reason) $$;

-- Row level security: the applicant reads their own applications, admins read all (the
-- one admin rule). Nobody writes directly; the functions above do.
alter table public.merchant_applications enable row level security;
revoke all on table public.merchant_applications from public, anon, authenticated;
grant select on table public.merchant_applications to authenticated, service_role;
create policy "applicant reads own merchant applications" on public.merchant_applications
  for select to authenticated using (user_id = auth.uid());
create policy "admins read all merchant applications" on public.merchant_applications
  for select to authenticated using ((select public.is_admin()));

revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function public.merchant_apply(text), public.ops_merchant_approve(uuid, text),
  public.ops_merchant_reject(uuid, text) from public, anon;
grant execute on function public.merchant_apply(text), public.ops_merchant_approve(uuid, text),
  public.ops_merchant_reject(uuid, text) to authenticated;
grant execute on function hazina.merchant_application_submit(uuid, text) to service_role;

-- migrate:down
drop function if exists public.ops_merchant_reject(uuid, text);
drop function if exists public.ops_merchant_approve(uuid, text);
drop function if exists hazina.merchant_application_decide(uuid, text, text);
drop function if exists public.merchant_apply(text);
drop function if exists hazina.merchant_application_submit(uuid, text);
drop function if exists hazina.merchant_application_json(uuid);
drop table if exists public.merchant_applications;
