// The sandbox's M-Pesa Daraja: OAuth, STK push and its query, B2C, Transaction Status,
// Dynamic QR (mpesa-qr.ts) and C2B (URL registration and the customer-side simulation), on Daraja's paths and payload
// shapes, calling our webhooks back the way Daraja does.
import process from "node:process";
import { Hono } from "hono";
import { darajaError, darajaNow, randomId, receiptNumber, type SandboxContext } from "./context.ts";
import { qrRoutes } from "./mpesa-qr.ts";
import type { Scenario } from "./scenarios.ts";

export interface StkRecord {
  merchantRequestId: string;
  checkoutRequestId: string;
  amount: number;
  msisdn: string;
  callbackUrl: string;
  resultCode: string | null;
  resultDesc: string;
  receipt: string;
}

export interface PayoutRecord {
  originatorId: string;
  conversationId: string;
  amount: number;
  msisdn: string;
  state: "completed" | "failed" | "none";
  receipt: string;
}

/** A paybill payment the sandbox's customer made (and M-Pesa would know). */
interface PaymentRecord {
  transId: string;
  amount: number;
  shortCode: string;
  msisdn: string;
}

interface MpesaState {
  stk: Map<string, StkRecord>;
  payouts: Map<string, PayoutRecord>;
  payments: Map<string, PaymentRecord>;
  c2bUrls?: { validation: string; confirmation: string };
}

function stkRoutes(mpesa: Hono, ctx: SandboxContext, state: MpesaState): void {
  const passwordOk = (body: Record<string, unknown>) =>
    body.BusinessShortCode === ctx.creds.MPESA_SHORTCODE && typeof body.Timestamp === "string" &&
    /^[0-9]{14}$/.test(body.Timestamp) &&
    body.Password ===
      btoa(`${ctx.creds.MPESA_SHORTCODE}${ctx.creds.MPESA_PASSKEY}${body.Timestamp}`);

  mpesa.post("/mpesa/stkpush/v1/processrequest", async (c) => {
    const body = await c.req.json() as Record<string, unknown>;
    if (!passwordOk(body)) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid Password");
    }
    if (
      typeof body.Amount !== "number" || !Number.isInteger(body.Amount) || body.Amount < 1 ||
      body.Amount > 250000
    ) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid Amount");
    }
    const msisdn = String(body.PhoneNumber ?? "");
    if (!/^254[0-9]{9}$/.test(msisdn) || body.PartyA !== msisdn) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid PhoneNumber");
    }
    if (typeof body.CallBackURL !== "string" || !/^https?:\/\//.test(body.CallBackURL)) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid CallBackURL");
    }
    const scenario = ctx.scenarios.for(msisdn);
    if (scenario === "reject") {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid PhoneNumber");
    }
    if (scenario === "unavailable") return c.json({ errorMessage: "Service Unavailable" }, 503);
    const record: StkRecord = {
      merchantRequestId: `${Math.floor(Math.random() * 90000) + 10000}-${Date.now()}-1`,
      checkoutRequestId: `ws_CO_${body.Timestamp}${randomId("", 12)}`,
      amount: body.Amount,
      msisdn,
      callbackUrl: body.CallBackURL,
      resultCode: null,
      resultDesc: "",
      receipt: receiptNumber(),
    };
    state.stk.set(record.checkoutRequestId, record);
    const outcome: Record<Scenario, [string, string] | null> = {
      success: ["0", "The service request is processed successfully."],
      duplicate: ["0", "The service request is processed successfully."],
      early_callback: ["0", "The service request is processed successfully."],
      silent_success: ["0", "The service request is processed successfully."],
      lost_response: ["0", "The service request is processed successfully."],
      reversed: ["0", "The service request is processed successfully."],
      cancelled: ["1032", "Request cancelled by user"],
      fail: ["1", "The balance is insufficient for the transaction"],
      timeout: ["1037", "DS timeout user cannot be reached"],
      reject: null,
      unavailable: null,
    };
    const [code, desc] = outcome[scenario]!;
    record.resultCode = code;
    record.resultDesc = desc;
    const callback = {
      Body: {
        stkCallback: {
          MerchantRequestID: record.merchantRequestId,
          CheckoutRequestID: record.checkoutRequestId,
          ResultCode: Number(code),
          ResultDesc: desc,
          ...(code === "0"
            ? {
              CallbackMetadata: {
                Item: [
                  { Name: "Amount", Value: record.amount },
                  { Name: "MpesaReceiptNumber", Value: record.receipt },
                  { Name: "Balance" },
                  { Name: "TransactionDate", Value: Number(darajaNow()) },
                  { Name: "PhoneNumber", Value: Number(msisdn) },
                ],
              },
            }
            : {}),
        },
      },
    };
    if (scenario === "early_callback") {
      await ctx.schedule(() => ctx.deliver(record.callbackUrl, callback), true);
    } else if (scenario !== "timeout" && scenario !== "silent_success") {
      ctx.schedule(() => ctx.deliver(record.callbackUrl, callback));
      if (scenario === "duplicate") ctx.schedule(() => ctx.deliver(record.callbackUrl, callback));
    }
    if (scenario === "lost_response") return c.json({ errorMessage: "Gateway Timeout" }, 504);
    return c.json({
      MerchantRequestID: record.merchantRequestId,
      CheckoutRequestID: record.checkoutRequestId,
      ResponseCode: "0",
      ResponseDescription: "Success. Request accepted for processing",
      CustomerMessage: "Success. Request accepted for processing",
    });
  });

  mpesa.post("/mpesa/stkpushquery/v1/query", async (c) => {
    const body = await c.req.json() as Record<string, unknown>;
    if (!passwordOk(body)) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid Password");
    }
    const record = state.stk.get(String(body.CheckoutRequestID));
    if (!record) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid CheckoutRequestID");
    }
    if (record.resultCode === null) {
      return darajaError(c, 500, "500.001.1001", "The transaction is being processed");
    }
    return c.json({
      ResponseCode: "0",
      ResponseDescription: "The service request has been accepted successsfully",
      MerchantRequestID: record.merchantRequestId,
      CheckoutRequestID: record.checkoutRequestId,
      ResultCode: record.resultCode,
      ResultDesc: record.resultDesc,
    });
  });
}

