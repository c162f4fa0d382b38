// A VC-API wallet taking a credential the way the DCC Learner Credential Wallet does, with
// Digital Bazaar's libraries doing the signing (@digitalbazaar/vc, ed25519-signature-2020,
// data-integrity + eddsa-rdfc-2022, did-method-key keys).
// stdin:  {"mode": "vcapi" | "link",            // VC-API interaction, or the LCW deep link
//          "url": "<exchange URL>" | "link": "dccrequest://request?...",
//          "suite": "Ed25519Signature2020" | "eddsa-rdfc-2022",
//          "challenge": "<override>", "domain": "<override>",  // both optional (negative tests)
//          "holder": "<override holder DID>",                 // optional (another key's DID)
//          "replay": true}                                    // POST the same presentation twice
// stdout: {"holder": "<did>", "request": <VPR or null>, "status": 200, "body": {...},
//          "replayStatus": 410, "replayBody": {...}}  (exit 0 either way: the test judges)
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {Ed25519Signature2020} from '@digitalbazaar/ed25519-signature-2020';
import {Ed25519VerificationKey2020} from
  '@digitalbazaar/ed25519-verification-key-2020';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

// loader.mjs disables the network on import (contexts stay offline); the wallet needs HTTP.
const networkFetch = globalThis.fetch;
const {buildLoader, readStdinJson} = await import('./loader.mjs');
globalThis.fetch = networkFetch;

const input = await readStdinJson();
const documentLoader = buildLoader();

async function holderSuite(kind) {
  if(kind === 'eddsa-rdfc-2022') {
    const key = await Ed25519Multikey.generate();
    const did = `did:key:${key.publicKeyMultibase}`;
    key.controller = did;
    key.id = `${did}#${key.publicKeyMultibase}`;
    const signer = key.signer();
    return {did, suite: new DataIntegrityProof({signer, cryptosuite: eddsaRdfc2022CryptoSuite})};
  }
  const key = await Ed25519VerificationKey2020.generate();
  const did = `did:key:${key.fingerprint()}`;
  key.controller = did;
  key.id = `${did}#${key.fingerprint()}`;
  return {did, suite: new Ed25519Signature2020({key})};
}

async function post(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = {text};
  }
  return {status: response.status, body: parsed};
}

const {did, suite} = await holderSuite(input.suite ?? 'Ed25519Signature2020');
const holder = input.holder ?? did;
let url;
let challenge;
let domain;
let request = null;
if(input.mode === 'link') {
  // The Learner Credential Wallet's credential request link: the challenge comes with it and
  // the signed presentation is POSTed as it is (no domain: the link does not name one).
  const params = new URL(input.link).searchParams;
  url = params.get('vc_request_url');
  challenge = params.get('challenge');
} else {
  url = input.url;
  const started = await post(url, {});
  if(started.status !== 200) {
    process.stdout.write(JSON.stringify({holder, request, ...started}));
    process.exit(0);
  }
  request = started.body.verifiablePresentationRequest;
  const types = [].concat(request.query).map(q => q.type);
  if(!types.includes('DIDAuthentication')) {
    throw new Error(`not a DIDAuth request: ${types}`);
  }
  ({challenge, domain} = request);
  url = request.interact?.service?.[0]?.serviceEndpoint ?? url;
}
challenge = input.challenge ?? challenge;
domain = input.domain ?? domain;

const presentation = vc.createPresentation({holder, version: 2.0});
if(input.suite !== 'eddsa-rdfc-2022') {
  // Ed25519Signature2020 is a VCDM 1.1-era suite: sign a 1.1 presentation, as the LCW does.
  presentation['@context'] = ['https://www.w3.org/2018/credentials/v1'];
}
const signed = await vc.signPresentation({
  presentation, suite, challenge, domain, documentLoader,
});
const body = input.mode === 'link' ? signed : {verifiablePresentation: signed};
const answer = await post(url, body);
const out = {holder, request, ...answer};
if(input.replay) {
  const again = await post(url, body);
  out.replayStatus = again.status;
  out.replayBody = again.body;
}
process.stdout.write(JSON.stringify(out));
