/**
 * The URL check as recorded on the Deployment (`tycho.renci.org/url-check`), the one place its
 * shape is written and read. A verdict holds for the Service (and Ingress) it was made through:
 * one made again (by the repair, system-repair.ts, after a crash or a `kubectl delete`) is a new
 * route a kube-proxy or ingress controller has yet to program, so a verdict recorded for the old
 * one says nothing about the URL now, and is read as no verdict until the URL is opened again.
 */
import type { V1Ingress, V1Service } from '@kubernetes/client-node';
import type { UrlVerdict } from './url-probe.js';

/** The objects a URL is served through. */
export interface UrlRoutes {
  service?: V1Service | undefined;
  ingress?: V1Ingress | undefined;
}

interface Recorded extends UrlVerdict {
  /** The uid of the Service the check went through. */
  service?: string;
  /** The uid of the Ingress, when there was one. */
  ingress?: string;
}

export function urlCheckAnnotation(verdict: UrlVerdict, routes: UrlRoutes): string {
  const service = routes.service?.metadata?.uid;
  const ingress = routes.ingress?.metadata?.uid;
  const recorded: Recorded = { ...verdict, ...(service ? { service } : {}), ...(ingress ? { ingress } : {}) };
  return JSON.stringify(recorded);
}

/**
 * The recorded verdict if it was made through these very objects, else undefined. A reader that
 * does not follow Ingresses (no ingress domain configured) judges by the Service alone. Records
 * from before the uids were kept are taken as they are.
 */
export function currentUrlCheck(annotation: string | undefined, routes: UrlRoutes): UrlVerdict | undefined {
  const r = parse(annotation);
  if (!r) return undefined;
  if (r.service !== undefined && r.service !== routes.service?.metadata?.uid) return undefined;
  if (r.ingress !== undefined && routes.ingress && r.ingress !== routes.ingress.metadata?.uid) return undefined;
  return { checked: r.checked, verified: r.verified, ...(r.reason !== undefined ? { reason: r.reason } : {}) };
}

function parse(text: string | undefined): Recorded | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as Partial<Recorded>;
    if ((v.checked === 'public' || v.checked === 'cluster' || v.checked === 'none') && typeof v.verified === 'boolean') {
      return {
        checked: v.checked,
        verified: v.verified,
        ...(typeof v.reason === 'string' ? { reason: v.reason } : {}),
        ...(typeof v.service === 'string' ? { service: v.service } : {}),
        ...(typeof v.ingress === 'string' ? { ingress: v.ingress } : {}),
      };
    }
  } catch {
    // someone else's edit of our annotation: report nothing rather than fail
  }
  return undefined;
}
