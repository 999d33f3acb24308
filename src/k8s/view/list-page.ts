/**
 * One page of a collection, as the live view's informers list it: a plain GET with `limit` and
 * `continue`, its answer parsed as JSON and nothing more.
 *
 * Not the typed client (listNamespacedPod and the like), on measurement: it hands each answer
 * through node-fetch's streams and then deserializes every object into class instances and
 * Dates, a second copy of the page. A server listing 5,000 systems (four kinds, some 100 MB of
 * JSON) was left with about 45 MiB more resident memory by that garbage (the allocator keeps the
 * space it was asked for) than by this plain parse, for the same objects held. The objects
 * therefore look exactly as a watch event delivers them (timestamps as strings), from a list or
 * a watch alike. The connection, TLS and credentials are the kubeconfig's, as for every call
 * (`applyToHTTPSOptions`, with the shared keep-alive agent of connections.ts); answers are asked
 * gzipped, as client-node asks.
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createGunzip } from 'node:zlib';
import { ApiException, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { ListPage } from './supervised-informer.js';

export async function listPage<T extends KubernetesObject>(kc: KubeConfig, path: string, labelSelector: string, page: ListPage): Promise<KubernetesListObject<T>> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('No currently active cluster');
  const url = new URL(cluster.server + path);
  url.searchParams.set('labelSelector', labelSelector);
  url.searchParams.set('limit', String(page.limit));
  if (page._continue) url.searchParams.set('continue', page._continue);
  const opts: RequestOptions = { method: 'GET', headers: { Accept: 'application/json', 'Accept-Encoding': 'gzip' } };
  await kc.applyToHTTPSOptions(opts);
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, opts, resolve);
    req.on('error', reject);
    req.end();
  });
  const text = await bodyOf(res);
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 299) {
    // As the typed client reports it: the API server's Status, with its code and words.
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    throw new ApiException(status, `HTTP-Code: ${status}\nMessage: list ${path}\nBody: ${text}`, body, res.headers as Record<string, string>);
  }
  const list = JSON.parse(text) as KubernetesListObject<T> & { metadata?: { continue?: string } };
  // The wire calls it `continue`; client-node's types (a reserved word) `_continue`.
  if (list.metadata?.continue) list.metadata._continue = list.metadata.continue;
  return list;
}

/**
 * The answer as text, decoded chunk by chunk as it arrives: each network buffer is let go at
 * once, instead of all of a page's buffers being held and then copied into one more.
 */
function bodyOf(res: IncomingMessage): Promise<string> {
  const stream = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res;
  stream.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let text = '';
    stream.on('data', (c: string) => (text += c));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
    res.on('error', reject);
  });
}
