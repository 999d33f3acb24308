import { loadConfig, loadLauncherConfig } from '../../src/config.js';
import { configProblems } from '../support/config-problems.js';

const problems = configProblems;

describe('loadConfig', () => {
  it('has working defaults with nothing set: Slack off, REST on, NodePort, 300 s', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 3000, expose: 'nodeport', readyTimeoutSeconds: 300, onFailure: 'keep', logLevel: 'info', admins: [] });
    expect(c.slack).toEqual({ mode: 'off', why: 'SLACK_BOT_TOKEN is not set' });
  });

  it('picks Socket Mode with an app token and HTTP mode with a signing secret', () => {
    expect(loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }).slack.mode).toBe('socket');
    const http = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'abcdef0123456789abcdef0123456789', SLACK_API_URL: 'http://127.0.0.1:9/api' });
    expect(http.slack).toMatchObject({ mode: 'http', apiUrl: 'http://127.0.0.1:9/api/' });
  });

  it('reports every problem at once, each naming its variable and the expected form', () => {
    const p = problems({
      PORT: 'eighty',
      TYCHO_SERVICE_TYPE: 'Ingress',
      TYCHO_READY_TIMEOUT: '-1',
      SLACK_BOT_TOKEN: 'xoxp-user-token',
      TYCHO_NOTIFY_CHANNEL: '#general',
      TYCHO_ADMINS: 'alice',
      TYCHO_API_TOKEN: 'short',
      TYCHO_LOG_LEVEL: 'loud',
    });
    expect(p).toEqual([
      'TYCHO_SERVICE_TYPE must be one of NodePort, LoadBalancer, ClusterIP.',
      'TYCHO_READY_TIMEOUT must be the seconds to wait for an app to be ready, a whole number from 1 to 3600.',
      'TYCHO_API_TOKEN must be at least 16 characters without spaces (e.g. the output of `openssl rand -hex 24`).',
      'SLACK_BOT_TOKEN must be a bot token starting with "xoxb-" (OAuth & Permissions page of your Slack app).',
      'TYCHO_LOG_LEVEL must be one of debug, info, warn, error.',
      'PORT must be the HTTP port (0 picks a free one), a whole number from 0 to 65535.',
      'TYCHO_NOTIFY_CHANNEL must be a Slack channel ID such as C0123ABCD (not a #name: open the channel details to copy its ID).',
      'TYCHO_ADMINS must be a comma-separated list of Slack user IDs such as U0123ABCD.',
    ]);
  });

  it('refuses half a Slack configuration', () => {
    expect(problems({ SLACK_SIGNING_SECRET: 'abcdef0123456789' })).toEqual(['SLACK_BOT_TOKEN is required when SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is set.']);
    expect(problems({ SLACK_BOT_TOKEN: 'xoxb-1' })).toEqual([
      'SLACK_BOT_TOKEN is set, so set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode) as well.',
    ]);
  });

  it('never puts a secret value into a message', () => {
    const secret = 'xoxp-very-secret-value';
    expect(problems({ SLACK_BOT_TOKEN: secret }).join(' ')).not.toContain(secret);
  });

  it('refuses to start in a Kubernetes pod without TYCHO_API_TOKEN, in one sentence naming it', () => {
    const pod = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    expect(problems(pod)).toEqual([
      'TYCHO_API_TOKEN must be set when Tycho runs in a Kubernetes pod, because port-forwards and sidecars reach it from loopback and would otherwise have full access to the REST API.',
    ]);
    expect(loadConfig({ ...pod, TYCHO_API_TOKEN: '0123456789abcdef0123' }).apiToken).toBe('0123456789abcdef0123');
    // A token that is set but malformed is reported once, as malformed.
    expect(problems({ ...pod, TYCHO_API_TOKEN: 'short' })).toEqual(['TYCHO_API_TOKEN must be at least 16 characters without spaces (e.g. the output of `openssl rand -hex 24`).']);
  });

  it('reads TYCHO_ALLOWED_HOSTS as lower-case names without brackets, and names it when malformed', () => {
    expect(loadConfig({}).allowedHosts).toEqual([]);
    expect(loadConfig({ TYCHO_ALLOWED_HOSTS: 'Tycho.Example.org, 10.0.0.5,[fd00::1]' }).allowedHosts).toEqual(['tycho.example.org', '10.0.0.5', 'fd00::1']);
    expect(problems({ TYCHO_ALLOWED_HOSTS: 'http://tycho.example.org:3000' })).toEqual([
      'TYCHO_ALLOWED_HOSTS must be a comma-separated list of host names or IP addresses, without scheme or port (e.g. tycho.example.org,10.0.0.5).',
    ]);
  });

  it('reads SLACK_TEAM_ID (a workspace or an Enterprise Grid organization) and SLACK_APP_ID', () => {
    const http = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'abcdef0123456789abcdef0123456789' };
    expect(loadConfig({ ...http, SLACK_TEAM_ID: 'T0123ABCD', SLACK_APP_ID: 'A0123ABCD' }).slack).toMatchObject({ mode: 'http', teamId: 'T0123ABCD', appId: 'A0123ABCD' });
    expect(loadConfig({ ...http, SLACK_TEAM_ID: 'E0123ABCD' }).slack).toMatchObject({ teamId: 'E0123ABCD' });
    expect(problems({ ...http, SLACK_TEAM_ID: 'tycho-test', SLACK_APP_ID: 'B0123ABCD' })).toEqual([
      'SLACK_TEAM_ID must be a workspace ID such as T0123ABCD, or an Enterprise Grid organization ID such as E0123ABCD for an org-wide install.',
      'SLACK_APP_ID must be a Slack app ID such as A0123ABCD (Basic Information page of your Slack app).',
    ]);
  });

  it('the CLI reads only what it needs, so Slack settings cannot break it', () => {
    expect(loadLauncherConfig({ SLACK_BOT_TOKEN: 'nonsense', TYCHO_URL: 'http://tycho:3000/' })).toMatchObject({ serverUrl: 'http://tycho:3000' });
  });

  it('limits launches by default: only the configured service type, 4 cpu, 16Gi, 1 GPU; the REST token is limited too', () => {
    expect(loadConfig({})).toMatchObject({ expose: 'nodeport', policy: { exposeModes: ['nodeport'], maxCpu: '4', maxMemory: '16Gi', maxGpu: 1 }, apiTokenUnlimited: false });
    expect(loadConfig({ TYCHO_SERVICE_TYPE: 'ClusterIP' }).policy.exposeModes).toEqual(['cluster']);
  });

  it('reads the operator\'s launch policy, always allowing the configured service type', () => {
    const c = loadLauncherConfig({ TYCHO_USER_SERVICE_TYPES: 'clusterip, LoadBalancer', TYCHO_MAX_CPU: '8', TYCHO_MAX_MEMORY: '64Gi', TYCHO_MAX_GPU: '0' });
    expect(c.policy).toEqual({ exposeModes: ['nodeport', 'cluster', 'loadbalancer'], maxCpu: '8', maxMemory: '64Gi', maxGpu: 0 });
    expect(loadConfig({ TYCHO_API_TOKEN: 'x'.repeat(24), TYCHO_API_TOKEN_UNLIMITED: 'true' }).apiTokenUnlimited).toBe(true);
  });

  it('names the variable of each bad policy setting', () => {
    expect(
      problems({ TYCHO_USER_SERVICE_TYPES: 'NodePort,Ingress', TYCHO_MAX_CPU: '500m', TYCHO_MAX_MEMORY: '99999999999999999999Ei', TYCHO_MAX_GPU: 'one', TYCHO_API_TOKEN_UNLIMITED: 'true' }),
    ).toEqual([
      'TYCHO_USER_SERVICE_TYPES must be a comma-separated list of NodePort, LoadBalancer, ClusterIP.',
      'TYCHO_MAX_CPU must be a cpu amount such as 4 or 2500m, at least 1 (the limit every app gets by default).',
      'TYCHO_MAX_MEMORY must be a memory amount such as 16Gi or 8G, at least 1Gi (the limit every app gets by default).',
      'TYCHO_MAX_GPU must be the most GPUs one system may have, a whole number from 0 to 16.',
      'TYCHO_API_TOKEN_UNLIMITED=true needs TYCHO_API_TOKEN: without a token, Tycho only knows a caller is on its machine, and so is any port-forward or web page.',
    ]);
  });

  it('an ingress domain makes ingress the default, with a host template, class, TLS Secret, annotations and address', () => {
    const c = loadConfig({
      TYCHO_INGRESS_DOMAIN: 'apps.example.org',
      TYCHO_INGRESS_HOST_TEMPLATE: '{name}-{namespace}.{domain}',
      TYCHO_INGRESS_CLASS: 'nginx',
      TYCHO_INGRESS_TLS_SECRET: 'wildcard-apps-tls',
      TYCHO_INGRESS_ANNOTATIONS: '{"nginx.ingress.kubernetes.io/auth-url":"https://auth.example.org/oauth2/auth","cert-manager.io/cluster-issuer":"letsencrypt"}',
      TYCHO_INGRESS_ADDRESS: '10.0.0.7:8443',
      TYCHO_VOLUME_CLAIM_PREFIX: 'shared-',
    });
    expect(c.expose).toBe('ingress');
    expect(c.ingress).toEqual({
      domain: 'apps.example.org',
      hostTemplate: '{name}-{namespace}.{domain}',
      className: 'nginx',
      tlsSecret: 'wildcard-apps-tls',
      annotations: { 'nginx.ingress.kubernetes.io/auth-url': 'https://auth.example.org/oauth2/auth', 'cert-manager.io/cluster-issuer': 'letsencrypt' },
      address: '10.0.0.7:8443',
    });
    expect(c.volumeClaimPrefix).toBe('shared-');
    // Non-admins may choose anything but a cloud load balancer, unless the operator says otherwise.
    expect(c.policy.exposeModes).toEqual(['ingress', 'nodeport', 'cluster']);
    expect(loadConfig({ TYCHO_INGRESS_DOMAIN: 'apps.example.org', TYCHO_USER_EXPOSE_MODES: 'loadbalancer' }).policy.exposeModes).toEqual(['ingress', 'loadbalancer']);
    expect(loadConfig({ TYCHO_INGRESS_DOMAIN: 'apps.example.org', TYCHO_DEFAULT_EXPOSE: 'nodeport' })).toMatchObject({ expose: 'nodeport', ingress: { hostTemplate: '{name}.{domain}', annotations: {} } });
  });

  it('names the variable of each bad ingress, exposure or volume setting', () => {
    expect(problems({ TYCHO_INGRESS_DOMAIN: 'apps.example.org', TYCHO_INGRESS_ANNOTATIONS: '{"a": 1' })).toEqual([
      'TYCHO_INGRESS_ANNOTATIONS is not valid JSON; it must be a JSON object of annotation names to string values, e.g. {"nginx.ingress.kubernetes.io/auth-url":"https://auth.example.org/oauth2/auth"}.',
    ]);
    expect(problems({ TYCHO_INGRESS_DOMAIN: 'apps.example.org', TYCHO_INGRESS_ANNOTATIONS: '["x"]' })).toEqual([
      'TYCHO_INGRESS_ANNOTATIONS must be a JSON object of annotation names to string values, e.g. {"nginx.ingress.kubernetes.io/auth-url":"https://auth.example.org/oauth2/auth"}.',
    ]);
    expect(problems({ TYCHO_INGRESS_DOMAIN: 'apps.example.org', TYCHO_INGRESS_ANNOTATIONS: '{"bad key":"x","ok/x":true}' })).toEqual([
      'TYCHO_INGRESS_ANNOTATIONS has "bad key", which is not an annotation name (an optional DNS prefix and "/", then letters, digits, "-", "_" and ".").',
      'TYCHO_INGRESS_ANNOTATIONS gives "ok/x" a value that is not a string; annotation values are strings (quote numbers and booleans).',
    ]);
    expect(problems({ TYCHO_INGRESS_DOMAIN: 'Apps.Example.org', TYCHO_INGRESS_CLASS: 'nginx' })).toEqual([
      'TYCHO_INGRESS_DOMAIN must be a DNS domain in lower case, e.g. apps.example.org (apps get NAME.apps.example.org).',
      'TYCHO_INGRESS_CLASS has no effect without TYCHO_INGRESS_DOMAIN; set it too.',
    ]);
    expect(problems({ TYCHO_INGRESS_DOMAIN: 'apps.example.org', TYCHO_INGRESS_HOST_TEMPLATE: 'app.{domain}' })[0]).toMatch(/^TYCHO_INGRESS_HOST_TEMPLATE must be a host name containing \{name\}/);
    expect(problems({ TYCHO_DEFAULT_EXPOSE: 'ingress' })).toEqual(["TYCHO_DEFAULT_EXPOSE=ingress needs TYCHO_INGRESS_DOMAIN, the domain the apps' host names are made in."]);
    expect(problems({ TYCHO_DEFAULT_EXPOSE: 'cluster', TYCHO_SERVICE_TYPE: 'NodePort' })).toEqual(['Set TYCHO_DEFAULT_EXPOSE or TYCHO_SERVICE_TYPE (its older spelling), not both.']);
    expect(problems({ TYCHO_USER_EXPOSE_MODES: 'nodeport,public' })).toEqual(['TYCHO_USER_EXPOSE_MODES must be a comma-separated list of ingress, nodeport, loadbalancer, cluster.']);
    expect(problems({ TYCHO_USER_EXPOSE_MODES: 'ingress' })).toEqual(['TYCHO_USER_EXPOSE_MODES names ingress, which needs TYCHO_INGRESS_DOMAIN.']);
    expect(problems({ TYCHO_VOLUME_CLAIM_PREFIX: 'Shared_' })[0]).toMatch(/^TYCHO_VOLUME_CLAIM_PREFIX must be the start of a PersistentVolumeClaim name/);
  });
});
