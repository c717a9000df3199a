import t from 'tap';
import { type GuardOutput, PacketGuard } from '../../common/mqttPacketGuard.js';

/** MQTT's remaining-length varint. */
function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

function publish(topic: string, payload: Buffer, qos: 0 | 1, id = 7): Buffer {
  const t = Buffer.from(topic);
  const body = Buffer.concat([
    Buffer.from([t.length >> 8, t.length & 0xff]),
    t,
    qos > 0 ? Buffer.from([id >> 8, id & 0xff]) : Buffer.alloc(0),
    payload,
  ]);
  return Buffer.concat([Buffer.from([0x30 | (qos << 1)]), varint(body.length), body]);
}

const pingresp = Buffer.from([0xd0, 0x00]);
const suback = Buffer.from([0x90, 0x03, 0x00, 0x01, 0x01]);

/** Feeds `stream` in pieces of `size` bytes and gathers what the guard says. */
function feedAll(guard: PacketGuard, stream: Buffer, size: number): GuardOutput {
  const all: GuardOutput = { forward: [], replies: [], dropped: [] };
  for (let at = 0; at < stream.length && !all.close; at += size) {
    const out = guard.feed(stream.subarray(at, at + size));
    all.forward.push(...out.forward);
    all.replies.push(...out.replies);
    all.dropped.push(...out.dropped);
    all.close ??= out.close;
  }
  return all;
}

t.test('packets within the limit pass unchanged, however the stream is cut', async (t) => {
  const small = publish('bookrec/devices/a/signals', Buffer.from('{"bookId":1}'), 1);
  const stream = Buffer.concat([suback, small, pingresp, publish('x', Buffer.alloc(200, 1), 0)]);
  for (const size of [1, 2, 3, 7, 64, stream.length]) {
    const out = feedAll(new PacketGuard(1024, 'skip'), stream, size);
    t.ok(Buffer.concat(out.forward).equals(stream), `pieces of ${size}`);
    t.same([out.replies.length, out.dropped.length, out.close], [0, 0, undefined]);
  }
});

t.test('skip: a larger PUBLISH is dropped as it streams past and acknowledged; the rest pass', async (t) => {
  const topic = 'bookrec/fleet/stable/manifest';
  const big = publish(topic, Buffer.alloc(100_000, 7), 1, 0x1234);
  const before = publish('a', Buffer.from('before'), 1, 1);
  const after = publish('b', Buffer.from('after'), 0);
  const stream = Buffer.concat([before, big, pingresp, after]);
  for (const size of [1, 5, 1000, stream.length]) {
    const guard = new PacketGuard(4096, 'skip');
    const out = feedAll(guard, stream, size);
    t.ok(Buffer.concat(out.forward).equals(Buffer.concat([before, pingresp, after])), `pieces of ${size}`);
    t.same(out.replies, [Buffer.from([0x40, 0x02, 0x12, 0x34])], 'a PUBACK with its packet id');
    t.match(out.dropped, [{ type: 3, topic, qos: 1, bytes: big.length }]);
    t.equal(out.close, undefined, 'the connection stays');
    t.ok(guard.maxHeld <= 2 + topic.length + 2, `held at most ${guard.maxHeld} bytes of the 100 kB packet`);
  }
  const qos0 = feedAll(new PacketGuard(4096, 'skip'), publish(topic, Buffer.alloc(10_000), 0), 100);
  t.same(
    [qos0.replies.length, qos0.dropped.length, qos0.forward.length],
    [0, 1, 0],
    'QoS 0: dropped, no ack',
  );
});

t.test('close: a broker ends the connection at the header of a larger packet', async (t) => {
  const guard = new PacketGuard(4096, 'close');
  const out = feedAll(guard, Buffer.concat([pingresp, publish('t', Buffer.alloc(50_000), 1)]), 3);
  t.ok(Buffer.concat(out.forward).equals(pingresp), 'what came before passes');
  t.match(out.close, /PUBLISH packet of 5\d{4} bytes, above the limit of 4096/);
  t.ok(guard.maxHeld === 0, 'nothing of it held');
  const other = feedAll(
    new PacketGuard(10, 'skip'),
    Buffer.concat([Buffer.from([0x90]), varint(100), Buffer.alloc(100)]),
    4,
  );
  t.match(other.close, /type 9 packet/, 'a client ends the connection for an oversized non-PUBLISH');
  const bad = feedAll(new PacketGuard(10, 'skip'), Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 1);
  t.match(bad.close, /malformed/);
});
