const jsonld = require('jsonld');
const fs = require('fs');
const dir = require('path').join(__dirname, '../../../../../shared/engine/src/sceau_credentials/contexts/');
const manifest = JSON.parse(fs.readFileSync(dir + 'manifest.json'));
const ctx = {};
for (const c of manifest.contexts) ctx[c.url] = JSON.parse(fs.readFileSync(dir + c.file));
const documentLoader = async (url) => {
  if (ctx[url]) return {contextUrl: null, documentUrl: url, document: ctx[url]};
  throw new Error('unknown ' + url);
};
const V2 = 'https://www.w3.org/ns/credentials/v2';
const base = () => ({'@context': [V2], id: 'urn:uuid:1', type: ['VerifiableCredential'], issuer: 'did:example:issuer',
  credentialSubject: {id: 'did:example:subject', name: 'Ada'}});
const cases = [];
const add = (name, mutate) => { const d = base(); mutate(d); cases.push({name, document: d}); };
add('valid', d => {});
add('undefined term', d => { d.credentialSubject.undefinedThing = 'x'; });
add('undefined top-level term', d => { d.bogus = 1; });
add('relative @id', d => { d.id = 'relative/path'; });
add('relative subject id', d => { d.credentialSubject.id = 'subject-1'; });
add('network-path id', d => { d.id = '//evil.example/x'; });
add('reserved @ key', d => { d['@foo'] = 'bar'; });
add('undefined type', d => { d.type.push('UnknownType'); });
add('inline context nulls a term', d => { d['@context'].push({ghost: null}); d.ghost = 'not signed'; });
add('inline context defines a term', d => { d['@context'].push({extra: 'https://example.org/extra'}); d.extra = 'signed'; });
add('empty nested object', d => { d.credentialSubject = {}; });
add('null value', d => { d.credentialSubject.name = null; });
add('language map', d => { d.credentialSubject = {id: 'did:example:s', name: {'@value': 'Ada', '@language': 'fr-CA'}}; });
add('numbers', d => { d.credentialSubject = {id: 'did:example:s', name: 'x'}; d['@context'].push({n: {'@id': 'https://example.org/n'}}); d.n = [1, 1.5, -0.25, 1e21, true]; });
add('unicode and escapes', d => { d.credentialSubject.name = 'Éloïse \t tab "quote" \\ back\nnewline ✓ 😀'; });
add('control character', d => { d.credentialSubject.name = 'bell\u0007'; });
(async () => {
  for (const c of cases) {
    try {
      c.jsonld_js = {canonical: await jsonld.canonize(c.document, {algorithm: 'RDFC-1.0', format: 'application/n-quads', documentLoader, safe: true, base: null})};
    } catch (e) {
      const code = (e.details && e.details.event && e.details.event.code) || (e.cause && e.cause.details && e.cause.details.event && e.cause.details.event.code) || e.name;
      c.jsonld_js = {error: String(code)};
    }
  }
  console.log(JSON.stringify({generator: 'jsonld ' + require('jsonld/package.json').version + ' (rdf-canonize ' + require('rdf-canonize/package.json').version + '), canonize safe:true base:null', cases}, null, 2));
})();
