// `npm start` (whole stack), `npm run start:gateway`, `npm run start:subgraph -- <plane>`.
import { runProcess } from '../app/process-runner';

void runProcess(process.argv.slice(2));
