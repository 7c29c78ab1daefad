// The handful of messages `postern demo` sends, each showing one layer of Postern at work. Built in
// memory (attachments by the test fixture builders), except the clean one, which is a real message
// from test/fixtures when the checkout has it. EICAR is decoded from base64 at run time: no file in
// the repository carries the test virus verbatim.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as B from '../../test/fixtures/attachments/build.js';

export type Expected = 'accept' | 'reject' | 'quarantine' | 'discard' | 'tempfail';

export interface DemoMessage {
  /** Short name shown in the table. */
  name: string;
  /** What it demonstrates (printed under the table). */
  about: string;
  from: string;
  to: string[];
  data: string;
  /** Sent from an outside client (XCLIENT 192.0.2.10) rather than from the local network. */
  outside: boolean;
  /** The verdict a default Postern gives it. */
  expect: Expected;
  /** Only when clamd runs. */
  needsClamd?: boolean;
}

/** The repository (or package) root: three levels above dist-X/src/demo/. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLEAN_FIXTURE = path.join('test', 'fixtures', 'e2e', 'corpus', 'ruby-mail', 'plain_emails', 'basic_email.eml');

/** EICAR's 68 bytes, decoded when needed. */
export function eicar(): Buffer {
  return Buffer.from('WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNULUZJTEUhJEgrSCo=', 'base64');
}

const DATE = () => new Date().toUTCString().replace('GMT', '+0000');
const b64 = (b: Buffer) => b.toString('base64').replace(/.{76}/g, '$&\r\n');

function simple(headers: string[], body: string[]): string {
  return [...headers, `Date: ${DATE()}`, '', ...body, ''].join('\r\n');
}

function withAttachment(tag: string, subject: string, text: string, file: { name: string; type: string; data: Buffer }): string {
  return [
    'From: Alice Sender <alice@example.org>',
    'To: Bob <bob@example.test>',
    `Subject: ${subject}`,
    `Date: ${DATE()}`,
    `Message-ID: <demo-${tag}@example.org>`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="demo-boundary-1"',
    '',
    '--demo-boundary-1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    text,
    '--demo-boundary-1',
    `Content-Type: ${file.type}; name="${file.name}"`,
    `Content-Disposition: attachment; filename="${file.name}"`,
    'Content-Transfer-Encoding: base64',
    '',
    b64(file.data),
    '--demo-boundary-1--',
    '',
  ].join('\r\n');
}

function cleanMessage(): string {
  for (const root of [PACKAGE_ROOT, process.cwd()]) {
    const f = path.join(root, CLEAN_FIXTURE);
    if (existsSync(f)) {
      // Keep the fixture's content; drop its old trace fields (they name hosts of 2008).
      const raw = readFileSync(f, 'latin1').replace(/\r?\n/g, '\r\n');
      const [head, ...rest] = raw.split('\r\n\r\n');
      const kept = head!.replace(/\r\n[ \t]+/g, ' ').split('\r\n').filter((l) => !/^(Received|Delivered-To|Return-Path|Received-SPF|Authentication-Results|X-TPG-[\w-]+):/i.test(l));
      return [...kept, '', rest.join('\r\n\r\n')].join('\r\n');
    }
  }
  return simple(['From: Alice Sender <alice@example.org>', 'To: Bob <bob@example.test>', 'Subject: Lunch on Friday?', 'Message-ID: <demo-clean@example.org>'], ['Hi Bob,', '', 'Shall we have lunch on Friday at noon?', '', 'Alice']);
}

export function demoMessages(): DemoMessage[] {
  return [
    {
      name: 'clean',
      about: `an ordinary message (${CLEAN_FIXTURE})`,
      from: 'test@example.org',
      to: ['bob@example.test'],
      data: cleanMessage(),
      outside: true,
      expect: 'accept',
    },
    {
      name: 'spam-like',
      about: 'advance-fee, pharmacy and crypto-extortion phrases: content rules add up to the quarantine score (10)',
      from: 'winner@example.com',
      to: ['bob@example.test'],
      data: simple(
        ['From: Claims Office <winner@example.com>', 'To: bob@example.test', 'Subject: You have won - claim your prize', 'Message-ID: <demo-spam@example.com>'],
        ['Dear friend, as next of kin you are the beneficiary of the sum from the inheritance fund.', 'Cheap viagra from our online pharmacy.', 'Send the fee to my bitcoin wallet today.'],
      ),
      outside: true,
      expect: 'quarantine',
    },
    {
      name: 'executable',
      about: 'a Windows program named invoice.pdf.exe: blocked name, double extension, true type PE',
      from: 'alice@example.org',
      to: ['bob@example.test'],
      data: withAttachment('exe', 'Your invoice', 'Please find the invoice attached.', { name: 'invoice.pdf.exe', type: 'application/pdf', data: B.pe() }),
      outside: true,
      expect: 'reject',
    },
    {
      name: 'encrypted-zip',
      about: 'a password-protected zip: it cannot be scanned, so it is held for a person to look at',
      from: 'alice@example.org',
      to: ['bob@example.test'],
      data: withAttachment('zip', 'Quarterly figures', 'Password as agreed.', { name: 'figures.zip', type: 'application/zip', data: B.zip([{ name: 'figures.pdf', data: 'ciphertext', encrypted: true, method: 0 }]) }),
      outside: true,
      expect: 'quarantine',
    },
    {
      name: 'eicar',
      about: 'the EICAR anti-virus test file as an attachment: clamd finds it',
      from: 'alice@example.org',
      to: ['bob@example.test'],
      data: withAttachment('eicar', 'Test file', 'See attached.', { name: 'notes.txt', type: 'text/plain', data: eicar() }),
      outside: true,
      expect: 'reject',
      needsClamd: true,
    },
    {
      name: 'mime-trick',
      about: 'two boundary parameters that disagree: mail programs may read different parts (MIME ambiguity)',
      from: 'alice@example.org',
      to: ['bob@example.test'],
      data: [
        'From: Alice Sender <alice@example.org>',
        'To: Bob <bob@example.test>',
        'Subject: Report',
        `Date: ${DATE()}`,
        'Message-ID: <demo-mime@example.org>',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="outer-a"; boundary="outer-b"',
        '',
        '--outer-a',
        'Content-Type: text/plain',
        '',
        'Harmless text for one reader.',
        '--outer-b',
        'Content-Type: application/octet-stream; name="tool.bin"',
        'Content-Transfer-Encoding: base64',
        '',
        b64(Buffer.from('something else for the other reader')),
        '--outer-b--',
        '--outer-a--',
        '',
      ].join('\r\n'),
      outside: true,
      expect: 'reject',
    },
    {
      name: 'out-of-office',
      about: 'an automatic reply from one of our users to an outside address: it would confirm the mailbox to spammers',
      from: 'bob@example.test',
      to: ['someone@outside.example'],
      data: simple(
        ['From: Bob <bob@example.test>', 'To: someone@outside.example', 'Subject: Out of office: back on Monday', 'Auto-Submitted: auto-replied', 'Message-ID: <demo-ooo@example.test>'],
        ['I am out of the office until Monday.'],
      ),
      outside: false,
      expect: 'reject',
    },
  ];
}
