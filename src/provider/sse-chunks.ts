import { createParser, type EventSourceMessage } from 'eventsource-parser';

/**
 * The JSON chunks of a streamed chat-completions response, read straight from its body with
 * `eventsource-parser` instead of the SDK's `Stream` (which copies its whole buffer for every
 * network chunk and splits lines twice: about 0.7 ms of CPU per child of the fan-out bench, three
 * calls each; bench/README.md). What the SDK's stream does, it does: `[DONE]` ends the stream, a
 * chunk that is not JSON throws a `SyntaxError`, and a chunk carrying `error` throws an error whose
 * `error` is that object (as the SDK's `APIError` does, so `classify-failure.ts` reads both alike).
 * The body is read with `for await`, so `activityFetch` sees every network chunk.
 */
export async function* sseJsonChunks<Chunk>(response: Response): AsyncGenerator<Chunk> {
  if (!response.body) throw new Error('the streamed response has no body');
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => void events.push(event) });
  const decoder = new TextDecoder();
  for await (const bytes of response.body as AsyncIterable<Uint8Array>) {
    parser.feed(decoder.decode(bytes, { stream: true }));
    // Splice before yielding: the consumer may stop (return) while events are left.
    for (const event of events.splice(0)) {
      if (event.data.startsWith('[DONE]')) return;
      yield parsed<Chunk>(event.data);
    }
  }
  parser.feed(decoder.decode());
  for (const event of events.splice(0)) {
    if (event.data.startsWith('[DONE]')) return;
    yield parsed<Chunk>(event.data);
  }
}

function parsed<Chunk>(data: string): Chunk {
  const chunk = JSON.parse(data) as Chunk & { error?: unknown };
  if (chunk && typeof chunk === 'object' && chunk.error) {
    const inner = chunk.error as { message?: unknown };
    throw Object.assign(new Error(typeof inner.message === 'string' ? inner.message : JSON.stringify(chunk.error)), { error: chunk.error });
  }
  return chunk;
}
