/**
 * Systems made to crash after Ready, for the crash-alert tests: launched from Slack and followed
 * to their Ready reply, then crashed on demand with the node simulator's crash annotation
 * (kubelet-simulator.ts).
 */
import { PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { systemSelector } from '../../src/k8s/labels.js';
import { SIM_CRASH_ANNOTATION } from '../../src/local/kubelet-simulator.js';
import { waitFor } from '../support/cluster.js';
import type { SlackCall } from '../support/fake-slack.js';
import { ALICE, type BotHarness, isRoot } from './harness.js';

const isReady = (p: V1Pod) => !p.metadata?.deletionTimestamp && !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

export function crashes(h: BotHarness) {
  /** Launched by Alice with a log line carrying `secret` (to see it redacted); its root once Ready. */
  async function launchReady(name: string, secret: string): Promise<SlackCall> {
    await h.slash(`up -n ${name} -c nginx:1.25 -p 80 -e "SIMULATED_LOG=connecting to the db with token=${secret}"`, { user: ALICE });
    const root = await h.slack.waitFor('chat.postMessage', isRoot(name), `the root message of ${name}`);
    await h.slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === root.result.ts && String(c.args.text).startsWith('Ready:'), `the Ready reply of ${name}`);
    return root;
  }

  /** A Ready pod of the system (other than the one with uid `not`). */
  async function readyPod(name: string, not?: string): Promise<V1Pod> {
    return waitFor(
      async () => (await h.core.listNamespacedPod({ namespace: h.namespace, labelSelector: systemSelector(name) })).items.find((p) => isReady(p) && p.metadata?.uid !== not),
      { what: `a Ready pod of ${name}` },
    );
  }

  /** The simulator's crash annotation: the pod's running container dies now (`oom…`: OOMKilled). */
  async function crash(name: string, how: string): Promise<void> {
    const pod = await readyPod(name);
    await h.core.patchNamespacedPod(
      { namespace: h.namespace, name: pod.metadata!.name!, body: { metadata: { annotations: { [SIM_CRASH_ANNOTATION]: how } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  return { launchReady, readyPod, crash };
}
