// Timing partner for bench/engine.py: the Digital Bazaar stack signing and verifying the same
// Open Badges 3.0 credential with eddsa-rdfc-2022, in the same run as Sceau's engine.
//
// First stdin line: {"credential": {...}, "seed": "<64 hex chars>"} (issuer is set to the did:key
// the libraries derive from the seed). Then one command per line, answered with one JSON line:
//   {"op": "sign" | "verify", "seconds": S}  ->  {"op": ..., "count": N, "elapsed": T}
//   {"op": "quit"}
// The parent interleaves these rounds with its own, so both stacks see the same background load.
import * as readline from 'node:readline';
import * as vc from '@digitalbazaar/vc';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {buildLoader} from './loader.mjs';

const lines = readline.createInterface({input: process.stdin});
const iterator = lines[Symbol.asyncIterator]();
const first = await iterator.next();
const input = JSON.parse(first.value);

const key = await Ed25519Multikey.generate({seed: Uint8Array.from(Buffer.from(input.seed, 'hex'))});
const did = `did:key:${key.publicKeyMultibase}`;
key.controller = did;
key.id = `${did}#${key.publicKeyMultibase}`;
const documentLoader = buildLoader();
const credential = {...input.credential, issuer: {...input.credential.issuer, id: did}};

async function sign() {
  const suite = new DataIntegrityProof({signer: key.signer(), cryptosuite: eddsaRdfc2022CryptoSuite});
  return vc.issue({credential: structuredClone(credential), suite, documentLoader});
}

const signed = await sign();
const verifySuite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});

async function verify() {
  const result = await vc.verifyCredential({
    credential: signed, suite: verifySuite, documentLoader, checkStatus: async () => ({verified: true}),
  });
  if(!result.verified) {
    throw new Error(`verification failed: ${JSON.stringify(result.error ?? result)}`);
  }
  return result;
}

const operations = {sign, verify};
for(let i = 0; i < 3; i++) {  // warm the loader and the JIT, as the Python side warms its caches
  await sign();
  await verify();
}
process.stdout.write(JSON.stringify({ready: true, did}) + '\n');

for(;;) {
  const next = await iterator.next();
  if(next.done) {
    break;
  }
  const command = JSON.parse(next.value);
  if(command.op === 'quit') {
    break;
  }
  const operation = operations[command.op];
  let count = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while(elapsed < command.seconds) {
    for(let i = 0; i < 5; i++) {
      await operation();
    }
    count += 5;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  process.stdout.write(JSON.stringify({op: command.op, count, elapsed}) + '\n');
}
process.exit(0);
