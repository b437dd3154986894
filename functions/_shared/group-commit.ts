// Group commit at the edge (adaptive batching, as TigerBeetle's clients batch): requests of
// one kind that arrive in one edge process while an earlier group of theirs is still in the
// database wait for the next group, and each group runs as ONE database call (one
// transaction, one commit, one WAL flush) that answers every request of it on its own.
//   - A request that finds no group in flight goes at once, alone: no latency is added at
//     low load.
//   - Otherwise it joins the next group, which leaves when the in-flight group is done, or
//     `windowMs` after the first request joined it, or once it holds `maxItems` requests,
//     whichever comes first (so a slow group never holds the next one back for long, and
//     several groups may be in the database at once, each on its own pooled connection).
// The caller's `run` must answer one result per item, in order; if it throws, every
// request of the group gets that error.

export interface GroupCommitOptions {
  /** How long a group waits for company once a group is already in flight (ms). */
  windowMs: number;
  /** The most requests in one group. */
  maxItems: number;
}

interface Waiting<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

export class GroupCommitter<I, R> {
  #pending: Waiting<I, R>[] = [];
  #inFlight = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Groups sent so far, and the requests in them (for tests and logs). */
  readonly stats = { groups: 0, items: 0, largest: 0 };

  constructor(
    private readonly run: (items: I[]) => Promise<R[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  /** Queue one request; resolves with its own result once its group has committed. */
  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (this.#inFlight === 0 || this.#pending.length >= this.options.maxItems) {
        this.#flush();
      } else if (this.#timer === undefined) {
        this.#timer = setTimeout(() => this.#flush(), this.options.windowMs);
      }
    });
  }

  #flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#pending.length === 0) return;
    const group = this.#pending.splice(0, this.options.maxItems);
    // More than one group's worth waited: the rest form the next group, on its own window.
    if (this.#pending.length > 0) {
      this.#timer = setTimeout(() => this.#flush(), this.options.windowMs);
    }
    this.#inFlight++;
    this.stats.groups++;
    this.stats.items += group.length;
    this.stats.largest = Math.max(this.stats.largest, group.length);
    let results: Promise<R[]>;
    try {
      results = this.run(group.map((w) => w.item));
    } catch (err) {
      results = Promise.reject(err);
    }
    results.then((values) => {
      group.forEach((w, i) => {
        if (i < values.length) w.resolve(values[i]);
        else w.reject(new Error("group commit: no result for an item"));
      });
    }, (err) => {
      for (const w of group) w.reject(err);
    }).finally(() => {
      this.#inFlight--;
      // The next group leaves as soon as this one is done (the window only caps the wait).
      if (this.#pending.length > 0) this.#flush();
    });
  }
}
