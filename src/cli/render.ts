/** Terminal output of command outcomes. */
import type { Outcome } from '../commands/handlers.js';
import { age, stateText } from '../commands/format.js';
import type { SystemInfo } from '../k8s/spec.js';

export function systemJson(s: SystemInfo): Record<string, unknown> {
  return {
    name: s.name,
    namespace: s.namespace,
    url: s.url,
    ready: s.ready,
    stage: s.stage,
    ...(s.reason ? { reason: s.reason } : {}),
    image: s.image,
    ports: s.ports,
    owner: s.owner,
    origin: s.origin,
    created: s.created,
    expires: s.expires,
  };
}

export function outcomeJson(o: Outcome): unknown {
  switch (o.kind) {
    case 'up': {
      // What was opened before the answer (as REST's start result says it).
      const c = o.system.urlCheck;
      return { ...systemJson(o.system), ...(c ? { url_verified: c.verified, url_checked: c.checked } : {}) };
    }
    case 'down':
      return { name: o.system.name, deleted: true };
    case 'status':
      return o.name ? systemJson(o.systems[0]!) : o.systems.map(systemJson);
    case 'help':
      return { help: o.text };
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

export function outcomeText(o: Outcome): string {
  switch (o.kind) {
    case 'up':
      if (o.system.url) return o.system.url;
      // A LoadBalancer is Ready before the cloud has handed out its address.
      return o.system.ready
        ? `${o.system.name} is ready, but its Service has no address yet; \`tycho status ${o.system.name}\` shows the URL once it has one.`
        : `${o.system.name} is ${stateText(o.system)}; \`tycho status ${o.system.name}\` shows its URL once it is ready.`;
    case 'down':
      return `Deleted system ${o.system.name}`;
    case 'help':
      return o.text;
    case 'status':
      if (o.systems.length === 0) return 'No systems are running.';
      return table([
        ['NAME', 'STATE', 'URL', 'IMAGE', 'OWNER', 'AGE'],
        ...o.systems.map((s) => [s.name, stateText(s), s.url ?? '-', s.image, s.owner, age(s.created)]),
      ]);
  }
}
