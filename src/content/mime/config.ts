// Config section for the MIME parser (src/content/mime): limits, RFC-conformance rules and the
// ambiguity verdict. Every rule has an action (and a score when the action is 'score'); the special
// action 'ambiguity' means "use the shared ambiguity verdict" (ambiguity.action / ambiguity.reply),
// so switching every ambiguity kind from reject to quarantine is one key.
// This file only describes settings; it must never read the environment or files.
import { z } from 'zod';
import { ruleActionSchema, smtpReplySchema } from '../../config/common.js';

/** A rule's action: any rule action, or 'ambiguity' = the shared ambiguity verdict. */
export const mimeRuleActionSchema = z.union([ruleActionSchema, z.literal('ambiguity')]);
export type MimeRuleAction = z.infer<typeof mimeRuleActionSchema>;

function rule(action: MimeRuleAction, score: number, why: string) {
  return z
    .object({
      action: mimeRuleActionSchema.default(action).describe('What the rule does when it fires.'),
      score: z.number().default(score).describe('Score added when action is "score".'),
    })
    .prefault({})
    .describe(why);
}

function limitRule(limit: number, action: MimeRuleAction, score: number, why: string) {
  return z
    .object({
      limit: z.number().int().positive().default(limit).describe('The limit; the rule fires above it.'),
      action: mimeRuleActionSchema.default(action).describe('What the rule does when it fires.'),
      score: z.number().default(score).describe('Score added when action is "score".'),
    })
    .prefault({})
    .describe(why);
}

