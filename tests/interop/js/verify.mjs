// Verify a credential with the Digital Bazaar stack (both suites accepted).
// stdin:  {"credential": {...}, "didDocuments": [optional DID documents to use offline]}
// stdout: {"verified": true|false, "errors": ["..."]}
// Status entries are not checked here (no network); the tests use credentials without them, or
// pass "statusUnchecked": true for a credential whose status entry Sceau's own tests check.
import {verify} from './dbstack.mjs';
import {readStdinJson} from './loader.mjs';

process.stdout.write(JSON.stringify(await verify(await readStdinJson())));
