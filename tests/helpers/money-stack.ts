// One suite's M-Pesa money stack (the provider sandbox and our functions over HTTP), with the
// hooks every money suite registers around it: start it before all tests, and after each let
// the sandbox finish its callbacks and check that the books balance; close it after all.
import { afterAll, afterEach, beforeAll } from "vitest";
import { expectBooksBalanced } from "./money.ts";
import { type MoneyStack, startMoneyStack } from "./money-movement.ts";
import { type Caller, httpCaller, readResponse } from "./request.ts";

export interface MoneyStackHooks {
  /** The running stack (read it inside tests and hooks: it starts in beforeAll). */
  stack: MoneyStack;
  /** A caller of the stack's functions over HTTP. */
  http: Caller;
  /** `http`, with the response read (status, body as JSON, headers). */
  api: (...args: Parameters<Caller>) => Promise<Awaited<ReturnType<typeof readResponse>>>;
}

/** Registers beforeAll/afterEach/afterAll for a money stack and returns accessors to it. A
 *  suite's own beforeAll registered after this call runs once the stack is up (and its own
 *  afterAll before the stack closes). `when: false` (e.g. no browser for a browser suite) starts
 *  nothing and checks nothing. */
export function useMoneyStack({ when = true }: { when?: boolean } = {}): MoneyStackHooks {
  let running: MoneyStack | undefined;
  const current = (): MoneyStack => {
    if (!running) throw new Error("the money stack is not started (use it inside tests and hooks)");
    return running;
  };
  beforeAll(async () => {
    if (!when) return;
    running = await startMoneyStack();
  });
  afterAll(async () => {
    await running?.close();
  });
  afterEach(async () => {
    if (!when) return;
    await current().sandbox.idle();
    await expectBooksBalanced();
  });
  const stack: MoneyStack = {
    get sandbox() {
      return current().sandbox;
    },
    get functionsUrl() {
      return current().functionsUrl;
    },
    close: () => current().close(),
  };
  const http = httpCaller(() => current().functionsUrl);
  const api = async (...args: Parameters<Caller>) => await readResponse(await http(...args));
  return { stack, http, api };
}
