/**
 * The one place that turns a failure into words for Slack. Tycho's coded errors already carry
 * a sentence a person can act on; anything else is a bug or an unexpected API answer, whose
 * details go to the log and never to Slack (no stack traces, no raw API bodies).
 * The sentence may quote Kubernetes (a termination message, a scheduler's reason) or a person
 * (an owner's name), so it is escaped; only an owner Tycho knows as a Slack user stays a mention.
 */
import { isTychoError, NameInUse, NotOwner, PolicyRefused, type TychoErrorCode } from '../k8s/errors.js';
import type { Owner } from '../k8s/spec.js';
import type { Logger } from '../log.js';
import { code, md, sentenceNaming, type Mrkdwn } from './slack-text.js';

/** A few words for the root message and the notification channel. */
export const TITLES: Record<TychoErrorCode, string> = {
  usage: 'the command was not understood',
  name_in_use: 'the name is already in use',
  not_found: 'no such system',
  already_terminating: 'it is already being torn down',
  torn_down: 'it was torn down while starting',
  forbidden: 'Kubernetes refused the request',
  unauthorized: 'not allowed',
  not_owner: 'not allowed',
  policy: 'not allowed here',
  image_pull_failed: 'the image could not be pulled',
  crash_looping: 'the container keeps crashing',
  container_config: 'the container could not be created',
  unschedulable: 'no node can run it',
  quota_exceeded: "the namespace's quota refused it",
  timeout: 'it did not become ready in time',
  cluster_unreachable: 'Kubernetes could not be reached',
  invalid_spec: 'Kubernetes rejected the request',
  claim_unavailable: 'the volume cannot be mounted',
  rollback_incomplete: 'it failed, and part of it is still in the cluster',
  internal: 'something went wrong inside Tycho',
};

export interface Explained {
  title: string;
  /** One or two sentences, safe to show anyone in the channel. */
  text: Mrkdwn;
}

/** The owner an error names, when it names one. */
function ownerNamed(e: unknown): Owner | undefined {
  if ((e instanceof NotOwner || e instanceof NameInUse) && e.owner) return { id: e.ownerId ?? '', display: e.owner };
  return undefined;
}

/**
 * A policy refusal ends by naming its rule, "(policy: images.allow)": the key as code, so Slack
 * neither links it (it looks like a domain) nor runs it into the punctuation after it.
 */
function policySentence(sentence: string): Mrkdwn {
  const m = /^(.*) \(policy: ([\w.]+)\)(.*)$/s.exec(sentence);
  return m ? md`${m[1]!} (policy: ${code(m[2]!)})${m[3]!}` : md`${sentence}`;
}

export function explain(e: unknown, log: Pick<Logger, 'error'>, doing: string): Explained {
  if (e instanceof PolicyRefused) return { title: TITLES[e.code], text: policySentence(e.message) };
  if (isTychoError(e)) return { title: TITLES[e.code], text: sentenceNaming(e.message, ownerNamed(e)) };
  // Not one of ours: log what happened (the logger masks tokens), tell the person only that it did.
  log.error(`unexpected error while trying to ${doing}`, { error: e instanceof Error ? e.message : String(e) });
  return { title: TITLES.internal, text: md`Something went wrong inside Tycho while trying to ${doing}. An admin can find the details in Tycho's log.` };
}

export function errorText(e: unknown, log: Pick<Logger, 'error'>, doing: string): Mrkdwn {
  return explain(e, log, doing).text;
}
