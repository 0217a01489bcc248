/*
 * A checker for the KQL this repository ships (queries/): it tokenizes a query, follows its pipeline
 * operator by operator and knows which columns exist at each step, starting from the columns
 * Microsoft documents for each table (test/fixtures/log-tables.json). It reports a table or column
 * that does not exist, a function it does not know, an operator outside the subset the queries use,
 * and unbalanced brackets. It is not a KQL implementation: types and semantics are not checked.
 */

interface Token {
  kind: "ident" | "string" | "number" | "op";
  text: string;
  line: number;
}

/** Table name -> its columns. */
export type TableColumns = Record<string, readonly string[]>;

const FUNCTIONS = new Set([
  "ago",
  "arg_max",
  "arg_min",
  "avg",
  "avgif",
  "bin",
  "case",
  "coalesce",
  "count",
  "countif",
  "dcount",
  "dcountif",
  "endofday",
  "iff",
  "iif",
  "isempty",
  "isnotempty",
  "isnotnull",
  "isnull",
  "make_set",
  "max",
  "maxif",
  "min",
  "minif",
  "not",
  "now",
  "parse_json",
  "parse_url",
  "percentile",
  "round",
  "startofday",
  "startofmonth",
  "startofweek",
  "startofyear",
  "strcat",
  "sum",
  "sumif",
  "todatetime",
  "todouble",
  "toint",
  "tolong",
  "tolower",
  "toreal",
  "tostring",
]);

const KEYWORDS = new Set([
  "and",
  "or",
  "in",
  "has",
  "contains",
  "startswith",
  "endswith",
  "between",
  "true",
  "false",
  "asc",
  "desc",
  "nulls",
  "first",
  "last",
]);

const TWO_CHAR_OPS = ["==", "!=", "=~", "!~", ">=", "<=", ".."];

export function tokenize(text: string): { tokens: Token[]; problems: string[] } {
  const tokens: Token[] = [];
  const problems: string[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "\n") {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (text.startsWith("//", i)) {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c && text[j] !== "\n") j += text[j] === "\\" ? 2 : 1;
      if (text[j] !== c) problems.push(`line ${line}: unterminated string`);
      tokens.push({ kind: "string", text: text.slice(i, j + 1), line });
      i = j + 1;
    } else if (/\d/.test(c)) {
      const match = /^\d+(\.\d+)?(e[+-]?\d+)?(ms|d|h|m|s)?(?![A-Za-z_])/.exec(text.slice(i));
      if (!match) {
        problems.push(`line ${line}: malformed number at "${text.slice(i, i + 10)}"`);
        i++;
        continue;
      }
      tokens.push({ kind: "number", text: match[0], line });
      i += match[0].length;
    } else if (/[A-Za-z_$]/.test(c)) {
      const word = /^[A-Za-z_$][A-Za-z0-9_]*/.exec(text.slice(i))![0];
      const previous = tokens[tokens.length - 1];
      // Hyphenated operator names (project-away) follow a pipe.
      const hyphenated = /^-[a-z]+/.exec(text.slice(i + word.length));
      if (previous?.text === "|" && hyphenated) {
        tokens.push({ kind: "ident", text: word + hyphenated[0], line });
        i += word.length + hyphenated[0].length;
      } else {
        tokens.push({ kind: "ident", text: word, line });
        i += word.length;
      }
    } else {
      const two = text.slice(i, i + 2);
      const op = TWO_CHAR_OPS.includes(two) ? two : c;
      if (!"|()[],;=<>+-*/%.:!~".includes(op[0])) problems.push(`line ${line}: unexpected character "${c}"`);
      tokens.push({ kind: "op", text: op, line });
      i += op.length;
    }
  }
  return { tokens, problems };
}

/** Splits at `separator` tokens outside brackets. */
function splitTop(tokens: readonly Token[], separator: (t: Token) => boolean): Token[][] {
  const parts: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.text === "(" || t.text === "[") depth++;
    if (t.text === ")" || t.text === "]") depth--;
    if (depth === 0 && t.kind !== "string" && separator(t)) parts.push([]);
    else parts[parts.length - 1].push(t);
  }
  return parts;
}
const byText = (text: string) => (t: Token) => t.kind !== "string" && t.text === text;

