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
