import { open } from 'node:fs/promises';

const WRITE_BUFFER = 8 << 20;

/** Appends to a file through one reusable buffer: few syscalls, constant memory, no event-loop blocking. */
export class BufferedFile {
  position = 0;
  private readonly buffer = Buffer.alloc(WRITE_BUFFER);
  private used = 0;

  private constructor(private readonly handle: Awaited<ReturnType<typeof open>>) {}

  static async create(file: string): Promise<BufferedFile> {
    return new BufferedFile(await open(file, 'w'));
  }

  async write(chunk: Uint8Array): Promise<void> {
    let from = 0;
    while (from < chunk.byteLength) {
      const n = Math.min(chunk.byteLength - from, this.buffer.byteLength - this.used);
      this.buffer.set(chunk.subarray(from, from + n), this.used);
      this.used += n;
      from += n;
      if (this.used === this.buffer.byteLength) await this.flush();
    }
    this.position += chunk.byteLength;
  }

  async pad(align: number): Promise<void> {
    const rem = this.position % align;
    if (rem) await this.write(new Uint8Array(align - rem));
  }

  private async flush(): Promise<void> {
    let off = 0;
    while (off < this.used) off += (await this.handle.write(this.buffer, off, this.used - off)).bytesWritten;
    this.used = 0;
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.handle.close();
    }
  }
}
