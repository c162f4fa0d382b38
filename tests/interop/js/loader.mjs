// Offline JSON-LD document loader for the interop scripts.
//
// It is the loader the Learner Credential Wallet and VerifierPlus use
// (@digitalcredentials/security-document-loader, remote contexts disabled), plus the few
// contexts that loader does not bundle but our test documents use, read from Sceau's own
// context bundle (shared/engine/src/sceau_credentials/contexts). did:key is resolved offline by
// the loader's own did:key driver. Any network access throws: the tests must run offline.
import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {securityLoader} from '@digitalcredentials/security-document-loader';

const here = dirname(fileURLToPath(import.meta.url));
const bundle = join(here, '..', '..', '..', 'shared', 'engine', 'src', 'sceau_credentials',
  'contexts');

// Contexts the third-party loader lacks; everything else comes from its own npm packages.
const EXTRA = {
  'https://www.w3.org/ns/credentials/examples/v2': 'credentials-examples-v2.jsonld',
  'https://www.w3.org/2018/credentials/examples/v1': 'credentials-examples-v1.jsonld',
  'https://w3id.org/security/multikey/v1': 'multikey-v1.jsonld',
  'https://www.w3.org/ns/odrl.jsonld': 'odrl.jsonld',
};

globalThis.fetch = async url => {
  throw new Error(`network access is disabled in interop tests (tried ${url})`);
};

// didDocuments: DID documents to serve as if resolved (e.g. a did:web document we generated),
// together with each of their verification methods, the way a DID resolver answers a DID URL.
export function buildLoader(didDocuments = []) {
  const loader = securityLoader({fetchRemoteContexts: false});
  for(const [url, file] of Object.entries(EXTRA)) {
    loader.addStatic(url, JSON.parse(readFileSync(join(bundle, file), 'utf8')));
  }
  const given = new Map();
  for(const doc of didDocuments) {
    given.set(doc.id, doc);
    for(const method of doc.verificationMethod ?? []) {
      given.set(method.id, {'@context': doc['@context'], ...method});
    }
  }
  const documentLoader = loader.build();
  return async url => {
    if(given.has(url)) {
      return {contextUrl: null, documentUrl: url, document: given.get(url)};
    }
    if(url.startsWith('did:') && !url.startsWith('did:key:')) {
      throw new Error(`only did:key is resolvable offline, not ${url}`);
    }
    return documentLoader(url);
  };
}

export async function readStdinJson() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}
