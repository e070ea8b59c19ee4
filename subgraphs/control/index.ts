// Runs the control plane as its own process (needs DATABASE_URL).
import { runProcess } from '../../lib/runtime/process-runner';

void runProcess(['subgraph', 'control']);
