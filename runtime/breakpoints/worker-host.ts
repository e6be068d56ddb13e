/**
 * The test thread's side of `bp.startWorker()`: starts the worker, turns its messages into hits
 * and task outcomes, and answers its parked calls.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { ANSWERED, ARMED, CELLS, type Answer, type FromWorker, type WorkerConfig } from "./protocol.js";
import { BreakpointMisuseError, BreakpointWorkerError } from "./errors.js";
import { Task, taskPromise, type TaskPromise } from "./tasks.js";
import type { BreakpointEvent } from "./hit.js";
import { HERE } from "./location.js";

const ENTRY = new URL("./worker-side.js", HERE);

/** What the breakpoint does with a worker's messages. */
export interface WorkerSink {
  workerHit(host: WorkerHost, message: Extract<FromWorker, { type: "hit" }>): void;
  workerTimeout(host: WorkerHost, seq: number): void;
  workerState(state: string, error: unknown): void;
  taskEnded(): void;
}

export class WorkerHost {
  readonly task: Task;
  readonly promise: TaskPromise<unknown>;
  readonly threadId: number;
  private readonly cells: Int32Array;
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private ended = false;

  constructor(
    sink: WorkerSink,
    options: {
      target: string;
      event: BreakpointEvent;
      timeoutMs: number;
      moduleUrl: string;
      exportName: string;
      args: readonly unknown[];
    },
  ) {
    const buffer = new SharedArrayBuffer(CELLS * 4);
    this.cells = new Int32Array(buffer);
    Atomics.store(this.cells, ARMED, 1);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const config: WorkerConfig = { ...options, cells: buffer };
    try {
      this.worker = new Worker(ENTRY, { workerData: { config, port: port2 }, transferList: [port2] });
    } catch (err) {
      port1.close();
      throw new BreakpointMisuseError(
        `startWorker(${JSON.stringify(options.moduleUrl)}, ${JSON.stringify(options.exportName)}): the worker could not start ` +
          `(are its arguments structured-cloneable?): ${String((err as Error)?.message ?? err)}`,
        { cause: err },
      );
    }
    this.threadId = this.worker.threadId;
    this.task = new Task(`worker ${options.exportName}() of ${options.moduleUrl}`, () => this.terminate());
    const { promise, ok, fail } = taskPromise<unknown>(this.task);
    this.promise = promise;
    const end = (outcome: { value: unknown } | { error: unknown }) => {
      if (this.ended) return;
      this.ended = true;
      if ("error" in outcome) fail(outcome.error);
      else ok(outcome.value);
      this.port.close();
      sink.taskEnded();
    };
    const onMessage = (m: FromWorker) => {
      switch (m.type) {
        case "hit":
          sink.workerHit(this, m);
          break;
        case "timeout":
          sink.workerTimeout(this, m.seq);
          break;
        case "armed":
          sink.workerState(m.state, m.error);
          break;
        case "done":
          end({ value: m.value });
          break;
        case "failed":
          end({ error: m.error });
          break;
      }
    };
    this.port.on("message", onMessage);
    // The port's messages can arrive after the worker's exit or error event: read what is left
    // first, so the outcome the worker posted wins over the exit.
    const drain = () => {
      if (this.ended) return;
      for (
        let r = receiveMessageOnPort(this.port);
        r !== undefined && !this.ended;
        r = receiveMessageOnPort(this.port)
      ) {
        onMessage(r.message as FromWorker);
      }
    };
    this.worker.on("error", (error) => {
      drain();
      end({ error });
    });
    this.worker.on("exit", (code) => {
      drain();
      end({
        error: new BreakpointWorkerError(
          `The worker running ${options.exportName}() exited with code ${code} before it finished.`,
        ),
      });
    });
  }

  /** Sends the answer to the worker's call number `answer.seq` and wakes the worker. */
  answer(answer: Answer): void {
    if (this.ended) return;
    try {
      this.port.postMessage(answer);
    } catch {
      // An answer that cannot be cloned: the call goes on instead.
      this.port.postMessage({ seq: answer.seq, action: "go" } satisfies Answer);
    }
    Atomics.store(this.cells, ANSWERED, Math.max(answer.seq, Atomics.load(this.cells, ANSWERED)));
    Atomics.notify(this.cells, ANSWERED);
  }

  /** Later calls in the worker go on without asking. */
  disarm(): void {
    Atomics.store(this.cells, ARMED, 0);
  }

  async terminate(): Promise<void> {
    this.disarm();
    await this.worker.terminate();
  }
}
