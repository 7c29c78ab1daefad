// `postern quarantine` (being written).
export async function runQuarantine(_args: string[]): Promise<number> {
  process.stderr.write('postern quarantine: not available in this build\n');
  return 2;
}
