// Untrusted text (server logs, model output, file names, tool output) in markdown stays text: CommonMark
// (spec 0.31, "Code spans", "Fenced code blocks", "Backslash escapes") closes a code span at a
// backtick run of the opening length and a fence at a run at least as long, so each is opened with
// one backtick more than the content's longest run; outside code, markup characters are escaped.

function longestBacktickRun(text: string): number {
  let longest = 0;
  for (const m of text.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  return longest;
}

/** One line of text as a code span that its content cannot close (in a table cell: pipes escaped, as GFM needs). */
export function codeSpan(text: string, inTable = false): string {
  const line = text.replace(/\r?\n|\r/g, ' ');
  const flat = inTable ? line.replace(/\|/g, '\\|') : line;
  if (flat === '') return '';
  const fence = '`'.repeat(longestBacktickRun(flat) + 1);
  // A span that starts or ends with a backtick (or a space) needs a space inside each end: one is stripped.
  const pad = /^[` ]|[` ]$/.test(flat) ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** Lines as a fenced code block that no line can close. */
export function codeBlock(lines: string[], info = ''): string[] {
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(lines.join('\n')) + 1));
  return [`${fence}${info}`, ...lines, fence];
}

/** Text to show as it is in one line of markdown: no markup, links, images or HTML. */
export function plainText(text: string): string {
  // Mid-line, only these start markup: code, emphasis, links and images, HTML, entities, table cells.
  return text.replace(/\r?\n|\r/g, ' ').replace(/[\\`*_[\]<>!|&~]/g, '\\$&');
}
