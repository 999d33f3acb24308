import { parseCommand, type Command } from '../../src/commands/parser.js';
import { splitShellWords } from '../../src/commands/shell-words.js';
import { UsageError } from '../../src/k8s/errors.js';

const slack = (text: string) => parseCommand(text, { frontEnd: 'slack', prefix: '/tycho ' });
const cli = (argv: string[]) => parseCommand(argv, { frontEnd: 'cli', prefix: 'tycho ' });

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('shell words', () => {
  it('splits the README example like a shell, without running one', () => {
    expect(splitShellWords(`start.sh jupyter lab --LabApp.token=''`)).toEqual(['start.sh', 'jupyter', 'lab', '--LabApp.token=']);
  });
  it('keeps $ and ; literal', () => {
    expect(splitShellWords(`echo "$HOME; rm -rf /" 'a b'`)).toEqual(['echo', '$HOME; rm -rf /', 'a b']);
  });
  it('reads the typographic quotes Slack substitutes', () => {
    expect(splitShellWords('--command \u201Cpython -m http.server\u201D')).toEqual(['--command', 'python -m http.server']);
  });
});

describe('up', () => {
  it('parses the example from the README', () => {
    const p = slack(`up -n jupyter-ds -c jupyter/datascience-notebook -p 8888 --command "start.sh jupyter lab --LabApp.token=''"`);
    expect(p.command).toEqual<Command>({
      kind: 'up',
      args: {
        name: 'jupyter-ds',
        image: 'jupyter/datascience-notebook',
        ports: [8888],
        env: [],
        command: ['start.sh', 'jupyter', 'lab', '--LabApp.token='],
      },
    });
  });

  it('accepts long forms, env, resources and several ports', () => {
    const p = cli(['up', '--name', 'web', '--image', 'nginx:1.27', '--port', '80', '-p', '443', '-e', 'A=1', '--env', 'B=x=y', '--cpu', '500m', '--memory', '1Gi', '--gpu', '1']);
    expect(p.command).toEqual<Command>({
      kind: 'up',
      args: { name: 'web', image: 'nginx:1.27', ports: [80, 443], env: [{ name: 'A', value: '1' }, { name: 'B', value: 'x=y' }], cpu: '500m', memory: '1Gi', gpu: 1 },
    });
  });

  it('accepts --container and the original client spelling --up', () => {
    expect(cli(['--up', '-n', 'a1', '--container', 'nginx', '-p', '80']).command).toMatchObject({ kind: 'up', args: { name: 'a1', image: 'nginx', ports: [80] } });
    expect(cli(['--down', '-n', 'a1']).command).toEqual({ kind: 'down', name: 'a1' });
  });

  it.each([
    ['up -c nginx -p 80', /needs a name: add -n NAME/],
    ['up -n web -p 80', /needs an image: add -c IMAGE/],
    ['up -n web -c nginx', /needs the port/],
    ['up -n Web -c nginx -p 80', /upper-case.*try "web"/],
    ['up -n 1web -c nginx -p 80', /must start with a letter/],
    ['up -n web_app -c nginx -p 80', /only lower-case letters, digits and "-".*try "web-app"/],
    ['up -n web- -c nginx -p 80', /must end with a letter or digit/],
    [`up -n ${'a'.repeat(64)} -c nginx -p 80`, /at most 63/],
    ['up -n web -c nginx -p 0', /outside 1–65535/],
    ['up -n web -c nginx -p 70000', /outside 1–65535/],
    ['up -n web -c nginx -p http', /not a number/],
    ['up -n web -c "ngi nx" -p 80', /contains a space/],
    ['up -n web -c nginx:: -p 80', /not a valid image reference/],
    ['up -n web -c Nginx -p 80', /upper-case/],
    ['up -n web -c nginx -p 80 -e FOO', /has no "="; write it as KEY=VALUE/],
    ['up -n web -c nginx -p 80 --cpu lots', /cpu amount "lots" is not valid/],
    ['up -n web -c nginx -p 80 --memory 1GB', /memory amount "1GB" is not valid/],
    ['up -n web -c nginx -p 80 --gpu 0.5', /gpu count/],
    ['up -n web -c nginx -p 80 --command "unterminated', /double quote \(" \) is never closed|double quote/],
    ['up -n web -c nginx -p 80 --bogus 1', /--bogus is not an option Tycho knows/],
    ['up -n web -c nginx -p 80 -e', /-e needs a KEY=VALUE after it/],
    ['up -n web -c nginx -p 80 -e A=1 -e', /-e needs a KEY=VALUE after it/],
    ['up -n web -c nginx -p 80 --secret-env', /--secret-env needs a KEY=VALUE after it/],
    ['up -n web -c nginx -p 80 --secret-env TOKEN', /has no "="; write it as KEY=VALUE/],
    ['up -n web -c nginx -p 80 -e TOKEN=a --secret-env TOKEN=b', /TOKEN is given both in plain text and as a secret; give it once/],
    ['up -n web -c nginx -p 80 --secret-env TOKEN=a --secret-env TOKEN=b', /TOKEN is given twice/],
    ['down -n web --secret-env A=1', /--secret-env does not apply to "down"/],
    // Beyond what Kubernetes can hold: refused, never stored as int64's largest value.
    ['up -n web -c nginx -p 80 --memory 99999999999999999999Ei', /memory amount "99999999999999999999Ei" is too large: Kubernetes can hold less than 8Ei/],
    ['up -n web -c nginx -p 80 --memory 8Ei', /too large/],
    ['up -n web -c nginx -p 80 --cpu 99999999999999999999', /cpu amount "99999999999999999999" is too large/],
    ['up -c nginx -p 80 --no-name', /--no-name is not an option Tycho knows/],
    ['up -n web -n other -c nginx -p 80', /Give -n only once/],
    ['up -n web -c nginx -p 80 --namespace kube-system', /only works in the command-line tool/],
    ['frobnicate', /"frobnicate" is not a Tycho command/],
    ['', /Say what to do/],
    ['up -n web -c nginx -p 80 extra', /Unexpected "extra"/],
    ["up -n 'web -c nginx -p 80", /single quote/],
  ])('rejects %j with one clear sentence and the usage', (text, why) => {
    const e = usageError(() => slack(text));
    expect(e.message).toMatch(why);
    expect(e.message.split(/(?<=\.)\s/).length).toBeLessThanOrEqual(2);
    expect(e.usage).toMatch(/^Usage: \/tycho /);
  });

  it('shows the up usage line for up mistakes', () => {
    expect(usageError(() => slack('up -n web')).usage).toBe(
      'Usage: /tycho up -n NAME -c IMAGE -p PORT [--command "CMD ARGS"] [-e KEY=VALUE]... [--secret-env KEY=VALUE]... [--cpu 500m] [--memory 1Gi] [--gpu 1] [--expose MODE] [--volume CLAIM:/path[:ro]]... [--ttl 2h]',
    );
  });
});

describe('other commands', () => {
  it('parses down, status, list and help', () => {
    expect(slack('down -n web').command).toEqual({ kind: 'down', name: 'web' });
    expect(slack('down web').command).toEqual({ kind: 'down', name: 'web' });
    expect(slack('status').command).toEqual({ kind: 'status' });
    expect(slack('status -n web').command).toEqual({ kind: 'status', name: 'web' });
    expect(slack('list').command).toEqual({ kind: 'list' });
    expect(slack('help').command).toEqual({ kind: 'help' });
    expect(slack('help up').command).toEqual({ kind: 'help', topic: 'up' });
    expect(slack('up --help').command).toEqual({ kind: 'help', topic: 'up' });
  });

  it('rejects flags that belong to another command', () => {
    expect(usageError(() => slack('down -n web -c nginx')).message).toMatch(/--container does not apply to "down"/);
    expect(usageError(() => slack('down')).message).toMatch(/Say which system/);
  });

  it('takes CLI options only from the CLI', () => {
    expect(cli(['status', '--json', '--namespace', 'team-a']).cli).toEqual({ json: true, namespace: 'team-a', wait: true });
    expect(cli(['status', '-s', 'http://tycho:3000/']).cli).toEqual({ json: false, server: 'http://tycho:3000', wait: true });
    expect(cli(['up', '-n', 'a', '-c', 'nginx', '-p', '80', '--no-wait']).cli.wait).toBe(false);
    expect(usageError(() => slack('list --json')).message).toMatch(/only works in the command-line tool/);
    expect(usageError(() => cli(['list', '--namespace', 'a', '-s', 'http://tycho:3000'])).message).toMatch(/--namespace does not apply with -s/);
  });
});

describe('quantities at the edge of what Kubernetes holds', () => {
  it('accepts the largest memory and cpu Kubernetes can hold, exactly', () => {
    // 2^63 - 1 bytes, and 2^63 - 1 millicores: the int64 the API server keeps them in.
    expect(slack('up -n web -c nginx -p 80 --memory 9223372036854775807').command).toMatchObject({ args: { memory: '9223372036854775807' } });
    expect(slack('up -n web -c nginx -p 80 --cpu 9223372036854775807m').command).toMatchObject({ args: { cpu: '9223372036854775807m' } });
    expect(usageError(() => slack('up -n web -c nginx -p 80 --memory 9223372036854775808')).message).toMatch(/too large/);
    expect(usageError(() => slack('up -n web -c nginx -p 80 --cpu 9223372036854775808m')).message).toMatch(/too large/);
  });
});

describe('secret environment variables', () => {
  it('--secret-env is repeatable and kept apart from -e', () => {
    const p = cli(['up', '-n', 'db', '-c', 'postgres', '-p', '5432', '-e', 'A=1', '--secret-env', 'POSTGRES_PASSWORD=hunter2', '--secret-env=API_KEY=k=v']);
    expect(p.command).toEqual<Command>({
      kind: 'up',
      args: { name: 'db', image: 'postgres', ports: [5432], env: [{ name: 'A', value: '1' }], secretEnv: [{ name: 'POSTGRES_PASSWORD', value: 'hunter2' }, { name: 'API_KEY', value: 'k=v' }] },
    });
  });

  it.each([
    ['up -n a -c nginx -p 80 -e DB_PASSWORD=hunter2', '/tycho up -n a -c nginx -p 80 -e DB_PASSWORD=***'],
    ['up -n a -c nginx -p 80 --env DB_PASSWORD=hunter2 --env=B=hunter2 -e=C=hunter2', '/tycho up -n a -c nginx -p 80 --env DB_PASSWORD=*** --env=B=*** -e=C=***'],
    ['up -n a -c nginx -p 80 --secret-env DB_PASSWORD=hunter2 --secret-env=K=hunter2', '/tycho up -n a -c nginx -p 80 --secret-env DB_PASSWORD=*** --secret-env=K=***'],
    // Every other spelling yargs-parser would read as the same flag.
    ['up -n a -c nginx -p 80 --e A=hunter2 -env B=hunter2 -secret-env C=hunter2 --e=D=hunter2', '/tycho up -n a -c nginx -p 80 --e A=*** -env B=*** -secret-env C=*** --e=D=***'],
    [`up -n a -c nginx -p 80 -e "GREETING=hunter2 and 'more'" --command "echo \\"it's\\" done"`, `/tycho up -n a -c nginx -p 80 -e GREETING=*** --command 'echo "it'\\''s" done'`],
  ])('the recorded command of %j masks every env value', (text, recorded) => {
    const p = slack(text);
    expect(p.recorded).toBe(recorded);
    expect(p.recorded).not.toContain('hunter2');
    expect(p.command.kind === 'up' && [...p.command.args.env, ...(p.command.args.secretEnv ?? [])].every((e) => e.value.startsWith('hunter2'))).toBe(true);
    // It reads back into the same words, with only the values changed.
    expect(splitShellWords(p.recorded.slice('/tycho '.length))).toHaveLength(splitShellWords(text).length);
  });

  it('the CLI records its argv the same way', () => {
    expect(cli(['up', '-n', 'a', '-c', 'nginx', '-p', '80', '-e', 'TOKEN=s3cret value']).recorded).toBe('tycho up -n a -c nginx -p 80 -e TOKEN=***');
  });
});

describe('growth', () => {
  /**
   * The parse's CPU time (not wall time: other processes on the machine do not count), the least
   * of a few runs. Only the ratio of two of these is asserted, never a time.
   */
  function cpuTime(text: string): number {
    let best = Infinity;
    for (let i = 0; i < 5; i++) {
      const start = process.cpuUsage();
      slack(text);
      const used = process.cpuUsage(start);
      best = Math.min(best, used.user + used.system);
    }
    return best;
  }
  const withFlags = (n: number) => `up -n a -c nginx -p 80 ${Array.from({ length: n }, (_, i) => `-e K${i}=v${i}`).join(' ')}`;

  it('parsing 8× as many -e flags costs about 8× as much, not 64× (linear, not quadratic)', () => {
    const small = withFlags(2_500);
    const large = withFlags(20_000);
    expect(slack(large).command).toMatchObject({ args: { env: expect.arrayContaining([{ name: 'K19999', value: 'v19999' }]) } });
    cpuTime(small); // warm up the JIT
    // Linear measures about 11 to 15 here (garbage collection grows a little faster than the input);
    // quadratic 64 or more. The wide gap keeps a loaded machine's noise from deciding it (at 4×,
    // 5 against a limit of 8, it sometimes did).
    expect(cpuTime(large) / cpuTime(small)).toBeLessThan(32);
  });
});
