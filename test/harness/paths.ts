// Where tests find the repository, its fixtures and the optional shared corpus.
// Tests always run from the repository root (npm test does so); POSTERN_ROOT overrides.
import { existsSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(process.env.POSTERN_ROOT ?? process.cwd());
export const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');
/** The shared corpus (present on developer machines and in CI, absent in a bare clone). */
export const SHARED = path.resolve(process.env.POSTERN_SHARED ?? path.join(REPO_ROOT, '..', 'shared'));
export const SHARED_CORPUS = path.join(SHARED, 'corpus');
export const hasSharedCorpus = (): boolean => existsSync(SHARED_CORPUS);

/** Call at the top of a corpus-wide suite: returns a skip reason and says loudly why when absent. */
export function corpusSkipReason(): string | false {
  if (hasSharedCorpus()) return false;
  const reason = `SKIPPED: shared corpus not found at ${SHARED_CORPUS} (set POSTERN_SHARED to run corpus-wide suites)`;
  console.warn(`\n*** ${reason} ***\n`);
  return reason;
}
