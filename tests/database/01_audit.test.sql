-- audit_logs: the generic trigger records who did what; nobody can change the log.
begin;
select plan(10);

insert into public.auth_users (id, email, password_hash)
values ('10000000-0000-4000-8000-000000000001', 'audit@example.com', 'secret-hash');

select is((select count(*)::int from public.audit_logs
           where table_name = 'auth_users' and row_id = '10000000-0000-4000-8000-000000000001' and action = 'INSERT'),
          1, 'an insert is audited');
select ok((select not (new_values ? 'password_hash') from public.audit_logs
           where row_id = '10000000-0000-4000-8000-000000000001'),
          'secret columns named in the trigger are not copied into the log');

set local role service_role;
select set_config('request.jwt.claims', '{"role":"service_role","sub":"10000000-0000-4000-8000-000000000009"}', true);
select set_config('request.headers', '{"x-request-id":"req-audit-1"}', true);
update public.auth_users set name = 'Changed' where id = '10000000-0000-4000-8000-000000000001';
reset role;
select is((select actor_id::text || '|' || request_id || '|' || (old_values ->> 'name' is null)::text || '|' || (new_values ->> 'name')
           from public.audit_logs where row_id = '10000000-0000-4000-8000-000000000001' and action = 'UPDATE'),
          '10000000-0000-4000-8000-000000000009|req-audit-1|true|Changed',
          'an update records actor, request id, old and new values');

select throws_ok($$update public.audit_logs set action = 'DELETE'$$, 'P0001', 'audit_log_append_only',
                 'even the owner cannot update the audit log');
select throws_ok($$delete from public.audit_logs$$, 'P0001', 'audit_log_append_only',
                 'even the owner cannot delete from the audit log');
select throws_ok($$truncate public.audit_logs$$, 'P0001', 'audit_log_append_only',
                 'even the owner cannot truncate the audit log');

set local role service_role;
select throws_ok($$delete from public.audit_logs$$, '42501', 'permission denied for table audit_logs',
                 'service_role cannot delete audit rows');
reset role;

-- Who is an admin is auth_users' word (public.is_admin()), not the token's app_metadata.
insert into public.auth_users (id, email, role) values ('10000000-0000-4000-8000-000000000002', 'auditor@example.com', 'admin');
set local role authenticated;
select set_config('request.jwt.claims', '{"role":"authenticated","sub":"10000000-0000-4000-8000-000000000001","app_metadata":{"role":"customer"}}', true);
select is((select count(*)::int from public.audit_logs), 0, 'a customer reads no audit rows');
select set_config('request.jwt.claims', '{"role":"authenticated","sub":"10000000-0000-4000-8000-000000000001","app_metadata":{"role":"admin"}}', true);
select is((select count(*)::int from public.audit_logs), 0, 'nor does a customer whose token claims admin (a forged claim)');
select set_config('request.jwt.claims', '{"role":"authenticated","sub":"10000000-0000-4000-8000-000000000002","app_metadata":{"role":"customer"}}', true);
select ok((select count(*)::int from public.audit_logs) >= 2, 'an admin (auth_users.role) reads the audit log, whatever the token claims');
reset role;

select * from finish();
rollback;
