// Writing to the CLI's streams: stdout may fail (EPIPE, ENOSPC) after a refresh went through,
// so a write is awaited and its error handled by the caller; stderr writes ignore theirs.
import type { Writer } from './main.js';

/** The callback for writes whose failure there is nothing left to report to (stderr). */
export function ignore(): void {}

/** Resolves once `text` is written (for a pipe or a file, handed to the OS), rejects with the write's error. */
export function written(out: Writer, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      out.write(text, (error) => (error ? reject(error) : resolve()));
    } catch (error) {
      reject(error);
    }
  });
}
