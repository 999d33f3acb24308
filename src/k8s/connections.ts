/**
 * One keep-alive HTTPS agent per KubeConfig and cluster, so API calls reuse TLS connections.
 *
 * client-node 1.4 builds a fresh https.Agent for every request (KubeConfig.createAgent, called
 * from applySecurityAuthentication and applyToFetchOptions), so no connection is ever reused and
 * every call pays a full TLS handshake on both ends. A burst of launches (8 to 13 calls each)
 * then spends the event loop on handshakes, and the Slack ack waits behind them. Replacing
 * createAgent on the instance keeps everything else client-node does (CA, client certificates,
 * proxies).
 *
 * Two agents per cluster: one for calls and one for watches. Calls share at most MAX_CALL_SOCKETS
 * connections, so a burst of 200 launches queues on warm connections instead of opening 200 new
 * ones (each a handshake on the event loop the Slack ack needs, and a TLS context in memory).
 * Watches are long-lived streams, so they get their own agent with no limit: a watch never holds
 * a call back, and calls never wait behind watches. Both build their TLS context (the CA and the
 * client certificate) once, not per connection as Node does when given only ca/cert/key.
 */
import { createHash } from 'node:crypto';
import { Agent, type AgentOptions } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node';

type Cluster = NonNullable<ReturnType<KubeConfig['getCurrentCluster']>>;
type CreateAgent = (cluster: Cluster | null, options: AgentOptions) => unknown;

const SHARED = Symbol('tycho.sharedAgents');
/** Enough for the launches in flight to share; the API server's own limit is 400 in flight. */
export const MAX_CALL_SOCKETS = 32;

interface AgentPair {
  calls: Agent;
  watches: Agent;
}

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
  const target = kc as unknown as {
    createAgent: CreateAgent;
    applyToFetchOptions: (opts: object) => Promise<{ agent?: unknown }>;
    [SHARED]?: Map<string, AgentPair>;
  };
  if (target[SHARED]) return kc;
  const original = target.createAgent.bind(kc);
  const pairs = new Map<string, AgentPair>();
  const watchesOf = new WeakMap<Agent, Agent>();
  target[SHARED] = pairs;
  target.createAgent = (cluster, options) => {
    // Proxied and plain-HTTP clusters keep client-node's own agents.
    if (!cluster || cluster.proxyUrl || !cluster.server.startsWith('https:')) return original(cluster, options);
    const key = keyOf(cluster.server, options);
    let pair = pairs.get(key);
    if (!pair) {
      const secureContext = createSecureContext(options);
      // Idle sockets close after a minute, before the API server's own idle timeout (90 s) can
      // close one just as a call picks it up.
      const common = { ...options, secureContext, keepAlive: true, timeout: 60_000 };
      pair = { calls: new Agent({ ...common, maxSockets: MAX_CALL_SOCKETS }), watches: new Agent(common) };
      watchesOf.set(pair.calls, pair.watches);
      pairs.set(key, pair);
    }
    return pair.calls;
  };
  // client-node's Watch (and only its streams) take their options from applyToFetchOptions.
  const fetchOptions = target.applyToFetchOptions.bind(kc);
  target.applyToFetchOptions = async (opts) => {
    const out = await fetchOptions(opts);
    const watches = out.agent instanceof Agent ? watchesOf.get(out.agent) : undefined;
    if (watches) out.agent = watches;
    return out;
  };
  return kc;
}
