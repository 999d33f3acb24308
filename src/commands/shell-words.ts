/**
 * Splits a string into words the way a POSIX shell would, but without running one:
 * single quotes are literal, double quotes allow \" \\ \$ \` escapes, a backslash outside
 * quotes escapes the next character. Nothing is expanded. Slack delivers a command as one
 * string, so this is how `--command "start.sh jupyter lab --LabApp.token=''"` keeps its words.
 */
export class UnclosedQuote extends Error {
  constructor(readonly quote: string) {
    super(`a ${quote === "'" ? 'single' : 'double'} quote (${quote}) is never closed`);
  }
}

export function splitShellWords(input: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  // Slack's clients turn straight quotes into typographic ones; treat them as the plain kind.
  const text = input.replace(/[\u201C\u201D]/g, '"').replace(/[\u2018\u2019]/g, "'");
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new UnclosedQuote("'");
      word += text.slice(i + 1, end);
      i = end + 1;
    } else if (ch === '"') {
      i++;
      let closed = false;
      while (i < text.length) {
        const c = text[i]!;
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        if (c === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) {
          word += text[i + 1];
          i += 2;
        } else {
          word += c;
          i++;
        }
      }
      if (!closed) throw new UnclosedQuote('"');
    } else if (ch === '\\' && i + 1 < text.length) {
      word += text[i + 1];
      i += 2;
    } else {
      word += ch;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}
