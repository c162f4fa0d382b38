// Sign a credential with the Digital Bazaar stack.
// stdin:  {"credential": {...}, "suite": "eddsa-rdfc-2022" | "Ed25519Signature2020",
//          "seed": "<64 hex chars>"}
// stdout: {"did": "did:key:...", "verificationMethod": "...", "signed": {...}}
// The key is derived from the seed by the third-party libraries themselves, so the did:key
// they print is an independent check of our own derivation.
import * as vc from '@digitalbazaar/vc';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {Ed25519Signature2020} from '@digitalbazaar/ed25519-signature-2020';
import {Ed25519VerificationKey2020} from '@digitalbazaar/ed25519-verification-key-2020';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {buildLoader, readStdinJson} from './loader.mjs';

const input = await readStdinJson();
const seed = Uint8Array.from(Buffer.from(input.seed, 'hex'));
let key;
let suite;
if(input.suite === 'eddsa-rdfc-2022') {
  key = await Ed25519Multikey.generate({seed});
} else if(input.suite === 'Ed25519Signature2020') {
  key = await Ed25519VerificationKey2020.generate({seed});
} else {
  throw new Error(`unknown suite ${input.suite}`);
}
const fingerprint = key.publicKeyMultibase;
const did = `did:key:${fingerprint}`;
key.controller = did;
key.id = `${did}#${fingerprint}`;
if(input.suite === 'eddsa-rdfc-2022') {
  suite = new DataIntegrityProof({signer: key.signer(), cryptosuite: eddsaRdfc2022CryptoSuite});
} else {
  suite = new Ed25519Signature2020({key});
}
const credential = {...input.credential, issuer: input.credential.issuer ?? did};
const signed = await vc.issue({credential, suite, documentLoader: buildLoader()});
process.stdout.write(JSON.stringify({did, verificationMethod: key.id, signed}));
