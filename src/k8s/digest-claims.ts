/**
 * The claim on one day's digest: a small ConfigMap `tycho-digest-YYYY-MM-DD` in the namespace
 * the systems live in (where the role already creates ConfigMaps, for the thread records). A
 * create either makes it (this writer sends that day's digest) or finds it made (409: someone
 * already did, before a failover or a restart, or another replica at the same moment). Kubernetes
 * holds it, so "once a day" survives any process. Claims older than DIGEST_CLAIMS_KEPT_DAYS are
 * deleted by whoever claims a new day.
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { isConflict, isNotFound, toTychoError } from './kube.js';
import * as labels from './labels.js';

export const DIGEST_LABEL = `${labels.PREFIX}/digest`;
const DIGEST_SELECTOR = `${DIGEST_LABEL}=day`;
export const DIGEST_CLAIMS_KEPT_DAYS = 7;

export const digestClaimName = (day: string): string => `tycho-digest-${day}`;

export class DigestClaims {
  private readonly api: CoreV1Api;

  constructor(
    kc: KubeConfig,
    private readonly namespace: string,
  ) {
    this.api = kc.makeApiClient(CoreV1Api);
  }

  /** True when this call claimed the day (and so sends its digest); false when it was claimed already. */
  async claim(day: string, by: string): Promise<boolean> {
    try {
      await this.api.createNamespacedConfigMap({
        namespace: this.namespace,
        body: {
          metadata: { name: digestClaimName(day), labels: { [DIGEST_LABEL]: 'day' } },
          data: { day, by },
        },
      });
    } catch (e) {
      if (isConflict(e)) return false;
      throw toTychoError(e, "claim the day's digest");
    }
    await this.sweep(day).catch(() => undefined); // old claims are tidied next time
    return true;
  }

  /** Deletes the claims of days more than DIGEST_CLAIMS_KEPT_DAYS before `day`. */
  private async sweep(day: string): Promise<void> {
    const cutoff = new Date(Date.parse(`${day}T00:00:00Z`) - DIGEST_CLAIMS_KEPT_DAYS * 86_400_000).toISOString().slice(0, 10);
    const found = await this.api.listNamespacedConfigMap({ namespace: this.namespace, labelSelector: DIGEST_SELECTOR });
    for (const cm of found.items) {
      const name = cm.metadata?.name ?? '';
      if (name >= digestClaimName(cutoff)) continue;
      await this.api.deleteNamespacedConfigMap({ namespace: this.namespace, name }).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    }
  }
}
