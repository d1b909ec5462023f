/**
 * The Redis connection, configured to fail closed: no command waits in an offline queue or is re-sent after a
 * reconnect (a claim sent late could hold a key for a request that already answered), and connecting and every
 * command are bounded by a timeout. A dropped connection is retried forever with a short backoff, so the first
 * request after Redis is back finds it connected.
 */
import Denque from "denque";
import { type Command, Redis } from "ioredis";
import { env } from "./env";

/** Bounds both connecting and each command; a store call waits at most this long for a connection. */
export const redisTimeoutMs = 1000;
/** How often overdue commands are looked for: a command fails between redisTimeoutMs and a quarter more. */
const deadlineCheckMs = redisTimeoutMs / 4;

/**
 * Fails every command Redis has not answered by its deadline, with one timer for the whole connection. (ioredis's
 * `commandTimeout` arms and clears a timer per command: a tenth of the GETs per second in `bench:store`'s set-up.)
 * Replies come back in the order commands were sent, so the oldest unanswered command is always the first to be
 * overdue, and answered commands leave from the front as new ones are sent (none is kept alive until a check).
 */
class CommandDeadlines {
  private readonly pending = new Denque<{ command: Command; deadline: number }>();
  private timer: NodeJS.Timeout | undefined;

  watch(command: Command): void {
    while (this.pending.peekFront()?.command.isSettled) this.pending.shift();
    this.pending.push({ command, deadline: Date.now() + redisTimeoutMs });
    this.timer ??= setInterval(() => this.failOverdue(), deadlineCheckMs).unref();
  }

  private failOverdue(): void {
    const now = Date.now();
    for (let oldest = this.pending.peekFront(); oldest; oldest = this.pending.peekFront()) {
      if (!oldest.command.isSettled) {
        if (oldest.deadline > now) return;
        // As ioredis's own timeout does: the late reply, if it comes, is matched to this command and ignored.
        oldest.command.reject(new Error(`Redis did not answer within ${redisTimeoutMs} ms`));
      }
      this.pending.shift();
    }
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * The app's connection: ioredis with every command bounded (see CommandDeadlines) and a tick's commands written
 * together. The socket is corked at the tick's first command and uncorked once the tick's code has run (Node's
 * own idiom for batching writes), saving a system call per command under concurrent requests. Unlike ioredis's
 * auto-pipelining, no command waits for an earlier batch's replies, and no pipeline object is built per batch:
 * measured in `npm run bench:store`'s set-up, about two fifths less CPU per first execution, a sixth less per
 * replay.
 */
class AppRedis extends Redis {
  private corked = false;
  private readonly deadlines = new CommandDeadlines();

  override sendCommand(command: Command, stream?: Parameters<Redis["sendCommand"]>[1]): unknown {
    const socket = this.stream;
    if (!stream && socket && !this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    const sent = super.sendCommand(command, stream);
    // A command refused at once (not connected) is settled already.
    if (!command.isSettled) this.deadlines.watch(command);
    return sent;
  }
}

export function openRedis(url: string): Redis {
  const redis = new AppRedis(url, {
    connectTimeout: redisTimeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    // Stays under redisTimeoutMs, so a call waiting for the connection sees the next attempt.
    retryStrategy: (attempt) => Math.min(attempt * 50, 500),
  });
  // One line per outage rather than one per reconnect attempt; the URL is left out as it may hold a password.
  const where = `Redis at ${redis.options.host}:${redis.options.port}`;
  let down = false;
  redis.on("error", (error: Error) => {
    if (down) return;
    down = true;
    console.error(`${where} is unreachable (${error.message}): idempotent mutations answer 503 until it is back`);
  });
  redis.on("ready", () => {
    if (!down) return;
    down = false;
    console.error(`${where} is reachable again`);
  });
  return redis;
}

// One connection per server process; kept on globalThis so dev-mode module reloads do not leak connections.
const holder = globalThis as typeof globalThis & { appRedis?: Redis };

export function appRedis(): Redis {
  holder.appRedis ??= openRedis(env().REDIS_URL);
  return holder.appRedis;
}

/** Closes the process's connection, if one was opened (for scripts that must exit when done). */
export async function closeAppRedis(): Promise<void> {
  await holder.appRedis?.quit();
  holder.appRedis = undefined;
}
