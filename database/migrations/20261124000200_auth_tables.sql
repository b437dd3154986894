-- migrate:up
-- Identity tables (spec: auth_users, auth_sessions, auth_accounts, auth_verification_token).
-- Clients never write them directly: the `auth` edge function does, as service_role.
-- Secrets (password hash, refresh token hash, provider tokens, verification token hash)
-- are never readable by clients: column grants leave them out.

create table public.auth_users (
  id                  uuid primary key default gen_random_uuid(),
  email               text not null check (email = lower(email) and email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' and length(email) <= 254),
  email_verified_at   timestamptz,
  password_hash       text,
  name                text check (length(name) <= 200),
  phone               text check (phone ~ '^\+[1-9][0-9]{6,14}$'),
  role                text not null default 'customer' check (role in ('customer', 'merchant', 'admin')),
  status              text not null default 'active' check (status in ('active', 'locked', 'disabled')),
  failed_login_count  integer not null default 0 check (failed_login_count >= 0),
  locked_until        timestamptz,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now()
);
create unique index auth_users_email_key on public.auth_users (email);
create index auth_users_phone_idx on public.auth_users (phone);

create table public.auth_sessions (
  id                  uuid primary key default gen_random_uuid(),
  user_id             uuid not null references public.auth_users (id) on delete cascade,
  refresh_token_hash  text not null unique,
  -- Rotation chain: each refresh creates a new row whose parent is the rotated one;
  -- every row of one login shares family_id so reuse detection can revoke them all.
  family_id           uuid not null,
  parent_id           uuid references public.auth_sessions (id) on delete set null,
  rotated_at          timestamptz,
  expires_at          timestamptz not null,
  revoked_at          timestamptz,
  revoked_reason      text,
  user_agent          text check (length(user_agent) <= 512),
  ip                  inet,
  created_at          timestamptz not null default now()
);
create index auth_sessions_user_idx on public.auth_sessions (user_id);
create index auth_sessions_family_idx on public.auth_sessions (family_id);
create index auth_sessions_parent_idx on public.auth_sessions (parent_id) where parent_id is not null;

create table public.auth_accounts (
  id                   uuid primary key default gen_random_uuid(),
  user_id              uuid not null references public.auth_users (id) on delete cascade,
  provider             text not null check (provider ~ '^[a-z0-9_-]{1,40}$'),
  provider_account_id  text not null check (length(provider_account_id) <= 255),
  access_token         text,
  refresh_token        text,
  id_token             text,
  expires_at           timestamptz,
  scope                text,
  created_at           timestamptz not null default now(),
  updated_at           timestamptz not null default now(),
  unique (provider, provider_account_id)
);
create index auth_accounts_user_idx on public.auth_accounts (user_id);

create table public.auth_verification_token (
  id           uuid primary key default gen_random_uuid(),
  user_id      uuid not null references public.auth_users (id) on delete cascade,
  purpose      text not null check (purpose in ('email_verification', 'password_reset')),
  token_hash   text not null unique,
  expires_at   timestamptz not null,
  consumed_at  timestamptz,
  created_at   timestamptz not null default now()
);
create index auth_verification_token_user_idx on public.auth_verification_token (user_id, purpose);

alter table public.auth_users enable row level security;
alter table public.auth_sessions enable row level security;
alter table public.auth_accounts enable row level security;
alter table public.auth_verification_token enable row level security;

revoke all on table public.auth_users, public.auth_sessions, public.auth_accounts,
  public.auth_verification_token from public, anon, authenticated;
grant all on table public.auth_users, public.auth_sessions, public.auth_accounts,
  public.auth_verification_token to service_role;

-- Column grants: the hash and the lockout counters are never readable by clients.
grant select (id, email, email_verified_at, name, phone, role, status, created_at, updated_at)
  on table public.auth_users to authenticated;
-- rotated_at lets a user tell the live head of each login from the rows it replaced.
grant select (id, user_id, family_id, rotated_at, expires_at, revoked_at, user_agent, ip, created_at)
  on table public.auth_sessions to authenticated;
grant select (id, user_id, provider, provider_account_id, created_at, updated_at)
  on table public.auth_accounts to authenticated;

create policy "user reads own user row" on public.auth_users
  for select to authenticated using (id = auth.uid());
create policy "user reads own sessions" on public.auth_sessions
  for select to authenticated using (user_id = auth.uid());
create policy "user reads own accounts" on public.auth_accounts
  for select to authenticated using (user_id = auth.uid());
-- auth_verification_token: no client policy at all.

create trigger auth_users_audit after insert or update or delete on public.auth_users
  for each row execute function hazina.audit_row_change('password_hash');

revoke execute on all functions in schema hazina from public, anon, authenticated;

-- migrate:down
drop table if exists public.auth_verification_token;
drop table if exists public.auth_accounts;
drop table if exists public.auth_sessions;
drop table if exists public.auth_users;
