import { Type } from '@sinclair/typebox';

/** Field schemas several payloads share, each with the words its error messages use. */

/** Channel names, model ids and device ids: one topic level of safe characters (see topics.ts). */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
export const Name = (what = 'a name') =>
  Type.String({ pattern: NAME_PATTERN, description: `${what} of 1-64 characters A-Z a-z 0-9 . _ -` });

/** An ISO 8601 time in UTC as JavaScript writes it (`toISOString`). */
export const ISO_TIME_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$';
export const IsoTime = () =>
  Type.String({ pattern: ISO_TIME_PATTERN, description: 'an ISO 8601 UTC time (2026-01-05T20:15:00.000Z)' });

export const PositiveInt = (what = 'a positive integer') =>
  Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: what });
export const Count = () =>
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'a non-negative integer' });

/** A book id of the catalogue (the data's own ids: positive integers). */
export const BookId = () => PositiveInt('a book id (positive integer)');

export const Sha256 = () => Type.String({ pattern: '^[0-9a-f]{64}$', description: '64 lowercase hex' });
