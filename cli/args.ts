// One parser for every `ecs` command: node:util parseArgs reads the tokens, and each command
// declares its positionals and options once, which also gives its `--help` text.
import { parseArgs } from 'node:util';
import { UsageError } from './usage-error';

export interface OptionSpec {
  type: 'string' | 'boolean';
  description: string;
  /** The value's placeholder in the help text, for string options. */
  valueName?: string;
  /** A boolean that also has a `--no-<name>` form. */
  negatable?: boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Positional arguments in order, `[name]` when optional. */
  positionals: readonly string[];
  options: Readonly<Record<string, OptionSpec>>;
  /** Further lines for the help text (exit codes, defaults). */
  notes?: readonly string[];
}

export interface ParsedCommand {
  positionals: string[];
  strings: Map<string, string>;
  /** Booleans given: `true`, or `false` for `--no-<name>`. */
  flags: Map<string, boolean>;
}

/** `undefined` when `--help` or `-h` asks for the command's help instead. */
export function parseCommand(spec: CommandSpec, args: readonly string[]): ParsedCommand | undefined {
  const terminator = args.indexOf('--');
  const beforeTerminator = terminator === -1 ? args : args.slice(0, terminator);
  if (beforeTerminator.includes('--help') || beforeTerminator.includes('-h')) return undefined;
  const options = Object.fromEntries(Object.entries(spec.options).map(([name, option]) => [name, { type: option.type }]));
  const { tokens } = parseArgs({ args: [...args], options, strict: false, allowPositionals: true, allowNegative: true, tokens: true });
  const parsed: ParsedCommand = { positionals: [], strings: new Map(), flags: new Map() };
  const seeHelp = `see ecs ${spec.name} --help`;
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      if (parsed.positionals.length >= spec.positionals.length) throw new UsageError(`unexpected argument "${token.value}" (${seeHelp})`);
      parsed.positionals.push(token.value);
      continue;
    }
    const option = spec.options[token.name];
    const negated = token.rawName.startsWith('--no-');
    if (!option || (negated && !option.negatable)) throw new UsageError(`unknown argument "${token.rawName}" (${seeHelp})`);
    if (parsed.strings.has(token.name) || parsed.flags.has(token.name)) {
      throw new UsageError(option.negatable ? `--${token.name} or --no-${token.name} is given twice` : `--${token.name} is given twice`);
    }
    if (option.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`${token.rawName} takes no value`);
      parsed.flags.set(token.name, !negated);
    } else {
      if (!token.value) throw new UsageError(`--${token.name} needs ${option.valueName ? `a ${option.valueName}` : 'a value'}`);
      parsed.strings.set(token.name, token.value);
    }
  }
  const required = spec.positionals.filter((name) => !name.startsWith('['));
  if (parsed.positionals.length < required.length) throw new UsageError(`usage: ${usageLine(spec)}`);
  return parsed;
}

export function usageLine(spec: CommandSpec): string {
  const options = Object.entries(spec.options).map(([name, option]) => {
    if (option.type === 'string') return `[--${name} <${option.valueName ?? 'value'}>]`;
    return option.negatable ? `[--${name} | --no-${name}]` : `[--${name}]`;
  });
  return ['ecs', spec.name, ...spec.positionals.map((name) => (name.startsWith('[') ? name : `<${name}>`)), ...options].join(' ');
}

export function commandHelp(spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([name, option]) => {
    const left =
      option.type === 'string' ? `--${name} <${option.valueName ?? 'value'}>` : option.negatable ? `--[no-]${name}` : `--${name}`;
    return [left, option.description] as const;
  });
  rows.push(['-h, --help', 'show this help']);
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `usage: ${usageLine(spec)}`,
    '',
    spec.summary,
    '',
    'options:',
    ...rows.map(([left, text]) => `  ${left.padEnd(width)}  ${text}`),
    ...(spec.notes?.length ? ['', ...spec.notes] : []),
  ].join('\n');
}

export function overviewHelp(specs: readonly CommandSpec[]): string {
  const width = Math.max(...specs.map((spec) => spec.name.length));
  return [
    'usage: ecs <command> [options]',
    '',
    'commands:',
    ...specs.map((spec) => `  ${spec.name.padEnd(width)}  ${spec.summary}`),
    '',
    'ecs <command> --help shows the options of a command; ecs --help shows this list.',
  ].join('\n');
}
