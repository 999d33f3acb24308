/**
 * What a Kubernetes API request is, in the API server's own verbs (as its audit log names
 * them): list, watch, get, create, update, patch, delete, deletecollection; discovery and
 * anything else is "other".
 */
export type Verb = 'list' | 'watch' | 'get' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'other';

export const VERBS: readonly Verb[] = ['list', 'watch', 'get', 'create', 'update', 'patch', 'delete', 'deletecollection', 'other'];

/** Writes change the cluster; the targets count them apart from reads and watches. */
export const WRITE_VERBS: ReadonlySet<Verb> = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export interface Classified {
  verb: Verb;
  /** e.g. "deployments", "pods/status"; "" for discovery. */
  resource: string;
}

/** /api/v1/namespaces/ns/pods/name/status → resource pods/status, named; /apis/apps/v1/deployments → collection. */
function resourceOf(pathname: string): { resource: string; named: boolean } | undefined {
  const parts = pathname.split('/').filter(Boolean);
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) rest = parts.slice(2);
  else if (parts[0] === 'apis' && parts.length >= 3) rest = parts.slice(3);
  else return undefined;
  // namespaces/NS/RESOURCE/... is namespaced; "namespaces" or "namespaces/NS" alone is the Namespace resource.
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  if (rest.length === 0) return undefined;
  const [resource, name, sub] = rest;
  return { resource: sub ? `${resource}/${sub}` : resource!, named: name !== undefined };
}

export function classify(method: string, url: string): Classified {
  const u = new URL(url, 'https://api.invalid');
  const r = resourceOf(u.pathname);
  if (!r) return { verb: 'other', resource: '' };
  const watch = u.searchParams.get('watch');
  switch (method.toUpperCase()) {
    case 'GET':
      if (watch === 'true' || watch === '1') return { verb: 'watch', resource: r.resource };
      return { verb: r.named ? 'get' : 'list', resource: r.resource };
    case 'POST':
      return { verb: 'create', resource: r.resource };
    case 'PUT':
      return { verb: 'update', resource: r.resource };
    case 'PATCH':
      return { verb: 'patch', resource: r.resource };
    case 'DELETE':
      return { verb: r.named ? 'delete' : 'deletecollection', resource: r.resource };
    default:
      return { verb: 'other', resource: r.resource };
  }
}
