// The main job until the lab lands: make two ZeroTier identities, prove them to each other
// as a stock node would, sign and verify, and agree on the key their packets would use.
import { performance } from 'node:perf_hooks';

import { Identity, versions } from 'zerotier-sockets';

const started = performance.now();
const [alice, bob] = await Promise.all([Identity.generate(), Identity.generate()]);
const ms = (performance.now() - started).toFixed(0);
console.log(`native libraries: ${JSON.stringify(versions())}`);
console.log(`generated ${alice.address} and ${bob.address} in ${ms} ms (off the JS thread)`);

// What a peer learns from the wire is the public half; it validates before trusting it.
const bobSeenByAlice = Identity.parse(bob.toString());
console.log(`alice validates bob's address proof: ${await bobSeenByAlice.validate()}`);

const message = 'hello from zerotier-sockets';
const signature = alice.sign(message);
console.log(
  `alice signs (${signature.length} bytes), bob verifies: ${alice.toPublic().verify(message, signature)}`,
);

const k1 = alice.agree(bob.toPublic());
const k2 = bob.agree(alice.toPublic());
console.log(
  `shared 48-byte key agrees on both sides: ${k1.equals(k2)} (${k1.toString('hex', 0, 8)}…)`,
);
console.log(`\nalice's identity.public:\n${alice}`);
