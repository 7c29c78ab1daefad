// `postern demo` (being written).
export async function runDemo(_args: string[]): Promise<number> {
  process.stderr.write('postern demo: not available in this build\n');
  return 2;
}
