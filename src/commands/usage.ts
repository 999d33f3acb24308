/** The usage lines, one per command. Every bad-input message ends with one of these. */
export type CommandName = 'up' | 'down' | 'status' | 'list' | 'help';

export const COMMAND_NAMES: CommandName[] = ['up', 'down', 'status', 'list', 'help'];

const USAGE: Record<CommandName, string> = {
  up: 'up -n NAME -c IMAGE -p PORT [--command "CMD ARGS"] [-e KEY=VALUE]... [--secret-env KEY=VALUE]... [--cpu 500m] [--memory 1Gi] [--gpu 1] [--expose MODE] [--volume CLAIM:/path[:ro]]...',
  down: 'down -n NAME',
  status: 'status [-n NAME]',
  list: 'list',
  help: 'help [COMMAND]',
};

const SUMMARY: Record<CommandName, string> = {
  up: 'Launch IMAGE as NAME and answer with its URL once it is ready.',
  down: 'Tear down NAME: its Deployment, Pods and Service.',
  status: 'Show one system, or all of them: ready or not (and why), URL, image, owner, age.',
  list: 'List every system Tycho runs here.',
  help: 'Show this help, or the help of one command.',
};

const DETAILS: Partial<Record<CommandName, string[]>> = {
  up: [
    '-n, --name NAME          lower-case letters, digits and "-", starting with a letter (max 63)',
    '-c, --image IMAGE        an image reference, e.g. jupyter/datascience-notebook (also --container)',
    '-p, --port PORT          the port the app listens on (repeat for more)',
    '    --command "CMD ARGS" replaces the image\'s CMD; split like a shell, never run by one',
    '-e, --env KEY=VALUE      an environment variable (repeatable); anyone who can read the Deployment sees it',
    '    --secret-env KEY=VALUE  an environment variable kept in a Secret, never shown (repeatable)',
    '    --cpu 500m           cpu for the app (default request 250m, limit 1)',
    '    --memory 1Gi         memory for the app (default request 512Mi, limit 1Gi)',
    '    --gpu 1              NVIDIA GPUs',
    '    --expose MODE        ingress (an https:// host name), nodeport, loadbalancer or cluster; the default is the operator\'s',
    '    --service-type TYPE  the older spelling: NodePort, LoadBalancer or ClusterIP',
    '    --volume CLAIM:/path[:ro]  mount an existing PersistentVolumeClaim (repeatable; :ro read-only)',
  ],
};

export function usageLine(cmd: CommandName, prefix: string): string {
  return `Usage: ${prefix}${USAGE[cmd]}`;
}

/** When we cannot tell which command was meant, show them all. */
export function overviewUsage(prefix: string): string {
  return `Usage: ${prefix}up|down|status|list|help …  (try "${prefix}help")`;
}

export function helpText(prefix: string, topic?: CommandName): string {
  if (topic) {
    return [usageLine(topic, prefix), SUMMARY[topic], ...(DETAILS[topic] ?? [])].join('\n');
  }
  return ['Tycho launches a container image on Kubernetes and gives you its URL.', '', ...COMMAND_NAMES.map((c) => `${prefix}${USAGE[c]}\n    ${SUMMARY[c]}`)].join('\n');
}
