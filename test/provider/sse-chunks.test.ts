import { describe, expect, test } from 'vitest';
import { sseJsonChunks } from '../../src/provider/sse-chunks.js';

/** A streamed response whose body arrives in exactly these network chunks. */
function responseOf(pieces: (string | Uint8Array)[]): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces) controller.enqueue(typeof piece === 'string' ? encoder.encode(piece) : piece);
      controller.close();
    },
  });
  return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
}

async function read(pieces: (string | Uint8Array)[]): Promise<unknown[]> {
  const chunks: unknown[] = [];
  for await (const chunk of sseJsonChunks(responseOf(pieces))) chunks.push(chunk);
  return chunks;
}

describe('sseJsonChunks (the OpenAI wire reads its stream with it, not the SDK)', () => {
  test('events split anywhere across network chunks (inside a line, a multi-byte character, a CRLF) come out whole; comments are skipped; [DONE] ends it', async () => {
    const text = ': keep-alive\n\ndata: {"n":1,"text":"h\u00e9llo"}\r\n\r\ndata: {"n":2}\n\ndata: [DONE]\n\ndata: {"n":3}\n\n';
    const bytes = new TextEncoder().encode(text);
    // Cut inside a line, between the two bytes of "é", and between the CR and LF of a CRLF.
    const cuts = [18, bytes.indexOf(0xc3) + 1, bytes.indexOf(0x0d) + 1, bytes.length];
    const pieces = cuts.map((end, index) => bytes.slice(index === 0 ? 0 : cuts[index - 1], end));
    expect(pieces).toHaveLength(4);
    expect(await read(pieces)).toEqual([{ n: 1, text: 'héllo' }, { n: 2 }]);
  });

  test('a chunk carrying `error` throws an error whose `error` is that object; a chunk that is not JSON throws a SyntaxError', async () => {
    const error = { message: 'Overloaded', type: 'overloaded_error' };
    await expect(read([`data: {"n":1}\n\ndata: ${JSON.stringify({ error })}\n\n`])).rejects.toMatchObject({ message: 'Overloaded', error });
    await expect(read(['data: {"n":\n\n'])).rejects.toBeInstanceOf(SyntaxError);
  });
});
