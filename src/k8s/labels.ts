/** Every label and annotation Tycho writes. Kubernetes holds all state, so these are the schema. */
export const PREFIX = 'tycho.renci.org';

export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'tycho';
export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_SYSTEM = `${PREFIX}/system`;

export const ANN_OWNER = `${PREFIX}/owner`;
export const ANN_OWNER_ID = `${PREFIX}/owner-id`;
export const ANN_ORIGIN = `${PREFIX}/origin`;
export const ANN_CREATED = `${PREFIX}/created`;
export const ANN_COMMAND = `${PREFIX}/command`;
export const ANN_EXPIRES = `${PREFIX}/expires`;
/** Where the system's Slack thread lives, so teardown from anywhere can reply there. */
export const ANN_SLACK_CHANNEL = `${PREFIX}/slack-channel`;
export const ANN_SLACK_TS = `${PREFIX}/slack-ts`;
/** The thread reply that carries the Tear down button, so `/tycho down` can remove that button too. */
export const ANN_SLACK_READY_TS = `${PREFIX}/slack-ready-ts`;
/** The thread reply that says why a launch failed ("claimed" while it is being posted). */
export const ANN_SLACK_FAILED_TS = `${PREFIX}/slack-failed-ts`;

/**
 * The served system's incidents, told in its thread: "open N" while the N-th outage (longer than
 * the grace period) lasts, "over N" once it serves again. Each move is made by one writer, who
 * posts its reply (src/bot/reconciler.ts).
 */
export const ANN_SLACK_INCIDENT = `${PREFIX}/slack-incident`;
/** The uid of the last remade Service whose new URL the thread was told (see node-ports.ts, url-changed). */
export const ANN_SLACK_URL_TOLD = `${PREFIX}/slack-url-told`;

/**
 * What Tycho checked before it called the system ready: "public" (the URL it hands out),
 * "cluster" (the Service's in-cluster address) or "none", and whether it answered. Written once,
 * on the first serving, so every replica reports the same and a later loss reads as "unready".
 */
export const ANN_URL_CHECK = `${PREFIX}/url-check`;
/**
 * The Service type the system was launched with, in the Deployment's create body, so that a
 * Service lost between the two creates (a crash) can be made again as it was meant to be.
 */
export const ANN_SERVICE_TYPE = `${PREFIX}/service-type`;
/** The host of a system exposed through an Ingress: its URL is https://HOST/, and `down` removes its Ingress. */
export const ANN_INGRESS_HOST = `${PREFIX}/ingress-host`;
/** Who asked for the teardown, written just before the delete so the DELETED event carries it. */
export const ANN_DELETED_BY = `${PREFIX}/deleted-by`;
/**
 * `deleted-by` of a launch that failed half-way and is being undone (rollback.ts): its thread was
 * told it failed by the front end, so it never hears "launching", "Ready" or "torn down" after.
 */
export const LAUNCH_UNDONE = 'tycho:undo';
/** `deleted-by` of a system the reaper removed because its expiry passed (reaper.ts): its thread says it expired. */
export const EXPIRED_BY = 'tycho:expiry';
/**
 * The expiry (ANN_EXPIRES's value) whose warning its Slack thread was given: one warning per
 * expiry value, claimed by a guarded swap so two replicas post it once. An extend moves the
 * expiry, so a warning may come again for the new one.
 */
export const ANN_SLACK_EXPIRY_WARNED = `${PREFIX}/slack-expiry-warned`;
/**
 * The thread replies claimed and not yet known to be in Slack (an incident's, an expiry warning,
 * a changed URL): "KEY@TOKEN …", where KEY is the reply's key in its message metadata and TOKEN
 * its claimant's. A mark older than any writer's attempt is recovered (src/bot/pending-replies.ts).
 */
export const ANN_SLACK_PENDING = `${PREFIX}/slack-pending`;
/** The ts of the expiry warning posted in the thread, while it still offers Extend for the expiry it was made for. */
export const ANN_SLACK_EXPIRY_WARNING_TS = `${PREFIX}/slack-expiry-warning-ts`;
/** Who last extended the system (an owner id, "slack:U…" or "cli:alice"), written with the new expiry. */
export const ANN_EXTENDED_BY = `${PREFIX}/extended-by`;
/**
 * The id that every log line about this launch carries (`launchId`), from the command through
 * the launcher to the Slack reconciler, whichever replica logs it.
 */
export const ANN_LAUNCH_ID = `${PREFIX}/launch-id`;

/** The launch id recorded on a Deployment, as log fields (none for a system launched before it was recorded). */
export function launchFields(annotations: Record<string, string> | undefined): { launchId?: string } {
  const id = annotations?.[ANN_LAUNCH_ID];
  return id ? { launchId: id } : {};
}

export const MANAGED_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`;
export function systemSelector(name: string): string {
  return `${MANAGED_SELECTOR},${LABEL_SYSTEM}=${name}`;
}
