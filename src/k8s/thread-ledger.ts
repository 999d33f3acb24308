/**
 * The ledger of open Slack threads: system UID → where its thread is. It lets Tycho tell a thread
 * that its system was deleted while no Tycho was running (the Deployment, and its annotations,
 * are gone by then). It lives in the annotations of the leader-election Lease, which Tycho may
 * already get/patch by name, so it needs no object and no permission of its own.
 *
 * Every write is a per-key merge patch; a claim carries the resourceVersion it read as a
 * precondition, so of two writers racing for the same entry one gets 409 and stands down.
 */
import { CoordinationV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { PREFIX } from './labels.js';
import { isConflict, isNotFound, callKubernetes, toTychoError } from './kube.js';

const KEY_PREFIX = `${PREFIX}/thread.`;

export interface ThreadEntry {
  name: string;
  channel: string;
  ts: string;
  readyTs?: string;
  /** For the root message's last words when the Deployment is long gone. */
  image?: string;
  owner?: string;
  ownerId?: string;
  /** Set by the writer that won the right to post the thread's last word. */
  closing?: true;
}

export class ThreadLedger {
  private readonly api: CoordinationV1Api;

  constructor(
    kc: KubeConfig,
    readonly namespace: string,
    readonly leaseName: string,
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
  }

  private async read(): Promise<V1Lease> {
    return callKubernetes('read the leader Lease', () => this.api.readNamespacedLease({ namespace: this.namespace, name: this.leaseName }));
  }

  async entries(): Promise<Map<string, ThreadEntry>> {
    const lease = await this.read();
    const out = new Map<string, ThreadEntry>();
    for (const [k, v] of Object.entries(lease.metadata?.annotations ?? {})) {
      if (!k.startsWith(KEY_PREFIX)) continue;
      try {
        out.set(k.slice(KEY_PREFIX.length), JSON.parse(v) as ThreadEntry);
      } catch {
        // an entry someone edited by hand: ignore it rather than fail every reconcile
      }
    }
    return out;
  }

  private async patch(annotations: Record<string, string | null>, resourceVersion?: string): Promise<void> {
    await this.api.patchNamespacedLease(
      { namespace: this.namespace, name: this.leaseName, body: { metadata: { annotations, ...(resourceVersion ? { resourceVersion } : {}) } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  /** Adds or replaces one entry (idempotent). */
  async put(uid: string, entry: ThreadEntry): Promise<void> {
    try {
      await this.patch({ [KEY_PREFIX + uid]: JSON.stringify(entry) });
    } catch (e) {
      throw toTychoError(e, 'record the Slack thread in the leader Lease');
    }
  }

  /**
   * Claims the right to close the thread: true for exactly one caller. False when the entry is
   * gone or already claimed, or another writer changed the Lease first.
   */
  async claimClosing(uid: string): Promise<ThreadEntry | undefined> {
    // The leader renews the Lease every few seconds, so a 409 usually means "renewed": read again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const lease = await this.read();
      const raw = lease.metadata?.annotations?.[KEY_PREFIX + uid];
      if (!raw) return undefined;
      const entry = JSON.parse(raw) as ThreadEntry;
      if (entry.closing) return undefined;
      try {
        await this.patch({ [KEY_PREFIX + uid]: JSON.stringify({ ...entry, closing: true }) }, lease.metadata?.resourceVersion);
        return entry;
      } catch (e) {
        if (isNotFound(e)) return undefined;
        if (!isConflict(e)) throw toTychoError(e, 'claim the Slack thread in the leader Lease');
      }
    }
    return undefined;
  }

  async remove(uid: string): Promise<void> {
    try {
      await this.patch({ [KEY_PREFIX + uid]: null });
    } catch (e) {
      if (!isNotFound(e)) throw toTychoError(e, 'remove the Slack thread from the leader Lease');
    }
  }
}