function b2cRoutes(mpesa: Hono, ctx: SandboxContext, state: MpesaState): void {
  mpesa.post("/mpesa/b2c/v3/paymentrequest", async (c) => {
    const body = await c.req.json() as Record<string, unknown>;
    const originatorId = String(body.OriginatorConversationID ?? "");
    if (
      !originatorId || body.InitiatorName !== ctx.creds.MPESA_INITIATOR_NAME ||
      body.SecurityCredential !== ctx.creds.MPESA_SECURITY_CREDENTIAL
    ) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid Initiator");
    }
    if (
      typeof body.Amount !== "number" || !Number.isInteger(body.Amount) || body.Amount < 10 ||
      body.Amount > 250000
    ) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid Amount");
    }
    const msisdn = String(body.PartyB ?? "");
    if (!/^254[0-9]{9}$/.test(msisdn)) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid PartyB");
    }
    const resultUrl = String(body.ResultURL ?? "");
    const timeoutUrl = String(body.QueueTimeOutURL ?? "");
    const scenario = ctx.scenarios.for(msisdn);
    if (scenario === "reject") {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid PartyB");
    }
    if (scenario === "unavailable") return c.json({ errorMessage: "Service Unavailable" }, 503);
    const existing = state.payouts.get(originatorId);
    if (existing) {
      // The same OriginatorConversationID again: Daraja refuses duplicates.
      return darajaError(c, 400, "400.002.05", "Duplicate OriginatorConversationID");
    }
    const record: PayoutRecord = {
      originatorId,
      conversationId: randomId("AG_20261124_", 16),
      amount: body.Amount,
      msisdn,
      state: scenario === "fail" ? "failed" : scenario === "timeout" ? "none" : "completed",
      receipt: receiptNumber(),
    };
    state.payouts.set(originatorId, record);
    const result = (
      code: number,
      desc: string,
      parameters: { Key: string; Value: unknown }[] = [],
    ) => ({
      Result: {
        ResultType: 0,
        ResultCode: code,
        ResultDesc: desc,
        OriginatorConversationID: originatorId,
        ConversationID: record.conversationId,
        TransactionID: code === 0 ? record.receipt : "",
        ...(parameters.length ? { ResultParameters: { ResultParameter: parameters } } : {}),
        ReferenceData: { ReferenceItem: { Key: "QueueTimeoutURL", Value: timeoutUrl } },
      },
    });
    const paid = result(0, "The service request is processed successfully.", [
      { Key: "TransactionAmount", Value: record.amount },
      { Key: "TransactionReceipt", Value: record.receipt },
      { Key: "ReceiverPartyPublicName", Value: `${msisdn} - Sandbox Customer` },
      { Key: "TransactionCompletedDateTime", Value: new Date().toISOString() },
      { Key: "B2CUtilityAccountAvailableFunds", Value: 100000 },
    ]);
    if (scenario === "early_callback") {
      await ctx.schedule(() => ctx.deliver(resultUrl, paid), true);
    } else if (scenario === "fail") {
      ctx.schedule(() =>
        ctx.deliver(resultUrl, result(2001, "The initiator information is invalid."))
      );
    } else if (scenario === "timeout") {
      ctx.schedule(() =>
        ctx.deliver(timeoutUrl, result(1, "The service request timed out in the queue."))
      );
    } else if (scenario !== "silent_success" && scenario !== "lost_response") {
      ctx.schedule(() => ctx.deliver(resultUrl, paid));
      if (scenario === "duplicate") ctx.schedule(() => ctx.deliver(resultUrl, paid));
    }
    // Paid, but the answer is lost on the way back: only Transaction Status tells.
    if (scenario === "lost_response") return c.json({ errorMessage: "Gateway Timeout" }, 504);
    return c.json({
      ConversationID: record.conversationId,
      OriginatorConversationID: originatorId,
      ResponseCode: "0",
      ResponseDescription: "Accept the service request successfully.",
    });
  });
}

