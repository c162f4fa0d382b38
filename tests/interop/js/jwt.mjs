// VC-JWT with the `jose` library (panva/jose) and Digital Bazaar's Multikey drivers.
// stdin, one of:
//   {"op": "verify", "token": "<compact JWS>"}
//       The key is found from the header's did:key `kid` by @digitalbazaar/ecdsa-multikey or
//       @digitalbazaar/ed25519-multikey (an independent did:key decoding), then jose verifies.
//       stdout: {"verified": true|false, "error": "...", "payload": {...}, "header": {...}}
//       With "didDocument": {...} (a did:web document) the key is the verification method the
//       `kid` names there (it must be listed in assertionMethod): publicKeyJwk, or a P-256 or
//       Ed25519 publicKeyMultibase read by the Digital Bazaar Multikey drivers.
//   {"op": "sign", "alg": "ES256" | "RS256" | "EdDSA", "credential": {...}}
//       jose generates a key pair and signs a VC-JWT (VC-JOSE-COSE for a VCDM 2.0 credential,
//       a `vc` claim for a VCDM 1.1 one); for ES256/EdDSA the issuer is the
//       key's did:key (Multikey computed by the Digital Bazaar drivers); for RS256 it is
//       did:web:college.example#rsa and the public JWK is returned for a DID document.
//       With "didMethod": "jwk" the issuer is the key's did:jwk (kid `<did>#0`) instead; with
//       "webDid": "did:web:…" it is that DID, kid `<did>#<alg in lower case>`, for every alg.
//       stdout: {"token": "...", "issuer": "did:...", "kid": "...", "publicJwk": {...}}
import * as jose from 'jose';
import * as EcdsaMultikey from '@digitalbazaar/ecdsa-multikey';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {readStdinJson} from './loader.mjs';

const input = await readStdinJson();

async function keyFromKid(kid) {
  const multibase = kid.split('#')[1];
  if(multibase.startsWith('zDn')) {
    const pair = await EcdsaMultikey.from({publicKeyMultibase: multibase});
    return jose.importJWK(await EcdsaMultikey.toJwk({keyPair: pair}), 'ES256');
  }
  const pair = await Ed25519Multikey.from({publicKeyMultibase: multibase});
  return jose.importJWK(await Ed25519Multikey.toJwk({keyPair: pair}), 'EdDSA');
}

async function keyFromDocument(document, kid, alg) {
  const listed = (document.assertionMethod || []).map(m => typeof m === 'string' ? m : m.id);
  if(!listed.includes(kid)) {
    throw new Error(`${kid} is not an assertionMethod of ${document.id}`);
  }
  const method = (document.verificationMethod || []).find(m => m.id === kid);
  if(!method) {
    throw new Error(`${kid} is not in ${document.id}`);
  }
  if(method.publicKeyJwk) {
    return jose.importJWK(method.publicKeyJwk, alg);
  }
  return keyFromKid(`${kid.split('#')[0]}#${method.publicKeyMultibase}`);
}

if(input.op === 'verify') {
  const header = jose.decodeProtectedHeader(input.token);
  try {
    const key = input.didDocument ?
      await keyFromDocument(input.didDocument, header.kid, header.alg) :
      await keyFromKid(header.kid);
    const {payload} = await jose.jwtVerify(input.token, key, {algorithms: [header.alg]});
    process.stdout.write(JSON.stringify({verified: true, payload, header}));
  } catch(e) {
    process.stdout.write(JSON.stringify({verified: false, error: `${e.name}: ${e.message}`,
      header}));
  }
} else if(input.op === 'sign') {
  const {alg} = input;
  const {publicKey, privateKey} = await jose.generateKeyPair(alg, {extractable: true});
  const publicJwk = await jose.exportJWK(publicKey);
  let issuer;
  let kid;
  if(input.didMethod === 'jwk') {
    issuer = `did:jwk:${jose.base64url.encode(JSON.stringify(publicJwk))}`;
    kid = `${issuer}#0`;
  } else if(input.webDid) {
    issuer = input.webDid;
    kid = `${issuer}#${alg.toLowerCase()}`;
  } else if(alg === 'RS256') {
    issuer = 'did:web:college.example';
    kid = `${issuer}#rsa`;
  } else {
    const driver = alg === 'ES256' ? EcdsaMultikey : Ed25519Multikey;
    const pair = await driver.fromJwk({jwk: publicJwk});
    const {publicKeyMultibase} = await pair.export({publicKey: true});
    issuer = `did:key:${publicKeyMultibase}`;
    kid = `${issuer}#${publicKeyMultibase}`;
  }
  const vc = {...input.credential, issuer: {...input.credential.issuer, id: issuer}};
  // A VC Data Model 2.0 credential is signed as VC-JOSE-COSE (the payload is the credential,
  // typ vc+jwt); a VCDM 1.1 one as a VCDM 1.1 §6.3.1 JWT (vc claim, iss/jti/nbf).
  const vcdm2 = (vc['@context'] || [])[0] === 'https://www.w3.org/ns/credentials/v2';
  const token = vcdm2 ?
    await new jose.SignJWT(vc)
      .setProtectedHeader({alg, kid, typ: 'vc+jwt', cty: 'vc'})
      .sign(privateKey) :
    await new jose.SignJWT({vc})
      .setProtectedHeader({alg, kid})
      .setIssuer(issuer)
      .setJti(vc.id)
      .setNotBefore(Math.floor(Date.parse(vc.issuanceDate) / 1000))
      .sign(privateKey);
  process.stdout.write(JSON.stringify({token, issuer, kid, publicJwk}));
} else {
  throw new Error(`unknown op ${input.op}`);
}
