/**
 * What a store makes on first use and shares with every later call (a driver, a connection, its
 * tables). A failed attempt is forgotten, so the next call tries again: a driver installed since,
 * or a server that came back, is picked up without a new store.
 */
export class MadeOnFirstUse<T> {
  #made: Promise<T> | undefined;
  constructor(private readonly make: () => Promise<T>) {}

  /** The shared promise, made now when there is none (or the last one failed). */
  get(): Promise<T> {
    if (this.#made === undefined) {
      const made = this.make();
      this.#made = made;
      made.catch(() => {
        if (this.#made === made) this.#made = undefined;
      });
    }
    return this.#made;
  }

  /** The promise made so far, without making one. */
  get current(): Promise<T> | undefined {
    return this.#made;
  }
}
