// `postern check-config` and `postern show-config`.
import { parseArgs } from 'node:util';
import { ConfigError, defaultConfig, loadConfigFile, locateProblem } from '../config/load.js';
import { commentedYaml } from '../config/commented.js';
import { validateRuntime } from './validate-runtime.js';

export async function runCheckConfig(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { config: { type: 'string', short: 'c' } } });
  const file = positionals[0] ?? values.config ?? '/etc/postern/postern.yaml';
  try {
    const { config } = loadConfigFile(file);
    // Rule files, patterns and addresses are checked by building the policy, as serve would.
    await validateRuntime(config);
    process.stdout.write(`${file}: OK\n`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    // A problem found while building the policy: point at the config key or rules-file line.
    const message = err instanceof Error ? err.message : String(err);
    const where = locateProblem(file, message);
    const rest = where && where.file !== file && message.startsWith(`${where.file}: `) ? message.slice(where.file.length + 2) : message;
    process.stderr.write(where && where.file !== file ? `${where.file}:${where.line}: ${rest} (via ${file})\n` : `${file}${where ? `:${where.line}` : ''}: ${message}\n`);
    return 1;
  }
}

export async function runShowConfig(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' }, defaults: { type: 'boolean' }, json: { type: 'boolean' } },
  });
  try {
    const config = values.config && !values.defaults ? loadConfigFile(values.config).config : defaultConfig();
    process.stdout.write(values.json ? `${JSON.stringify(config, null, 2)}\n` : commentedYaml(config));
    return 0;
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
