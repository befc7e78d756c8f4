// Signs requests with @smithy/signature-v4, the signer inside AWS's SDK for
// JavaScript, as an independent check of callgate's own (src/aws/sigv4.cpp).
// Reads one JSON request a line on stdin; writes, a line each, the headers
// the SDK's signer put on it (Authorization among them) as JSON.
//   {"method","hostname","path","query":{},"headers":{},"body",
//    "accessKeyId","secretAccessKey","sessionToken","region","service","time": ms since 1970}
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { createInterface } from 'node:readline';

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (line.trim() === '') continue;
  const input = JSON.parse(line);
  const credentials = { accessKeyId: input.accessKeyId, secretAccessKey: input.secretAccessKey };
  if (input.sessionToken) credentials.sessionToken = input.sessionToken;
  // applyChecksum off: DynamoDB's requests carry no x-amz-content-sha256.
  const signer = new SignatureV4({
    credentials, region: input.region, service: input.service, sha256: Sha256,
    uriEscapePath: true, applyChecksum: false,
  });
  const signed = await signer.sign({
    method: input.method, protocol: 'https:', hostname: input.hostname, path: input.path,
    query: input.query, headers: input.headers, body: input.body,
  }, { signingDate: new Date(input.time) });
  process.stdout.write(JSON.stringify(signed.headers) + '\n');
}
