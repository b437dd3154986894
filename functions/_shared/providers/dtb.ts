// DTB adapter: a static API key per request (X-API-Key) in front of the bank API described
// in bank.ts. DTB exposes no public developer API; this is our assumption, see the docs.
import { config } from "../config.ts";
import { createBankAdapter } from "./bank.ts";

export const dtb = createBankAdapter("dtb", () => ({
  baseUrl: config().DTB_BASE_URL,
  authHeaders: () => Promise.resolve({ "x-api-key": config().DTB_API_KEY }),
}));
