// The adapters by name. Tests may swap one (setProviderForTests) to simulate an outage.
import { dtb } from "./dtb.ts";
import { kcb } from "./kcb.ts";
import { mpesa } from "./mpesa.ts";
import type { PaymentProvider, ProviderName } from "./types.ts";

const adapters: Record<ProviderName, PaymentProvider> = { mpesa, kcb, dtb };
const overrides: Partial<Record<ProviderName, PaymentProvider>> = {};

export function provider(name: ProviderName): PaymentProvider {
  return overrides[name] ?? adapters[name];
}

export function setProviderForTests(
  name: ProviderName,
  adapter: PaymentProvider | undefined,
): void {
  if (adapter) overrides[name] = adapter;
  else delete overrides[name];
}

export * from "./types.ts";