export const mimeConfigSchema = z
  .object({
    ambiguity: z
      .object({
        action: z
          .enum(['reject', 'quarantine', 'score', 'log'])
          .default('reject')
          .describe(
            'The ambiguity verdict: a message that mail programs may read differently from us is refused ' +
              '(draft-chen-email-mime-ambiguity-defense, CVE-2024-28054). Set "quarantine" to hold instead.',
          ),
        score: z.number().default(10).describe('Score when the ambiguity action is "score".'),
        reply: smtpReplySchema
          .default({ code: 554, enhanced: '5.6.0', text: 'message refused: ambiguous MIME structure' })
          .describe('Reply for an ambiguity reject.'),
      })
      .prefault({})
      .describe('Shared verdict for every rule whose action is "ambiguity".'),
    malformedReply: smtpReplySchema
      .default({ code: 554, enhanced: '5.6.0', text: 'message refused: malformed MIME structure' })
      .describe('Reply for rejects of malformed messages (limits exceeded, hard line length).'),

    // ---- ambiguity kinds ----
    duplicateBoundary: rule('ambiguity', 0,
      'mime.ambiguous.duplicate-boundary: two boundary parameters (plain, RFC 2231, or from a lenient parse) ' +
        'that both delimit parts in the body: parsers pick different ones (CVE-2024-28054). Never seen in the ' +
        'benign corpus, so the ambiguity verdict.'),
    boundaryUnclear: rule('score', 2,
      'mime.ambiguous.boundary: the boundary a strict parser reads is not in the body (or is empty), but one ' +
        'lenient reading (quoting, escapes, comments, RFC 2231 forms) finds one that is. A strict parser then sees ' +
        'no parts at all and the lenient reading is scanned, so this scores (seen in 6 benign corpus mails); two ' +
        'competing readings are duplicate-boundary.'),
    boundaryPrefix: rule('score', 2,
      'mime.ambiguous.boundary-prefix: a nested boundary extends an enclosing one ("X" and "X_alt", Eudora ' +
        '".REL"), or delimiter lines match only by prefix. RFC 2046 forbids it but generators do it (15 benign ' +
        'corpus mails); the prefix-matching reading is scanned too, so it scores.'),
    boundaryEqual: rule('ambiguity', 0,
      'mime.ambiguous.boundary-equal: a nested multipart reuses an enclosing boundary: where each part ends ' +
        'depends on the parser. Ambiguity verdict.'),
    duplicateContentType: rule('ambiguity', 0,
      'mime.ambiguous.content-type: two Content-Type headers in one entity that disagree. Ambiguity verdict.'),
    lenientMultipart: rule('score', 2,
      'mime.lenient-multipart: a non-multipart type with a boundary parameter ("text/html; boundary=", ' +
        '"multipart/*", RFC 2047 or odd types) or a body without Content-Type that holds MIME part structure. ' +
        'The lenient split is scanned as well as the whole body, so this scores (seen in benign spam and bounces).'),
    encoding: rule('ambiguity', 0,
      'mime.ambiguous.encoding: several Content-Transfer-Encoding headers that disagree. Ambiguity verdict.'),
    encodingNonStandard: rule('score', 1,
      'mime.nonstandard-encoding: a transfer encoding written in a non-standard way that names an encoding ' +
        '("x-uue", "quoted printable", "base64, qp", comments). Every named decoding and the raw body are scanned.'),
    base64: rule('score', 1,
      'mime.ambiguous.base64: base64 with data after "=" padding, junk characters, or lines that are not a ' +
        'multiple of 4: stream and per-line decoders produce different bytes. Both readings are scanned; found in ' +
        '11 benign corpus mails (concatenated segments, odd fold lengths), so it scores.'),
    filename: rule('ambiguity', 0,
      'mime.ambiguous.filename: a part carries file names with different extensions (Content-Type name vs ' +
        'Content-Disposition filename, duplicate parameters, RFC 2231 vs plain, strict vs lenient quoting). ' +
        'All names go to ContentPart.names; the hit uses the ambiguity verdict.'),
    filenameMismatch: rule('score', 1,
      'mime.filename-mismatch: a part carries different file names that agree on the extension (or only one ' +
        'has one): e.g. "hello.rb" vs "api.rb", a path vs its base name. All names are scanned; scores.'),
    duplicateHeader: rule('ambiguity', 0,
      'rfc.duplicate-header: a single-instance header (From, Sender, To, Subject, Date, Message-ID, Content-Type, ' +
        'Content-Transfer-Encoding, MIME-Version) appears twice at top level with different values: mail ' +
        'programs show different ones. Identical duplicates only score (duplicateHeaderSame).'),
    duplicateHeaderSame: rule('score', 1,
      'rfc.duplicate-header-same: a single-instance header repeated with the same value: broken but not ambiguous.'),
    headerEnd: rule('score', 2,
      'mime.ambiguous.header-end: a part header holds a line that is neither a field nor a continuation, or a ' +
        'part begins with a blank line followed by fields: parsers end the header in different places. Both ' +
        'readings are scanned, so it scores.'),
    bareCrStructure: rule('score', 2,
      'mime.ambiguous.bare-cr: reading bare CR as a line end shows parts the LF reading does not (headers or ' +
        'boundaries hidden behind CR). Those parts are scanned too (path "cr:…"), so it scores.'),
    missingCloseBoundary: rule('score', 1,
      'mime.missing-close-boundary: a multipart without its closing delimiter. Common in real mail (truncated ' +
        'or sloppy generators) and every parser reads to the end, so it scores rather than rejects.'),
    noBoundary: rule('score', 1,
      'mime.no-boundary: a multipart whose boundary never occurs in the body (or is missing); its body is ' +
        'scanned as one text part. Scores: broken senders do this.'),
    partial: rule('ambiguity', 0,
      'mime.partial: message/partial fragments are reassembled by some clients only (CVE-2002-1121) and ' +
        'cannot be scanned whole; refused like MailScanner "Allow Partial Messages = no".'),
    externalBody: rule('ambiguity', 0,
      'mime.external-body: message/external-body points at content we cannot scan; refused by default ' +
        '(MailScanner "Allow External Message Bodies = no").'),
    unknownEncoding: rule('score', 1,
      'mime.unknown-encoding: an unrecognised transfer encoding with no known encoding named in it (e.g. "8-bit"); ' +
        'the body is scanned undecoded. Scores.'),
    readingsLimit: rule('ambiguity', 0,
      'mime.readings-limit: more alternative structural readings than maxAlternatives; the rest of the union ' +
        'is not scanned, so the message is treated as ambiguous.'),
    undecodable: rule('ambiguity', 0,
      'mime.undecodable: content declared or marked as an encoding we cannot decode (BinHex data that does not ' +
        'decode, an unknown binhex transfer encoding) so it cannot be scanned.'),
    unchecked: rule('quarantine', 0,
      'mime.unchecked: a bound on extracting files hidden in a part was reached (maxEmbeddedScanBytes, ' +
        'maxEmbeddedFiles, a BinHex stream larger than the part allows): part of the content was not checked. ' +
        'Held like archive.unchecked, never passed silently.'),

    // ---- RFC conformance ----
    lineLength: limitRule(998, 'score', 1,
      'rfc.line-length: a line longer than 998 octets (RFC 5322 2.1.1). Common in sloppy HTML mail: scores.'),
    lineLengthHard: limitRule(10000, 'reject', 0,
      'rfc.line-length-hard: a line far beyond the RFC limit; MTAs split or refuse such lines, so views differ.'),
    mimeHeaderLength: limitRule(1024, 'reject', 0,
      'rfc.mime-header-length: a Content-Type or Content-Disposition header longer than this after unfolding: ' +
        'a parser-exhaustion trick, no real sender needs it.'),
    headerLength: limitRule(65536, 'reject', 0,
      'rfc.header-length: any single header longer than this after unfolding.'),
    headerCount: limitRule(1000, 'reject', 0,
      'rfc.header-count: more header fields than this in one entity.'),
    mimeParts: limitRule(1000, 'reject', 0,
      'rfc.mime-parts: more MIME entities than this; parsing stops at the limit.'),
    mimeDepth: limitRule(20, 'reject', 0,
      'rfc.mime-depth: multipart / message nesting deeper than this; deeper content is not parsed.'),
    nul: rule('score', 1, 'rfc.nul: NUL bytes in the message (RFC 5322 forbids them; clients truncate differently).'),
    bareCr: rule('score', 1, 'rfc.bare-cr: CR not followed by LF (line-ending confusion between parsers).'),
    eightBitHeader: rule('score', 1,
      'rfc.8bit-header: 8-bit bytes in top-level headers while the session did not use SMTPUTF8.'),
    missingFrom: rule('score', 1, 'rfc.missing-from: no From header (RFC 5322 requires it).'),
    missingDate: rule('score', 1, 'rfc.missing-date: no Date header (RFC 5322 requires it).'),

    mailparserView: z
      .boolean()
      .default(false)
      .describe('Also parse with mailparser and add any attachment it decodes that our reading did not (union of ' +
        'two parsers). Off by default: it roughly triples parse time, and over the corpus it found nothing extra.'),
    viewMismatch: rule('score', 2,
      'mime.ambiguous.parser-views: mailparser decoded an attachment our reading did not. The attachment is ' +
        'added to the parts and scanned, so it scores (only with mailparserView).'),

    // ---- resource bounds (not rules) ----
    maxTextBytes: z
      .number()
      .int()
      .positive()
      .default(4 * 1024 * 1024)
      .describe('Largest text part turned into UTF-8 text for content rules; longer ones are cut (bytes stay whole).'),
    maxEmbeddedScanBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 * 1024)
      .describe('Bytes of each decoded text (or BinHex) part searched for uuencoded, yEnc and BinHex files, independent of ' +
        'maxTextBytes (an executable placed after the text cut is still found); also the per-message budget for BinHex ' +
        'run-length expansion. Beyond either: mime.unchecked.'),
    maxEmbeddedFiles: z
      .number()
      .int()
      .positive()
      .default(100)
      .describe('Most uuencoded / yEnc / BinHex files extracted from one part; more: mime.unchecked.'),
    maxReadings: z
      .number()
      .int()
      .positive()
      .default(4)
      .describe('Most alternative readings (boundary choices, encodings) followed per entity: bounds union scanning.'),
    maxAlternatives: z
      .number()
      .int()
      .positive()
      .default(64)
      .describe('Most alternative structural readings (extra boundary choices, lenient header ends) per message: ' +
        'each rescans part of the message, so this bounds work on hostile input.'),
  })
  .prefault({});

export type MimeConfig = z.infer<typeof mimeConfigSchema>;
export type MimeConfigInput = z.input<typeof mimeConfigSchema>;
