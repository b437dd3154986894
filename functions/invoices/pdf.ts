// The invoice as a PDF (pdf-lib: pure JavaScript, runs under Deno and Node). It draws what
// the database computed (public.invoice_document): no amount is calculated here, amounts
// are only formatted (thousands separators, the currency's minor units).
import { PDFDocument, type PDFFont, type PDFPage, rgb, StandardFonts } from "pdf-lib";

export interface InvoiceDocument {
  invoice: {
    id: string;
    number: string | null;
    status: string;
    customer: {
      id: string | null;
      email: string | null;
      phone: string | null;
      name: string | null;
    };
    currency: string;
    due_date: string | null;
    memo: string | null;
    subtotal: string;
    tax: string;
    total: string;
    amount_paid: string;
    amount_due: string;
    pay_token: string | null;
    items: {
      position: number;
      description: string;
      quantity: string;
      unit_amount: string;
      tax_rate: number;
      subtotal: string;
      tax: string;
      total: string;
    }[];
    finalized_at: string | null;
    created_at: string;
  };
  merchant: { name: string; email: string; phone: string | null };
  minor_units: number;
}

/** "1234567.5000" → "1,234,567.50" (the string is already rounded by the database). */
export function formatMoney(amount: string, minorUnits: number): string {
  const [whole, fraction = ""] = amount.split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return minorUnits > 0
    ? `${grouped}.${fraction.padEnd(minorUnits, "0").slice(0, minorUnits)}`
    : grouped;
}

/** "0.3330" → "0.333", "3.0000" → "3". */
function formatQuantity(quantity: string): string {
  return quantity.includes(".") ? quantity.replace(/0+$/, "").replace(/\.$/, "") : quantity;
}

/** basis points → "16%", "12.5%". */
function formatRate(basisPoints: number): string {
  return `${(basisPoints / 100).toString()}%`;
}

/** The pay link of an open invoice: <functions>/invoices/<token>/pay-link. */
export function payLink(publicFunctionsUrl: string, token: string): string {
  return `${publicFunctionsUrl.replace(/\/+$/, "")}/invoices/${token}/pay-link`;
}

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 48;
const INK = rgb(0.12, 0.12, 0.14);
const MUTED = rgb(0.42, 0.44, 0.48);
const RULE = rgb(0.82, 0.84, 0.87);
const ACCENT = rgb(0.05, 0.42, 0.33);

