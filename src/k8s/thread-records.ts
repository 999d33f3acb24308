/**
 * One small record per open Slack thread: what lets Tycho tell a thread that its system was
 * deleted while no Tycho was running (the Deployment, and its annotations, are gone by then).
 *
 * Each record is a ConfigMap of its own, `tycho-thread-<system uid>`, in the namespace the systems
 * live in (where Tycho already creates and deletes Deployments and Services). Every change writes
 * one object of a few hundred bytes, whatever the number of open threads: opening a thread is a
 * create, the Ready reply's ts is a merge patch, closing is a JSON patch. A single ConfigMap
 * holding every thread (the earlier ledger) passed etcd's 1 MiB limit at about 3,000 threads and
 * rewrote the whole map on every change.
 *
 * Closing is the claim on the closing words: a JSON patch that tests `state: open` and replaces
 * it with `closed`. Of two writers exactly one passes the test (the other gets 422). A closed
 * record stays for a while as a tombstone: a writer that lags (a lapsed leader, a view that has not
 * yet seen the deletion) cannot open it again, since opening is a create and the name is taken.
 * The leader sweeps tombstones older than TOMBSTONE_MS.
 */
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { apiCode, isConflict, isNotFound, toTychoError } from './kube.js';
import * as labels from './labels.js';

export interface ThreadEntry {
  name: string;
  channel: string;
  ts: string;
  readyTs?: string;
  /** For the root message's last words when the Deployment is long gone. */
  image?: string;
  owner?: string;
  ownerId?: string;
}

/** Every record carries this label, so one (paged) list finds them all. */
export const RECORD_LABEL = `${labels.PREFIX}/slack-thread`;
const RECORD_SELECTOR = `${RECORD_LABEL}=record`;
/** How long a closed record is kept, so that no lagging writer can open it again. */
export const TOMBSTONE_MS = 60 * 60_000;
/** Records per page when a new leader reads them all: bounded memory for one response. */
const PAGE = 500;

export function recordName(uid: string): string {
  return `tycho-thread-${uid}`;
}

export interface ThreadRecord {
  uid: string;
  entry: ThreadEntry;
  open: boolean;
  /** When it was closed (this process's clock at the time), for the sweep. */
  closedAt?: number;
}

/** Closings this process remembers (the newest), for closedHere. */
const CLOSED_HERE_KEPT = 10_000;

export class ThreadRecords {
  private readonly api: CoreV1Api;
  /** Threads this process closed (take won), newest last. */
  private readonly closed = new Set<string>();

  constructor(
    kc: KubeConfig,
    readonly namespace: string,
  ) {
    this.api = kc.makeApiClient(CoreV1Api);
  }

  private body(uid: string, entry: ThreadEntry, state: 'open' | 'closed'): V1ConfigMap {
    const { readyTs, ...rest } = entry;
    return {
      metadata: { name: recordName(uid), labels: { [RECORD_LABEL]: 'record', [labels.LABEL_NAME]: 'tycho' }, annotations: { [`${labels.PREFIX}/system-uid`]: uid } },
      data: { state, entry: JSON.stringify(rest), ...(readyTs ? { readyTs } : {}), ...(state === 'closed' ? { closedAt: new Date().toISOString() } : {}) },
    };
  }

  /**
   * Records an open thread. Never overwrites: a record that exists (open, or closed by whoever
   * saw the system go) is left as it is, so a late writer cannot reopen a closed thread.
   */
  async open(uid: string, entry: ThreadEntry): Promise<'open' | 'closed'> {
    try {
      await this.api.createNamespacedConfigMap({ namespace: this.namespace, body: this.body(uid, entry, 'open') });
      return 'open';
    } catch (e) {
      if (!isConflict(e)) throw toTychoError(e, 'record the Slack thread');
    }
    // Recorded already: by another replica (open), or closed by whoever had the last word, e.g. a
    // launch's front end that undid it and said so. Rare (one read), and it decides whether the
    // thread may still hear anything.
    // A list by name, not a get: the role lists records (catch-up) and has no get on ConfigMaps.
    let found;
    try {
      found = await this.api.listNamespacedConfigMap({ namespace: this.namespace, fieldSelector: `metadata.name=${recordName(uid)}`, labelSelector: RECORD_SELECTOR });
    } catch (e) {
      throw toTychoError(e, 'read the record of the Slack thread');
    }
    // None: swept, so closed long ago.
    return found.items[0]?.data?.state === 'open' ? 'open' : 'closed';
  }

