/**
 * Claim → post → record, the Kubernetes half. Before Tycho posts a message that must appear once
 * (a Ready reply, a notice), it writes a claim into the system's Deployment with the
 * resourceVersion it read as a precondition: of two writers (two replicas, or a process and its
 * successor) exactly one succeeds, the other gets 409, reads again and finds the claim taken.
 * After the post, the message's ts replaces the claim. A post whose record failed stays
 * "claimed": never posted twice (at most once), and the root message still tells the truth.
 */
import { AppsV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { apiCode, isConflict, isNotFound, toTychoError } from './kube.js';
import { patchDeploymentAnnotations } from './deployment-annotations.js';

export const CLAIMED = 'claimed';
/** A message nobody has claimed yet, written when the system is created. */
export const UNCLAIMED = '';

/** A JSON pointer to an annotation. */
const annotationPath = (key: string) => `/metadata/annotations/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;

export class DeploymentClaims {
  private readonly apps: AppsV1Api;

  constructor(
    kc: KubeConfig,
    readonly namespace: string,
  ) {
    this.apps = kc.makeApiClient(AppsV1Api);
  }

  /**
   * Claims every key in `keys` on the Deployment with this UID, all or none, in one write that
   * also carries `alongside` (facts to record with the claim, e.g. the URL check, so they cost no
   * write of their own). True only for the one caller that wrote the claim; false when any key is
   * already set, or the Deployment is gone or replaced. `cached` (the live view's copy) saves the
   * read when it is current; a stale copy only costs a 409 and the read.
   */
  async claim(name: string, uid: string, keys: string[], o: { alongside?: Record<string, string>; cached?: V1Deployment } = {}): Promise<boolean> {
    const written = o.cached?.metadata?.annotations ?? {};
    // Created with the keys unclaimed: one JSON patch that tests this very Deployment and every
    // key still empty, then claims them. Of two claimants the second's test fails (422).
    if (o.cached && keys.every((k) => written[k] === UNCLAIMED)) return this.claimUnclaimed(name, uid, keys, o.alongside ?? {});
    const body = { ...o.alongside, ...Object.fromEntries(keys.map((k) => [k, CLAIMED])) };
    return this.guardedPatch(name, uid, (a) => !keys.some((k) => a[k]), body, o.cached, 'claim a Slack message on the Deployment');
  }

  /**
   * Moves one annotation from `expected` (undefined: not set) to `next` on the Deployment with this
   * UID, guarded by the resourceVersion read: true for exactly one of several callers making the
   * same move (an incident opened, or closed, is told once; a stale claim taken over).
   */
  swap(name: string, uid: string, key: string, expected: string | undefined, next: string, cached?: V1Deployment): Promise<boolean> {
    return this.guardedPatch(name, uid, (a) => a[key] === expected, { [key]: next }, cached, 'record a Slack message on the Deployment');
  }

  /**
   * Writes `annotations` (or what it makes of the annotations as read) on the Deployment with this
   * UID if `allowed` says yes to its annotations as read, with that read's resourceVersion as a
   * precondition: of two writers exactly one succeeds, the other gets 409, reads again and is
   * refused. False when refused, or when the Deployment is gone, replaced or being deleted.
   */
  async guardedPatch(
    name: string,
    uid: string,
    allowed: (a: Record<string, string>) => boolean,
    annotations: Record<string, string> | ((a: Record<string, string>) => Record<string, string>),
    cached: V1Deployment | undefined,
    doing: string,
  ): Promise<boolean> {
    let d = cached;
    for (let attempt = 0; attempt < 5; attempt++) {
      if (!d) {
        try {
          d = await this.apps.readNamespacedDeployment({ namespace: this.namespace, name });
        } catch (e) {
          if (isNotFound(e)) return false;
          throw toTychoError(e, 'read the Deployment');
        }
      }
      if (d.metadata?.uid !== uid || d.metadata?.deletionTimestamp) return false;
      const read = d.metadata?.annotations ?? {};
      if (!allowed(read)) return false;
      try {
        await this.patch(name, typeof annotations === 'function' ? annotations(read) : annotations, d.metadata?.resourceVersion);
        return true;
      } catch (e) {
        if (isNotFound(e)) return false;
        // Changed since we read it (a controller's status write, or a rival's claim): look again.
        if (!isConflict(e)) throw toTychoError(e, doing);
        d = undefined;
      }
    }
    return false;
  }

  private async claimUnclaimed(name: string, uid: string, keys: string[], alongside: Record<string, string>): Promise<boolean> {
    const ops = [
      { op: 'test', path: '/metadata/uid', value: uid },
      ...keys.flatMap((k) => [
        { op: 'test', path: annotationPath(k), value: UNCLAIMED },
        { op: 'replace', path: annotationPath(k), value: CLAIMED },
      ]),
      ...Object.entries(alongside).map(([k, v]) => ({ op: 'add', path: annotationPath(k), value: v })),
    ];
    try {
      await this.apps.patchNamespacedDeployment({ namespace: this.namespace, name, body: ops }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
      return true;
    } catch (e) {
      // 422: a test failed (claimed by someone else, or another system of that name); 404: gone.
      if (isNotFound(e) || apiCode(e) === 422) return false;
      throw toTychoError(e, 'claim a Slack message on the Deployment');
    }
  }

  /** Records what was posted (replacing the claim). Best effort: the claim already fences. */
  async record(name: string, annotations: Record<string, string>): Promise<void> {
    try {
      await this.patch(name, annotations);
    } catch (e) {
      if (!isNotFound(e)) throw toTychoError(e, 'record a Slack message on the Deployment');
    }
  }

  private async patch(name: string, annotations: Record<string, string>, resourceVersion?: string): Promise<void> {
    await patchDeploymentAnnotations(this.apps, { namespace: this.namespace, name, annotations, resourceVersion });
  }
}
