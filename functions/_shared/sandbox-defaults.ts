// Development defaults for the payment providers. They all point at the local provider
// sandbox (scripts/provider-sandbox.ts), which accepts exactly these credentials, so a fresh
// checkout tops up and withdraws end to end without real credentials — and nothing real is
// ever called by accident. Production sets every one of these (see docs/money-movement.md).
export const SANDBOX_PORT = 8090;
export const SANDBOX_URL = `http://127.0.0.1:${SANDBOX_PORT}`;

export const SANDBOX_DEFAULTS = {
  MPESA_BASE_URL: `${SANDBOX_URL}/mpesa`,
  MPESA_CONSUMER_KEY: "sandbox-consumer-key",
  MPESA_CONSUMER_SECRET: "sandbox-consumer-secret",
  // Safaricom's public Daraja sandbox shortcodes.
  MPESA_SHORTCODE: "174379",
  MPESA_PASSKEY: "sandbox-passkey-0123456789abcdef",
  MPESA_B2C_SHORTCODE: "600000",
  MPESA_PAYBILL: "600000",
  MPESA_INITIATOR_NAME: "testapi",
  MPESA_SECURITY_CREDENTIAL: "sandbox-security-credential",
  MPESA_CALLBACK_TOKEN: "sandbox-callback-token-0123456789",
  KCB_BASE_URL: `${SANDBOX_URL}/kcb`,
  KCB_CLIENT_ID: "sandbox-kcb-client",
  KCB_CLIENT_SECRET: "sandbox-kcb-secret",
  KCB_WEBHOOK_SECRET: "sandbox-kcb-webhook-secret-0123456789",
  DTB_BASE_URL: `${SANDBOX_URL}/dtb`,
  DTB_API_KEY: "sandbox-dtb-api-key",
  DTB_WEBHOOK_SECRET: "sandbox-dtb-webhook-secret-0123456789",
} as const;
