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
      'Usage: /tycho up -n NAME -c IMAGE -p PORT [--command "CMD ARGS"] [-e KEY=VALUE]... [--cpu 500m] [--memory 1Gi] [--gpu 1]',
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
