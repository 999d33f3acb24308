/**
 * Every local cluster's node simulator plays kube-proxy on 127.0.0.1, so two local clusters on
 * one machine (the tests' cluster and `npm start`'s, or two checkouts) would hand out the same
 * NodePort numbers: one simulator would fail to bind, and a URL check could be answered by the
 * other cluster's app. Real clusters never share node addresses, so each local cluster claims a
 * range of its own for kube-apiserver's --service-node-port-range. The claim is a lock file
 * holding the owner's pid; a lock whose process is gone is taken over.
 *
 * The ranges lie below 32768, where Linux starts its ephemeral ports, so no outgoing
 * connection's local port can sit on a NodePort. The first is Kubernetes' default.
 */
import { openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RANGES = ['30000-32767', '10000-12767', '13000-15767', '16000-18767', '19000-21767', '22000-24767', '25000-27767'];

export interface NodePortRange {
  /** As kube-apiserver's --service-node-port-range takes it. */
  range: string;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claims the first free range; when all are taken, the default one, shared (`log` says so). */
export function claimNodePortRange(log: (line: string) => void = () => {}, lockDir = tmpdir()): NodePortRange {
  for (const [i, range] of RANGES.entries()) {
    const lock = join(lockDir, `tycho-local-nodeports-${i}.lock`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(lock, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        let held = true;
        return {
          range,
          release: () => {
            if (held) rmSync(lock, { force: true });
            held = false;
          },
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') break;
        const owner = Number(readFileSync(lock, { encoding: 'utf8', flag: 'r' }).trim());
        // A lock being written (empty) or held by a live process: the next range.
        if (!owner || alive(owner)) break;
        rmSync(lock, { force: true }); // left by a process that is gone: take it over
      }
    }
  }
  log(`every NodePort range for local clusters is in use; sharing ${RANGES[0]} with another local cluster`);
  return { range: RANGES[0]!, release: () => {} };
}
