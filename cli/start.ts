// `npm start` (whole stack), `npm run start:gateway`, `npm run start:subgraph -- <plane>`.
// Tracing starts first, so that its instrumentations see the modules the server loads.
import '../lib/telemetry/start-tracing';
import { runProcess } from '../app/process-runner';

void runProcess(process.argv.slice(2));
