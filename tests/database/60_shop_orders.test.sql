-- Shops, products and orders: who may open and change a shop and its products; storefront
-- reads from every side (anon, another user, the merchant, service_role); placing an order
-- prices it from the database, snapshots its lines and reserves stock (never below zero);
-- escrow policy; the order's payment intent pays it (order.paid) and its cancel or expiry
-- cancels it and puts the stock back; nobody but its merchant and customer sees an order.
begin;
select plan(70);

\ir helpers.psql

select pg_temp.user_create('merchant', '60000000-0000-4000-8000-00000000000a') as duka \gset
select pg_temp.user_create('customer', '60000000-0000-4000-8000-00000000000b') as amina \gset
select pg_temp.user_create('customer', '60000000-0000-4000-8000-00000000000c') as other \gset
select pg_temp.user_create('merchant', '60000000-0000-4000-8000-00000000000d') as rival \gset
select pg_temp.wallet_open(:'duka') as duka_wallet \gset
select pg_temp.wallet_open(:'amina') as amina_wallet \gset
select pg_temp.fund(:'amina_wallet', 5000);
insert into public.billing_fee_catalog (transaction_type, percentage_bps) values ('order_payment', 100);

-- Transaction types and the unpriced escrow funding.
select is((select array_agg(code::text || ':' || fee_payer order by code) from public.transaction_types
            where code in ('order_payment', 'escrow_funding', 'escrow_release')),
  array['escrow_funding:receiver', 'escrow_release:receiver', 'order_payment:receiver'], 'the order money types, receiver pays');
select throws_ok($$insert into public.billing_fee_catalog (transaction_type, percentage_bps) values ('escrow_funding', 100)$$,
  '23514', null, 'the catalog cannot price escrow funding');

-- Shops.
select pg_temp.act_as(:'amina');
select throws_ok($$select public.shop_create('Amina''s', 'aminas')$$, 'P0001', 'shop_merchants_only', 'a customer cannot open a shop');
select pg_temp.act_as(:'duka');
select public.shop_create('Duka la Mama', 'duka-la-mama', 'KES', 'optional', 5, 'Groceries') as shop \gset
select (:'shop'::jsonb) ->> 'id' as shop_id \gset
select is((:'shop'::jsonb) ->> 'status', 'active', 'a new shop is active');
select throws_ok($$select public.shop_create('Duka 2', 'duka-la-mama')$$, 'P0001', 'shop_slug_taken', 'slugs are unique');
select throws_ok($$select public.shop_create('Bad', 'Bad Slug')$$, 'P0001', 'invalid_argument', 'a slug is lower-case, no spaces');
select throws_ok($$select public.shop_create('X', 'x-shop', 'EUR')$$, 'P0001', 'currency_not_supported', 'a supported currency');
select public.shop_create('Closed', 'closed-shop') ->> 'id' as closed_id \gset
select is(public.shop_update(:'closed_id', '{"status": "suspended", "description": "Back soon"}') ->> 'status', 'suspended',
  'the merchant suspends its shop');
select throws_ok(format($$select public.shop_update('%s', '{"currency": "USD"}')$$, :'shop_id'), 'P0001', 'invalid_argument',
  'the currency cannot change');
select throws_ok(format($$select public.shop_update('%s', '{"status": "gone"}')$$, :'shop_id'), 'P0001', 'invalid_argument',
  'an unknown status is refused');
select public.shop_create('Escrow only', 'escrow-only', 'KES', 'required') ->> 'id' as required_id \gset
select public.shop_create('No escrow', 'no-escrow', 'KES', 'none') ->> 'id' as none_id \gset
select pg_temp.act_as(:'rival');
select throws_ok(format($$select public.shop_update('%s', '{"name": "Mine now"}')$$, :'shop_id'), 'P0001', 'shop_not_found',
  'another merchant cannot change the shop');
select throws_ok(format($$select public.product_create('%s', 'Fake', 'FAKE', 10)$$, :'shop_id'), 'P0001', 'shop_not_found',
  'nor add products to it');

