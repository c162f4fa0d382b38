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
(async () => {
  const doc = JSON.parse(fs.readFileSync(process.argv[2]));
  if (process.argv[3] === 'noproof') delete doc.proof;
  try {
    const out = await jsonld.canonize(doc, {algorithm: 'RDFC-1.0', format: 'application/n-quads', documentLoader, safe: true, base: null});
    process.stdout.write(out);
  } catch (e) { console.log('ERROR', e.message, JSON.stringify(e.details||{}).slice(0,300)); }
})();
