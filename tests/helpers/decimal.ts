// Exact decimal arithmetic for assertions: amounts as BigInt ten-thousandths (NUMERIC(19,4)).
const SCALE = 4;

export function toUnits(amount: string): bigint {
  const match = /^(-)?(\d+)(?:\.(\d{1,4}))?$/.exec(amount);
  if (!match) throw new Error(`not a decimal amount: ${amount}`);
  const [, sign, whole, fraction = ""] = match;
  const units = BigInt(whole) * 10n ** BigInt(SCALE) + BigInt(fraction.padEnd(SCALE, "0"));
  return sign ? -units : units;
}

export function fromUnits(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const whole = abs / 10n ** BigInt(SCALE);
  const fraction = (abs % 10n ** BigInt(SCALE)).toString().padStart(SCALE, "0");
  return `${negative ? "-" : ""}${whole}.${fraction}`;
}

/** a + b + …, exactly, written as NUMERIC(19,4) text is ("1234.5000"). */
export function sum(...amounts: string[]): string {
  return fromUnits(amounts.reduce((total, amount) => total + toUnits(amount), 0n));
}

/** a − b − …, exactly, written as NUMERIC(19,4) text is. */
export function difference(first: string, ...rest: string[]): string {
  return fromUnits(rest.reduce((total, amount) => total - toUnits(amount), toUnits(first)));
}