-- Products.
select pg_temp.act_as(:'duka');
select public.product_create(:'shop_id', 'Sugar 1kg', 'SUGAR-1', 150.50, 10) ->> 'id' as sugar \gset
select public.product_create(:'shop_id', 'Salt', 'SALT', 45, null) ->> 'id' as salt \gset
select public.product_create(:'shop_id', 'Old stock', 'OLD', 10, 5, false) ->> 'id' as hidden \gset
select public.product_create(:'closed_id', 'Closed thing', 'THING', 10, 5) ->> 'id' as closed_product \gset
select public.product_create(:'required_id', 'Phone', 'PHONE', 1000, 3) ->> 'id' as phone \gset
select public.product_create(:'none_id', 'Bread', 'BREAD', 60, null) ->> 'id' as bread \gset
select throws_ok(format($$select public.product_create('%s', 'Sugar again', 'SUGAR-1', 10)$$, :'shop_id'), 'P0001', 'product_sku_taken',
  'SKUs are unique per shop');
select throws_ok(format($$select public.product_create('%s', 'Cents', 'CENTS', 10.001)$$, :'shop_id'), 'P0001', 'invalid_amount',
  'prices have the currency''s decimals');
select throws_ok(format($$select public.product_create('%s', 'Neg', 'NEG', 10, -1)$$, :'shop_id'), 'P0001', 'invalid_argument',
  'stock is zero or more');
select is(public.product_update(:'shop_id', :'salt', '{"price": "50.00"}') ->> 'price', '50.0000', 'the merchant reprices');
select throws_ok(format($$select public.product_update('%s', '%s', '{"price": 5}')$$, :'shop_id', :'salt'), 'P0001', 'invalid_amount',
  'a price is a string');
select throws_ok(format($$select public.product_update('%s', '%s', '{"shop_id": "x"}')$$, :'shop_id', :'salt'), 'P0001', 'invalid_argument',
  'a product cannot move shops');
select is((public.product_update(:'shop_id', :'salt', '{"stock": null}') ->> 'unlimited')::boolean, true, 'null stock is unlimited');

-- Storefront reads from every side.
select pg_temp.act_as_anon();
select is((select array_agg(slug order by slug) from public.shops), array['duka-la-mama', 'escrow-only', 'no-escrow'],
  'anon reads active shops only');
select is((select array_agg(sku order by sku) from public.products where shop_id = :'shop_id'), array['SALT', 'SUGAR-1'],
  'anon reads active products only');
select is((select count(*)::int from public.products where shop_id = :'closed_id'), 0, 'anon reads no product of a suspended shop');
select is((select public.shop_json(s) ->> 'slug' from public.shops s where s.id = :'shop_id'), 'duka-la-mama',
  'anon reads a shop''s shape');
select is((select count(public.product_json(p))::int from public.products p where shop_id = :'shop_id'), 2,
  'and its products'' shapes');
select throws_ok($$select public.shop_create('Anon', 'anon-shop')$$, '42501', null, 'anon cannot open a shop');
select throws_ok($$select count(*) from public.orders$$, '42501', null, 'anon cannot read orders at all');
select pg_temp.act_as(:'other');
select is((select count(*)::int from public.shops), 3, 'another user reads the active shops');
select is((select count(*)::int from public.products where id = :'hidden'), 0, 'and not the inactive product');
select pg_temp.act_as(:'duka');
select is((select count(*)::int from public.shops where merchant_id = :'duka'), 4, 'the merchant reads all its shops');
select is((select count(*)::int from public.products where shop_id in (:'shop_id', :'closed_id')), 4,
  'and all its products');
select throws_ok($$insert into public.shops (merchant_id, name, slug) values (auth.uid(), 'Direct', 'direct')$$, '42501', null,
  'nobody writes shops directly');
select throws_ok(format($$update public.products set stock = 1000 where id = '%s'$$, :'sugar'), '42501', null,
  'nobody writes stock directly');

-- Placing an order.
select pg_temp.act_as(:'amina');
select public.order_create(:'shop_id',
  format('[{"product_id": "%s", "quantity": 3}, {"product_id": "%s", "quantity": 2}]', :'sugar', :'salt')::jsonb,
  null, '{"name": "Amina", "city": "Nairobi"}', 'order-0001') as o1 \gset
