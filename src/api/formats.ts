/**
 * The `format` names used in openapi.ts, each backed by the same check the CLI and Slack
 * parsers use (src/k8s/validate.ts), so a name or quantity is valid in every front end or
 * in none.
 */
import { checkCpu, checkEnv, checkGpu, checkImage, checkMemory, checkName, checkWireVolume, normaliseMemory } from '../k8s/validate.js';
import type { FormatCheckers } from './schema.js';

export const FORMATS: FormatCheckers = {
  'system-name': (v) => checkName(String(v)),
  image: (v) => checkImage(String(v)),
  'env-pair': (v) => checkEnv(String(v)),
  'cpu-quantity': (v) => checkCpu(String(v).trim()),
  // "512MB" was common with the original; the shared normaliser drops the B before the check.
  'memory-quantity': (v) => checkMemory(normaliseMemory(String(v))),
  // The original sent "0" for no GPU; anything else must be a whole count the launcher accepts.
  'gpu-count': (v) => (String(v).trim() === '0' ? null : checkGpu(String(v).trim())),
  // The original's "pvc://CLAIM/SUBPATH:/path", and Tycho's ":ro".
  'pvc-volume': (v) => checkWireVolume(String(v)),
  // Shown to people and stored as an annotation value: keep it short and printable.
  owner: (v) => (/^[\w.@+-]{1,64}$/.test(String(v)) ? null : `"${String(v)}" is not a valid owner; use up to 64 letters, digits and . _ @ + -.`),
};