/** What Transaction Status says: only what the sandbox itself did (paid, failed, or nothing). */
function statusAnswer(state: MpesaState, body: Record<string, unknown>, originatorId: string) {
  const payout = state.payouts.get(String(body.OriginalConversationID ?? ""));
  const payment = body.TransactionID ? state.payments.get(String(body.TransactionID)) : undefined;
  const common = {
    ResultType: 0,
    OriginatorConversationID: originatorId,
    ConversationID: randomId("AG_", 16),
  };
  const reference = { ReferenceItem: [{ Key: "Occasion", Value: String(body.Occasion ?? "") }] };
  const completed = (
    receipt: string,
    amount: number,
    parameters: { Key: string; Value: unknown }[],
  ) => ({
    Result: {
      ...common,
      ResultCode: 0,
      ResultDesc: "The service request is processed successfully.",
      TransactionID: receipt,
      ResultParameters: {
        ResultParameter: [
          { Key: "ReceiptNo", Value: receipt },
          { Key: "TransactionStatus", Value: "Completed" },
          { Key: "Amount", Value: amount },
          ...parameters,
        ],
      },
      ReferenceData: reference,
    },
  });
  // A paybill payment is found only on the short code it was paid to (PartyA).
  if (payment && payment.shortCode === String(body.PartyA ?? "")) {
    return completed(payment.transId, payment.amount, [
      { Key: "DebitPartyName", Value: `${payment.msisdn} - Sandbox Customer` },
      { Key: "CreditPartyName", Value: `${payment.shortCode} - Sandbox Paybill` },
      { Key: "ReasonType", Value: "Pay Bill Online" },
    ]);
  }
  if (!body.TransactionID && payout?.state === "completed") {
    return completed(payout.receipt, payout.amount, [{
      Key: "ReasonType",
      Value: "Salary Payment via API",
    }]);
  }
  const failed = !body.TransactionID && payout?.state === "failed";
  return {
    Result: {
      ...common,
      ResultCode: failed ? 2001 : body.TransactionID ? "R000001" : "R000002",
      ResultDesc: failed
        ? "The initiator information is invalid."
        : body.TransactionID
        ? "The transaction receipt number does not exist."
        : "The OriginatorConversationID is invalid.",
      TransactionID: "",
      ReferenceData: reference,
    },
  };
}

function transactionStatusRoutes(mpesa: Hono, ctx: SandboxContext, state: MpesaState): void {
  mpesa.post("/mpesa/transactionstatus/v1/query", async (c) => {
    const body = await c.req.json() as Record<string, unknown>;
    if (
      body.Initiator !== ctx.creds.MPESA_INITIATOR_NAME ||
      body.SecurityCredential !== ctx.creds.MPESA_SECURITY_CREDENTIAL
    ) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid Initiator");
    }
    // The answer names the query by the OriginatorConversationID we hand out now.
    const originatorId = randomId("AG_STATUS_", 16);
    const answer = statusAnswer(state, body, originatorId);
    ctx.schedule(() => ctx.deliver(String(body.ResultURL ?? ""), answer));
    return c.json({
      OriginatorConversationID: originatorId,
      ConversationID: randomId("AG_", 16),
      ResponseCode: "0",
      ResponseDescription: "Accept the service request successfully.",
    });
  });
}

