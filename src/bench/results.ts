/** The shape of bench/results.json: what every measurement returns. */
import type { ActorCounts } from './counting-proxy.js';
import type { ProfileSummary } from './cpu-profile.js';
import type { Dist, Ratio } from './stats.js';

export interface AckLevel {
  concurrency: number;
  /** Milliseconds from sending the signed request to the answer's headers. */
  tycho: Dist;
  baseline: Dist;
  ratio: Ratio;
  tychoOver3s: number;
  baselineOver3s: number;
  /** Answers other than 200. */
  tychoErrors: number;
  baselineErrors: number;
  /** Each round's p99 ratio: how much one round alone can be trusted. */
  p99RatioByRound: number[];
  samples: { tycho: number[]; baseline: number[] };
}

export interface AckResult {
  k8sDelayMs: number;
  levels: AckLevel[];
}

export interface LaunchOverheadResult {
  launches: number;
  /** Command sent → URL posted in the thread, minus the pod's own time to Ready. */
  tycho: Dist;
  /** Create started → Ready seen by the bare script, minus the pod's own time to Ready. */
  baseline: Dist;
  ratio: Ratio;
  /** The pod's time to Ready as the watch saw it (ms), and from its condition timestamps (whole seconds). */
  k8sReady: Dist;
  k8sReadyFromConditions: Dist;
  /** Largest difference between the two (ms): the conditions' rounding. */
  clockAgreementMs: number;
  tychoTotal: Dist;
  baselineTotal: Dist;
  failed: string[];
  samples: { tycho: number[]; baseline: number[] };
}

/** Part of an operation's requests. */
export interface RequestPart {
  total: number;
  writes: number;
  watches: number;
}

/** What the counting proxy saw of one operation (its verbs, calls, bytes and connections), and what they add up to. */
export interface OpCount extends Pick<ActorCounts, 'verbs' | 'calls' | 'bytesRead' | 'connections'> {
  actor: 'cli' | 'server';
  op: 'up' | 'down' | 'status' | 'list';
  /** How the server was asked: Slack or REST. */
  via: 'cli' | 'slack' | 'rest';
  /** Systems in the namespace when the operation ran. */
  systems: number;
  total: number;
  writes: number;
  /** Watches this operation opened. */
  watches: number;
  /**
   * The server's requests by who in it made them: the front end that took the command, the Slack
   * reconciler (claims, records, the ledger of threads), and leader election (Lease renewals,
   * which come every few seconds whatever happens, so they are not the operation's; `total` and
   * `writes` leave them out).
   */
  parts?: { frontEnd: RequestPart; reconciler: RequestPart; election: RequestPart };
}

export interface ListAtScaleResult {
  systems: number;
  server: { ms: Dist; bytesRead: number; requests: number };
  cli: { ms: Dist; bytesRead: number; requests: number };
  baseline: { ms: Dist; bytesRead: number; requests: number };
  /** Server list time over the bare three-list baseline. */
  ratio: Ratio;
}

/** What a burst's launches came to, as Slack and the cluster tell it. */
export interface LaunchesOutcome {
  ready: number;
  failed: number;
  lost: string[];
  doubled: string[];
  /** Reported Ready but not Ready in the cluster, or reported failed while Ready. */
  untruthful: string[];
  failureTexts: string[];
  wallMs: number;
}

