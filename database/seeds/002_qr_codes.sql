-- A demo QR code for `npm start` (runs once per database; fixed id and slug, so the banner
-- can print its checkout page). A real code's slug is 130 random bits; this one is
-- readable on purpose and must never exist outside a demo database.
--   Duka la Mama's till: a static code (the payer types the amount), no expiry, no limit.
--   Checkout page: /functions/v1/checkout/dukalamamademotillqrcodeab
--   The code:      /functions/v1/qr-codes/dukalamamademotillqrcodeab.png (or .svg)
insert into public.qr_codes (id, merchant_id, kind, slug, label, currency, client_ref)
values ('00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-000000000003', 'static',
        'dukalamamademotillqrcodeab', 'Duka la Mama · till', 'KES', 'seed:demo-till')
on conflict do nothing;
