/**
 * The image allowlist (policy: images.allow), in the spirit of KubeSpawner's profile_list: an
 * image is allowed when its full reference (registry and repository, as the container runtime
 * reads it: `nginx` is docker.io/library/nginx) falls under one of the operator's rules.
 *
 * A rule is a registry/repository prefix (`ghcr.io/our-org/`, or a whole repository
 * `docker.io/library/nginx`), or a pattern where `*` stands for any run of characters within
 * one path segment (`docker.io/jupyter/*-notebook`). A prefix ends at a segment boundary, so
 * `ghcr.io/our-org` does not admit `ghcr.io/our-org-evil/x`. Tags and digests are never part of
 * a rule: an allowed repository is allowed at any tag.
 */

export interface ImageRule {
  /** As the operator wrote it, for refusals. */
  text: string;
  matches(repository: string): boolean;
}

/** lower-case registry host (with a dot or a port, or localhost), then path segments; `*` allowed. */
const RULE_RE = /^(localhost|[a-z0-9-]+(\.[a-z0-9-]+)+|[a-z0-9.-]+:\d{1,5})(:\d{1,5})?(\/[a-z0-9*._-]+)*\/?$/;

export const IMAGE_RULE_FORM = 'a registry/repository prefix such as ghcr.io/our-org/, or a pattern such as docker.io/jupyter/*-notebook';

/** null when the text is a rule, else why not (the expected form). */
export function checkImageRule(text: string): string | null {
  if (!RULE_RE.test(text) || text.includes('**') || /^[^/]*\*/.test(text)) return `must be ${IMAGE_RULE_FORM}`;
  if (!text.includes('/')) return `must name a repository or path under the registry, e.g. ${text}/our-org/`;
  return null;
}

const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

export function imageRule(text: string): ImageRule {
  if (text.includes('*')) {
    const re = new RegExp(`^${text.split('*').map(escape).join('[^/]*')}${text.endsWith('/') ? '' : '$'}`);
    return { text, matches: (repo) => re.test(repo) };
  }
  const prefix = text.endsWith('/') ? text : `${text}/`;
  return { text, matches: (repo) => repo === text || repo.startsWith(prefix) };
}

/**
 * The registry and repository of an image reference, as a container runtime resolves it:
 * without tag or digest, with docker.io/library/ for a bare name and docker.io/ for a
 * registry-less path (index.docker.io is docker.io).
 */
export function imageRepository(image: string): string {
  let ref = image.trim();
  const at = ref.indexOf('@');
  if (at >= 0) ref = ref.slice(0, at);
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) ref = ref.slice(0, colon);
  const parts = ref.split('/');
  const first = parts[0]!;
  const hasRegistry = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) return `docker.io/${parts.length === 1 ? 'library/' : ''}${ref}`.toLowerCase();
  const registry = first.toLowerCase() === 'index.docker.io' ? 'docker.io' : first.toLowerCase();
  return [registry, ...parts.slice(1)].join('/');
}

export function imageAllowed(image: string, rules: readonly ImageRule[]): boolean {
  const repo = imageRepository(image);
  return rules.some((r) => r.matches(repo));
}
