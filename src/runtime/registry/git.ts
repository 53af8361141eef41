// The git state a run records: HEAD's commit and whether tracked files differ from it. Asked of
// `git` asynchronously when a run's storage opens and awaited when it finishes, so the run does
// not wait for it; null fields outside a repository or without git. Asked once per process and
// folder: the code a process runs is the code it loaded, whatever is edited afterwards, so later
// runs of the same process (a sweep, a graph, an optimizer's rounds) reuse the answer.
import { execFile } from "node:child_process";

export interface GitState {
  readonly commit: string | null;
  readonly dirty: boolean | null;
}

function git(cwd: string, args: string[]): Promise<string | null> {
  return new Promise((done) => {
    try {
      execFile("git", args, { cwd, timeout: 5000, windowsHide: true }, (error, stdout) => done(error ? null : stdout));
    } catch {
      done(null);
    }
  });
}

const asked = new Map<string, Promise<GitState>>();

export function gitState(cwd: string): Promise<GitState> {
  let state = asked.get(cwd);
  if (state === undefined) asked.set(cwd, (state = askGit(cwd)));
  return state;
}

async function askGit(cwd: string): Promise<GitState> {
  const [head, status] = await Promise.all([git(cwd, ["rev-parse", "HEAD"]), git(cwd, ["status", "--porcelain", "--untracked-files=no"])]);
  const commit = head?.trim() || null;
  return { commit, dirty: commit === null || status === null ? null : status.trim().length > 0 };
}

/** The process's command line as one string (arguments with spaces or quotes are quoted). */
export function commandLine(argv: readonly string[] = process.argv): string {
  const [, script, ...args] = argv;
  const name = script === undefined ? "node" : (script.split(/[\\/]/).pop() ?? script).replace(/\.js$/, "");
  return [name, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}
