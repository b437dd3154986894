-- Demo data for `npm start` (idempotent: fixed ids, on conflict do nothing).
insert into public.auth_users (id, email, name, phone, role, email_verified_at)
values
  ('00000000-0000-4000-8000-000000000001', 'wanjiku@example.com', 'Wanjiku Demo', '+254700000001', 'customer', now()),
  ('00000000-0000-4000-8000-000000000002', 'duka@example.com', 'Duka Merchant', '+254700000002', 'merchant', now())
on conflict do nothing;
