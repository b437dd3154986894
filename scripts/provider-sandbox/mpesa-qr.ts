// The sandbox's Daraja Dynamic QR (`POST /mpesa/qrcode/v1/generate`): validates the request
// the way Daraja does (every field present and of its type, a known TrxCode, a CPI that fits
// it, a whole-shilling Amount), and answers Daraja's shape with a real PNG QR code whose text
// is a deterministic payload: the same request always encodes the same text.
//
// The payload follows the EMVCo merchant-presented QR layout (ID, two-digit length, value;
// CRC-16/CCITT-FALSE last). Safaricom does not publish the inner tags of its own payload, so
// tag 26 (merchant account: 00 = TrxCode, 01 = CPI) and tag 62 (01 = RefNo) are the
// sandbox's choice; tests decode the PNG and compare with darajaQrPayload().
import { Buffer } from "node:buffer";
import type { Hono } from "hono";
import QRCode from "qrcode";
import { darajaError, randomId, type SandboxContext } from "./context.ts";

const TRX_CODES = new Set(["BG", "PB", "WA", "SM", "SB"]);

function tlv(id: string, value: string): string {
  return `${id}${String(value.length).padStart(2, "0")}${value}`;
}

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), as EMVCo QR codes end with (tag 63). */
function crc16(text: string): string {
  let crc = 0xffff;
  for (const byte of new TextEncoder().encode(text)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc.toString(16).toUpperCase().padStart(4, "0");
}

export interface DarajaQrFields {
  MerchantName: string;
  RefNo: string;
  Amount: number;
  TrxCode: string;
  CPI: string;
}

/** The text the sandbox's QR encodes for a request (deterministic). */
export function darajaQrPayload(f: DarajaQrFields): string {
  const body = tlv("00", "01") + // payload format indicator
    tlv("01", "12") + // point of initiation: 12 = dynamic (one amount)
    tlv("26", tlv("00", f.TrxCode) + tlv("01", f.CPI)) +
    tlv("52", "0000") + // merchant category code: unspecified
    tlv("53", "404") + // KES
    tlv("54", String(f.Amount)) +
    tlv("58", "KE") +
    tlv("59", f.MerchantName.slice(0, 25)) +
    tlv("60", "Nairobi") +
    tlv("62", tlv("01", f.RefNo.slice(0, 25))) +
    "6304";
  return body + crc16(body);
}

/** Whether a CPI fits its TrxCode: numbers for till/paybill/agent, an MSISDN for SM and SB. */
function cpiFits(trxCode: string, cpi: string): boolean {
  return trxCode === "SM" || trxCode === "SB"
    ? /^(254|0)[17][0-9]{8}$/.test(cpi)
    : /^[0-9]{5,8}$/.test(cpi);
}

export function qrRoutes(mpesa: Hono, ctx: SandboxContext): void {
  mpesa.post("/mpesa/qrcode/v1/generate", async (c) => {
    let body: Record<string, unknown>;
    try {
      body = await c.req.json() as Record<string, unknown>;
    } catch {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid JSON");
    }
    const text = (key: string, max: number) =>
      typeof body[key] === "string" && (body[key] as string).trim() !== "" &&
      (body[key] as string).length <= max;
    if (!text("MerchantName", 100)) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid MerchantName");
    }
    if (!text("RefNo", 100)) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid RefNo");
    }
    const amount = body.Amount;
    if (
      typeof amount !== "number" || !Number.isInteger(amount) || amount < 1 || amount > 250000
    ) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid Amount");
    }
    const trxCode = String(body.TrxCode ?? "");
    if (!TRX_CODES.has(trxCode)) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid TrxCode");
    }
    const cpi = typeof body.CPI === "string" ? body.CPI : "";
    if (!cpiFits(trxCode, cpi)) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid CPI");
    }
    const size = typeof body.Size === "string" && /^[0-9]{2,4}$/.test(body.Size)
      ? Number(body.Size)
      : NaN;
    if (!(size >= 100 && size <= 1000)) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid Size");
    }
    // Scenarios by the CPI (…9999 reject, …8888 unavailable, …3333 a gateway error).
    const scenario = ctx.scenarios.for(cpi);
    if (scenario === "reject") {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid CPI");
    }
    if (scenario === "unavailable") return c.json({ errorMessage: "Service Unavailable" }, 503);
    if (scenario === "lost_response") return c.json({ errorMessage: "Gateway Timeout" }, 504);
    const payload = darajaQrPayload({
      MerchantName: body.MerchantName as string,
      RefNo: body.RefNo as string,
      Amount: amount,
      TrxCode: trxCode,
      CPI: cpi,
    });
    const png = await QRCode.toBuffer(payload, {
      type: "png",
      errorCorrectionLevel: "M",
      margin: 4,
      width: size,
    });
    return c.json({
      ResponseCode: `AG_${new Date().toISOString().slice(0, 10).replace(/-/g, "")}_${
        randomId("", 20).toLowerCase()
      }`,
      RequestID: `${Math.floor(Math.random() * 90000) + 10000}-${Date.now()}-1`,
      ResponseDescription: "QR Code Successfully Generated.",
      QRCode: Buffer.from(png).toString("base64"),
    });
  });
}
