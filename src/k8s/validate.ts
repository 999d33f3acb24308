/**
 * Checks on each value a person types. Each returns null when fine, or one sentence that
 * says which rule is broken (and, for names, a valid suggestion).
 */
import { compareQuantity, INT64_MAX, isZero, parseCpu, parseMemory, quantityOf } from './quantity.js';

/**
 * A person's value quoted back in a sentence: at most 80 characters of it, so a name or image of
 * thousands (a fuzzer's, or a paste gone wrong) leaves the sentence readable.
 */
const shown = (v: string | undefined): string => (v !== undefined && v.length > 80 ? `${v.slice(0, 77)}…` : String(v));

const DNS_LABEL_MAX = 63;
// Services need names that start with a letter (RFC 1035), stricter than DNS-1123 labels.
const NAME_RE = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export function suggestName(name: string): string {
  let s = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, DNS_LABEL_MAX)
    .replace(/-+$/, '');
  if (!s) s = 'app';
  return s;
}

export function checkName(name: string): string | null {
  const why = (rule: string) => `The name "${shown(name)}" ${rule}; try "${shown(suggestName(name))}".`;
  if (name.length === 0) return 'The name is empty; give one with -n NAME.';
  if (name.length > DNS_LABEL_MAX) return why(`is ${name.length} characters long, and names may have at most ${DNS_LABEL_MAX}`);
  if (/[A-Z]/.test(name)) return why('has upper-case letters, and names must be lower case');
  if (/[^a-z0-9-]/.test(name)) return why('may contain only lower-case letters, digits and "-"');
  if (!/^[a-z]/.test(name)) return why('must start with a letter');
  if (!NAME_RE.test(name)) return why('must end with a letter or digit');
  return null;
}

export function checkPort(raw: string): string | null {
  if (!/^\d+$/.test(raw)) return `The port "${shown(raw)}" is not a number; give one between 1 and 65535.`;
  const n = Number(raw);
  if (n < 1 || n > 65535) return `The port ${raw} is outside 1–65535.`;
  return null;
}

// Docker's reference grammar (distribution/reference), without the ambiguity of a bare host.
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const DOMAIN = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?';
const IMAGE_RE = new RegExp(
  `^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`,
);

export function checkImage(image: string): string | null {
  if (!image) return 'The image is empty; give one with -c IMAGE.';
  if (image.length > 255) return `The image reference is ${image.length} characters long; the limit is 255.`;
  if (/\s/.test(image)) return `The image "${shown(image)}" contains a space.`;
  if (/[A-Z]/.test(image.split('/').slice(-1)[0]!.split(':')[0]!))
    return `The image "${shown(image)}" has upper-case letters in its repository name, which registries do not allow.`;
  if (!IMAGE_RE.test(image)) return `The image "${shown(image)}" is not a valid image reference (expected e.g. "jupyter/datascience-notebook:latest").`;
  return null;
}

/** The most Kubernetes can hold: its int64 of millicores, and of bytes (just under 8Ei). */
const MAX_CPU = quantityOf(INT64_MAX, 1000n);
const MAX_MEMORY = quantityOf(INT64_MAX);

export function checkCpu(q: string): string | null {
  const v = parseCpu(q);
  if (!v || isZero(v)) return `The cpu amount "${shown(q)}" is not valid; use cores like "0.5" or "2", or millicores like "500m".`;
  if (compareQuantity(v, MAX_CPU) > 0) return `The cpu amount "${shown(q)}" is too large: Kubernetes can hold at most ${INT64_MAX / 1000n} cores.`;
  return null;
}

export function checkMemory(q: string): string | null {
  const v = parseMemory(q);
  if (!v || isZero(v)) return `The memory amount "${shown(q)}" is not valid; use e.g. "512Mi", "1Gi" or "512M".`;
  if (compareQuantity(v, MAX_MEMORY) > 0) return `The memory amount "${shown(q)}" is too large: Kubernetes can hold less than 8Ei.`;
  return null;
}

export function checkGpu(q: string): string | null {
  if (!/^\d+$/.test(q) || Number(q) < 1 || Number(q) > 16) return `The gpu count "${shown(q)}" is not valid; give a whole number from 1 to 16.`;
  return null;
}

const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function checkEnv(pair: string): string | null {
  const eq = pair.indexOf('=');
  if (eq < 0) return `The environment setting "${shown(pair)}" has no "="; write it as KEY=VALUE.`;
  const key = pair.slice(0, eq);
  if (!ENV_KEY_RE.test(key)) return `The environment variable name "${shown(key)}" is not valid; use letters, digits and "_", not starting with a digit.`;
  return null;
}

type EnvVar = { name: string; value: string };

/** A secret variable is given once, and not also in plain text: the pod would get two values for one name. */
export function checkEnvNames(env: readonly EnvVar[], secretEnv: readonly EnvVar[]): string | null {
  const plain = new Set(env.map((e) => e.name));
  const seen = new Set<string>();
  for (const { name } of secretEnv) {
    if (plain.has(name)) return `The environment variable ${name} is given both in plain text and as a secret; give it once.`;
    if (seen.has(name)) return `The secret environment variable ${name} is given twice; give it once.`;
    seen.add(name);
  }
  return null;
}

