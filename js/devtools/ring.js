// A fixed-size ring buffer: the devtools keep the last N records of each
// kind and never more, however long the page lives.

/** @template T */
export class RingBuffer {
  /** @param {number} capacity at least 1 */
  constructor(capacity) {
    this.capacity = Math.max(1, Math.floor(capacity) || 1);
    /** @type {T[]} */
    this.items = [];
    this.start = 0;
    /** How many items were pushed out to make room. */
    this.dropped = 0;
  }

  /** @param {T} item */
  push(item) {
    if (this.items.length < this.capacity) {
      this.items.push(item);
    } else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
      this.dropped++;
    }
  }

  get length() {
    return this.items.length;
  }

  /** The items, oldest first. @returns {T[]} */
  toArray() {
    return this.start === 0 ? this.items.slice() : [...this.items.slice(this.start), ...this.items.slice(0, this.start)];
  }

  clear() {
    this.items = [];
    this.start = 0;
    this.dropped = 0;
  }
}
