-- migrate:up
-- The API object of a QR code says why a disabled code is off (qr_codes.disabled_reason of
-- 20261124001950): 'merchant' (DELETE or PATCH status=disabled: stays off until the merchant
-- turns it back on) or 'subject_closed' (its invoice or order closed: an invoice's code comes
-- back when a refund reopens the invoice); null unless the code is disabled.
create or replace function public.qr_code_json(q public.qr_codes) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', q.id, 'object', 'qr_code', 'merchant_id', q.merchant_id, 'kind', q.kind,
                            'slug', q.slug, 'label', q.label, 'amount', q.amount::text, 'currency', q.currency,
                            'subject_id', q.subject_id, 'expires_at', public.api_time(q.expires_at),
                            'max_uses', q.max_uses, 'use_count', q.use_count, 'status', q.status,
                            'disabled_reason', q.disabled_reason,
                            'created_at', public.api_time(q.created_at), 'updated_at', public.api_time(q.updated_at))
$$;

-- migrate:down
create or replace function public.qr_code_json(q public.qr_codes) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', q.id, 'object', 'qr_code', 'merchant_id', q.merchant_id, 'kind', q.kind,
                            'slug', q.slug, 'label', q.label, 'amount', q.amount::text, 'currency', q.currency,
                            'subject_id', q.subject_id, 'expires_at', public.api_time(q.expires_at),
                            'max_uses', q.max_uses, 'use_count', q.use_count, 'status', q.status,
                            'created_at', public.api_time(q.created_at), 'updated_at', public.api_time(q.updated_at))
$$;