select (:'o1'::jsonb) ->> 'id' as o1_id \gset
select (:'o1'::jsonb) #>> '{payment_intent,id}' as o1_pi \gset
select is(array[(:'o1'::jsonb) ->> 'status', (:'o1'::jsonb) ->> 'total', (:'o1'::jsonb) ->> 'escrow'],
  array['pending_payment', '551.5000', 'false'], 'priced from the database (3 × 150.50 + 2 × 50.00), not escrowed by default');
select is(array[(:'o1'::jsonb) #>> '{payment_intent,amount}', (:'o1'::jsonb) #>> '{payment_intent,subject_type}',
                (:'o1'::jsonb) #>> '{payment_intent,payee_wallet_id}', (:'o1'::jsonb) #>> '{payment_intent,customer_id}'],
  array['551.5000', 'order', :'duka_wallet', :'amina'], 'its payment intent asks the customer for the total into the merchant wallet');
select is(public.order_create(:'shop_id',
  format('[{"product_id": "%s", "quantity": 3}, {"product_id": "%s", "quantity": 2}]', :'sugar', :'salt')::jsonb,
  null, '{"name": "Amina", "city": "Nairobi"}', 'order-0001') ->> 'id', :'o1_id', 'the same key returns the same order');
select throws_ok(format($$select public.order_create('%s', '[{"product_id": "%s", "quantity": 1}]', null, null, 'order-0001')$$,
  :'shop_id', :'sugar'), 'P0001', 'ref_conflict', 'the same key for another order is a conflict');
select throws_ok(format($$select public.order_create('%s', '[{"product_id": "%s", "quantity": 8}]', null, null, 'order-0002')$$,
  :'shop_id', :'sugar'), 'P0001', 'out_of_stock', 'no more than the stock left (7)');
select throws_ok(format($$select public.order_create('%s', '[{"product_id": "%s", "quantity": 1}]', null, null, 'order-0003')$$,
  :'shop_id', :'hidden'), 'P0001', 'product_not_found', 'an inactive product is not for sale');
select throws_ok(format($$select public.order_create('%s', '[{"product_id": "%s", "quantity": 1}]', null, null, 'order-0004')$$,
  :'shop_id', :'phone'), 'P0001', 'product_not_found', 'nor another shop''s product');
select throws_ok(format($$select public.order_create('%s', '[{"product_id": "%s", "quantity": 1}]', null, null, 'order-0005')$$,
  :'closed_id', :'closed_product'), 'P0001', 'shop_not_found', 'a suspended shop takes no orders');
select throws_ok(format($$select public.order_create('%s', '[{"product_id": "%s", "quantity": 1}, {"product_id": "%s", "quantity": 1}]', null, null, 'order-0006')$$,
  :'shop_id', :'salt', :'salt'), 'P0001', 'invalid_argument', 'one line per product');
select throws_ok(format($$select public.order_create('%s', '[{"product_id": "%s", "quantity": 0}]', null, null, 'order-0007')$$,
  :'shop_id', :'salt'), 'P0001', 'invalid_argument', 'a quantity is at least 1');
select throws_ok(format($$select public.order_create('%s', '[{"product_id": "%s", "quantity": 1}]', false, null, 'order-0008')$$,
  :'required_id', :'phone'), 'P0001', 'escrow_required', 'a shop that requires escrow refuses a direct order');
select throws_ok(format($$select public.order_create('%s', '[{"product_id": "%s", "quantity": 1}]', true, null, 'order-0009')$$,
  :'none_id', :'bread'), 'P0001', 'escrow_not_offered', 'a shop without escrow refuses an escrowed order');
select is((select stock from public.products where id = :'sugar'), 7, 'the stock is reserved: 10 - 3');
select pg_temp.act_as(:'duka');
select throws_ok(format($$select public.order_create('%s', '[{"product_id": "%s", "quantity": 1}]', null, null, 'order-0010')$$,
  :'shop_id', :'salt'), 'P0001', 'invalid_argument', 'a merchant cannot buy from its own shop');

-- The snapshot: the order keeps what was sold, at its price, whatever the product becomes.
select public.product_update(:'shop_id', :'sugar', '{"price": "999.00", "name": "Sugar (new)"}');
select pg_temp.act_as(:'amina');
select is((select array[name, unit_price::text, line_total::text] from public.order_items where order_id = :'o1_id' and position = 1),
  array['Sugar 1kg', '150.5000', '451.5000'], 'the line keeps its snapshot');

-- Reads: the customer and the merchant see the order, nobody else.
select is((select count(*)::int from public.orders where id = :'o1_id'), 1, 'the customer reads its order');
select is((select count(*)::int from public.order_items where order_id = :'o1_id'), 2, 'and its lines');
select pg_temp.act_as(:'other');
select is((select count(*)::int from public.orders), 0, 'another user sees no order');
select is((select count(*)::int from public.order_items), 0, 'nor any line');
select pg_temp.act_as(:'rival');
select is((select count(*)::int from public.orders), 0, 'another merchant sees no order');
select pg_temp.act_as_service_role();
select is((select count(*)::int from public.orders where id = :'o1_id'), 1, 'service_role reads every order');

-- Paying: the intent's success pays the order.
select pg_temp.act_as(:'amina');
select public.payment_intent_confirm(:'o1_pi', format('[{"type": "wallet", "wallet_id": "%s", "amount": "551.50"}]', :'amina_wallet')::jsonb);
select is((select array[status, amount_paid::text] from public.orders where id = :'o1_id'), array['paid', '551.5000'],
  'the order is paid when its intent succeeds');
reset role;
select is(pg_temp.balance(:'duka_wallet'), 545.9800::numeric, 'the merchant received the total less its 1% order_payment fee (5.515 rounds half up to 5.52)');
select is((select array_agg(type order by created_at, type) from public.events where object_id = :'o1_id'),
  array['order.created', 'order.paid'], 'order.created then order.paid');

-- Cancel before payment: the intent is canceled, the stock comes back.
select pg_temp.act_as(:'amina');
select public.order_create(:'shop_id', format('[{"product_id": "%s", "quantity": 5}]', :'sugar')::jsonb, null, null, 'order-0011') ->> 'id' as o2 \gset
select is((select stock from public.products where id = :'sugar'), 2, 'five more reserved');
select is(public.order_cancel(:'o2') ->> 'status', 'canceled', 'the customer cancels an unpaid order');
select is((select array[p.status, o.cancellation_reason] from public.orders o join public.payment_intents p on p.id = o.payment_intent_id where o.id = :'o2'),
  array['canceled', 'canceled_by_customer'], 'its intent is canceled too');
select is((select stock from public.products where id = :'sugar'), 7, 'and its stock is back');
select throws_ok(format($$select public.order_cancel('%s')$$, :'o1_id'), 'P0001', 'order_not_cancelable',
  'the customer cannot cancel a paid order');

-- Expiry: an unpaid order's intent expires (the job runner), the order is canceled, stock back.
select public.order_create(:'shop_id', format('[{"product_id": "%s", "quantity": 7}]', :'sugar')::jsonb, null, null, 'order-0012') ->> 'id' as o3 \gset
reset role;
update public.payment_intents set expires_at = now() - interval '1 second' where subject_id = :'o3';
select hazina.run_job('payments.expire_intents');
select is((select array[status, cancellation_reason] from public.orders where id = :'o3'), array['canceled', 'payment_expired'],
  'an expired intent cancels its order');
select is((select stock from public.products where id = :'sugar'), 7, 'and releases its stock');
select is((select count(*)::int from public.events where object_id = :'o3' and type = 'order.canceled'), 1, 'order.canceled');

-- The reusable core (installments): place without a payment; cancel puts the stock back.
select (hazina.order_place(:'amina', :'shop_id', format('[{"product_id": "%s", "quantity": 4}]', :'sugar')::jsonb, null, null, 'order-0013')).id as o4 \gset
select is((select array[status, coalesce(payment_intent_id::text, 'none')] from public.orders where id = :'o4'),
  array['pending_payment', 'none'], 'hazina.order_place prices and reserves with no payment intent');
select is((select stock from public.products where id = :'sugar'), 3, 'its stock is reserved');
select is(hazina.order_cancel(:'o4', :'amina', null) ->> 'status', 'canceled', 'canceling it needs no intent');
select is((select stock from public.products where id = :'sugar'), 7, 'and puts the stock back');

select * from pg_temp.books_balance();
select * from finish();
rollback;
