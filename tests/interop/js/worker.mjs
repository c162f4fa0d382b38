// A long-lived Digital Bazaar stack for the property-based interop tests: one JSON request per
// line on stdin, one JSON answer per line on stdout, in order.
// request: {"op": "sign" | "verify" | "jwt-verify", ...the input of that dbstack.mjs function}
// answer:  the function's result, or {"crash": "<name: message>"} when it threw.
import {createInterface} from 'node:readline';
import {jwtVerify, sign, verify} from './dbstack.mjs';

const ops = {sign, verify, 'jwt-verify': jwtVerify};
for await (const line of createInterface({input: process.stdin, crlfDelay: Infinity})) {
  if(!line.trim()) {
    continue;
  }
  let answer;
  try {
    const request = JSON.parse(line);
    answer = await ops[request.op](request);
  } catch(e) {
    answer = {crash: `${e.name ?? 'Error'}: ${e.message}`};
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}
