/**
 * A clock a test moves by hand: `now` is what it was set to, and timers fire only when the test
 * moves it past them (set()). For background work that runs at a wall-clock time (the daily
 * digest), so a test never waits for that time.
 */
export class ManualClock {
  private timers: { at: number; fn: () => void }[] = [];

  constructor(private at: number) {}

  now = (): number => this.at;

  setTimeout = (fn: () => void, ms: number): (() => void) => {
    const t = { at: this.at + Math.max(0, ms), fn };
    this.timers.push(t);
    return () => {
      this.timers = this.timers.filter((x) => x !== t);
    };
  };

  /** Moves the clock to `when` and runs every timer due by then, in time order. */
  set(when: Date | number): void {
    this.at = typeof when === 'number' ? when : when.getTime();
    const due = this.timers.filter((t) => t.at <= this.at).sort((a, b) => a.at - b.at);
    this.timers = this.timers.filter((t) => !due.includes(t));
    for (const t of due) t.fn();
  }
}
