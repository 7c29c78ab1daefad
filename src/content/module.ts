// The content layer as a policy module: at end of message it hands the raw message to the content
// analyzer (worker threads) and returns its hits. It reads the whole message, so it asks for the body.
import type { Logger } from '../log/logger.js';
import type { EomContext, PolicyModule, StageResult } from '../policy/types.js';
import type { ContentAnalyzer } from './analyzer.js';

export function createContentModule(analyzer: ContentAnalyzer, budgetMs: number, _logger: Logger): PolicyModule {
  return {
    id: 'content',
    layer: 'content',
    needsContent: true,
    async eom(ctx: EomContext): Promise<StageResult> {
      const { message } = ctx;
      const input = {
        direction: message.direction ?? 'inbound',
        sender: message.sender ?? '',
        recipients: message.recipients.map((r) => r.address),
        smtputf8: message.senderArgs.some((a) => a.toUpperCase() === 'SMTPUTF8'),
      };
      const size = ctx.source.size;
      const source = ctx.source.spoolPath ? { spoolPath: ctx.source.spoolPath, size } : { raw: await ctx.source.read(), size };
      const report = await analyzer.analyze(source, input, budgetMs);
      return { hits: report.hits };
    },
  };
}
