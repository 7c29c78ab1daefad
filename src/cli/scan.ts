// `postern scan` (being written).
export async function runScan(_args: string[]): Promise<number> {
  process.stderr.write('postern scan: not available in this build\n');
  return 2;
}
