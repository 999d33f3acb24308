/**
 * Closing a server now, every connection with it. `closeAllConnections()` alone is not enough for
 * an https server: it knows a connection only once its TLS handshake is done, so a connection
 * accepted a moment before the close and still shaking hands survives it, and `close()` waits for
 * it. If its request is a watch, that is for as long as the API server keeps the watch open
 * (a test's cleanup that stopped a proxy in front of the API server once hung so, for minutes).
 * So the sockets are tracked from the moment they are accepted.
 */
import type { Server as NetServer, Socket } from 'node:net';

const accepted = new WeakMap<NetServer, Set<Socket>>();

/** Tracks every socket the server accepts, handshakes in progress included; call before it listens. */
export function trackSockets<S extends NetServer>(server: S): S {
  const sockets = new Set<Socket>();
  accepted.set(server, sockets);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return server;
}

/** Closes a server now, keep-alive sockets and (if tracked) handshakes in progress included, so its port stops answering at once. */
export function closeServer(server: NetServer & { closeAllConnections?: () => void }): Promise<void> {
  return new Promise((res) => {
    server.close(() => res());
    server.closeAllConnections?.();
    for (const socket of accepted.get(server) ?? []) socket.destroy();
  });
}
