-- migrate:up
-- Paybill (C2B): a customer pays our paybill with a wallet's account reference (see
-- *_payment_sources.sql) as the account number. Daraja asks us first (validation), then
-- tells us the money arrived (confirmation), which credits the wallet through funding_post.

-- Validation: may this account reference receive money? Never writes.
create function hazina.paybill_validate(p_account_reference text, p_amount numeric) returns jsonb
  language plpgsql stable
  security definer
  set search_path = ''
  as $$
declare
  v_wallet record;
begin
  select w.id, w.status into v_wallet
    from public.wallet_account_references r join public.wallets w on w.id = r.wallet_id
   where r.reference = upper(regexp_replace(coalesce(p_account_reference, ''), '\s', '', 'g'));
  if v_wallet.id is null then
    return jsonb_build_object('accept', false, 'reason', 'unknown_account');
  end if;
  if v_wallet.status <> 'active' then
    return jsonb_build_object('accept', false, 'reason', 'wallet_not_active');
  end if;
  if p_amount is null or p_amount <= 0 or p_amount <> trunc(p_amount) then
    return jsonb_build_object('accept', false, 'reason', 'invalid_amount');
  end if;
  return jsonb_build_object('accept', true, 'wallet_id', v_wallet.id);
end
$$;

-- Confirmation: the money is in our paybill (called only once M-Pesa's Transaction Status
-- answer confirmed it: hazina.paybill_settle_confirmed). Credit the wallet named by the account
-- reference, or `suspense` when nobody matches (the books must still show the money; an
-- operator moves it on). Exactly once per provider transaction id.
create function hazina.paybill_credit(
  p_provider text, p_trans_id text, p_amount numeric, p_account_reference text, p_msisdn text
) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_reference text := upper(regexp_replace(coalesce(p_account_reference, ''), '\s', '', 'g'));
  v_wallet record;
  v_session_id uuid;
  v_post record;
  v_tx uuid;
begin
  if p_trans_id is null or length(p_trans_id) not between 1 and 100 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'trans_id'));
  end if;
  perform hazina.assert_valid_amount(p_amount, 'KES');
  select id into v_session_id from public.wallet_funding_sessions where provider = p_provider and provider_receipt = p_trans_id;
  if v_session_id is not null then
    -- One payment is credited once, to one account: a later claim naming another is refused.
    if (select account_reference from public.wallet_funding_sessions where id = v_session_id) is distinct from v_reference then
      perform hazina.raise_error('paybill_conflict', jsonb_build_object('trans_id', p_trans_id));
    end if;
    return hazina.funding_session_json(v_session_id) || jsonb_build_object('matched', true, 'replayed', true);
  end if;
  select w.id, w.user_id, w.currency, w.status into v_wallet
    from public.wallet_account_references r join public.wallets w on w.id = r.wallet_id
   where r.reference = v_reference;
  if v_wallet.id is null or v_wallet.status <> 'active' then
    v_tx := hazina.post_transaction('paybill:' || p_provider || ':' || p_trans_id, 'funding', jsonb_build_array(
      jsonb_build_object('wallet_id', hazina.provider_clearing_wallet(p_provider, 'KES'), 'direction', 'debit', 'amount', p_amount::text),
      jsonb_build_object('wallet_id', hazina.system_wallet('suspense', 'KES'), 'direction', 'credit', 'amount', p_amount::text)),
      'Unmatched paybill payment', jsonb_build_object('provider_receipt', p_trans_id, 'account_reference', left(p_account_reference, 100),
                                                      'msisdn', left(p_msisdn, 20)));
    return jsonb_build_object('matched', false, 'transaction_id', v_tx, 'account_reference', left(p_account_reference, 100));
  end if;
  insert into public.wallet_funding_sessions (user_id, wallet_id, provider, channel, amount, currency, status,
                                              provider_receipt, payer_msisdn, account_reference, expires_at)
  values (v_wallet.user_id, v_wallet.id, p_provider, 'paybill', p_amount, v_wallet.currency, 'pending',
          p_trans_id, left(p_msisdn, 20), v_reference, now())
  returning id into v_session_id;
  select * into v_post from hazina.funding_post('paybill:' || p_provider || ':' || p_trans_id, p_provider, v_wallet.id, p_amount,
    'Paybill top-up', jsonb_build_object('funding_session_id', v_session_id, 'provider_receipt', p_trans_id));
  update public.wallet_funding_sessions
     set status = 'completed', transaction_id = v_post.transaction_id, fee = v_post.fee, completed_at = now()
   where id = v_session_id;
  return hazina.funding_session_json(v_session_id) || jsonb_build_object('matched', true, 'replayed', false);
end
$$;

revoke execute on all functions in schema hazina from public, anon, authenticated;
grant execute on function hazina.paybill_validate(text, numeric), hazina.paybill_credit(text, text, numeric, text, text)
  to service_role;

-- migrate:down
drop function if exists hazina.paybill_credit(text, text, numeric, text, text);
drop function if exists hazina.paybill_validate(text, numeric);
