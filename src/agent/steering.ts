/**
 * A source of steering messages, pulled by the loop at safe points (before each model call and
 * before accepting a final answer). `pull` hands over, and so consumes, what is pending.
 */
export interface SteeringSource {
  pull(): string[] | Promise<string[]>;
}

/** An in-memory steering queue. */
export class SteeringQueue implements SteeringSource {
  private pending: string[] = [];

  push(message: string): void {
    this.pending.push(message);
  }

  pull(): string[] {
    const messages = this.pending;
    this.pending = [];
    return messages;
  }

  get size(): number {
    return this.pending.length;
  }
}

/** How steering text enters the conversation: a user turn that says where it came from. */
export function steeringTurn(messages: string[]): string {
  const body = messages.map((message) => message.trim()).join('\n\n');
  return `[Steering message from the parent agent, sent while you were working. Take it into account from now on.]\n${body}`;
}
