// A wallet taking a credential through OpenID4VCI 1.0 with a client library nobody here wrote:
// @openid4vc/openid4vci (OpenWallet Foundation Labs, oid4vc-ts), pre-authorized code flow.
// stdin:  {"offer": "openid-credential-offer://?credential_offer_uri=...", "txCode": "123456"|null,
//          "binding": "did:key"|"jwk"}
// stdout: {"credential": <JSON-LD object or compact JWT>, "holder": "<did>", "configurationId": "...",
//          "format": "..."} or {"error": "..."} (exit 0 either way: the test judges).
// The holder key is a fresh Ed25519 key (node:crypto); the proof names it by did:key (kid) or
// by its public JWK (which the issuer turns into a did:jwk).
import {createHash, generateKeyPairSync, randomBytes, sign} from 'node:crypto';
import {Openid4vciClient} from '@openid4vc/openid4vci';
import {clientAuthenticationAnonymous, setGlobalConfig} from '@openid4vc/oauth2';

// loader.mjs disables the network on import (for the offline tests); this wallet needs it.
const networkFetch = globalThis.fetch;
const {readStdinJson} = await import('./loader.mjs');
globalThis.fetch = networkFetch;

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58btc(bytes) {
  let n = BigInt('0x' + Buffer.from(bytes).toString('hex'));
  let out = '';
  while(n > 0n) {
    out = B58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for(const b of bytes) {
    if(b !== 0) {
      break;
    }
    out = '1' + out;
  }
  return out;
}
const b64url = data => Buffer.from(data).toString('base64url');

const input = await readStdinJson();
// The tests run the issuer on 127.0.0.1 over plain HTTP.
setGlobalConfig({allowInsecureUrls: true});

const {publicKey, privateKey} = generateKeyPairSync('ed25519');
const publicJwk = publicKey.export({format: 'jwk'});
const raw = Buffer.from(publicJwk.x, 'base64url');
const didKey = 'did:key:z' + base58btc(Buffer.concat([Buffer.from([0xed, 0x01]), raw]));
const signer = input.binding === 'jwk' ?
  {method: 'jwk', alg: 'EdDSA', publicJwk} :
  {method: 'did', alg: 'EdDSA', didUrl: `${didKey}#${didKey.slice('did:key:'.length)}`};
const holder = input.binding === 'jwk' ? null : didKey;

const callbacks = {
  fetch: globalThis.fetch,
  hash: (data, alg) => new Uint8Array(
    createHash(alg.toLowerCase().replace('-', '')).update(data).digest()),
  generateRandom: length => new Uint8Array(randomBytes(length)),
  clientAuthentication: clientAuthenticationAnonymous(),
  signJwt: async (jwtSigner, {header, payload}) => {
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    const signature = sign(null, Buffer.from(signingInput), privateKey);
    return {jwt: `${signingInput}.${b64url(signature)}`, signerJwk: publicJwk};
  },
};

try {
  const client = new Openid4vciClient({callbacks});
  const offer = await client.resolveCredentialOffer(input.offer);
  const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  const {accessTokenResponse} = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer: offer,
    issuerMetadata,
    txCode: input.txCode ?? undefined,
  });
  const {c_nonce: nonce} = await client.requestNonce({issuerMetadata});
  const configurationId = offer.credential_configuration_ids[0];
  const {jwt} = await client.createCredentialRequestJwtProof({
    issuerMetadata, credentialConfigurationId: configurationId, signer, nonce,
  });
  const response = await client.retrieveCredentials({
    issuerMetadata,
    accessToken: accessTokenResponse.access_token,
    credentialConfigurationId: configurationId,
    proofs: {jwt: [jwt]},
  });
  const [first] = response.credentialResponse.credentials;
  process.stdout.write(JSON.stringify({
    credential: first.credential,
    holder,
    configurationId,
    format: issuerMetadata.credentialIssuer.credential_configurations_supported[configurationId]
      .format,
    version: issuerMetadata.originalDraftVersion ?? null,
  }));
} catch(e) {
  const detail = e.errorResponse ?? e.response?.body ?? null;
  process.stdout.write(JSON.stringify({
    error: `${e.name}: ${e.message}`, detail, stack: e.stack,
  }));
}
