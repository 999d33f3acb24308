/** Placeholder until the local cluster runner lands. */
import type { Logger } from '../server/log.js';
export async function ensureLocalCluster(_log: Logger): Promise<{ kubeconfigPath: string; stop: () => Promise<void> }> {
  throw new Error('local cluster not wired yet');
}
