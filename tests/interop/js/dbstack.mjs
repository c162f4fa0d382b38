// Signing and verifying with the Digital Bazaar stack, shared by sign.mjs, verify.mjs and
// worker.mjs (one process answering many requests, for the property-based interop tests).
import * as vc from '@digitalbazaar/vc';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {Ed25519Signature2020} from '@digitalbazaar/ed25519-signature-2020';
import {Ed25519VerificationKey2020} from '@digitalbazaar/ed25519-verification-key-2020';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as jose from 'jose';
import {buildLoader} from './loader.mjs';

// input: {credential, suite: "eddsa-rdfc-2022" | "Ed25519Signature2020", seed: "<64 hex>",
//         controller?: "did:web:...", keyId?: "did:web:...#key-1", didDocuments?: [...]}
// Without controller/keyId the key is the seed's did:key, derived by the libraries themselves.
// Returns {did, verificationMethod, signed}.
export async function sign(input) {
  const seed = Uint8Array.from(Buffer.from(input.seed, 'hex'));
  let key;
  if(input.suite === 'eddsa-rdfc-2022') {
    key = await Ed25519Multikey.generate({seed});
  } else if(input.suite === 'Ed25519Signature2020') {
    key = await Ed25519VerificationKey2020.generate({seed});
  } else {
    throw new Error(`unknown suite ${input.suite}`);
  }
  const fingerprint = key.publicKeyMultibase;
  const did = input.controller ?? `did:key:${fingerprint}`;
  key.controller = did;
  key.id = input.keyId ?? `${did}#${fingerprint}`;
  const suite = input.suite === 'eddsa-rdfc-2022' ?
    new DataIntegrityProof({signer: key.signer(), cryptosuite: eddsaRdfc2022CryptoSuite}) :
    new Ed25519Signature2020({key});
  const credential = {...input.credential, issuer: input.credential.issuer ?? did};
  const signed = await vc.issue({
    credential, suite, documentLoader: buildLoader(input.didDocuments ?? []),
  });
  return {did, verificationMethod: key.id, signed};
}

// input: {credential, didDocuments?: [...], statusUnchecked?: true}
// Returns {verified, errors: ["Name: message", ...]}.
export async function verify(input) {
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
  return {verified: result.verified === true, errors};
}

// input: {token: "<compact JWS>", didDocuments?: [...]}: a VC-JWT signed with EdDSA, its key
// found from the header's kid (did:key decoded by the Multikey driver, or a given DID document's
// Multikey method); jose checks the signature. Returns {verified, error?, payload?}.
export async function jwtVerify(input) {
  const header = jose.decodeProtectedHeader(input.token);
  try {
    let multibase = header.kid.startsWith('did:key:') ? header.kid.split('#')[1] : undefined;
    for(const doc of input.didDocuments ?? []) {
      for(const method of doc.verificationMethod ?? []) {
        if(method.id === header.kid) {
          multibase = method.publicKeyMultibase;
        }
      }
    }
    if(!multibase) {
      throw new Error(`no key for ${header.kid}`);
    }
    const pair = await Ed25519Multikey.from({publicKeyMultibase: multibase});
    const key = await jose.importJWK(await Ed25519Multikey.toJwk({keyPair: pair}), 'EdDSA');
    const {payload} = await jose.jwtVerify(input.token, key, {algorithms: ['EdDSA']});
    return {verified: true, payload};
  } catch(e) {
    return {verified: false, error: `${e.name}: ${e.message}`};
  }
}
