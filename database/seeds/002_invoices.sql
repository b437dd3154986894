-- Demo invoice for `npm start`: Duka la Mama invoices Wanjiku (finalised, open, payable;
-- docs/invoices.md shows its PDF). Idempotent by its ref: loading the seed again changes nothing.
select hazina.invoice_create('00000000-0000-4000-8000-000000000003', jsonb_build_object(
  'customer_id', '00000000-0000-4000-8000-000000000001',
  'customer_name', 'Wanjiku Kamau',
  'customer_email', 'wanjiku@example.com',
  'memo', 'Thank you for shopping at Duka la Mama. Pay by wallet or M-Pesa with the link below.',
  'due_date', '2026-12-31',
  'items', jsonb_build_array(
    jsonb_build_object('description', 'Maize flour, 2 kg', 'quantity', '3', 'unit_amount', '215.50', 'tax_rate', 0),
    jsonb_build_object('description', 'Cooking oil, 1 L', 'quantity', '2', 'unit_amount', '389.99', 'tax_rate', 1600),
    jsonb_build_object('description', 'Rice, loose (kg)', 'quantity', '1.75', 'unit_amount', '189.00', 'tax_rate', 1600),
    jsonb_build_object('description', 'Delivery, Westlands', 'quantity', '1', 'unit_amount', '150.00', 'tax_rate', 1600))),
  'seed:demo-invoice-1');
select hazina.invoice_finalize(id, merchant_id) from public.invoices
 where merchant_id = '00000000-0000-4000-8000-000000000003' and client_ref = 'seed:demo-invoice-1' and status = 'draft';
