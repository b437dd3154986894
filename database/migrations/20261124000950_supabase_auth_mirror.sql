-- migrate:up
-- Deploying with Supabase Auth: every auth.users row gets its public.auth_users twin (same
-- id), which wallets, sessions, fees and RLS refer to. Hazina's own `auth` function writes
-- public.auth_users directly; this bridge is for projects that sign users up with
-- supabase-js instead. It is installed only where auth.users exists (on Supabase), and
-- existing users are copied when it is installed.
--
-- A signup must never fail because of Hazina: the mirror never raises. What it copies:
--   email         lower-cased; a phone-only user, or an email Hazina already holds for
--                 another id, gets the placeholder 'supabase-<id>@users.invalid' (a
--                 warning goes to the server log for a clash).
--   email_verified_at  email_confirmed_at.
--   phone         Supabase stores E.164 digits without '+': '254712345678' becomes
--                 '+254712345678'; anything else is dropped.
--   name          user_metadata full_name or name.
--   role          always 'customer': nothing from Supabase makes a merchant or an admin.
--                 app_metadata role 'merchant' (only the service role can set app_metadata)
--                 records a pending merchant application instead, once per user (business
--                 name: user_metadata business_name, else the name), which an admin approves
--                 like any other (*_merchant_applications.sql). Admins are made in Hazina
--                 (`update public.auth_users set role = 'admin'`); user_metadata, which users
--                 write themselves, is never read for a role. A role set in Hazina stays.
-- A deleted Supabase user is disabled here, not deleted: their ledger history stays.

create function hazina.mirror_supabase_user(
  p_id uuid, p_email text, p_email_confirmed_at timestamptz, p_phone text,
  p_app_metadata jsonb, p_user_metadata jsonb
) returns void
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_email text := lower(p_email);
  v_placeholder constant text := 'supabase-' || p_id || '@users.invalid';
  v_phone text := case when p_phone ~ '^[1-9][0-9]{6,14}$' then '+' || p_phone
                       when p_phone ~ '^\+[1-9][0-9]{6,14}$' then p_phone end;
  v_name text := left(coalesce(p_user_metadata ->> 'full_name', p_user_metadata ->> 'name'), 200);
  v_business text := left(coalesce(nullif(btrim(p_user_metadata ->> 'business_name'), ''), nullif(btrim(v_name), '')), 200);
begin
  if v_email is null or v_email !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' or length(v_email) > 254 then
    v_email := v_placeholder;
  end if;
  begin
    insert into public.auth_users (id, email, email_verified_at, phone, name)
    values (p_id, v_email, p_email_confirmed_at, v_phone, v_name)
    on conflict (id) do update
      set email = excluded.email, email_verified_at = excluded.email_verified_at,
          phone = excluded.phone, name = coalesce(excluded.name, public.auth_users.name),
          updated_at = now();
  exception when unique_violation then
    -- The email belongs to another Hazina user (e.g. one made by Hazina's own auth).
    raise warning 'hazina: Supabase user % shares email % with another Hazina user; mirrored with %',
      p_id, v_email, v_placeholder;
    insert into public.auth_users (id, email, email_verified_at, phone, name)
    values (p_id, v_placeholder, null, v_phone, v_name)
    on conflict (id) do update set phone = excluded.phone, updated_at = now();
  end;
  -- Asked to be a merchant: a pending application (never the role itself), once. A customer
  -- who was rejected is not re-filed by every later Supabase update.
  if p_app_metadata ->> 'role' = 'merchant' then
    insert into public.merchant_applications (user_id, business_name)
    select p_id, coalesce(v_business, 'Supabase user ' || p_id)
     where exists (select 1 from public.auth_users where id = p_id and role = 'customer')
       and not exists (select 1 from public.merchant_applications where user_id = p_id);
  end if;
end
$$;

create function hazina.supabase_user_changed() returns trigger
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  if tg_op = 'DELETE' then
    update public.auth_users set status = 'disabled', updated_at = now() where id = old.id;
    return old;
  end if;
  perform hazina.mirror_supabase_user(new.id, new.email, new.email_confirmed_at, new.phone,
                                      new.raw_app_meta_data, new.raw_user_meta_data);
  return new;
exception when others then
  -- Never block a signup: the user can still be mirrored by re-running the installer.
  raise warning 'hazina: could not mirror Supabase user %: %', coalesce(new.id, old.id), sqlerrm;
  return coalesce(new, old);
end
$$;

-- Creates the trigger on auth.users and copies existing users. Returns false (and does
-- nothing) where there is no auth.users. Safe to run again.
create function hazina.install_supabase_auth_mirror() returns boolean
  language plpgsql
  security definer
  set search_path = ''
  set client_min_messages = warning  -- (no "trigger does not exist, skipping" on first install)
  as $$
begin
  if to_regclass('auth.users') is null then
    return false;
  end if;
  -- (Dynamic SQL: auth.users exists only on Supabase, and static references to it would
  -- not even lint elsewhere.)
  execute 'drop trigger if exists hazina_mirror_user on auth.users';
  execute 'create trigger hazina_mirror_user
             after insert or update of email, email_confirmed_at, phone, raw_app_meta_data, raw_user_meta_data or delete
             on auth.users
             for each row execute function hazina.supabase_user_changed()';
  execute 'select count(hazina.mirror_supabase_user(u.id, u.email, u.email_confirmed_at, u.phone,
                                                    u.raw_app_meta_data, u.raw_user_meta_data))
             from auth.users u';
  return true;
end
$$;

revoke execute on function hazina.mirror_supabase_user(uuid, text, timestamptz, text, jsonb, jsonb),
  hazina.supabase_user_changed(), hazina.install_supabase_auth_mirror() from public, anon, authenticated;
grant execute on function hazina.install_supabase_auth_mirror() to service_role;

select hazina.install_supabase_auth_mirror();

-- migrate:down
do $$
begin
  if to_regclass('auth.users') is not null then
    drop trigger if exists hazina_mirror_user on auth.users;
  end if;
end
$$;
drop function hazina.install_supabase_auth_mirror();
drop function hazina.supabase_user_changed();
drop function hazina.mirror_supabase_user(uuid, text, timestamptz, text, jsonb, jsonb);
