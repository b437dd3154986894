// The browser suites' phone: Debian's Chromium (/usr/bin/chromium, or CHROMIUM_PATH) driven by
// playwright-core at a phone's viewport, with a fresh profile of its own; the QR code's PNG
// decoded as a phone camera would (jsQR); a payer with a password who signs in on the page.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";
import { signUpVerifiedUser, STRONG_PASSWORD } from "./auth.ts";
import { admin, asUser } from "./db.ts";
import { fund } from "./money.ts";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const PHONE = { width: 390, height: 844 };

/** Whether Chromium is there. Without it the suite is skipped with a loud message, and under CI
 *  (.ci/run installs it) that is a failure. */
export function chromiumAvailable(suite: string): boolean {
  const available = existsSync(CHROMIUM);
  if (!available) {
    const message = `${suite}: no Chromium at ${CHROMIUM} (apt-get install chromium); the browser suite cannot run`;
    if (process.env.CI) throw new Error(message); // CI (.ci/run) installs it: a skip there is a failure
    console.warn(`\n!!! SKIPPED ${message}\n`);
  }
  return available;
}

/** Screenshots are taken on every run; they replace docs/images/ only with UPDATE_SCREENSHOTS=1
 *  (else they go to a temporary directory, so a test run leaves the working tree clean). */
export const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === "1";

/** Where a suite's screenshots go: docs/images when updating them, else a temporary directory
 *  (`hazina-<name>-shots-<pid>`) that PhoneBrowser.close removes. */
export function screenshotsDir(name: string): string {
  return UPDATE_SCREENSHOTS
    ? path.resolve(import.meta.dirname, "../../docs/images")
    : path.join(process.env.TMPDIR ?? "/tmp", `hazina-${name}-shots-${process.pid}`);
}

export interface PhoneBrowser {
  context: BrowserContext;
  /** A new tab; a page error fails the test. */
  newPage(): Promise<Page>;
  /** A full-page screenshot named `name` in the screenshots directory. */
  shot(page: Page, name: string): Promise<void>;
  /** Closes the browser and removes its profile (and the screenshots, unless updating them). */
  close(): Promise<void>;
}

/** Launches Chromium headless at a phone's viewport (390x844, 2x, touch) with a fresh profile
 *  directory of its own (playwright's persistent context is Chromium's --user-data-dir); each
 *  flow opens its own tab, so sessionStorage starts empty. */
export async function launchPhoneBrowser(images: string): Promise<PhoneBrowser> {
  mkdirSync(images, { recursive: true });
  const profileDir = path.join(process.env.TMPDIR ?? "/tmp", `hazina-chromium-${crypto.randomUUID()}`);
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
    viewport: PHONE,
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  return {
    context,
    newPage: async () => {
      const page = await context.newPage();
      page.on("pageerror", (err) => {
        throw err;
      });
      return page;
    },
    shot: async (page, name) => {
      await page.screenshot({ path: path.join(images, name), fullPage: true });
    },
    close: async () => {
      await context.close();
      rmSync(profileDir, { recursive: true, force: true });
      if (!UPDATE_SCREENSHOTS) rmSync(images, { recursive: true, force: true });
    },
  };
}

/** The scan: fetch the code's PNG and decode it, as a phone camera would. */
export async function scan(pngUrl: string): Promise<string> {
  const res = await fetch(pngUrl);
  expect(res.headers.get("content-type")).toBe("image/png");
  const image = PNG.sync.read(Buffer.from(await res.arrayBuffer()));
  const decoded = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
  expect(decoded, "the PNG holds a readable QR code").not.toBeNull();
  return decoded!.data;
}

/** A payer with an account, a password and a funded KES wallet. */
export async function customerWithPassword(balance: string) {
  const user = await signUpVerifiedUser();
  const [wallet] = await asUser(user.user.id, (tx) => tx`select public.wallet_open('KES') ->> 'id' as id`);
  await fund(wallet.id, balance);
  return { ...user, walletId: wallet.id as string };
}

/** Signs in on the checkout page with STRONG_PASSWORD and waits for the wallet picker. */
export async function signIn(page: Page, email: string) {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(STRONG_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("Pay from").waitFor();
}

/** The payment_intent fee (1.5%) to the cent, as the billing rule rounds it. */
export async function intentFee(amount: string): Promise<string> {
  const [row] = await admin`select round(${amount}::numeric * 150 / 10000, 2)::numeric(19, 4)::text as fee`;
  return row.fee as string;
}

/** A browser suite's phone: checks Chromium is there (chromiumAvailable), launches it before all
 *  tests (launchPhoneBrowser, screenshots in screenshotsDir(`shots`)) and closes it after all.
 *  `device` is the running browser (read it inside tests and hooks). */
export function usePhoneBrowser(suite: string, shots: string): { available: boolean; images: string; device: PhoneBrowser } {
  const available = chromiumAvailable(suite);
  const images = screenshotsDir(shots);
  let running: PhoneBrowser | undefined;
  const current = (): PhoneBrowser => {
    if (!running) throw new Error("the phone browser is not launched (use it inside tests and hooks)");
    return running;
  };
  beforeAll(async () => {
    if (available) running = await launchPhoneBrowser(images);
  }, 120_000);
  afterAll(async () => {
    await running?.close();
  });
  const device: PhoneBrowser = {
    get context() {
      return current().context;
    },
    newPage: () => current().newPage(),
    shot: (page, name) => current().shot(page, name),
    close: () => current().close(),
  };
  return { available, images, device };
}
