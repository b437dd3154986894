// The checkout page's stylesheet and script, served as files of their own (GET
// /checkout/assets/<name>-<hash>.<ext>) so the page's Content-Security-Policy allows no
// inline script or style at all. The hash in the name is of the content: a new release gets a
// new URL, so the files may be cached for a year.
//
// The script (plain ES2020, no framework, nothing from elsewhere):
//   * reads what it needs from data-* attributes of <main> (slug, amount, attempt key);
//   * one attempt key per payment attempt, kept in sessionStorage per code, so a double tap,
//     a retry after a lost answer or a reload sends the SAME Idempotency-Key and pays once;
//     a new key only after a refusal (the server keeps a refusal's answer for its key) or
//     when the payer asks to pay again after a success;
//   * M-Pesa (a guest): open the code's intent (POST ./<slug>/pay/mpesa), confirm it with one
//     M-Pesa part and its client_secret (POST ../payments/intents/<id>/confirm: the STK push),
//     then poll its checkout view (GET ../payments/intents/<id>?client_secret=) until it is
//     succeeded, or back at requires_confirmation with the provider's error (1032: cancelled);
//   * M-Pesa for a code bound to an invoice, order or intent (data-bound): one request pays the
//     object's own intent (POST ./<slug>/pay/stk: the server confirms it and sends the STK push),
//     then poll the payment (GET ./<slug>/payments/<id>) the same way;
//   * wallet: sign in (POST ../auth/token), choose a wallet (GET ../wallets), pay
//     (POST ./<slug>/pay/wallet); the access token lives only in this page's memory.
import { sha256Hex } from "../_shared/tokens.ts";

export const CHECKOUT_CSS = `
:root{color-scheme:light;--ink:#14171a;--muted:#4a5259;--line:#c9ced3;--brand:#0b6e4f;--brand-ink:#fff;--bad:#a4161a;--good:#0b6e4f;--bg:#f6f7f8}
*{box-sizing:border-box}
html{font:17px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
body{margin:0;padding:0}
main{max-width:28rem;margin:0 auto;padding:1.25rem 1rem 3rem}
.card{background:#fff;border:1px solid var(--line);border-radius:.75rem;padding:1.1rem 1rem;margin:0 0 1rem}
.merchant{margin:0;color:var(--muted);font-size:.95rem}
h1{margin:.15rem 0 .4rem;font-size:1.45rem;line-height:1.25}
h2{margin:0 0 .6rem;font-size:1.1rem}
.amount{margin:0;font-size:2rem;font-weight:700;letter-spacing:-.01em}
label{display:block;margin:.7rem 0 .25rem;font-weight:600}
input,select{font:inherit;width:100%;min-height:2.9rem;padding:.55rem .7rem;border:2px solid var(--line);border-radius:.5rem;background:#fff;color:var(--ink)}
input:focus,select:focus,button:focus{outline:3px solid #1d4ed8;outline-offset:2px}
button{font:inherit;font-weight:700;width:100%;min-height:3rem;margin-top:1rem;padding:.6rem 1rem;border:0;border-radius:.5rem;background:var(--brand);color:var(--brand-ink);cursor:pointer}
button.secondary{background:#fff;color:var(--brand);border:2px solid var(--brand)}
button:disabled{opacity:.6;cursor:progress}
.hint{color:var(--muted);font-size:.9rem;margin:.3rem 0 0}
.status{margin:0 0 1rem;padding:.8rem 1rem;border-radius:.5rem;font-weight:600}
.status:empty{display:none}
.status.ok{background:#e3f4ec;color:var(--good)}
.status.error{background:#fbe9e9;color:var(--bad)}
.status.wait{background:#eef2ff;color:#1e3a8a}
.receipt dt{color:var(--muted);font-size:.9rem}
.receipt dd{margin:0 0 .5rem;font-weight:600;overflow-wrap:anywhere}
[hidden]{display:none!important}
footer{color:var(--muted);font-size:.85rem;text-align:center}
`.trim();

