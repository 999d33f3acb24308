/**
 * One keep-alive HTTPS agent per KubeConfig and cluster, so API calls reuse TLS connections.
 *
 * client-node 1.4 builds a fresh https.Agent for every request (KubeConfig.createAgent, called
 * from applySecurityAuthentication and applyToFetchOptions), so no connection is ever reused and
 * every call pays a full TLS handshake on both ends. A burst of launches (8 to 13 calls each)
 * then spends the event loop on handshakes, and the Slack ack waits behind them. Replacing
 * createAgent on the instance keeps everything else client-node does (CA, client certificates,
 * proxies), and the watches keep working: the agent has no socket limit, so a long watch never
 * holds a later call back.
 */
import { createHash } from 'node:crypto';
import { Agent, type AgentOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

type Cluster = NonNullable<ReturnType<KubeConfig['getCurrentCluster']>>;
type CreateAgent = (cluster: Cluster | null, options: AgentOptions) => unknown;

const SHARED = Symbol('tycho.sharedAgents');

/** A short, exact stand-in for an option's value; CA and client certificates by a digest of their bytes. */
function valueKey(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(valueKey).join(',')}]`;
  if (Buffer.isBuffer(v)) return createHash('sha256').update(v).digest('base64');
  return typeof v === 'string' && v.length > 64 ? createHash('sha256').update(v).digest('base64') : String(v);
}

/** Options arrive as a new object (with new Buffers) on every call, so they are keyed by value. */
function keyOf(server: string, options: AgentOptions): string {
  const set = Object.entries(options).filter(([, v]) => v !== undefined);
  return `${server} ${set.sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${valueKey(v)}`).join(' ')}`;
}

/** Makes every client and watch built from kc share keep-alive agents. Idempotent; returns kc. */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createAgent: CreateAgent; [SHARED]?: Map<string, Agent> };
  if (target[SHARED]) return kc;
  const original = target.createAgent.bind(kc);
  const agents = new Map<string, Agent>();
  target[SHARED] = agents;
  target.createAgent = (cluster, options) => {
    // Proxied and plain-HTTP clusters keep client-node's own agents.
    if (!cluster || cluster.proxyUrl || !cluster.server.startsWith('https:')) return original(cluster, options);
    const key = keyOf(cluster.server, options);
    let agent = agents.get(key);
    if (!agent) {
      // Idle sockets close after a minute, before the API server's own idle timeout (90 s) can
      // close one just as a call picks it up.
      agent = new Agent({ ...options, keepAlive: true, timeout: 60_000 });
      agents.set(key, agent);
    }
    return agent;
  };
  return kc;
}

