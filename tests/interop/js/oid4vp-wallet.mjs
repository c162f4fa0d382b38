// A wallet answering an OpenID4VP 1.0 presentation request with a client library nobody here
// wrote: @openid4vc/openid4vp (OpenWallet Foundation Labs, oid4vc-ts) opens the deep link,
// fetches and verifies the signed request object (client_id prefix decentralized_identifier,
// the verifier's did:key resolved by Digital Bazaar's did:key driver), builds and submits the
// direct_post answer; Digital Bazaar's @digitalbazaar/vc signs the presentation
// (eddsa-rdfc-2022, challenge = nonce, domain = client_id) with the holder's did:key.
// stdin:  {"link": "openid4vp://?client_id=...&request_uri=...",
//          "holder": {"publicKeyMultibase": "z6Mk...", "secretKeyMultibase": "z3u2..."},
//          "credential": <the credential to present, bound to the holder>,
//          // all optional (negative tests):
//          "challenge": "...", "domain": "...", "state": "...",   // overrides
//          "otherHolder": true,     // sign with a fresh key (not the credential's subject)
//          "replay": true,          // POST the same answer twice
//          "alsoTo": "openid4vp://...", // then POST the same presentation to another request
//          "decline": true,         // answer error=access_denied, no vp_token
//          "resolveOnly": true}     // only resolve the request (no answer)
// stdout: {"request": <verified request payload>, "holder": "<did>", "status": 200, "body": {},
//          "replayStatus": ..., "alsoStatus": ..., ...} or {"error": "...", "stage": "..."}
// (exit 0 either way: the test judges).
import {createHash, randomBytes} from 'node:crypto';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import * as didKey from '@digitalbazaar/did-method-key';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {setGlobalConfig} from '@openid4vc/oauth2';
import {Openid4vpClient} from '@openid4vc/openid4vp';

// loader.mjs disables the network on import (contexts stay offline); the wallet needs HTTP.
const networkFetch = globalThis.fetch;
const {buildLoader, readStdinJson} = await import('./loader.mjs');
globalThis.fetch = networkFetch;

const input = await readStdinJson();
const documentLoader = buildLoader();
// The tests run the verifier on 127.0.0.1 over plain HTTP.
setGlobalConfig({allowInsecureUrls: true});

const driver = didKey.driver();
driver.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});

const callbacks = {
  fetch: globalThis.fetch,
  hash: (data, alg) => new Uint8Array(
    createHash(alg.toLowerCase().replace('-', '')).update(data).digest()),
  generateRandom: length => new Uint8Array(randomBytes(length)),
  // The request object is signed by the verifier's did:key (kid = DID URL): resolve it with
  // Digital Bazaar's driver and check the EdDSA signature with its Multikey verifier.
  verifyJwt: async (signer, {compact}) => {
    if(signer.method !== 'did' || !signer.didUrl.startsWith('did:key:')) {
      return {verified: false};
    }
    const method = await driver.get({url: signer.didUrl});
    const key = await Ed25519Multikey.from(method);
    const [header, payload, signature] = compact.split('.');
    const verified = await key.verifier().verify({
      data: new TextEncoder().encode(`${header}.${payload}`),
      signature: new Uint8Array(Buffer.from(signature, 'base64url')),
    });
    const jwk = await Ed25519Multikey.toJwk({keyPair: key});
    return verified ? {verified: true, signerJwk: jwk} : {verified: false};
  },
};

async function holderKey(given) {
  const key = given ?
    await Ed25519Multikey.from({type: 'Multikey', ...given}) :
    await Ed25519Multikey.generate();
  const did = `did:key:${key.publicKeyMultibase}`;
  key.controller = did;
  key.id = `${did}#${key.publicKeyMultibase}`;
  return {did, key};
}

async function post(url, form) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {'Content-Type': 'application/x-www-form-urlencoded'},
    body: new URLSearchParams(form).toString(),
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

const client = new Openid4vpClient({callbacks});

async function resolve(link) {
  const parsed = client.parseOpenid4vpAuthorizationRequest({authorizationRequest: link});
  return await client.resolveOpenId4vpAuthorizationRequest({
    authorizationRequestPayload: parsed.params,
  });
}

let stage = 'resolve';
try {
  const resolved = await resolve(input.link);
  const request = resolved.authorizationRequestPayload;
  const out = {request, client: resolved.client?.prefix ?? null, dcql: resolved.dcql ?? null};
  if(input.resolveOnly) {
    process.stdout.write(JSON.stringify(out));
    process.exit(0);
  }
  stage = 'answer';
  if(input.decline) {
    const answer = await post(request.response_uri, {error: 'access_denied', state: request.state});
    process.stdout.write(JSON.stringify({...out, ...answer}));
    process.exit(0);
  }
  const {did, key} = await holderKey(input.otherHolder ? null : input.holder);
  const presentation = vc.createPresentation({
    holder: did,
    verifiableCredential: [input.credential],
    version: 2.0,
  });
  const suite = new DataIntegrityProof({
    signer: key.signer(), cryptosuite: eddsaRdfc2022CryptoSuite,
  });
  const signed = await vc.signPresentation({
    presentation,
    suite,
    challenge: input.challenge ?? request.nonce,
    domain: input.domain ?? request.client_id,
    documentLoader,
  });
  // Pick the DCQL credential query of the ldp_vc format (what this wallet holds).
  const query = request.dcql_query.credentials.find(q => q.format === 'ldp_vc');
  const {authorizationResponsePayload} = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: {vp_token: {[query.id]: [signed]}},
  });
  if(input.state) {
    authorizationResponsePayload.state = input.state;
  }
  const submitted = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload,
  });
  const text = await submitted.response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = {text};
  }
  Object.assign(out, {holder: did, status: submitted.response.status, body, presentation: signed});
  const form = {vp_token: JSON.stringify({[query.id]: [signed]}), state: request.state};
  if(input.replay) {
    const again = await post(request.response_uri, form);
    out.replayStatus = again.status;
    out.replayBody = again.body;
  }
  if(input.alsoTo) {
    // A replay towards another request: the same signed presentation, that request's state.
    stage = 'alsoTo';
    const other = (await resolve(input.alsoTo)).authorizationRequestPayload;
    const again = await post(other.response_uri, {
      vp_token: JSON.stringify({[query.id]: [signed]}), state: other.state,
    });
    out.alsoStatus = again.status;
    out.alsoBody = again.body;
  }
  process.stdout.write(JSON.stringify(out));
} catch(e) {
  const detail = e.errorResponse ?? e.response?.body ?? null;
  process.stdout.write(JSON.stringify({
    error: `${e.name}: ${e.message}`, stage, detail, stack: e.stack,
  }));
}
