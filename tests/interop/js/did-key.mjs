// Resolve a did:key with Digital Bazaar's did:key driver (offline), for comparison with ours.
// stdin:  {"did": "did:key:z6Mk...", "format": "Multikey" | "Ed25519VerificationKey2020"}
// stdout: the DID document
import * as didKey from '@digitalbazaar/did-method-key';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {Ed25519VerificationKey2020} from '@digitalbazaar/ed25519-verification-key-2020';
import {readStdinJson} from './loader.mjs';

const input = await readStdinJson();
const driver = didKey.driver();
driver.use({
  multibaseMultikeyHeader: 'z6Mk',
  fromMultibase: input.format === 'Multikey' ?
    Ed25519Multikey.from : Ed25519VerificationKey2020.from,
});
const document = await driver.get({did: input.did});
process.stdout.write(JSON.stringify(document));
