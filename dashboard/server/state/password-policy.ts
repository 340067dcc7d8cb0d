/**
 * Which new passwords are refused (review L1: length was the only rule). A password chosen in the
 * dashboard, through the admin API or as the configured `auth.admin` is refused, naming the rule, when:
 * - `length`: shorter than MIN_PASSWORD_LENGTH;
 * - `breached`: it is in the utility's own list, `auth.breachedPasswordFile` (one per line, plain or
 *   SHA-1 hex as Have I Been Pwned publishes it: `HASH` or `HASH:COUNT`, sorted by hash);
 * - `common`: it is a commonly used password, or one with digits or symbols around it (`Summer2026!`),
 *   also with letters written as digits (`P@ssw0rd`): the 49,000 most frequent passwords of public
 *   leaks, as the zxcvbn password-strength estimator ships them (@zxcvbn-ts/language-common, MIT);
 * - `context`: all its letters but a few come from names anyone can guess here: the user name, the
 *   display name, the site's name, `aquawatch`, `scada`, `water`, `admin` (`Aquawatch@2026`);
 * - `repeat`: three characters or fewer, or a part repeated (`abcabcabcabc`, `dragondragon`);
 * - `sequence`: mostly runs of consecutive letters or digits (`abcdef123456`);
 * - `keyboard`: mostly neighbouring keys (`qwertyuiop[]`, `1qaz2wsx3edc`).
 */
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { MIN_PASSWORD_LENGTH, type PasswordRule } from '../../contract/auth.ts';

export type { PasswordRule };

/** What each rule says, in the API's error message (the dashboard shows its own text per rule, zh-CN or en). */
export const PASSWORD_RULE_TEXT: Record<PasswordRule, string> = {
  length: `shorter than ${MIN_PASSWORD_LENGTH} characters`,
  breached: 'in the list of breached passwords (auth.breachedPasswordFile)',
  common: 'a commonly used password, or one with digits or symbols added',
  context: 'made of names anyone can guess here (the user name, the site\'s name, aquawatch)',
  repeat: 'repeated characters or a repeated part',
  sequence: 'a sequence of letters or digits',
  keyboard: 'neighbouring keys on the keyboard',
};

/** Names anyone can guess at a water utility running this platform. */
const GUESSABLE_NAMES = ['aquawatch', 'scada', 'water', 'admin'];
/** Letters left besides guessable names below which a password is made of them. */
const MIN_OTHER_LETTERS = 4;
/** Share of neighbouring pairs that makes a sequence or a keyboard walk. */
const PATTERN_SHARE = 0.75;

/** Digits and symbols that stand for letters (`p@ssw0rd`). */
const LEET: Record<string, string> = { '@': 'a', '4': 'a', '8': 'b', '3': 'e', '9': 'g', '1': 'i', '!': 'i', '0': 'o', '5': 's', '$': 's', '7': 't', '+': 't' };
const unleet = (s: string) => [...s].map((c) => LEET[c] ?? c).join('');
/** What is not a letter around a word: `2026!` in `summer2026!`. */
const AROUND_WORD = /^[^\p{L}]+|[^\p{L}]+$/gu;
const letterCount = (s: string) => (s.match(/\p{L}/gu) ?? []).length;

/** Unshifted US keyboard rows; a key's neighbours are beside it and the two touching it in the next row. */
const KEY_ROWS = ['1234567890-=', 'qwertyuiop[]\\', "asdfghjkl;'", 'zxcvbnm,./'];
const SHIFTED: Record<string, string> = {
  '!': '1', '@': '2', '#': '3', $: '4', '%': '5', '^': '6', '&': '7', '*': '8', '(': '9', ')': '0', _: '-', '+': '=',
  '{': '[', '}': ']', '|': '\\', ':': ';', '"': "'", '<': ',', '>': '.', '?': '/',
};
const KEY_POSITION = new Map<string, [number, number]>(KEY_ROWS.flatMap((row, r) => [...row].map((k, c) => [k, [r, c]] as [string, [number, number]])));

