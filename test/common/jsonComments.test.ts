import t from 'tap';
import { parseJsonWithComments, stripJsonComments } from '../../common/jsonComments.js';

t.test('comments go, strings keep their slashes, positions stay', async (t) => {
  const text = [
    '// the broker',
    '{',
    '  "url": "mqtts://broker.example.org:8883", // TLS',
    '  /* a block',
    '     over two lines */ "path": "a/*b*/c\\"//d",',
    '  "n": 3',
    '}',
  ].join('\n');
  const stripped = stripJsonComments(text);
  t.equal(stripped.length, text.length, 'comments become spaces: error positions stay true');
  t.equal(stripped.split('\n').length, text.split('\n').length, 'and lines stay lines');
  t.same(parseJsonWithComments(text, 'x'), {
    url: 'mqtts://broker.example.org:8883',
    path: 'a/*b*/c"//d',
    n: 3,
  });
});

t.test('a syntax error names the file and the line', async (t) => {
  // A missing comma: V8 (Node 18 and 20 alike) says where, and that becomes a line and column.
  t.throws(() => parseJsonWithComments('{\n  // fine\n  "a": 1\n  "b": 2\n}\n', 'config file f.json'), {
    code: 'CONFIG_FILE',
    message: /^config file f\.json: not valid JSON at line 4, column 3/,
  });
  t.throws(() => parseJsonWithComments('{\n  "a": 1', 'f'), {
    code: 'CONFIG_FILE',
    message: /not valid JSON/,
  });
  t.throws(() => parseJsonWithComments('{ /* never closed \n "a": 1 }', 'f'), {
    code: 'CONFIG_FILE',
    message: /unterminated \/\* comment/,
  });
});
