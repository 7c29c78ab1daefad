// Part contents as Buffers: a part that crossed a worker boundary holds a plain Uint8Array, which is
// viewed (never copied) as a Buffer for the Buffer-only methods the readers use.

/** `u` as a Buffer over the same memory. */
export const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));