function neighbouringKeys(a: string, b: string): boolean {
  const pa = KEY_POSITION.get(SHIFTED[a] ?? a);
  const pb = KEY_POSITION.get(SHIFTED[b] ?? b);
  if (!pa || !pb) return false;
  const [[r1, c1], [r2, c2]] = pa[0] <= pb[0] ? [pa, pb] : [pb, pa];
  if (r1 === r2) return Math.abs(c1 - c2) <= 1;
  // a key of the row below sits between the key above it and that key's right-hand neighbour
  return r2 === r1 + 1 && (c2 === c1 || c2 === c1 - 1);
}

function shareOfPairs(s: string, test: (a: string, b: string) => boolean): number {
  const chars = [...s];
  let hits = 0;
  for (let i = 1; i < chars.length; i++) if (test(chars[i - 1], chars[i])) hits++;
  return chars.length > 1 ? hits / (chars.length - 1) : 0;
}

const consecutive = (a: string, b: string) => Math.abs(a.codePointAt(0)! - b.codePointAt(0)!) === 1;

/** Words of a name (`Example Water Supply Co.` → example, water, supply) and the name itself, lower case. */
function nameWords(name: string): string[] {
  const lower = name.normalize('NFKC').toLowerCase();
  return [lower.replace(/[\s\p{P}]+/gu, ''), ...lower.split(/[\s\p{P}]+/u)].filter((w) => [...w].length >= 3);
}

let commonPasswords: Promise<ReadonlySet<string>> | undefined;
/** Loaded on first use: about 50,000 words, kept for the life of the process. */
function loadCommonPasswords(): Promise<ReadonlySet<string>> {
  commonPasswords ??= import('@zxcvbn-ts/language-common').then(({ dictionary }) => new Set(dictionary['passwords-common'] as string[]));
  return commonPasswords;
}

/** The utility's own list: a set in memory (plain) or a binary search in the file (SHA-1, sorted). */
interface BreachedList { has(password: string): Promise<boolean> }

const SHA1_LINE = /^[0-9a-f]{40}(:\d+)?$/i;
/** Enough of the file to tell its format and check that a hash list is sorted. */
const SAMPLE_BYTES = 64 * 1024;

async function openBreachedList(path: string): Promise<BreachedList> {
  const file = await open(path, 'r').catch((e: Error) => { throw new Error(`auth.breachedPasswordFile: cannot read ${path}: ${e.message}`); });
  let sample: string[];
  let size: number;
  try {
    size = (await file.stat()).size;
    const { buffer, bytesRead } = await file.read(Buffer.alloc(SAMPLE_BYTES), 0, SAMPLE_BYTES, 0);
    // the last line of the sample may be cut
    sample = buffer.subarray(0, bytesRead).toString('utf8').split('\n').slice(0, bytesRead < size ? -1 : undefined).map((l) => l.trim()).filter(Boolean);
  } finally {
    await file.close();
  }
  if (sample.length === 0) throw new Error(`auth.breachedPasswordFile: ${path} is empty`);
  if (!sample.every((l) => SHA1_LINE.test(l))) {
    // a plain list (SecLists and the like): compared in lower case, so `Password1` also finds `password1`
    const words = new Set((await readFile(path, 'utf8')).split('\n').map((l) => l.trim().normalize('NFKC').toLowerCase()).filter(Boolean));
    return { has: async (password) => words.has(password.normalize('NFKC').toLowerCase()) };
  }
  const hashes = sample.map((l) => l.slice(0, 40).toUpperCase());
  if (hashes.some((h, i) => i > 0 && h < hashes[i - 1])) {
    throw new Error(`auth.breachedPasswordFile: ${path} holds SHA-1 hashes that are not sorted (use the list ordered by hash, as Have I Been Pwned's downloader writes it)`);
  }
  return { has: (password) => sortedHashFileHas(path, size, createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase()) };
}

