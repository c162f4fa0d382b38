// Bitstring Status List operations with the Digital Bazaar library
// (@digitalbazaar/vc-bitstring-status-list), used to pin Sceau's bit order and encoding.
// stdin, one of:
//   {"op": "encode", "length": 131072, "set": [0, 7, ...]}
//       -> {"encodedList": "u..."}
//   {"op": "decode", "encodedList": "u...", "indexes": [0, 7, ...]}
//       -> {"length": n, "statuses": [true, false, ...]}   (one per requested index)
//   {"op": "check", "credential": {...}, "statusListCredential": {...}}
//       -> {"verified": bool, "results": [{"purpose": ..., "status": bool}], "error": "..."}
//          checkStatus verifies the list's proof and that its issuer is the credential's issuer;
//          the list is served for its own URL by the document loader (no network).
import {
  BitstringStatusList,
  checkStatus,
  decodeList,
} from '@digitalbazaar/vc-bitstring-status-list';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {Ed25519Signature2020} from '@digitalbazaar/ed25519-signature-2020';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {buildLoader, readStdinJson} from './loader.mjs';

const input = await readStdinJson();
let output;
if(input.op === 'encode') {
  const list = new BitstringStatusList({length: input.length});
  for(const index of input.set) {
    list.setStatus(index, true);
  }
  output = {encodedList: await list.encode()};
} else if(input.op === 'decode') {
  const list = await decodeList({encodedList: input.encodedList});
  output = {length: list.length, statuses: input.indexes.map(i => list.getStatus(i))};
} else if(input.op === 'check') {
  const base = buildLoader();
  const listCredential = input.statusListCredential;
  const documentLoader = async url => url === listCredential.id ?
    {contextUrl: null, documentUrl: url, document: listCredential} : base(url);
  const result = await checkStatus({
    credential: input.credential,
    documentLoader,
    suite: [
      new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite}),
      new Ed25519Signature2020(),
    ],
    verifyBitstringStatusListCredential: true,
    verifyMatchingIssuers: true,
  });
  output = {
    verified: result.verified === true,
    results: (result.results ?? []).map(r => ({
      purpose: r.credentialStatus.statusPurpose, status: r.status,
    })),
    error: result.error ? `${result.error.message}` : null,
  };
} else {
  throw new Error(`unknown op ${input.op}`);
}
process.stdout.write(JSON.stringify(output));
