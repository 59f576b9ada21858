// Splits a command line the way a POSIX shell splits words (quotes, backslashes), without running a
// shell: no expansion, no substitution, no redirection. Operators are refused rather than guessed at.

export function shellWords(text: string, what = 'the command line'): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`${what}: unterminated single quote`);
      word += text.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      inWord = true;
      for (i++; ; i++) {
        if (i >= text.length) throw new Error(`${what}: unterminated double quote`);
        const d = text[i]!;
        if (d === '"') break;
        if (d === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1]!)) {
          i++;
          if (text[i] !== '\n') word += text[i];
        } else word += d;
      }
    } else if (c === '\\') {
      if (i + 1 < text.length && text[i + 1] !== '\n') word += text[i + 1];
      i++;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if ('|&;<>()`'.includes(c) || (c === '$' && text[i + 1] === '(')) {
      throw new Error(`${what}: '${c}' is a shell operator, and nothing here runs through a shell; quote it if it is meant literally`);
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}
