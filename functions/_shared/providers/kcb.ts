// KCB (Buni) adapter: OAuth2 client credentials (POST {base}/oauth/token, Basic
// client_id:client_secret) in front of the bank API described in bank.ts.
import { config } from "../config.ts";
import { createBankAdapter } from "./bank.ts";
import { providerFetch } from "./http.ts";
import { ProviderUnavailableError } from "./types.ts";

let tokenCache: { key: string; token: string; expiresAt: number } | undefined;

async function kcbToken(): Promise<string> {
  const cfg = config();
  const key = `${cfg.KCB_BASE_URL}|${cfg.KCB_CLIENT_ID}`;
  if (tokenCache && tokenCache.key === key && tokenCache.expiresAt > Date.now()) {
    return tokenCache.token;
  }
  const res = await providerFetch(
    "kcb",
    `${cfg.KCB_BASE_URL}/oauth/token?grant_type=client_credentials`,
    {
      method: "POST",
      headers: { authorization: `Basic ${btoa(`${cfg.KCB_CLIENT_ID}:${cfg.KCB_CLIENT_SECRET}`)}` },
    },
  ).catch((err: Error) => {
    throw new ProviderUnavailableError("kcb", err.message, "not_accepted");
  });
  const token = res.body.access_token;
  // No token, so the request it was for is never sent: certainly not carried out.
  if (res.status !== 200 || typeof token !== "string") {
    throw new ProviderUnavailableError(
      "kcb",
      `KCB OAuth failed with HTTP ${res.status}`,
      "not_accepted",
    );
  }
  tokenCache = {
    key,
    token,
    expiresAt: Date.now() + (Math.max(Number(res.body.expires_in ?? 3600), 120) - 60) * 1000,
  };
  return token;
}

export const kcb = createBankAdapter("kcb", () => ({
  baseUrl: config().KCB_BASE_URL,
  authHeaders: async () => ({ authorization: `Bearer ${await kcbToken()}` }),
}));
