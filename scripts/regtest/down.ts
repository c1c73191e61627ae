// `npm run regtest:down`: stops a running `regtest:up` through its PID file, then kills any
// btcd/lnd left behind by runs whose owner is gone.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { alive, REPO_ROOT, reapStaleRuns } from './network.ts';

const STATE_DIR = join(REPO_ROOT, '.cache/regtest');
const UP_PID_FILE = join(STATE_DIR, 'up.pid');

async function main(): Promise<void> {
  if (existsSync(UP_PID_FILE)) {
    const pid = Number(readFileSync(UP_PID_FILE, 'utf8').trim());
    if (pid > 0 && alive(pid)) {
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + 40_000;
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      if (alive(pid)) {
        console.error(`regtest:up (pid ${pid}) did not stop in 40 s; killing it`);
        process.kill(pid, 'SIGKILL');
      } else {
        console.error(`regtest:up (pid ${pid}) stopped`);
      }
    }
    rmSync(UP_PID_FILE, { force: true });
    rmSync(join(STATE_DIR, 'summary.json'), { force: true });
  } else {
    console.error('no regtest:up running');
  }
  const killed = reapStaleRuns();
  if (killed.length) console.error(`killed leftover node processes: ${killed.join(' ')}`);
}

await main();
