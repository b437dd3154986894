-- The commerce clock moves only when the owner moves it (audited), and events can describe
-- every commerce object through the one writer, hazina.event_emit.
begin;
select plan(8);

\ir helpers.psql

select pg_temp.user_create('merchant', '41000000-0000-4000-8000-00000000000a') as duka \gset

select ok(abs(extract(epoch from hazina.clock() - now())) < 1, 'the clock is now() while nobody moved it');
select hazina.clock_travel(interval '3 days');
select is(hazina.clock() - now(), interval '3 days', 'travel moves it forward');
select hazina.clock_travel(interval '1 hour');
select is(hazina.clock() - now(), interval '3 days 1 hour', 'travel adds up');
select is((select count(*)::int from public.audit_logs where table_name = 'clock_offset'), 2, 'every move is audited');
select hazina.clock_travel(null, true);
select is(hazina.clock() - now(), interval '0', 'reset returns it to now()');

select isnt(hazina.event_emit(:'duka', 'invoice.finalized', 'invoice', gen_random_uuid(), '{"id": "x"}'), null,
  'a commerce object can have events');
select throws_ok(format($$select hazina.event_emit('%s', 'thing.done', 'thing', gen_random_uuid(), '{}')$$, :'duka'),
  '23514', null, 'only known objects have events');

select pg_temp.act_as(:'duka');
select throws_ok($$select hazina.clock_travel(interval '1 day')$$, '42501', null, 'a request cannot move the clock');

select * from finish();
rollback;
