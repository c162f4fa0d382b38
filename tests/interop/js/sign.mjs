// Sign a credential with the Digital Bazaar stack.
// stdin:  {"credential": {...}, "suite": "eddsa-rdfc-2022" | "Ed25519Signature2020",
//          "seed": "<64 hex chars>"}
// stdout: {"did": "did:key:...", "verificationMethod": "...", "signed": {...}}
// The key is derived from the seed by the third-party libraries themselves, so the did:key
// they print is an independent check of our own derivation.
import {sign} from './dbstack.mjs';
import {readStdinJson} from './loader.mjs';

process.stdout.write(JSON.stringify(await sign(await readStdinJson())));
