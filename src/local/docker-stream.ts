// The Docker Engine's multiplexed stream (logs and exec of containers without a TTY): frames of
// an 8-byte header [stream, 0, 0, 0, size (uint32 big-endian)] followed by `size` bytes, where
// stream is 0 stdin, 1 stdout, 2 stderr. Frames may be split across chunks arbitrarily.

export type StreamName = "stdout" | "stderr";

export interface StreamFrame {
  stream: StreamName;
  data: Buffer;
}

const HEADER = 8;

export class StreamDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  /** Feeds a chunk; returns the frames it completes. */
  push(chunk: Buffer): StreamFrame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: StreamFrame[] = [];
    while (this.pending.length >= HEADER) {
      const kind = this.pending[0];
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER + size) break;
      const data = this.pending.subarray(HEADER, HEADER + size);
      this.pending = this.pending.subarray(HEADER + size);
      // stdin (0) never carries output; anything else unknown is treated as stdout.
      frames.push({ stream: kind === 2 ? "stderr" : "stdout", data: Buffer.from(data) });
    }
    return frames;
  }

  /** Bytes of an incomplete frame left at the end of the stream (0 after a clean end). */
  get leftover(): number {
    return this.pending.length;
  }
}

/** Splits a byte stream into lines; the last, unterminated line is returned by `end()`. */
export class LineSplitter {
  private partial = "";
  private readonly decoder = new TextDecoder("utf-8");

  push(data: Buffer): string[] {
    const text = this.partial + this.decoder.decode(data, { stream: true });
    const lines = text.split("\n");
    this.partial = lines.pop() ?? "";
    return lines.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  }

  end(): string[] {
    const rest = this.partial + this.decoder.decode();
    this.partial = "";
    return rest === "" ? [] : [rest];
  }
}
