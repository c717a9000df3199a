import { errorMessage, isBookrecError } from '../../../common/errors.js';
import type { Logger } from '../../../common/log.js';
import type { Catalogue } from '../../../common/model/catalogue.js';
import type { MpdConnection } from './client.js';
import { allValues, firstValue, type MpdPair, splitSongs } from './protocol.js';
import { type AudioTags, bookTitleTag, type TagMatch, TagMatcher } from './tagMatcher.js';
import type { NowPlaying, PlayerSnapshot } from './tracker.js';

/**
 * Reads one PlayerSnapshot from MPD: `status` always; the current entry (`playlistid`, by the id status
 * named, so a track change in between cannot mix two tracks) and the book's queued tracks
 * (`playlistfind album ...`) only when the track or the queue changed. Tags are matched against the
 * installed catalogue; the matcher is built once per catalogue (a new model, a new index). An album
 * that is no book, or could be several, is counted and logged once per catalogue, never guessed.
 */
export interface AlbumCounts {
  matched: number;
  unknown: number;
  ambiguous: number;
}

export interface PlayerReaderContext {
  /** The installed catalogue; undefined before the first model. */
  catalogue: () => Catalogue | undefined;
  log: Logger;
  now: () => number;
}

/** Albums remembered for the once-per-album count; past this the memory starts over. */
const MAX_ALBUMS_SEEN = 1000;

interface CurrentTrack {
  songId: string;
  playlist: string;
  catalogue: Catalogue | undefined;
  base: Omit<NowPlaying, 'elapsed'>;
}

export class PlayerReader {
  private readonly ctx: PlayerReaderContext;
  readonly albums: AlbumCounts = { matched: 0, unknown: 0, ambiguous: 0 };
  private matcher: { catalogue: Catalogue; matcher: TagMatcher } | undefined;
  private readonly albumsSeen = new Set<string>();
  private track: CurrentTrack | undefined;

  constructor(ctx: PlayerReaderContext) {
    this.ctx = ctx;
  }

  async read(conn: MpdConnection): Promise<PlayerSnapshot> {
    const status = await conn.command('status');
    const at = this.ctx.now();
    const state = firstValue(status, 'state');
    const songId = firstValue(status, 'songid');
    const snapshot: PlayerSnapshot = {
      at,
      state: state === 'play' || state === 'pause' ? state : 'stop',
      current: undefined,
      queueLength: number(firstValue(status, 'playlistlength')) ?? 0,
    };
    if (songId === undefined) return snapshot;
    const playlist = firstValue(status, 'playlist') ?? '';
    const catalogue = this.ctx.catalogue();
    const t = this.track;
    if (!t || t.songId !== songId || t.playlist !== playlist || t.catalogue !== catalogue) {
      this.track = { songId, playlist, catalogue, base: await this.describe(conn, songId, catalogue) };
    }
    snapshot.current = { ...this.track!.base, elapsed: number(firstValue(status, 'elapsed')) ?? 0 };
    return snapshot;
  }

  /** Which book the current track is of, and where it lies in the book's queued tracks. */
  private async describe(
    conn: MpdConnection,
    songId: string,
    catalogue: Catalogue | undefined,
  ): Promise<Omit<NowPlaying, 'elapsed'>> {
    const song = await conn.command('playlistid', [songId]).catch((err: unknown) => {
      // Removed from the queue since status named it: nothing to say; the change wakes the next read.
      if (isBookrecError(err) && err.code === 'MPD_ACK') return [];
      throw err;
    });
    const duration = durationOf(song);
    const alone = { songId, bookId: undefined, duration, offset: 0, total: undefined, last: false };
    const matcher = this.matcherFor(catalogue);
    if (!matcher) return alone;
    const tags = tagsOf(song);
    const match = this.matchOnce(matcher, tags);
    if (match.kind !== 'book') return alone;
    const bookId = match.book.id;
    const tracks = await this.bookTracks(conn, tags, matcher, bookId, song);
    const file = firstValue(song, 'file');
    const index = tracks.findIndex((s) => firstValue(s, 'file') === file);
    if (index === -1) return { ...alone, bookId };
    const durations = tracks.map(durationOf);
    const known = durations.every((d) => d !== undefined);
    return {
      songId,
      bookId,
      duration,
      offset: durations.slice(0, index).reduce<number>((sum, d) => sum + (d ?? 0), 0),
      total: known ? durations.reduce<number>((sum, d) => sum + d!, 0) : undefined,
      last: index === tracks.length - 1,
    };
  }