function c2bRoutes(mpesa: Hono, ctx: SandboxContext, state: MpesaState): void {
  mpesa.post("/mpesa/c2b/v1/registerurl", async (c) => {
    const body = await c.req.json() as Record<string, unknown>;
    state.c2bUrls = {
      validation: String(body.ValidationURL),
      confirmation: String(body.ConfirmationURL),
    };
    return c.json({
      OriginatorCoversationID: randomId("c2b-", 8),
      ResponseCode: "0",
      ResponseDescription: "Success",
    });
  });

  // Daraja's sandbox-only C2B simulation: a customer pays our paybill from their phone.
  mpesa.post("/mpesa/c2b/v1/simulate", async (c) => {
    const body = await c.req.json() as Record<string, unknown>;
    const msisdn = String(body.Msisdn ?? "254708374149");
    const amount = Number(body.Amount);
    if (!Number.isInteger(amount) || amount < 1) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid Amount");
    }
    const base = ctx.functionsUrl ?? process.env.PUBLIC_FUNCTIONS_URL ??
      "http://127.0.0.1:8000/functions/v1";
    const urls = state.c2bUrls ?? {
      validation: `${base}/webhooks/mpesa/c2b/validation/${ctx.creds.MPESA_CALLBACK_TOKEN}`,
      confirmation: `${base}/webhooks/mpesa/c2b/confirmation/${ctx.creds.MPESA_CALLBACK_TOKEN}`,
    };
    const payment = {
      TransactionType: "Pay Bill",
      TransID: receiptNumber(),
      TransTime: darajaNow(),
      TransAmount: `${amount}.00`,
      BusinessShortCode: String(body.ShortCode ?? ctx.creds.MPESA_PAYBILL),
      BillRefNumber: String(body.BillRefNumber ?? ""),
      InvoiceNumber: "",
      OrgAccountBalance: "100000.00",
      ThirdPartyTransID: "",
      MSISDN: msisdn,
      FirstName: "Sandbox",
      MiddleName: "",
      LastName: "Customer",
    };
    const scenario = ctx.scenarios.for(msisdn);
    const task = ctx.schedule(async () => {
      // SkipValidation: the paybill has external validation switched off at Safaricom.
      if (body.SkipValidation !== true) {
        const validation = await fetch(urls.validation, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(payment),
        }).then((r) => r.json()).catch(() => ({ ResultCode: "0" }));
        ctx.deliveries.push({ url: urls.validation, body: payment, status: 200 });
        if (String((validation as { ResultCode?: unknown }).ResultCode) !== "0") return;
      }
      // The customer paid: from now on Transaction Status knows this TransID.
      state.payments.set(payment.TransID, {
        transId: payment.TransID,
        amount,
        shortCode: payment.BusinessShortCode,
        msisdn,
      });
      await ctx.deliver(urls.confirmation, payment);
      if (scenario === "duplicate") await ctx.deliver(urls.confirmation, payment);
    });
    if (scenario === "early_callback") await task;
    return c.json({
      ConversationID: randomId("AG_", 16),
      OriginatorCoversationID: randomId("c2b-", 8),
      ResponseDescription: "Accept the service request successfully.",
      TransID: payment.TransID,
    });
  });
}

export function mpesaApp(ctx: SandboxContext): Hono {
  const mpesa = new Hono();
  mpesa.get("/oauth/v1/generate", (c) => {
    const expected = `Basic ${
      btoa(`${ctx.creds.MPESA_CONSUMER_KEY}:${ctx.creds.MPESA_CONSUMER_SECRET}`)
    }`;
    if (
      c.req.query("grant_type") !== "client_credentials" ||
      c.req.header("authorization") !== expected
    ) {
      return darajaError(c, 400, "400.008.01", "Invalid Authentication passed");
    }
    const token = crypto.randomUUID().replace(/-/g, "");
    ctx.tokens.add(token);
    return c.json({ access_token: token, expires_in: "3599" });
  });
  mpesa.use("/mpesa/*", async (c, next) => {
    // The C2B simulation is what a customer's phone does: it needs no API token here.
    if (c.req.path.endsWith("/mpesa/c2b/v1/simulate")) return await next();
    const token = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1];
    if (!token || !ctx.tokens.has(token)) {
      return darajaError(c, 401, "404.001.04", "Invalid Access Token");
    }
    await next();
  });

  const state: MpesaState = { stk: new Map(), payouts: new Map(), payments: new Map() };
  stkRoutes(mpesa, ctx, state);
  b2cRoutes(mpesa, ctx, state);
  transactionStatusRoutes(mpesa, ctx, state);
  c2bRoutes(mpesa, ctx, state);
  qrRoutes(mpesa, ctx);
  return mpesa;
}
