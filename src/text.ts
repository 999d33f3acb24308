/** Text helpers with no dependencies, for every layer. */

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * At most `max` UTF-16 code units of `text`, cut between graphemes: an emoji (even a family or a
 * flag, several code points long) or a letter with its accents is kept whole or dropped whole,
 * never split into a lone surrogate or a stray joiner. Only the kept part is segmented.
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = 0;
  for (const { index, segment } of graphemes.segment(text)) {
    if (index + segment.length > max) break;
    end = index + segment.length;
  }
  return text.slice(0, end);
}