  /**
   * The book's tracks in the queue, in queue order, each file once: the queue entries of the same album
   * (or work) that match the same book. A queue too large to read gives only the current track, whose
   * end then says nothing about the book's.
   */
  private async bookTracks(
    conn: MpdConnection,
    tags: AudioTags,
    matcher: TagMatcher,
    bookId: number,
    song: MpdPair[],
  ): Promise<MpdPair[][]> {
    const by = tags.album ? 'album' : tags.work ? 'work' : undefined;
    if (!by) return [song];
    let queued: MpdPair[][];
    try {
      queued = splitSongs(await this.queuedByTag(conn, by, (tags.album ?? tags.work)!));
    } catch (err) {
      if (conn.closed) throw err;
      this.ctx.log.warn('the book’s queued tracks could not be read: its end is not detected', {
        error: errorMessage(err),
      });
      return [];
    }
    const files = new Set<string>();
    return queued
      .filter((s) => {
        const m = matcher.match(tagsOf(s));
        return m.kind === 'book' && m.book.id === bookId;
      })
      .sort((a, b) => (number(firstValue(a, 'Pos')) ?? 0) - (number(firstValue(b, 'Pos')) ?? 0))
      .filter((s) => {
        const file = firstValue(s, 'file') ?? '';
        if (files.has(file)) return false;
        files.add(file);
        return true;
      });
  }

  /**
   * The queue entries with this tag value. Mopidy's MPD interface knows playlistfind only for file
   * names: there the whole queue is read instead (still within maxResponseBytes) and filtered here.
   */
  private async queuedByTag(conn: MpdConnection, tag: string, value: string): Promise<MpdPair[]> {
    try {
      return await conn.command('playlistfind', [tag, value]);
    } catch (err) {
      if (!isBookrecError(err) || err.code !== 'MPD_ACK') throw err;
      return conn.command('playlistinfo');
    }
  }

  private matcherFor(catalogue: Catalogue | undefined): TagMatcher | undefined {
    if (!catalogue) return undefined;
    if (this.matcher?.catalogue !== catalogue) {
      this.matcher = { catalogue, matcher: new TagMatcher(catalogue) };
      this.albumsSeen.clear();
    }
    return this.matcher.matcher;
  }

  /** Matches, and counts and logs each album once (per catalogue). */
  private matchOnce(matcher: TagMatcher, tags: AudioTags): TagMatch {
    const match = matcher.match(tags);
    const album = `${bookTitleTag(tags) ?? ''}\u0000${tags.names.join('\u0000')}`;
    if (this.albumsSeen.has(album)) return match;
    if (this.albumsSeen.size >= MAX_ALBUMS_SEEN) this.albumsSeen.clear();
    this.albumsSeen.add(album);
    const fields = { album: bookTitleTag(tags) ?? '', names: tags.names.join(' / ') };
    if (match.kind === 'book') {
      this.albums.matched++;
      this.ctx.log.info('MPD album matched to a book', { ...fields, bookId: match.book.id });
    } else if (match.kind === 'ambiguous') {
      this.albums.ambiguous++;
      this.ctx.log.warn('MPD album matches several books: ignored', {
        ...fields,
        bookIds: match.books.map((b) => b.id),
        counts: { ...this.albums },
      });
    } else {
      this.albums.unknown++;
      this.ctx.log.info('MPD album is no catalogue book: ignored', {
        ...fields,
        reason: match.reason,
        counts: { ...this.albums },
      });
    }
    return match;
  }
}

function tagsOf(song: readonly MpdPair[]): AudioTags {
  return {
    album: firstValue(song, 'Album'),
    work: firstValue(song, 'Work'),
    title: firstValue(song, 'Title'),
    names: [...allValues(song, 'AlbumArtist'), ...allValues(song, 'Artist'), ...allValues(song, 'Composer')],
  };
}

/** `duration` (seconds, fractional) where MPD gives it, else the older whole-second `Time`. */
function durationOf(song: readonly MpdPair[]): number | undefined {
  const d = number(firstValue(song, 'duration')) ?? number(firstValue(song, 'Time'));
  return d !== undefined && d > 0 ? d : undefined;
}

function number(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}
