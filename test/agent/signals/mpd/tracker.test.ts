import t from 'tap';
import {
  ListeningTracker,
  type NowPlaying,
  type PlayerSnapshot,
  type TrackerOptions,
} from '../../../../agent/signals/mpd/tracker.js';

/**
 * The tracker's decisions on player snapshots as MPD reports them (see mpd.test.ts for the same on a
 * real mpd): a book of three 10-second tracks, id 7; another book, id 3; music (no book).
 */
const TRACK = 10;

function track(bookId: number | undefined, index: number, elapsed: number, songBase = 0): NowPlaying {
  return {
    songId: String(songBase + index + 1),
    bookId,
    elapsed,
    duration: TRACK,
    offset: index * TRACK,
    total: bookId === undefined ? undefined : 3 * TRACK,
    last: index === 2,
  };
}

function snap(
  at: number,
  state: PlayerSnapshot['state'],
  current?: NowPlaying,
  queueLength = 6,
): PlayerSnapshot {
  return { at: at * 1000, state, current, queueLength };
}

function tracker(history: number[] = [], options: Partial<TrackerOptions> = {}) {
  return new ListeningTracker({
    skipMs: 5_000,
    progressMs: 12_000,
    finishedShare: 0.95,
    inHistory: (id) => history.includes(id),
    ...options,
  });
}

const kinds = (events: { kind: string; bookId: number }[]) => events.map((e) => `${e.kind} ${e.bookId}`);

t.test(
  'a book played through: started, progress at a bounded rate, finished when the last track ends',
  async (t) => {
    const tr = tracker();
    const events = [
      snap(0, 'play', track(7, 0, 0)),
      snap(4, 'play', track(7, 0, 4)),
      snap(10, 'play', track(7, 1, 0)), // track 1 ended by itself: 6 s after 4 s in
      snap(15, 'play', track(7, 1, 5)),
      snap(20, 'play', track(7, 2, 0)),
      snap(30, 'stop', undefined), // the queue ran out after the last track
    ].map((s) => kinds(tr.observe(s)));
    t.same(events, [['started 7'], [], [], ['progress 7'], [], ['finished 7']]);
    t.same(kinds(tr.observe(snap(40, 'play', track(7, 0, 0)))), [], 'nothing more for a finished book');
  },
);

t.test('finished once past 95% of the book, not before', async (t) => {
  const tr = tracker([7]);
  t.same(kinds(tr.observe(snap(0, 'play', track(7, 2, 0)))), [], 'a book already in the history: no started');
  t.same(kinds(tr.observe(snap(5, 'play', track(7, 2, 5)))), []);
  t.same(kinds(tr.observe(snap(8, 'play', track(7, 2, 8)))), [], '28 of 30 s: 93%');
  t.same(kinds(tr.observe(snap(9, 'play', track(7, 2, 8.6)))), ['finished 7'], '28.6 of 30 s: past 95%');
});

t.test('next pressed early is no track played: the projection counts the time that passed', async (t) => {
  const tr = tracker([7]);
  tr.observe(snap(0, 'play', track(7, 2, 0)));
  t.same(
    kinds(tr.observe(snap(2, 'play', track(3, 0, 0)))),
    ['started 3'],
    'left 2 s into the last track: not finished',
  );
});

t.test('skipped: left for another book within skipMs of its first listening', async (t) => {
  const tr = tracker();
  t.same(kinds(tr.observe(snap(0, 'play', track(7, 0, 0)))), ['started 7']);
  t.same(kinds(tr.observe(snap(3, 'play', track(3, 0, 0, 10)))), ['skipped 7', 'started 3']);
  t.same(kinds(tr.observe(snap(10, 'play', track(3, 0, 7, 10)))), []);
  t.same(
    kinds(tr.observe(snap(11, 'play', track(undefined, 0, 0, 20)))),
    [],
    'left for music after 7 s: no skip',
  );
  t.equal(tr.currentBook, undefined, 'music is no book');

  const resumed = tracker([7]);
  resumed.observe(snap(0, 'play', track(7, 1, 3)));
  t.same(
    kinds(resumed.observe(snap(2, 'play', track(3, 0, 0, 10)))),
    ['started 3'],
    'a resumed book is never skipped',
  );

  const paused = tracker();
  paused.observe(snap(0, 'play', track(7, 0, 0)));
  t.same(kinds(paused.observe(snap(1, 'pause', track(7, 0, 1)))), []);
  t.same(kinds(paused.observe(snap(100, 'stop', track(7, 0, 0)))), [], 'pause and stop are not leaving');
  t.same(
    kinds(paused.observe(snap(200, 'pause', track(3, 0, 0, 10)))),
    [],
    'another book selected, not playing',
  );
});

t.test('a lost connection: nothing is assumed for the gap, the book and its events go on', async (t) => {
  const tr = tracker();
  t.same(kinds(tr.observe(snap(0, 'play', track(7, 2, 0)))), ['started 7']);
  tr.interrupted();
  // MPD restarted and resumed at 3 s: the 20 s of wall time between are not credited.
  t.same(kinds(tr.observe(snap(20, 'play', track(7, 2, 3)))), [], 'the same book: no second started');
  t.same(kinds(tr.observe(snap(27, 'stop', undefined))), ['finished 7'], 'played on to its end');
});

t.test('durations unknown: finished only when the queue runs out after the last track', async (t) => {
  const unknown = (index: number, elapsed: number): NowPlaying => ({
    ...track(7, index, elapsed),
    duration: undefined,
    total: undefined,
  });
  const tr = tracker([7]);
  tr.observe(snap(0, 'play', unknown(1, 0)));
  t.same(kinds(tr.observe(snap(50, 'stop', undefined))), [], 'the queue ran out, but not on the last track');
  tr.observe(snap(60, 'play', unknown(2, 0)));
  t.same(kinds(tr.observe(snap(61, 'stop', undefined, 0))), [], 'the queue cleared (length 0): not an end');
  tr.observe(snap(70, 'play', unknown(2, 0)));
  t.same(
    kinds(tr.observe(snap(71, 'stop', track(7, 2, 0)))),
    [],
    'stopped by the listener (the entry is kept)',
  );
  tr.observe(snap(80, 'play', unknown(2, 0)));
  t.same(kinds(tr.observe(snap(500, 'stop', undefined))), ['finished 7']);
});