/**
 * Binary search over the byte offsets of a file of lines sorted by their first 40 characters (the
 * hash): about 35 steps of three small reads for the 40 GB list of Have I Been Pwned.
 */
async function sortedHashFileHas(path: string, size: number, hash: string): Promise<boolean> {
  const file = await open(path, 'r');
  const read = async (at: number, length: number) => {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(length), 0, length, at);
    return buffer.subarray(0, bytesRead);
  };
  /** Where the line after the newline at or after `at` starts (`size` when there is none). */
  const nextLineStart = async (at: number): Promise<number> => {
    for (; at < size; at += 256) {
      const i = (await read(at, 256)).indexOf(10);
      if (i >= 0) return at + i + 1;
    }
    return size;
  };
  try {
    // invariant: the line with `hash`, if any, starts in [lo, hi); lo is always where a line starts
    let lo = 0;
    let hi = size;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const start = mid === 0 ? 0 : await nextLineStart(mid - 1);
      if (start >= hi) { hi = mid; continue; }
      const lineHash = (await read(start, 40)).toString('latin1').toUpperCase();
      if (lineHash === hash) return true;
      if (lineHash < hash) lo = await nextLineStart(start);
      else hi = mid;
    }
    return false;
  } finally {
    await file.close();
  }
}

export interface PasswordPolicyOptions {
  /** The site's name and the like: a password made of them is refused (`context`). */
  contextNames?: readonly string[];
  /** `auth.breachedPasswordFile`, already resolved. */
  breachedFile?: string;
}

export class PasswordPolicy {
  private constructor(private readonly contextNames: readonly string[], private readonly breached: BreachedList | undefined) {}

  /** Opens (and checks) the breached-password file when there is one; refuses to start with a bad one. */
  static async open(o: PasswordPolicyOptions = {}): Promise<PasswordPolicy> {
    return new PasswordPolicy(o.contextNames ?? [], o.breachedFile ? await openBreachedList(o.breachedFile) : undefined);
  }

  /** Length and the built-in rules only (no file): tests, and a store opened without a config. */
  static builtIn(contextNames: readonly string[] = []): PasswordPolicy {
    return new PasswordPolicy(contextNames, undefined);
  }

  /** The first rule `password` breaks for this user, or undefined when it may be used. */
  async check(password: string, user: { username: string; displayName?: string }): Promise<PasswordRule | undefined> {
    if ([...password].length < MIN_PASSWORD_LENGTH) return 'length';
    if (await this.breached?.has(password)) return 'breached';
    const lower = password.normalize('NFKC').toLowerCase();
    const common = await loadCommonPasswords();
    const word = lower.replace(AROUND_WORD, '');
    if ([lower, word, unleet(lower), unleet(word)].some((c) => c.length >= 4 && common.has(c))) return 'common';
    const names = [...GUESSABLE_NAMES, ...[user.username, user.displayName ?? '', ...this.contextNames].flatMap(nameWords)];
    if ([lower, unleet(lower)].some((variant) => madeOfNames(variant, names))) return 'context';
    if (new Set(lower).size <= 3 || /^(.+?)\1+$/su.test(lower)) return 'repeat';
    if (shareOfPairs(lower, consecutive) >= PATTERN_SHARE) return 'sequence';
    if (shareOfPairs(lower, (a, b) => a === b || neighbouringKeys(a, b)) >= PATTERN_SHARE) return 'keyboard';
    return undefined;
  }
}

/** Does taking out every guessable name leave only digits, symbols and a few letters? */
function madeOfNames(password: string, names: readonly string[]): boolean {
  let rest = password;
  for (const name of [...new Set(names)].sort((a, b) => b.length - a.length)) rest = rest.split(name).join(' ');
  return rest !== password && letterCount(rest) < MIN_OTHER_LETTERS;
}
