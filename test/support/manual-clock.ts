/**
 * A clock a test moves by hand, so a test never waits for real time to pass:
 * - `new ManualClock(at)` stands still at `at` until set() or advance() moves it: for background
 *   work that runs at a wall-clock time (the daily digest's DigestClock);
 * - `new ManualClock()` runs with the real clock, plus however far the test moved it: for
 *   SlackIO's Clock, whose sleeps (a Retry-After, a channel's pace) last until the test moves the
 *   clock past them, so a wait is seen as a wait.
 * Timers and sleeps fire in time order once the clock passes them. InstantClock, below, is the
 * other kind SlackIO's tests use: its sleeps end at once.
 */
export class ManualClock {
  private offset: number;
  private readonly standsStill: boolean;
  private timers: { at: number; fn: () => void }[] = [];
  private onSleep?: () => void;

  constructor(at?: number) {
    this.standsStill = at !== undefined;
    this.offset = at ?? 0;
  }

  now = (): number => (this.standsStill ? this.offset : Date.now() + this.offset);

  setTimeout = (fn: () => void, ms: number): (() => void) => {
    const t = { at: this.now() + Math.max(0, ms), fn };
    this.timers.push(t);
    return () => {
      this.timers = this.timers.filter((x) => x !== t);
    };
  };

  sleep = (ms: number): Promise<void> =>
    new Promise<void>((wake) => {
      this.setTimeout(wake, ms);
      this.onSleep?.();
    });

  /** Resolves once something sleeps (or waits on a timer) on this clock. */
  someoneSleeps(): Promise<void> {
    if (this.timers.length) return Promise.resolve();
    return new Promise((r) => (this.onSleep = r));
  }

  /** Moves the clock on by `ms`, and runs what is due by then. */
  advance(ms: number): void {
    this.offset += ms;
    this.fire();
  }

  /** Moves a clock that stands still to `when`, and runs what is due by then. */
  set(when: Date | number): void {
    this.offset = typeof when === 'number' ? when : when.getTime();
    this.fire();
  }

  private fire(): void {
    const now = this.now();
    const due = this.timers.filter((t) => t.at <= now).sort((a, b) => a.at - b.at);
    this.timers = this.timers.filter((t) => !due.includes(t));
    for (const t of due) t.fn();
  }
}

/** For SlackIO's Clock: sleeps pass at once, and now() moves by the time they would have taken. */
export class InstantClock {
  slept = 0;
  /**
   * Moved by sleeps alone: were real time added too, a wait worked out as a deadline minus now
   * (a Retry-After counted from the 429) would come out a millisecond or two short, as it did in CI.
   */
  private readonly start = Date.now();
  now = (): number => this.start + this.slept;
  sleep = async (ms: number): Promise<void> => {
    this.slept += ms;
  };
}
