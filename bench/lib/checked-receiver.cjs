// The receiving end shared by bench/impaired-transfer.mjs's two kinds of peer (ours and
// kernel TCP): a connection listener that hashes what arrives and, at the end, prints
// {"event":"received", bytes, sha256, seconds} through `say` and closes its side.
'use strict';
const crypto = require('node:crypto');

module.exports = function checkedReceiver(say, onError) {
  return (s) => {
    const hash = crypto.createHash('sha256');
    let bytes = 0;
    let t0;
    s.on('data', (d) => {
      t0 ??= process.hrtime.bigint();
      bytes += d.length;
      hash.update(d);
    });
    s.on('end', () => {
      const seconds = Number(process.hrtime.bigint() - (t0 ?? 0n)) / 1e9;
      say({ event: 'received', bytes, sha256: hash.digest('hex'), seconds });
      s.end();
    });
    s.on('error', onError);
  };
};
