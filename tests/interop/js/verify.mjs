// Verify a credential with the Digital Bazaar stack (both suites accepted).
// stdin:  {"credential": {...}, "didDocuments": [optional DID documents to use offline]}
// stdout: {"verified": true|false, "errors": ["..."]}
// Status entries are not checked here (no network); the tests use credentials without them, or
// pass "statusUnchecked": true for a credential whose status entry Sceau's own tests check.
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {Ed25519Signature2020} from '@digitalbazaar/ed25519-signature-2020';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {buildLoader, readStdinJson} from './loader.mjs';

const input = await readStdinJson();
const suite = [
  new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite}),
  new Ed25519Signature2020(),
];
const errors = [];
let result;
try {
  result = await vc.verifyCredential({
    credential: input.credential,
    suite,
    documentLoader: buildLoader(input.didDocuments ?? []),
    ...(input.statusUnchecked ? {checkStatus: async () => ({verified: true})} : {}),
  });
} catch(e) {
  // vc throws (rather than reporting) on some malformed input; that is a "not verified".
  result = {verified: false, error: e};
}
const collect = error => {
  if(!error) {
    return;
  }
  for(const e of Array.isArray(error) ? error : [error]) {
    errors.push(`${e.name ?? 'Error'}: ${e.message}`);
    if(e.errors) {
      collect(e.errors);
    }
  }
};
collect(result.error);
for(const proofResult of result.results ?? []) {
  collect(proofResult.error);
}
process.stdout.write(JSON.stringify({verified: result.verified === true, errors}));
