/** The statsd "agent" of the histogram variant: a real UDP socket in the parent that counts datagrams. */
import { createSocket } from "node:dgram";

export interface UdpListener {
  readonly port: number;
  readonly received: () => { datagrams: number; bytes: number; sample: string };
  close(): Promise<void>;
}

export async function listenUdp(): Promise<UdpListener> {
  const socket = createSocket("udp4");
  let datagrams = 0;
  let bytes = 0;
  let sample = "";
  socket.on("message", (msg) => {
    datagrams++;
    bytes += msg.length;
    if (sample === "") sample = msg.toString("utf8");
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => resolve());
  });
  return {
    port: socket.address().port,
    received: () => ({ datagrams, bytes, sample }),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
