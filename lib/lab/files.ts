/** Where a lab keeps its state: one folder, with a lab.json saying how to reach it. */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export const DEFAULT_LAB_PORT = 29993;

export function defaultLabDir(): string {
  return path.join(homedir(), '.zerotier-sockets', 'lab');
}

/** What a running lab publishes in <dir>/lab.json. */
export interface LabInfo {
  pid: number;
  dir: string;
  port: number;
  planetPath: string;
  apiUrl: string;
  tokenPath: string;
  controllerAddress: string;
  rootAddress: string;
  /** Per network with DNS: its domain and the 127.0.0.1 server (see lab/dns.ts). */
  dns?: Record<
    string,
    {
      domain: string;
      host: string;
      port: number;
      servers: string[];
      collisions: Array<{ name: string; members: string[] }>;
    }
  >;
}

export const labFiles = (dir: string) => ({
  info: path.join(dir, 'lab.json'),
  planet: path.join(dir, 'planet'),
  planetKey: path.join(dir, 'planet.key'),
  token: path.join(dir, 'authtoken.secret'),
  state: path.join(dir, 'controller.json'),
  log: path.join(dir, 'lab.log'),
});

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running lab of `dir`, or undefined (no lab.json, or its process is gone). */
export function runningLab(dir: string): LabInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(labFiles(dir).info, 'utf8')) as LabInfo;
    return isAlive(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}
