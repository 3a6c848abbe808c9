// A dedicated LISTEN connection that reconnects by itself (a second after it is lost or fails to
// connect) until stopped. What was notified while it was down is missed: onLost and onListening
// tell the owner when that may have happened.
import type { Logger } from "@area/nodes/log";
import pg from "pg";

export interface ListenOptions {
  connectionString: string;
  /** TCP keepalive on the connection (pg's keepAlive). */
  keepAlive?: boolean;
  /** Names the listener in the log lines ("<name> lost", "<name> failed to connect"). */
  name: string;
  log: Logger;
  /** Runs the LISTEN statement(s) on a new connection. */
  listen(client: pg.Client): Promise<void>;
  /** A notification's payload (notifications without one are ignored). */
  onNotification(payload: string): void;
  /** Listening again after a (re)connect. */
  onListening?(): void;
  /** The connection was lost or failed to connect: notifications may be missed until onListening. */
  onLost?(): void;
}

export interface Listener {
  /** Settles after the first connection attempt, listening or not (it goes on retrying). */
  readonly started: Promise<void>;
  /** Whether a connection is listening now. */
  readonly listening: boolean;
  /** Stops listening and reconnecting. */
  stop(): Promise<void>;
}

export function listenWithReconnect(options: ListenOptions): Listener {
  let current: pg.Client | null = null;
  let stopped = false;

  const connect = async (): Promise<void> => {
    if (stopped) return;
    const client = new pg.Client({
      connectionString: options.connectionString,
      connectionTimeoutMillis: 5_000,
      keepAlive: options.keepAlive,
    });
    let retrying = false;
    const retry = () => {
      if (retrying) return; // an error event and a failed connect: one reconnection
      retrying = true;
      if (current === client) current = null;
      options.onLost?.();
      client.end().catch(() => {});
      if (!stopped) setTimeout(() => void connect(), 1_000).unref();
    };
    client.on("error", (error) => {
      options.log.warn(`${options.name} lost`, { error: error.message });
      retry();
    });
    client.on("notification", (message) => {
      if (message.payload) options.onNotification(message.payload);
    });
    try {
      await client.connect();
      await options.listen(client);
      current = client;
      options.onListening?.();
    } catch (error) {
      options.log.warn(`${options.name} failed to connect`, { error: (error as Error).message });
      retry();
    }
  };

  return {
    started: connect(),
    get listening() {
      return current !== null;
    },
    async stop() {
      stopped = true;
      const client = current;
      current = null;
      await client?.end().catch(() => {});
    },
  };
}
