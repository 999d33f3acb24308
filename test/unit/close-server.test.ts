/**
 * closeServer (src/local/close-server.ts) closes an https server at once, even with a connection
 * that was accepted and is still in its TLS handshake. closeAllConnections() misses such a
 * connection, and close() then waits for it: the cleanup of launch-queue.test once hung for its
 * whole hook timeout that way, when a proxy in front of the API server was stopped while Tycho
 * was opening a connection through it.
 */
import { once } from 'node:events';
import { createServer } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { closeServer, trackSockets } from '../../src/local/close-server.js';
import { selfSignedCert } from '../../src/local/kubelet-simulator.js';

test('a connection still shaking hands does not keep a stopped https server open', async () => {
  const { key, cert } = await selfSignedCert('close-server-test');
  const server = trackSockets(createServer({ key, cert }, (_req, res) => res.end('ok')));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  // Accepted by the server (it has seen the connection) but no TLS handshake begun.
  const client = connect(port, '127.0.0.1');
  client.on('error', () => undefined);
  await once(server, 'connection');

  const clientClosed = once(client, 'close');
  await closeServer(server);
  await clientClosed;
  expect(server.listening).toBe(false);
  // The port refuses from now on.
  const late = connect(port, '127.0.0.1');
  const [err] = (await once(late, 'error')) as [NodeJS.ErrnoException];
  expect(err.code).toBe('ECONNREFUSED');
});
