/**
 * Word and character counts of a text, as a writer expects them: words by
 * the Unicode word rules (``Intl.Segmenter``: "don't" is one word, "état"
 * one, each CJK word its own, punctuation and emoji none), characters as
 * the person sees them (grapheme clusters: "👍🏽" and "é" written as e +
 * accent are one each), line breaks not counted.
 *
 * Pure: no DOM, no Quill (tests/js/layout_count.test.mjs).
 *
 * @module editor/layout/count
 */

/** @type {{words: any, graphemes: any} | null} made on first use */
let segmenters = null;

function segmenter() {
  if (segmenters === null) {
    const Segmenter = /** @type {any} */ (Intl).Segmenter;
    segmenters = Segmenter
      ? { words: new Segmenter(undefined, { granularity: "word" }), graphemes: new Segmenter(undefined, { granularity: "grapheme" }) }
      : { words: null, graphemes: null };
  }
  return segmenters;
}

/** Longest piece given to the segmenter at once (see {@link pieces}). */
const PIECE = 2000;

/**
 * Cut ``text`` into pieces at line breaks, and long lines at a space, so
 * no piece is longer than {@link PIECE} unless it has no space at all.
 * V8's segmenter slows down with the length of the string it walks
 * (quadratically: 180 KB of text took 88 s in one piece, bench/layout_bench.mjs);
 * words and characters never span a line break or a space, so counting
 * the pieces counts the whole.
 * @param {string} text
 * @returns {Generator<string>}
 */
function* pieces(text) {
  for (const line of text.split(/\r?\n|\r/)) {
    let rest = line;
    while (rest.length > PIECE) {
      let cut = rest.lastIndexOf(" ", PIECE);
      if (cut <= 0) {
        // No space: cut anyway, never inside a surrogate pair.
        cut = PIECE;
        const unit = rest.charCodeAt(cut - 1);
        if (unit >= 0xd800 && unit <= 0xdbff) cut -= 1;
      }
      yield rest.slice(0, cut);
      rest = rest.slice(cut);
    }
    if (rest) yield rest;
  }
}

/** Scripts written without spaces: only the segmenter's dictionaries find their words. */
const DICTIONARY_SCRIPTS = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
/** Code points that join others into one visible character (marks, ZWJ, selectors, skin tones, flags). */
const JOINERS = /\p{M}|\u200d|\ufe0e|\ufe0f|[\u{1F3FB}-\u{1F3FF}]|[\u{1F1E6}-\u{1F1FF}]|[\u{E0020}-\u{E007F}]/u;
/**
 * Words by Unicode's word rules (UAX #29) for text in spaced scripts: runs
 * of letters, digits, marks and underscores, joined between two letters by
 * an apostrophe, a period or a colon ("don't", "e.g", "a:b") and between two
 * digits by an apostrophe, a period, a comma or a semicolon ("3.14",
 * "1,000"); a hyphen separates.
 */
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
const WORD = /(?:[\p{L}\p{N}\p{M}_]|(?<=\p{L}\p{M}*)['’.:](?=\p{L})|(?<=\p{N})['’.,;](?=\p{N}))+/gu;

/**
 * Count the words and characters of ``text``.
 *
 * The segmenter is slow (about 2 µs a character in V8), so a piece of
 * spaced-script text without joining code points, nearly every piece of a
 * document, is counted by a regular expression and by code points, which
 * give the same numbers; only pieces that need them (CJK and Thai words,
 * combining accents, emoji sequences) go through ``Intl.Segmenter``.
 * @param {string} text
 * @returns {{words: number, characters: number}}
 */
export function countText(text) {
  const { words: bySegmenter, graphemes } = segmenter();
  let words = 0;
  let characters = 0;
  for (const piece of pieces(text)) {
    if (bySegmenter && DICTIONARY_SCRIPTS.test(piece)) {
      for (const segment of bySegmenter.segment(piece)) if (segment.isWordLike) words += 1;
    } else {
      WORD.lastIndex = 0;
      for (let match = WORD.exec(piece); match !== null; match = WORD.exec(piece)) {
        if (LETTER_OR_DIGIT.test(match[0])) words += 1; // a lone "_" is no word
      }
    }
    if (graphemes && JOINERS.test(piece)) {
      for (const _ of graphemes.segment(piece)) characters += 1; // eslint-disable-line no-unused-vars -- counting
    } else {
      let pairs = 0;
      for (let i = 0; i < piece.length; i += 1) {
        const unit = piece.charCodeAt(i);
        if (unit >= 0xdc00 && unit <= 0xdfff && i > 0) {
          const before = piece.charCodeAt(i - 1);
          if (before >= 0xd800 && before <= 0xdbff) pairs += 1;
        }
      }
      characters += piece.length - pairs;
    }
  }
  return { words, characters };
}

/**
 * The words-and-characters label: "12 words · 60 characters", or of the
 * selection "3 of 12 words · 15 of 60 characters".
 * @param {{words: number, characters: number}} all
 * @param {{words: number, characters: number} | null} [selected]
 */
export function countLabel(all, selected = null) {
  const plural = (n, one, many) => `${n.toLocaleString()} ${n === 1 ? one : many}`;
  if (selected) {
    return `${selected.words.toLocaleString()} of ${plural(all.words, "word", "words")} · ` +
      `${selected.characters.toLocaleString()} of ${plural(all.characters, "character", "characters")}`;
  }
  return `${plural(all.words, "word", "words")} · ${plural(all.characters, "character", "characters")}`;
}
