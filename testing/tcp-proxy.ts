/**
 * A TCP proxy between the app servers and the payment provider, so a test can cut the network between them:
 * `dropAll()` destroys every open connection (requests in flight lose their answer, as when a link dies), and
 * `refuse(ms)` stops listening for a while, so new connections are refused (ECONNREFUSED) rather than hanging.
 */
import { once } from "node:events";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

export interface TcpProxy {
  port: number;
  url: string;
  /** Destroys every open connection, both sides, with a reset. Returns how many client connections it cut. */
  dropAll(): number;
  /** Refuses new connections for `ms` (the listener is closed, then opened again on the same port). */
  refuse(ms: number): Promise<void>;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
  /** Connections accepted and cut so far, for the report. */
  stats(): { accepted: number; dropped: number };
}

/** A reset (RST) rather than a clean FIN, as a dying link or middlebox would; a socket already gone just closes. */
function reset(socket: Socket) {
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

export async function startTcpProxy(options: { targetPort: number; port?: number; host?: string }): Promise<TcpProxy> {
  const host = options.host ?? "127.0.0.1";
  /** Each open client connection and its upstream connection to the target. */
  const links = new Map<Socket, Socket>();
  let accepted = 0;
  let dropped = 0;
  let closed = false;

  const onConnection = (client: Socket) => {
    accepted++;
    const upstream = tcpConnect(options.targetPort, host);
    links.set(client, upstream);
    client.once("close", () => links.delete(client));
    // Whatever ends one side ends the other: a reset upstream reaches the app as a reset, never as a clean end
    // with half an answer silently accepted.
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", cut);
    upstream.on("error", cut);
    client.on("close", cut);
    upstream.on("close", cut);
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const listen = async (port: number) => {
    const listening = createServer(onConnection);
    listening.listen(port, host);
    await once(listening, "listening");
    return listening;
  };
  let server: Server = await listen(options.port ?? 0);
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("tcp proxy: no port");
  const port = address.port;

  const dropAll = () => {
    const count = links.size;
    for (const [client, upstream] of links) for (const socket of [client, upstream]) reset(socket);
    links.clear();
    dropped += count;
    return count;
  };

  const stopListening = () =>
    new Promise<void>((resolve) => {
      // close() resolves once the listener is gone; open connections are dropped separately.
      server.close(() => resolve());
    });

  return {
    port,
    url: `http://${host}:${port}`,
    dropAll,
    async refuse(ms) {
      await stopListening();
      await new Promise((resolve) => setTimeout(resolve, ms));
      if (!closed) server = await listen(port);
    },
    async close() {
      closed = true;
      dropAll();
      if (server.listening) await stopListening();
    },
    stats: () => ({ accepted, dropped }),
  };
}
