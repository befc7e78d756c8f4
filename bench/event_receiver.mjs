// The business's receiver for bench/events: answers every delivery 204 at
// once and notes, for each event id, when it first came (wall clock, ns),
// and how many deliveries came in all. GET /stats answers
// {"deliveries":N,"distinct":N}; SIGTERM writes "leadId ns" lines (the
// first delivery of each lead.created) to the file named on the command line.
//
//   node bench/event_receiver.mjs PORT ARRIVALS_FILE
import http from 'node:http';
import { writeFileSync } from 'node:fs';

const [port, arrivalsFile] = process.argv.slice(2);
const firstArrival = new Map();
let deliveries = 0;

const server = http.createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/stats') {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ deliveries, distinct: firstArrival.size }));
    return;
  }
  request.resume();
  request.on('end', () => {
    deliveries += 1;
    const id = request.headers['webhook-id'] || '';
    if (!firstArrival.has(id)) firstArrival.set(id, wallNanoseconds());
    response.writeHead(204).end();
  });
});
// The wall clock to the microsecond (Date.now() has only milliseconds): the
// lag is measured against the load generator's wall clock.
const origin = performance.timeOrigin;
const wallNanoseconds = () => BigInt(Math.round((origin + performance.now()) * 1e6));
server.keepAliveTimeout = 60000;
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => {
  const lines = [];
  for (const [id, ns] of firstArrival) {
    const match = /^evt_([0-9A-Z]+)_created$/.exec(id);
    if (match) lines.push(`${match[1]} ${ns}`);
  }
  writeFileSync(arrivalsFile, lines.join('\n') + '\n');
  process.exit(0);
});