export interface BurstResult extends LaunchesOutcome {
  launches: number;
  baselineWallMs: number;
  wallRatio: number;
  baselineFailed: number;
  /** Per launch: command sent → URL (or failure) posted. */
  perLaunch: Dist;
  baselinePerLaunch: Dist;
  /** Acks of the burst's commands (Kubernetes at its normal speed). */
  acks: Dist;
  /**
   * Baseline in the same run: the bare Bolt app acking the same number of commands sent at once
   * while the bare script's launches keep the cluster as busy; and Tycho's p99 over it. Absent
   * in results from before it was measured (`--report` redraws those).
   */
  baselineAcks?: Dist;
  ackRatio?: number;
  watchesPeak: number;
  counts: ActorCounts;
  /** Slack Web API calls the server made during the burst, by method (absent in older results). */
  slackCalls?: Record<string, number>;
  /**
   * CPU seconds by process while Tycho's burst ran, and while the bare script's did (this
   * benchmark's processes by name, the rest of the machine as one figure; absent in older results).
   */
  cpu?: { tycho: CpuShare[]; bare: CpuShare[] };
  /** The machine's cores, for reading `cpu`. */
  cpuCores?: number;
  /** Where the wall time went (absent in results from before it was measured). */
  phases?: BurstPhases;
  /** The burst's window of a CPU profile of the server (--profile only). */
  profile?: ProfileSummary;
  /** The same burst taken by an earlier commit's server in the same run (--before DIR), against the same baseline. */
  before?: BurstRunSummary & { wallRatio: number };
  samples: { perLaunch: number[]; baselinePerLaunch: number[] };
}

/** One server's burst in brief: for the earlier commit's server that `--before` measures beside the current one. */
export interface BurstRunSummary {
  /** The checkout its server ran from. */
  checkout: string;
  ready: number;
  lost: number;
  doubled: number;
  wallMs: number;
  perLaunch: Dist;
  acks: Dist;
  idleMiB: number;
  peakMiB: number;
  highWaterMiB: number;
  verbs: ActorCounts['verbs'];
  slackCalls: Record<string, number>;
  cpu: CpuShare[];
  phases: BurstPhases;
}

export interface CpuShare {
  what: string;
  s: number;
}

/** When the burst's launches passed each point: Tycho's beside the bare script's, each from its own start. */
export interface BurstPhases {
  /** Seconds from the first command (or the bare script's start) until every launch had passed the point. */
  milestones: { what: string; tychoS?: number; bareS?: number }[];
  /** Per launch, from one point to the next, in ms. */
  perLaunch: { what: string; tycho: Dist; bare?: Dist }[];
}

export interface MemoryResult {
  idleMiB: number;
  /** Highest resident set during the 200-launch burst (sampled every 100 ms, and the kernel's high-water mark). */
  burstPeakMiB: number;
  burstHighWaterMiB: number;
  /** Resident set after listing 1000 systems (or the quick run's largest count). */
  knownSystems: number;
  knownMiB: number;
  knownHighWaterMiB: number;
}

/** Resident set (MiB) of a process idle, and holding the systems (each once settled), with its high-water mark. */
export interface HeldMemory {
  idleMiB: number;
  heldMiB: number;
  highWaterMiB: number;
}

export interface MemoryAtScaleResult {
  /** Systems in the namespace: a Deployment, a ClusterIP Service, one Ready pod and the Service's Endpoints each. */
  systems: number;
  /** Tycho's server: idle in an empty namespace, then synced with the systems; what /system/status listed. */
  tycho: HeldMemory & { listed: number; ready: number };
  /** The server of an earlier commit (`--before DIR`), measured the same way in the same run. */
  before?: HeldMemory & { checkout: string; listed: number; ready: number };
  /** client-node's own informers over the same four kinds (bare-informers.ts), and what they held. */
  baseline: HeldMemory & { objects: { deployments: number; pods: number; services: number; endpoints: number } };
}

export interface TargetCheck {
  what: string;
  target: string;
  value: string;
  met: boolean;
}

export interface BenchResults {
  meta: {
    date: string;
    mode: 'full' | 'quick';
    command: string;
    node: string;
    machine: { cpus: number; cpuModel: string; memoryGiB: number; loadAverageAtStart: number[] };
    cluster: string;
    readinessDelayMs: number;
    gitCommit: string;
    durationS: number;
  };
  ack: AckResult;
  launchOverhead: LaunchOverheadResult;
  requests: OpCount[];
  burst: BurstResult;
  listAtScale: ListAtScaleResult;
  memory: MemoryResult;
  /** Absent from results of before it was measured (`--report` redraws those). */
  memoryAtScale?: MemoryAtScaleResult;
  targets: TargetCheck[];
}