export function parseEnvPair(pair: string): { name: string; value: string } {
  const eq = pair.indexOf('=');
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1) };
}

/**
 * The original Tycho accepted Docker-style limits: cpus as a plain fraction ("0.3") and memory
 * with decimal suffixes ("512M"). Kubernetes reads both as written ("0.3" cpu = 300m, "512M" =
 * 512,000,000 bytes), so normalising only means trimming and checking.
 */
export function normaliseMemory(q: string): string {
  return q.trim().replace(/b$/i, '');
}

const CLAIM_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

type Volume = { claim: string; path: string; readOnly: boolean; subPath?: string };

export function checkClaimName(claim: string): string | null {
  if (!CLAIM_RE.test(claim) || claim.length > 253) return `"${shown(claim)}" is not a PersistentVolumeClaim name (lower-case letters, digits, "-" and ".").`;
  return null;
}

/** An absolute path in the container, without "..", ":" or spaces at its ends. */
export function checkMountPath(path: string): string | null {
  if (!path.startsWith('/')) return `The mount path "${shown(path)}" must be absolute, e.g. /data.`;
  if (path.split('/').includes('..')) return `The mount path "${shown(path)}" may not contain "..".`;
  if (path.includes(':') || path.trim() !== path) return `The mount path "${shown(path)}" may not contain ":" or start or end with a space.`;
  return null;
}

/** `--volume CLAIM:/path[:ro]` (or `:rw`). Null when fine, else the sentence. */
export function checkVolume(text: string): string | null {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) return `The volume "${shown(text)}" is not CLAIM:/path or CLAIM:/path:ro.`;
  if (parts.length === 3 && parts[2] !== 'ro' && parts[2] !== 'rw') return `The volume "${shown(text)}" ends in "${shown(parts[2])}"; the only options are :ro (read-only) and :rw.`;
  return checkClaimName(parts[0]) ?? checkMountPath(parts[1]);
}

export function parseVolume(text: string): Volume {
  const [claim, path, mode] = text.split(':') as [string, string, string?];
  return { claim, path, readOnly: mode === 'ro' };
}

/**
 * The original REST API's volume shape: "pvc://CLAIM/SUBPATH:/path" (SUBPATH optional), and
 * Tycho's addition of a trailing ":ro".
 */
const WIRE_VOLUME_RE = /^pvc:\/\/([^/:]+)(?:\/([^:]*))?:([^:]+)(?::(ro|rw))?$/;

export function checkWireVolume(text: string): string | null {
  const m = WIRE_VOLUME_RE.exec(text);
  if (!m) return `The volume "${shown(text)}" is not pvc://CLAIM/SUBPATH:/path (SUBPATH optional, :ro for read-only).`;
  return checkVolumes([parseWireVolume(text)]);
}

export function parseWireVolume(text: string): Volume {
  const [, claim, sub, path, mode] = WIRE_VOLUME_RE.exec(text)!;
  const subPath = sub?.replace(/\/+$/, '');
  return { claim: claim!, path: path!, readOnly: mode === 'ro', ...(subPath ? { subPath } : {}) };
}

export function wireVolume(v: Volume): string {
  return `pvc://${v.claim}${v.subPath ? `/${v.subPath}` : ''}:${v.path}${v.readOnly ? ':ro' : ''}`;
}

/** Every mount on its own path; a path used twice would be refused by Kubernetes. */
export function checkVolumes(volumes: readonly Volume[]): string | null {
  const seen = new Set<string>();
  for (const v of volumes) {
    const why = checkClaimName(v.claim) ?? checkMountPath(v.path) ?? (v.subPath !== undefined && (v.subPath.startsWith('/') || v.subPath.split('/').includes('..')) ? `The directory "${shown(v.subPath)}" inside claim ${v.claim} must be relative, without "..".` : null);
    if (why) return why;
    const path = v.path.replace(/\/+$/, '') || '/';
    if (seen.has(path)) return `Two volumes are mounted at ${path}; give each its own path.`;
    seen.add(path);
  }
  return null;
}

/**
 * The launcher's own last check, whatever front end built the spec. Returns the first
 * problem as a sentence, or null.
 */
export function checkLaunchSpec(spec: {
  name: string;
  image: string;
  ports: number[];
  env?: EnvVar[];
  secretEnv?: EnvVar[];
  resources?: { cpu?: string; memory?: string; gpu?: number };
  volumes?: Volume[];
}): string | null {
  const r = spec.resources ?? {};
  return (
    checkName(spec.name) ??
    checkImage(spec.image) ??
    (spec.ports.length === 0 ? 'At least one port is needed.' : null) ??
    spec.ports.map((p) => checkPort(String(p))).find(Boolean) ??
    [...(spec.env ?? []), ...(spec.secretEnv ?? [])].map((e) => checkEnv(`${e.name}=${e.value}`)).find(Boolean) ??
    checkEnvNames(spec.env ?? [], spec.secretEnv ?? []) ??
    (r.cpu !== undefined ? checkCpu(r.cpu) : null) ??
    (r.memory !== undefined ? checkMemory(r.memory) : null) ??
    (r.gpu !== undefined ? checkGpu(String(r.gpu)) : null) ??
    checkVolumes(spec.volumes ?? []) ??
    null
  );
}
