// Outgoing HTTP to providers: JSON in and out, a timeout, and one error type for a request
// without a usable answer (ProviderUnavailableError), which says whether the request may
// still have been carried out: a network failure or timeout after sending is "unknown";
// see refusedBeforeAcceptance for the answers that are a definite "no".
import { config } from "../config.ts";
import { type ProviderName, ProviderUnavailableError } from "./types.ts";

export interface ProviderResponse {
  status: number;
  body: Record<string, unknown>;
}

export async function providerFetch(
  provider: ProviderName,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<ProviderResponse> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? "POST",
      headers: {
        accept: "application/json",
        ...(init.body ? { "content-type": "application/json" } : {}),
        ...init.headers,
      },
      body: init.body,
      signal: AbortSignal.timeout(config().PROVIDER_TIMEOUT_MS),
    });
  } catch (err) {
    throw new ProviderUnavailableError(
      provider,
      `${provider} unreachable: ${(err as Error).message}`,
    );
  }
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    const parsed = text ? JSON.parse(text) : {};
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      body = parsed as Record<string, unknown>;
    }
  } catch {
    // Not JSON (a gateway error page): treated like no body.
  }
  return { status: res.status, body };
}

/**
 * HTTP answers that mean the request was not carried out: 503 (the service refused to take
 * it), 429 (rate limited) and 401/403 (our credentials were refused). Anything else in the
 * 5xx range (500, 502, 504: the gateway may have passed it on) leaves the outcome unknown.
 */
export function refusedBeforeAcceptance(status: number): boolean {
  return status === 503 || status === 429 || status === 401 || status === 403;
}

/** Decimal string from a JSON value a provider sent (Daraja sends amounts as numbers). */
export function decimalFrom(value: unknown): string | null {
  if (typeof value === "string" && /^[0-9]{1,15}(\.[0-9]{1,4})?$/.test(value.trim())) {
    return value.trim();
  }
  // A JSON number: only accepted when it is an exact whole number or has at most two
  // decimals in its shortest form, so no binary-float artefact can become money.
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) {
    const text = String(value);
    if (/^[0-9]{1,15}(\.[0-9]{1,2})?$/.test(text)) return text;
  }
  return null;
}

/** Whole shillings for M-Pesa from a decimal string ("1000.0000" → "1000"); throws otherwise. */
export function wholeUnits(amount: string): string {
  const match = /^([0-9]+)(?:\.(0+))?$/.exec(amount);
  if (!match) throw new Error(`amount ${amount} is not a whole number of shillings`);
  return match[1].replace(/^0+(?=[0-9])/, "");
}

/** Two-decimal string for banks ("1000.5" → "1000.50"), by string logic. */
export function twoDecimals(amount: string): string {
  const [whole, fraction = ""] = amount.split(".");
  if (fraction.slice(2).replace(/0/g, "") !== "") {
    throw new Error(`amount ${amount} has more than two decimals`);
  }
  return `${whole}.${(fraction + "00").slice(0, 2)}`;
}

/** JSON text in which the given keys hold raw integer literals (Daraja wants numbers). */
export function jsonWithIntegers(
  body: Record<string, unknown>,
  integers: Record<string, string>,
): string {
  const placeholders: Record<string, string> = {};
  const withMarkers = { ...body };
  for (const [key, digits] of Object.entries(integers)) {
    if (!/^[0-9]{1,15}$/.test(digits)) throw new Error(`${key} must be a whole number`);
    const marker = `__integer_${key}_${crypto.randomUUID()}__`;
    placeholders[marker] = digits;
    withMarkers[key] = marker;
  }
  let text = JSON.stringify(withMarkers);
  for (const [marker, digits] of Object.entries(placeholders)) {
    text = text.replace(`"${marker}"`, digits);
  }
  return text;
}
