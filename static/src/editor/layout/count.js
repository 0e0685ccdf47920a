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

/**
 * Count the words and characters of ``text``.
 * @param {string} text
 * @returns {{words: number, characters: number}}
 */
export function countText(text) {
  const body = text.replace(/[\r\n]/g, "");
  const { words: bySegmenter, graphemes } = segmenter();
  let words = 0;
  if (bySegmenter) {
    for (const piece of bySegmenter.segment(text)) if (piece.isWordLike) words += 1;
  } else {
    words = (text.match(/[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu) || []).length;
  }
  let characters = 0;
  if (graphemes) {
    for (const piece of graphemes.segment(body)) if (piece.segment) characters += 1;
  } else {
    characters = [...body].length;
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
