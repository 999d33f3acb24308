/**
 * The `format` names used in wire.ts, each backed by the same check the CLI and Slack parsers
 * use (src/k8s/validate.ts), so a name or quantity is valid in every front end or in none.
 * validate-request.ts registers them with ajv and words a failure with `why`.
 */
import { checkDuration } from '../k8s/expiry.js';
import { checkCpu, checkEnv, checkGpu, checkImage, checkMemory, checkName, checkWireVolume, normaliseMemory } from '../k8s/validate.js';

export interface TychoFormat {
  /** The JSON type the format applies to (ajv checks a format on one type only). */
  type: 'string' | 'number';
  /** null when the value is fine, else one sentence saying what is wrong. */
  why(value: string | number): string | null;
}

const cpu = (v: string | number) => checkCpu(String(v).trim());

export const FORMATS: Readonly<Record<string, TychoFormat>> = {
  'system-name': { type: 'string', why: (v) => checkName(String(v)) },
  image: { type: 'string', why: (v) => checkImage(String(v)) },
  'env-pair': { type: 'string', why: (v) => checkEnv(String(v)) },
  'cpu-quantity': { type: 'string', why: cpu },
  // The same rule for a JSON number (0.5): a format names one type, so the number has its own.
  'cpu-cores': { type: 'number', why: cpu },
  // "512MB" was common with the original; the shared normaliser drops the B before the check.
  'memory-quantity': { type: 'string', why: (v) => checkMemory(normaliseMemory(String(v))) },
  // The original sent "0" for no GPU; anything else must be a whole count the launcher accepts.
  'gpu-count': { type: 'string', why: (v) => (String(v).trim() === '0' ? null : checkGpu(String(v).trim())) },
  // The original's "pvc://CLAIM/SUBPATH:/path", and Tycho's ":ro".
  'pvc-volume': { type: 'string', why: (v) => checkWireVolume(String(v)) },
  // How long a system lives (--ttl): 2h, 90m, 1d12h.
  duration: { type: 'string', why: (v) => checkDuration(String(v)) },
  // Shown to people and stored as an annotation value: keep it short and printable.
  owner: { type: 'string', why: (v) => (/^[\w.@+-]{1,64}$/.test(String(v)) ? null : `"${String(v)}" is not a valid owner; use up to 64 letters, digits and . _ @ + -.`) },
};
