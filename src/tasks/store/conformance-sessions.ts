import type { SessionStore } from './session-store.js';
import type { TaskStore } from './task-store.js';

/** The `SessionStore` cases of the conformance suite, run on each backend's `sessions`. */
export function sessionConformance(
  test: (title: string, body: (store: TaskStore) => Promise<void>) => void,
  describe: (name: string, body: () => void) => void,
  // biome-ignore lint/suspicious/noExplicitAny: the framework's own assertion type
  expect: (actual: unknown) => any,
): void {
  const messages = [
    { role: 'user' as const, content: 'hi' },
    { role: 'assistant' as const, content: 'hello' },
  ];
  const on = (body: (sessions: SessionStore) => Promise<void>) => (store: TaskStore) => body(store.sessions);

  describe('SessionStore', () => {
    test(
      'saves, replaces, loads and lists sessions',
      on(async (sessions) => {
        await sessions.save({ id: 's_a', cwd: '/w', createdAt: 1, updatedAt: 1, messages });
        await sessions.save({ id: 's_b', cwd: '/other', createdAt: 2, updatedAt: 2, messages: [] });
        await sessions.save({ id: 's_a', cwd: '/w', createdAt: 1, updatedAt: 3, messages: [...messages, { role: 'user', content: 'again' }] });
        expect(await sessions.load('s_a')).toEqual({
          id: 's_a',
          cwd: '/w',
          createdAt: 1,
          updatedAt: 3,
          messages: [...messages, { role: 'user', content: 'again' }],
        });
        expect(await sessions.load('s_none')).toBeUndefined();
        expect((await sessions.list()).map((session) => session.id)).toEqual(['s_a', 's_b']);
        expect((await sessions.list({ cwd: '/other' })).map((session) => session.id)).toEqual(['s_b']);
        expect((await sessions.list({ limit: 1 })).map((session) => session.id)).toEqual(['s_a']);
      }),
    );

    test(
      'a replaced session keeps the createdAt of its first save',
      on(async (sessions) => {
        await sessions.save({ id: 's_c', cwd: '/w', createdAt: 10, updatedAt: 10, messages });
        await sessions.save({ id: 's_c', cwd: '/w', createdAt: 99, updatedAt: 20, messages: [] });
        expect(await sessions.load('s_c')).toMatchObject({ createdAt: 10, updatedAt: 20, messages: [] });
      }),
    );

    test(
      'lists the most recently updated first, 20 by default, and nothing for a directory without sessions',
      on(async (sessions) => {
        for (let index = 0; index < 22; index++)
          await sessions.save({ id: `s_${index}`, cwd: '/many', createdAt: index, updatedAt: 100 + index, messages: [] });
        const listed = await sessions.list();
        expect(listed).toHaveLength(20);
        expect(listed[0]!.id).toBe('s_21');
        expect(await sessions.list({ cwd: '/nowhere' })).toEqual([]);
      }),
    );

    test(
      'compactions: a session keeps its latest compaction beside the whole conversation; a save without one clears it',
      on(async (sessions) => {
        const long = [...messages, { role: 'user' as const, content: 'more' }, { role: 'assistant' as const, content: 'done ✓' }];
        const compaction = { firstKept: 3, handoff: 'Goal: greet.\nTasks you started (1): t_0000beef [running]', tokensBefore: 800, tokensAfter: 200 };
        await sessions.save({ id: 's_cmp', cwd: '/w', createdAt: 1, updatedAt: 2, messages: long, compaction });
        expect(await sessions.load('s_cmp')).toEqual({ id: 's_cmp', cwd: '/w', createdAt: 1, updatedAt: 2, messages: long, compaction });
        expect((await sessions.list({ cwd: '/w' })).find((session) => session.id === 's_cmp')?.compaction).toEqual(compaction);
        await sessions.save({ id: 's_cmp', cwd: '/w', createdAt: 1, updatedAt: 3, messages: long, compaction: { firstKept: 4, handoff: 'later' } });
        expect((await sessions.load('s_cmp'))!.compaction).toEqual({ firstKept: 4, handoff: 'later' });
        await sessions.save({ id: 's_cmp', cwd: '/w', createdAt: 1, updatedAt: 4, messages });
        expect((await sessions.load('s_cmp'))!.compaction).toBeUndefined();
      }),
    );

    test(
      'sessions and tasks do not see each other',
      on(async (sessions) => {
        await sessions.save({ id: 's_alone', cwd: '/w', createdAt: 1, updatedAt: 1, messages });
        expect(await sessions.load('t_none')).toBeUndefined();
      }),
    );
  });
}