  /** Adds the Ready reply's ts (so closing words can take its buttons away); a record gone stays gone. */
  async setReadyTs(uid: string, readyTs: string): Promise<void> {
    try {
      await this.api.patchNamespacedConfigMap({ namespace: this.namespace, name: recordName(uid), body: { data: { readyTs } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    } catch (e) {
      if (isNotFound(e)) return;
      throw toTychoError(e, 'record the Ready reply of the Slack thread');
    }
  }

  /**
   * Takes the right to close the thread: true for exactly one caller. A thread never recorded (its
   * system went before any reconcile got to it) is recorded closed by the caller that wins the
   * create. Throws (a TychoError) when the API cannot say: the caller must not post then, and tries
   * again later.
   */
  async take(uid: string, entry: ThreadEntry): Promise<boolean> {
    const won = await this.takeOnce(uid, entry);
    if (won) this.remember(uid);
    return won;
  }

  /**
   * Whether this process closed the thread of `uid`: a launch's front end that undid it and said
   * so. The reconciler in the same process then leaves the thread alone at once, even while its
   * view still shows the system as it was before the undo (a watch that lags after an outage) and
   * its record was opened before the front end closed it.
   */
  closedHere(uid: string): boolean {
    return this.closed.has(uid);
  }

  private remember(uid: string): void {
    this.closed.add(uid);
    if (this.closed.size > CLOSED_HERE_KEPT) this.closed.delete(this.closed.values().next().value!);
  }

  private async takeOnce(uid: string, entry: ThreadEntry): Promise<boolean> {
    const ops = [
      { op: 'test', path: '/data/state', value: 'open' },
      { op: 'replace', path: '/data/state', value: 'closed' },
      { op: 'add', path: '/data/closedAt', value: new Date().toISOString() },
    ];
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.api.patchNamespacedConfigMap({ namespace: this.namespace, name: recordName(uid), body: ops }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
        return true;
      } catch (e) {
        // 422: the test failed, someone closed it already.
        if (apiCode(e) === 422) return false;
        if (!isNotFound(e)) throw toTychoError(e, 'claim the closing of the Slack thread');
      }
      try {
        await this.api.createNamespacedConfigMap({ namespace: this.namespace, body: this.body(uid, entry, 'closed') });
        return true;
      } catch (e) {
        // Someone recorded it meanwhile (open or closed): test it again.
        if (!isConflict(e)) throw toTychoError(e, 'claim the closing of the Slack thread');
      }
    }
    return false;
  }

  /** Every record, read in pages. */
  async all(): Promise<ThreadRecord[]> {
    const out: ThreadRecord[] = [];
    let _continue: string | undefined;
    do {
      let page;
      try {
        page = await this.api.listNamespacedConfigMap({ namespace: this.namespace, labelSelector: RECORD_SELECTOR, limit: PAGE, ...(_continue ? { _continue } : {}) });
      } catch (e) {
        throw toTychoError(e, 'read the records of Slack threads');
      }
      for (const cm of page.items) {
        const r = recordOf(cm);
        if (r) out.push(r);
      }
      _continue = page.metadata?._continue || undefined;
    } while (_continue);
    return out;
  }

  /** Removes tombstones older than TOMBSTONE_MS; best effort (the next sweep retries). */
  async sweep(records: ThreadRecord[], now = Date.now()): Promise<number> {
    let removed = 0;
    for (const r of records) {
      if (r.open || r.closedAt === undefined || now - r.closedAt < TOMBSTONE_MS) continue;
      try {
        await this.api.deleteNamespacedConfigMap({ namespace: this.namespace, name: recordName(r.uid) });
        removed++;
      } catch (e) {
        if (!isNotFound(e)) throw toTychoError(e, 'remove an old record of a Slack thread');
      }
    }
    return removed;
  }
}

function recordOf(cm: V1ConfigMap): ThreadRecord | undefined {
  const uid = cm.metadata?.annotations?.[`${labels.PREFIX}/system-uid`];
  const d = cm.data ?? {};
  if (!uid || !d.entry) return undefined;
  try {
    const entry = JSON.parse(d.entry) as ThreadEntry;
    if (d.readyTs) entry.readyTs = d.readyTs;
    const closedAt = d.closedAt ? Date.parse(d.closedAt) : undefined;
    return { uid, entry, open: d.state === 'open', ...(closedAt !== undefined && !Number.isNaN(closedAt) ? { closedAt } : {}) };
  } catch {
    // a record someone edited by hand: ignore it rather than fail every catch-up
    return undefined;
  }
}