export const CHECKOUT_JS = `
"use strict";
(function () {
  var main = document.querySelector("main[data-slug]");
  if (!main) return;
  var slug = main.dataset.slug;
  var fixedAmount = main.dataset.amount || "";
  var bound = main.dataset.bound === "1";
  var currency = main.dataset.currency;
  var minorUnits = Number(main.dataset.minorUnits || "2");
  var storeKey = "hazina-checkout:" + slug;
  var status = document.getElementById("status");
  var token = null;

  function url(path) { return new URL(path, window.location.href).toString(); }
  function show(kind, text) {
    status.className = "status " + kind;
    status.textContent = text;
    if (kind !== "wait") status.focus();
  }
  function load() {
    try { return JSON.parse(sessionStorage.getItem(storeKey) || "null"); } catch (e) { return null; }
  }
  function save(state) { try { sessionStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode */ } }
  // The attempt in progress: its Idempotency-Key survives reloads until the attempt ends.
  function attempt() {
    var state = load();
    if (!state || !state.key) {
      state = { key: main.dataset.attempt, paid: null };
      save(state);
    }
    return state;
  }
  function newAttempt() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    var key = "checkout-" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    save({ key: key, paid: null });
    return key;
  }
  // Money stays a string: the amount field is checked against a decimal pattern, never parsed.
  function amountToPay() {
    if (fixedAmount) return { ok: true, value: null, shown: fixedAmount };
    var field = document.getElementById("amount");
    var value = field.value.trim().replace(/,/g, "");
    var pattern = minorUnits > 0 ? new RegExp("^(0|[1-9][0-9]{0,14})(\\\\.[0-9]{1," + minorUnits + "})?$") : /^(0|[1-9][0-9]{0,14})$/;
    if (!pattern.test(value) || !/[1-9]/.test(value)) {
      field.setAttribute("aria-invalid", "true");
      show("error", "Enter the amount to pay, e.g. 250" + (minorUnits > 0 ? " or 250.50" : "") + ".");
      field.focus();
      return { ok: false };
    }
    field.removeAttribute("aria-invalid");
    return { ok: true, value: value, shown: value };
  }
  async function call(method, path, body, headers, guest) {
    var init = { method: method, headers: Object.assign({ "Accept": "application/json" }, headers || {}) };
    if (token && !guest) init.headers["Authorization"] = "Bearer " + token;
    if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    var res;
    try { res = await fetch(url(path), init); } catch (e) { return { status: 0, body: null }; }
    var json = null;
    try { json = await res.json(); } catch (e) { json = null; }
    return { status: res.status, body: json };
  }
  // "1246.50" -> "1,246.50" (strings only, as the server groups it).
  function grouped(amount) {
    var parts = String(amount).split(".");
    return parts[0].replace(/\\B(?=(\\d{3})+(?!\\d))/g, ",") + (parts.length > 1 ? "." + parts[1] : "");
  }
  function receipt(intent) {
    var box = document.getElementById("receipt");
    document.getElementById("receipt-amount").textContent = currency + " " + grouped(intent.shown);
    document.getElementById("receipt-ref").textContent = intent.id;
    box.hidden = false;
    document.getElementById("pay-forms").hidden = true;
    show("ok", "Payment received. Thank you!");
  }

  // --- Pay with M-Pesa (as a guest: the intent's client_secret, never a token) ---
  var MPESA_ERRORS = {
    mpesa_cancelled: "The payment was cancelled on the phone. Nothing was paid.",
    mpesa_timeout: "M-Pesa did not hear back from the phone in time. Nothing was paid.",
    mpesa_failed: "M-Pesa could not complete the payment. Nothing was paid.",
  };
  var mpesaForm = document.getElementById("mpesa-form");
  // 0712 345 678, 712345678, +254 712 345 678 -> 254712345678 (the number Daraja expects).
  function msisdn(text) {
    var digits = text.replace(/[ ()+.-]/g, "");
    if (/^0[17][0-9]{8}$/.test(digits)) return "254" + digits.slice(1);
    if (/^[17][0-9]{8}$/.test(digits)) return "254" + digits;
    if (/^254[17][0-9]{8}$/.test(digits)) return digits;
    return null;
  }
  // M-Pesa moves whole shillings: "150.0000" -> "150"; anything with cents is refused here.
  function wholeUnits(amount) {
    var parts = amount.split(".");
    if (parts[1] && /[1-9]/.test(parts[1])) return null;
    return parts[0];
  }
  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }
  async function waitForMpesa(state) {
    var intent = state.intent;
    show("wait", "Check your phone: enter your M-Pesa PIN to pay " + currency + " " + intent.shown + ".");
    for (var i = 0; i < 600; i++) {
      var res = await call("GET", intent.poll ||
        ("../payments/intents/" + intent.id + "?client_secret=" + encodeURIComponent(intent.secret)),
        undefined, undefined, true);
      var body = res.body;
      if (res.status === 200 && body) {
        if (body.status === "succeeded") {
          state.paid = { id: intent.id, shown: intent.shown };
          state.intent = null;
          save(state);
          receipt(state.paid);
          return;
        }
        if (body.status === "canceled" || (body.status === "requires_confirmation" && body.last_payment_error)) {
          var code = body.last_payment_error && body.last_payment_error.code;
          newAttempt();
          mpesaForm.querySelector("button").disabled = false;
          show("error", MPESA_ERRORS[code] || (body.status === "canceled"
            ? "The time to pay ran out. Nothing was paid." : "The payment did not go through. Nothing was paid."));
          return;
        }
      } else if (res.status >= 400 && res.status < 500) {
        newAttempt();
        mpesaForm.querySelector("button").disabled = false;
        show("error", "The payment did not go through. Nothing was paid.");
        return;
      }
      await sleep(i < 20 ? 1000 : 3000);
    }
  }
  mpesaForm.addEventListener("submit", async function (event) {
    event.preventDefault();
    var button = mpesaForm.querySelector("button");
    if (button.disabled) return;
    var amount = amountToPay();
    if (!amount.ok) return;
    var phoneField = document.getElementById("phone");
    var phone = msisdn(phoneField.value);
    if (!phone) {
      phoneField.setAttribute("aria-invalid", "true");
      show("error", "Enter an M-Pesa number such as 0712 345 678.");
      phoneField.focus();
      return;
    }
    phoneField.removeAttribute("aria-invalid");
    var state = attempt();
    button.disabled = true;
    show("wait", "Sending the payment request to your phone…");
    if (bound) {
      if (!wholeUnits(amount.value || fixedAmount)) {
        button.disabled = false;
        show("error", "M-Pesa takes whole shillings: pay this amount with your Hazina wallet.");
        return;
      }
      var body = { phone: phone };
      if (amount.value) body.amount = amount.value;
      var paid = await call("POST", "./" + slug + "/pay/stk", body, { "Idempotency-Key": state.key }, true);
      if (paid.status !== 200 || !paid.body || !paid.body.id) {
        if (paid.status >= 400 && paid.status < 500) newAttempt();
        button.disabled = false;
        show("error", (paid.body && paid.body.error && paid.body.error.message) || "We could not reach the server. Try again.");
        return;
      }
      state.intent = { id: paid.body.id, poll: "./" + slug + "/payments/" + paid.body.id, shown: amount.shown };
      save(state);
      await waitForMpesa(state);
      return;
    }
    var opened = await call("POST", "./" + slug + "/pay/mpesa", amount.value ? { amount: amount.value } : {},
      { "Idempotency-Key": state.key }, true);
    if (opened.status !== 201 || !opened.body || !opened.body.client_secret) {
      if (opened.status >= 400 && opened.status < 500) newAttempt();
      button.disabled = false;
      show("error", (opened.body && opened.body.error && opened.body.error.message) || "We could not reach the server. Try again.");
      return;
    }
    var whole = wholeUnits(opened.body.amount);
    if (!whole) {
      button.disabled = false;
      show("error", "M-Pesa takes whole shillings: pay this amount with your Hazina wallet.");
      return;
    }
    state.intent = { id: opened.body.id, secret: opened.body.client_secret, shown: amount.shown };
    save(state);
    var confirmed = await call("POST", "../payments/intents/" + opened.body.id + "/confirm", {
      client_secret: opened.body.client_secret,
      sources: [{ type: "mpesa", phone: phone, amount: whole }],
    }, { "Idempotency-Key": state.key + "-mpesa" }, true);
    if (confirmed.status !== 200) {
      if (confirmed.status >= 400 && confirmed.status < 500) { newAttempt(); }
      button.disabled = false;
      show("error", (confirmed.body && confirmed.body.error && confirmed.body.error.message) || "We could not reach the server. Try again.");
      return;
    }
    await waitForMpesa(state);
  });

  // --- Pay with Hazina wallet ---
  var signin = document.getElementById("signin-form");
  var walletForm = document.getElementById("wallet-form");
  var walletSelect = document.getElementById("wallet");
  signin.addEventListener("submit", async function (event) {
    event.preventDefault();
    var button = signin.querySelector("button");
    button.disabled = true;
    show("wait", "Signing in…");
    var res = await call("POST", "../auth/token", {
      email: document.getElementById("email").value.trim(),
      password: document.getElementById("password").value,
    });
    button.disabled = false;
    if (res.status !== 200 || !res.body || !res.body.access_token) {
      show("error", (res.body && res.body.error && res.body.error.message) || "Could not sign in. Try again.");
      return;
    }
    token = res.body.access_token;
    document.getElementById("password").value = "";
    var wallets = await call("GET", "../wallets");
    var mine = ((wallets.body && wallets.body.data) || []).filter(function (w) {
      return w.currency === currency && w.status === "active" && w.kind === "user";
    });
    walletSelect.textContent = "";
    mine.forEach(function (w) {
      var option = document.createElement("option");
      option.value = w.id;
      option.textContent = w.currency + " wallet · available " + w.available;
      walletSelect.appendChild(option);
    });
    if (mine.length === 0) {
      show("error", "You have no " + currency + " wallet to pay from.");
      return;
    }
    signin.hidden = true;
    walletForm.hidden = false;
    show("ok", "Signed in. Choose a wallet and confirm.");
    walletSelect.focus();
  });

  walletForm.addEventListener("submit", async function (event) {
    event.preventDefault();
    var button = walletForm.querySelector("button");
    if (button.disabled) return; // a double tap sends once (and the key makes a resend harmless)
    var amount = amountToPay();
    if (!amount.ok) return;
    var state = attempt();
    button.disabled = true;
    show("wait", "Paying…");
    var body = { wallet_id: walletSelect.value };
    if (amount.value) body.amount = amount.value;
    var res = await call("POST", "./" + slug + "/pay/wallet", body, { "Idempotency-Key": state.key });
    button.disabled = false;
    if (res.status === 200 && res.body && res.body.status === "succeeded") {
      state.paid = { id: res.body.id, shown: amount.shown };
      save(state);
      receipt(state.paid);
      return;
    }
    if (res.status === 0 || res.status >= 500) {
      // The answer was lost: the same key again is safe (it pays at most once).
      show("error", "We could not reach the server. Tap Pay again: you will not be charged twice.");
      return;
    }
    newAttempt(); // a refusal is final for its key: the next try is a new attempt
    show("error", (res.body && res.body.error && res.body.error.message) || "The payment did not go through.");
  });

  document.getElementById("again").addEventListener("click", function () {
    newAttempt();
    document.getElementById("receipt").hidden = true;
    document.getElementById("pay-forms").hidden = false;
    status.textContent = "";
  });

  // A reload after paying shows the receipt, not a second payment; a reload while M-Pesa is
  // on its way goes on waiting for the same payment.
  var state = load();
  if (state && state.paid) receipt(state.paid);
  else if (state && state.intent) { mpesaForm.querySelector("button").disabled = true; waitForMpesa(state); }
})();
`.trim();

export interface Asset {
  name: string;
  type: string;
  body: string;
}

let assets: Record<"css" | "js", Asset> | undefined;

/** The page's two files with their content-hashed names (the first 16 hex digits of their SHA-256). */
export function checkoutAssets(): Record<"css" | "js", Asset> {
  assets ??= {
    css: {
      name: `checkout-${sha256Hex(CHECKOUT_CSS).slice(0, 16)}.css`,
      type: "text/css; charset=utf-8",
      body: CHECKOUT_CSS,
    },
    js: {
      name: `checkout-${sha256Hex(CHECKOUT_JS).slice(0, 16)}.js`,
      type: "text/javascript; charset=utf-8",
      body: CHECKOUT_JS,
    },
  };
  return assets;
}