class Checker {
  readonly problems: string[] = [];
  private readonly lets = new Map<string, Set<string> | "scalar">();
  constructor(private readonly tables: TableColumns) {}

  problem(at: Token | undefined, message: string): void {
    this.problems.push(`line ${at?.line ?? "?"}: ${message}`);
  }

  /** Every identifier of an expression is a column, a let, a function or a keyword. */
  expression(tokens: readonly Token[], columns: ReadonlySet<string>): void {
    tokens.forEach((t, i) => {
      if (t.kind !== "ident") return;
      const next = tokens[i + 1];
      const previous = tokens[i - 1];
      if (previous?.text === "." || KEYWORDS.has(t.text)) {
        return;
      } else if (next?.text === "(") {
        if (!FUNCTIONS.has(t.text)) this.problem(t, `unknown function ${t.text}()`);
      } else if (!columns.has(t.text) && this.lets.get(t.text) !== "scalar") {
        this.problem(t, `no column ${t.text} here (columns: ${[...columns].sort().join(", ")})`);
      }
    });
  }

  /** `Name = expr` -> [Name, expr]; otherwise [undefined, tokens]. */
  private assignment(tokens: readonly Token[]): [string | undefined, Token[]] {
    if (tokens[0]?.kind === "ident" && tokens[1]?.text === "=") return [tokens[0].text, tokens.slice(2)];
    return [undefined, [...tokens]];
  }

  /** The name a `by` item or `project` item takes without an alias: a column, or bin()'s column. */
  private implicitName(tokens: readonly Token[]): string | undefined {
    if (tokens.length === 1 && tokens[0].kind === "ident") return tokens[0].text;
    if (tokens[0]?.text === "bin" && tokens[1]?.text === "(" && tokens[2]?.kind === "ident") return tokens[2].text;
    return undefined;
  }

  private source(tokens: readonly Token[]): Set<string> | undefined {
    const [first] = tokens;
    if (tokens.length === 1 && first.kind === "ident") {
      const table = this.tables[first.text];
      const local = this.lets.get(first.text);
      if (table) return new Set(table);
      if (local && local !== "scalar") return new Set(local);
      this.problem(first, `no table ${first.text} (known: ${Object.keys(this.tables).join(", ")})`);
      return undefined;
    }
    if (first?.text === "(" && tokens[tokens.length - 1]?.text === ")") return this.pipeline(tokens.slice(1, -1));
    this.problem(first, "a query starts with a table name");
    return undefined;
  }

  pipeline(tokens: readonly Token[]): Set<string> | undefined {
    const [head, ...stages] = splitTop(tokens, byText("|"));
    let columns = this.source(head);
    for (const stage of stages) {
      if (!columns) return undefined;
      columns = this.stage(stage, columns);
    }
    return columns;
  }

  private stage(stage: Token[], columns: Set<string>): Set<string> | undefined {
    const [operator, ...rest] = stage;
    switch (operator?.text) {
      case "where":
        this.expression(rest, columns);
        return columns;
      case "extend": {
        const out = new Set(columns);
        for (const item of splitTop(rest, byText(","))) {
          const [name, expr] = this.assignment(item);
          this.expression(expr, columns);
          if (name) out.add(name);
          else this.problem(item[0], "name each extended column (Name = ...)");
        }
        return out;
      }
      case "project": {
        const out = new Set<string>();
        for (const item of splitTop(rest, byText(","))) {
          const [name, expr] = this.assignment(item);
          this.expression(expr, columns);
          const named = name ?? this.implicitName(expr);
          if (named) out.add(named);
          else this.problem(item[0], "name each projected expression");
        }
        return out;
      }
      case "project-away": {
        const out = new Set(columns);
        for (const item of splitTop(rest, byText(","))) {
          this.expression(item, columns);
          out.delete(item[0]?.text);
        }
        return out;
      }
      case "summarize": {
        const [aggregates, groups = []] = splitTop(rest, byText("by"));
        const out = new Set<string>();
        for (const item of splitTop(aggregates, byText(","))) {
          const [name, expr] = this.assignment(item);
          this.expression(expr, columns);
          if (name) out.add(name);
          else this.problem(item[0], "name each aggregation (Name = count())");
        }
        for (const item of groups.length ? splitTop(groups, byText(",")) : []) {
          const [name, expr] = this.assignment(item);
          this.expression(expr, columns);
          const named = name ?? this.implicitName(expr);
          if (named) out.add(named);
          else this.problem(item[0], "name each group (Name = ...)");
        }
        return out;
      }
      case "order":
      case "sort":
      case "top": {
        const byAt = rest.findIndex(byText("by"));
        if (byAt < 0) this.problem(operator, `${operator.text} needs "by"`);
        for (const item of splitTop(rest.slice(byAt + 1), byText(","))) this.expression(item, columns);
        return columns;
      }
      case "take":
      case "limit":
        return columns;
      case "count":
        return new Set(["Count"]);
      case "render":
        return columns;
      case "join":
        return this.join(operator, rest, columns);
      default:
        this.problem(operator, `operator ${operator?.text ?? "(none)"} is outside the subset this checker follows`);
        return undefined;
    }
  }

