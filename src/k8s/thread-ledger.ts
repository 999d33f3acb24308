/**
 * The ledger of open Slack threads: system UID → where its thread is. It lets Tycho tell a thread
 * that its system was deleted while no Tycho was running (the Deployment, and its annotations,
 * are gone by then).
 *
 * It lives in a ConfigMap of its own (one key per system), next to the leader Lease and named
 * after it (`tycho-leader` → `tycho-threads`), which Tycho may get and patch by name only.
 * Not in the Lease itself: every ledger write would change the Lease under its holder, whose
 * renewals (updates guarded by the resourceVersion) would then conflict and retry, and every
 * renewal would carry the whole ledger.
 *
 * Writes never conflict with each other: an entry is added or replaced by a merge patch of its
 * own key, and the right to close a thread is taken by removing its entry with a JSON patch that
 * first tests the entry's value. Of two writers racing to close, exactly one removes it.
 */
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { apiCode, isNotFound, toTychoError } from './kube.js';
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

/** The ConfigMap that keeps the ledger for a leader Lease of this name. */
export function ledgerNameFor(leaseName: string): string {
  return leaseName.endsWith('-leader') ? `${leaseName.slice(0, -'-leader'.length)}-threads` : `${leaseName}-threads`;
}

/**
 * An entry as stored: JSON with every character outside printable ASCII, and < > &, escaped.
 * The API server's JSON patch `test` compares the stored value's bytes as Go re-encodes them,
 * and Go escapes < > & (and writes some control characters differently from JavaScript), so an
 * entry naming "<@U0ALICE001>" would otherwise never match and its thread could never be closed.
 */
export function entryText(entry: ThreadEntry): string {
  return JSON.stringify(entry).replace(/[^\x20-\x7e]|[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export class ThreadLedger {
  private readonly api: CoreV1Api;
  readonly name: string;
  /** Each entry's text as last written or read here: what a closing claim tests for. */
  private readonly known = new Map<string, string>();

  constructor(
    kc: KubeConfig,
    readonly namespace: string,
    leaseName: string,
  ) {
    this.api = kc.makeApiClient(CoreV1Api);
    this.name = ledgerNameFor(leaseName);
  }

  private async read(): Promise<V1ConfigMap | undefined> {
    try {
      return await this.api.readNamespacedConfigMap({ namespace: this.namespace, name: this.name });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw toTychoError(e, 'read the ledger of Slack threads');
    }
  }

  /**
   * Every entry. Read by each new leader before it catches up; a ledger that is not there yet
   * (a Tycho run outside a cluster: the manifests create it) is created empty here, once, so no
   * launch pays for it.
   */
  async entries(): Promise<Map<string, ThreadEntry>> {
    const out = new Map<string, ThreadEntry>();
    const cm = (await this.read()) ?? (await this.create({}));
    for (const [uid, raw] of Object.entries(cm?.data ?? {})) {
      try {
        out.set(uid, JSON.parse(raw) as ThreadEntry);
        this.known.set(uid, raw);
      } catch {
        // an entry someone edited by hand: ignore it rather than fail every reconcile
      }
    }
    return out;
  }

  /** Adds or replaces one entry (idempotent). */
  async put(uid: string, entry: ThreadEntry): Promise<void> {
    const raw = entryText(entry);
    const body = { data: { [uid]: raw } };
    try {
      await this.api.patchNamespacedConfigMap({ namespace: this.namespace, name: this.name, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    } catch (e) {
      if (!isNotFound(e)) throw toTychoError(e, 'record the Slack thread in the ledger');
      // The manifests create it; a Tycho run outside a cluster creates its own on first use.
      if (!(await this.create(body.data))) return this.put(uid, entry); // another replica created it meanwhile
    }
    this.known.set(uid, raw);
  }

  /** Creates the ledger with `data`; undefined when it exists already. */
  private async create(data: Record<string, string>): Promise<V1ConfigMap | undefined> {
    try {
      return await this.api.createNamespacedConfigMap({ namespace: this.namespace, body: { metadata: { name: this.name, labels: { [labels.LABEL_NAME]: 'tycho' } }, data } });
    } catch (err) {
      if (apiCode(err) === 409) return undefined;
      throw toTychoError(err, 'create the ledger of Slack threads');
    }
  }

  /**
   * Takes the right to close the thread: removes its entry, if it still reads as this process
   * last saw it. True for exactly one caller; false when the entry is gone (another writer took
   * it) or was never there.
   */
  async take(uid: string): Promise<boolean> {
    for (let attempt = 0; attempt < 3; attempt++) {
      let raw = this.known.get(uid);
      if (raw === undefined) {
        raw = (await this.read())?.data?.[uid];
        if (raw === undefined) return false;
      }
      const path = `/data/${uid.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      try {
        await this.api.patchNamespacedConfigMap(
          { namespace: this.namespace, name: this.name, body: [{ op: 'test', path, value: raw }, { op: 'remove', path }] },
          setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
        );
        this.known.delete(uid);
        return true;
      } catch (e) {
        if (isNotFound(e)) return false;
        // 422: the test failed (the entry changed, e.g. its Ready reply was added, or is gone):
        // read it again.
        if (apiCode(e) !== 422 && apiCode(e) !== 500) throw toTychoError(e, 'claim the Slack thread in the ledger');
        this.known.delete(uid);
      }
    }
    return false;
  }
}
