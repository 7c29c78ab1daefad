// Postern's milter server and policy engine with no policy modules at all: what the server costs by
// itself (negotiation, framing, sessions, the trace header at end of message). The benchmark runs it
// beside the real `postern serve` so a slow layer and a slow server can be told apart.
// usage: node dist/bench/passthrough.js inet:PORT@127.0.0.1
import { MilterServer } from '../src/server/server.js';
import { PolicyEngine } from '../src/policy/engine.js';
import { policyConfigSchema } from '../src/policy/config.js';
import { createLogger } from '../src/log/logger.js';

const listen = process.argv[2] ?? 'inet:10027@127.0.0.1';
const logger = createLogger({ level: 'warn', destination: 2 });
const engine = new PolicyEngine({ policy: policyConfigSchema.parse({}), modules: [], logger, spoolThresholdBytes: 8 << 20, spoolDir: '' });
const server = new MilterServer(
  engine,
  {
    listen,
    unixMode: 0o660, maxConnections: 2000,
    maxFrameLength: 1024 * 1024 + 1,
    timeouts: { connect: 20000, command: 20000, content: 60000, eom: 240000, idle: 600000 },
    errorAction: 'tempfail',
    highWaterBytes: 4 << 20,
  },
  logger,
);
const address = await server.listen();
process.stderr.write(`passthrough listening on ${address}\n`);
const stop = () => void server.stop(2000).then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