export async function renderInvoicePdf(
  doc: InvoiceDocument,
  publicFunctionsUrl: string,
): Promise<Uint8Array> {
  const { invoice, merchant, minor_units: minor } = doc;
  const pdf = await PDFDocument.create();
  const regular = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  const title = invoice.number ? `Invoice ${invoice.number}` : "Draft invoice";
  pdf.setTitle(title);
  pdf.setSubject(
    `${merchant.name}: ${invoice.currency} ${invoice.total}, due ${invoice.amount_due}`,
  );
  pdf.setAuthor(merchant.name);
  pdf.setCreator("Hazina");
  pdf.setProducer("Hazina (pdf-lib)");
  pdf.setKeywords(["invoice", invoice.number ?? "draft", invoice.id]);
  // Deterministic dates: the document says when the invoice was issued, not when it was drawn.
  const issued = new Date(invoice.finalized_at ?? invoice.created_at);
  pdf.setCreationDate(issued);
  pdf.setModificationDate(issued);

  // The standard fonts speak WinAnsi: anything else is drawn as "?" instead of failing.
  const charset = new Set(regular.getCharacterSet());
  const safe = (text: string) =>
    Array.from(text.replace(/\s+/g, " "), (ch) => (charset.has(ch.codePointAt(0)!) ? ch : "?"))
      .join("");
  const fit = (text: string, font: PDFFont, size: number, width: number) => {
    let value = safe(text);
    if (font.widthOfTextAtSize(value, size) <= width) return value;
    while (value.length > 1 && font.widthOfTextAtSize(`${value}...`, size) > width) {
      value = value.slice(0, -1);
    }
    return `${value}...`;
  };

  let page: PDFPage = pdf.addPage(A4);
  const [pageWidth, pageHeight] = A4;
  const right = pageWidth - MARGIN;
  let y = pageHeight - MARGIN;
  const text = (value: string, x: number, at: number, size = 10, font = regular, color = INK) =>
    page.drawText(safe(value), { x, y: at, size, font, color });
  const textRight = (
    value: string,
    x: number,
    at: number,
    size = 10,
    font = regular,
    color = INK,
  ) =>
    page.drawText(safe(value), {
      x: x - font.widthOfTextAtSize(safe(value), size),
      y: at,
      size,
      font,
      color,
    });
  const rule = (at: number) =>
    page.drawLine({
      start: { x: MARGIN, y: at },
      end: { x: right, y: at },
      thickness: 0.7,
      color: RULE,
    });

  // Header: who asks (left), which invoice (right).
  text(merchant.name, MARGIN, y - 14, 18, bold);
  text(merchant.email, MARGIN, y - 32, 9, regular, MUTED);
  if (merchant.phone) text(merchant.phone, MARGIN, y - 44, 9, regular, MUTED);
  textRight(invoice.number ? "INVOICE" : "DRAFT", right, y - 14, 18, bold, ACCENT);
  textRight(invoice.number ?? "not yet numbered", right, y - 32, 11, bold);
  const day = (iso: string) => iso.slice(0, 10);
  textRight(
    `Issued ${invoice.finalized_at ? day(invoice.finalized_at) : "-"}`,
    right,
    y - 46,
    9,
    regular,
    MUTED,
  );
  textRight(`Due ${invoice.due_date ?? "-"}`, right, y - 58, 9, regular, MUTED);
  textRight(`Status: ${invoice.status}`, right, y - 70, 9, regular, MUTED);
  y -= 100;

  // Bill to.
  text("BILL TO", MARGIN, y, 8, bold, MUTED);
  const who = [invoice.customer.name, invoice.customer.email, invoice.customer.phone].filter(
    Boolean,
  ) as string[];
  who.forEach((line, i) =>
    text(line, MARGIN, y - 14 - i * 12, i === 0 ? 11 : 9, i === 0 ? bold : regular)
  );
  y -= 30 + who.length * 12;

  // Lines.
  const columns = {
    n: MARGIN,
    desc: MARGIN + 22,
    qty: 300,
    unit: 380,
    vat: 420,
    tax: 475,
    total: right,
  };
  const header = (at: number) => {
    text("#", columns.n, at, 8, bold, MUTED);
    text("DESCRIPTION", columns.desc, at, 8, bold, MUTED);
    textRight("QTY", columns.qty, at, 8, bold, MUTED);
    textRight("UNIT PRICE", columns.unit, at, 8, bold, MUTED);
    textRight("VAT", columns.vat, at, 8, bold, MUTED);
    textRight("TAX", columns.tax, at, 8, bold, MUTED);
    textRight(`AMOUNT ${invoice.currency}`, columns.total, at, 8, bold, MUTED);
    rule(at - 6);
  };
  header(y);
  y -= 22;
  for (const item of invoice.items) {
    if (y < MARGIN + 160) {
      page = pdf.addPage(A4);
      y = pageHeight - MARGIN;
      header(y);
      y -= 22;
    }
    text(String(item.position), columns.n, y, 9, regular, MUTED);
    text(fit(item.description, regular, 9, columns.qty - 40 - columns.desc), columns.desc, y, 9);
    textRight(formatQuantity(item.quantity), columns.qty, y, 9);
    textRight(formatMoney(item.unit_amount, 4).replace(/0{1,2}$/, ""), columns.unit, y, 9);
    textRight(formatRate(item.tax_rate), columns.vat, y, 9);
    textRight(formatMoney(item.tax, minor), columns.tax, y, 9);
    textRight(formatMoney(item.total, minor), columns.total, y, 9);
    y -= 16;
  }
  rule(y + 8);
  y -= 10;

  // Totals.
  const totals: [string, string, boolean][] = [
    ["Subtotal", invoice.subtotal, false],
    ["Tax (VAT)", invoice.tax, false],
    ["Total", invoice.total, true],
    ["Amount paid", invoice.amount_paid, false],
  ];
  for (const [label, amount, strong] of totals) {
    text(label, 360, y, 10, strong ? bold : regular);
    textRight(
      `${invoice.currency} ${formatMoney(amount, minor)}`,
      right,
      y,
      10,
      strong ? bold : regular,
    );
    y -= 16;
  }
  y -= 6;
  page.drawRectangle({
    x: 350,
    y: y - 8,
    width: right - 350 + 6,
    height: 24,
    color: rgb(0.93, 0.97, 0.95),
  });
  text("Amount due", 360, y, 12, bold, ACCENT);
  textRight(
    `${invoice.currency} ${formatMoney(invoice.amount_due, minor)}`,
    right,
    y,
    12,
    bold,
    ACCENT,
  );
  y -= 40;

  if (invoice.memo) {
    text("NOTE", MARGIN, y, 8, bold, MUTED);
    text(fit(invoice.memo, regular, 9, right - MARGIN), MARGIN, y - 13, 9);
    y -= 34;
  }
  if (invoice.pay_token && ["open", "uncollectible"].includes(invoice.status)) {
    text("PAY ONLINE", MARGIN, y, 8, bold, MUTED);
    text(payLink(publicFunctionsUrl, invoice.pay_token), MARGIN, y - 13, 8, regular, ACCENT);
    y -= 34;
  }
  const rounding =
    "Each line: subtotal = quantity x unit price, tax = subtotal x VAT rate, each rounded " +
    "half away from zero to the currency's minor unit; totals are their sums.";
  text(fit(rounding, regular, 7, right - MARGIN), MARGIN, MARGIN, 7, regular, MUTED);
  return await pdf.save();
}