  private join(operator: Token, rest: Token[], left: Set<string>): Set<string> | undefined {
    let i = 0;
    while (rest[i]?.kind === "ident" && rest[i + 1]?.text === "=") i += 3;
    const onAt = rest.findIndex((t, j) => j >= i && byText("on")(t));
    if (onAt < 0) {
      this.problem(operator, 'join needs "on"');
      return undefined;
    }
    const right = this.source(rest.slice(i, onAt));
    if (!right) return undefined;
    for (const key of splitTop(rest.slice(onAt + 1), byText(","))) {
      const name = key[0]?.text;
      if (key.length !== 1 || !left.has(name) || !right.has(name)) {
        this.problem(key[0], `join key ${name} must be a column of both sides`);
      }
    }
    const out = new Set(left);
    for (const column of right) out.add(left.has(column) ? `${column}1` : column);
    return out;
  }

  statement(tokens: Token[]): void {
    if (tokens[0]?.text !== "let") {
      if (!this.pipeline(tokens)) this.problem(tokens[0], "the query yields no table");
      return;
    }
    const name = tokens[1]?.text;
    if (tokens[2]?.text !== "=") {
      this.problem(tokens[0], "let Name = ...");
      return;
    }
    const body = tokens.slice(3);
    if (body[0]?.text === "datatable") {
      const close = body.findIndex(byText(")"));
      const declared = splitTop(body.slice(2, close), byText(",")).map((column) => {
        if (column.length !== 3 || column[1].text !== ":") this.problem(column[0], "datatable columns are Name: type");
        return column[0]?.text;
      });
      if (body[close + 1]?.text !== "[" || body[body.length - 1]?.text !== "]") {
        this.problem(body[0], "datatable(...) [ rows ]");
      }
      this.lets.set(name, new Set(declared));
    } else if (body[0]?.kind === "ident" && (this.tables[body[0].text] || body[0].text === "(")) {
      const columns = this.pipeline(body);
      if (columns) this.lets.set(name, columns);
    } else {
      this.expression(body, new Set());
      this.lets.set(name, "scalar");
    }
  }
}

/** What is wrong with a query, in terms of the documented tables; empty when nothing is. */
export function checkKql(query: string, tables: TableColumns): string[] {
  const { tokens, problems } = tokenize(query);
  let depth = 0;
  for (const t of tokens) {
    if (t.text === "(" || t.text === "[") depth++;
    if (t.text === ")" || t.text === "]") depth--;
    if (depth < 0) problems.push(`line ${t.line}: "${t.text}" closes nothing`);
  }
  if (depth > 0) problems.push("unclosed bracket");
  if (problems.length) return problems;
  const checker = new Checker(tables);
  const statements = splitTop(tokens, byText(";")).filter((s) => s.length > 0);
  statements.forEach((s) => checker.statement(s));
  if (statements.length === 0 || statements[statements.length - 1][0]?.text === "let") {
    checker.problem(tokens[tokens.length - 1], "no query after the let statements");
  }
  return checker.problems;
}
