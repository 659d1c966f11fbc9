//! Turning text into the terms a full-text index stores and a text query looks up.
//!
//! One [`Analyzer`] serves both sides, so a query is analysed exactly as the documents were:
//! the options are stored in the index file and rebuilt from there. The pipeline is the
//! one Lucene, tantivy and LanceDB share: split ([`BaseTokenizer`]), drop tokens longer than
//! `max_token_length` bytes, lower-case, fold to ASCII, drop stop words, stem. Positions
//! count every token the split made, so a removed stop word leaves a gap a phrase query with
//! slop can see.

use oxvec_core::{Error, Result};
use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// How text is split into tokens before the filters run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BaseTokenizer {
    /// Maximal runs of letters and digits (any script); everything else separates.
    #[default]
    Simple,
    /// Runs of non-whitespace characters; punctuation stays part of the token.
    Whitespace,
    /// The whole value is one token (identifiers, tags, exact matches).
    Raw,
    /// Character n-grams of each `simple` token (`ngram_min_length..=ngram_max_length`
    /// characters), or only its prefixes with `prefix_only` (search as you type).
    Ngram,
}

impl BaseTokenizer {
    /// Parses the name users pass (`"simple"`, `"whitespace"`, `"raw"`, `"ngram"`).
    pub fn parse(name: &str) -> Result<BaseTokenizer> {
        match name.to_ascii_lowercase().as_str() {
            "simple" => Ok(BaseTokenizer::Simple),
            "whitespace" => Ok(BaseTokenizer::Whitespace),
            "raw" => Ok(BaseTokenizer::Raw),
            "ngram" => Ok(BaseTokenizer::Ngram),
            _ => Err(Error::invalid(format!(
                "base_tokenizer must be one of simple, whitespace, raw, ngram; got '{name}'"
            ))),
        }
    }
}

/// The analysis a full-text index was built with. Defaults match LanceDB's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalyzerOptions {
    pub base_tokenizer: BaseTokenizer,
    /// A language name (`"english"`) or ISO 639-1 code (`"en"`): chooses the stemmer and
    /// the stop-word list.
    pub language: String,
    pub stem: bool,
    pub remove_stop_words: bool,
    pub lower_case: bool,
    pub ascii_folding: bool,
    /// Tokens longer than this many bytes (after the split) are dropped: they are almost
    /// always encoded blobs, not words.
    pub max_token_length: usize,
    pub ngram_min_length: usize,
    pub ngram_max_length: usize,
    pub prefix_only: bool,
}

impl Default for AnalyzerOptions {
    fn default() -> Self {
        AnalyzerOptions {
            base_tokenizer: BaseTokenizer::Simple,
            language: "english".into(),
            stem: true,
            remove_stop_words: true,
            lower_case: true,
            ascii_folding: true,
            max_token_length: 40,
            ngram_min_length: 3,
            ngram_max_length: 3,
            prefix_only: false,
        }
    }
}

/// A term and the position of the token it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub term: String,
    pub position: u32,
}

/// The languages with both a Snowball stemmer and a stop-word list: (name, ISO code,
/// stemmer).
const LANGUAGES: &[(&str, &str, Algorithm)] = &[
    ("arabic", "ar", Algorithm::Arabic),
    ("danish", "da", Algorithm::Danish),
    ("dutch", "nl", Algorithm::Dutch),
    ("english", "en", Algorithm::English),
    ("finnish", "fi", Algorithm::Finnish),
    ("french", "fr", Algorithm::French),
    ("german", "de", Algorithm::German),
    ("greek", "el", Algorithm::Greek),
    ("hungarian", "hu", Algorithm::Hungarian),
    ("italian", "it", Algorithm::Italian),
    ("norwegian", "no", Algorithm::Norwegian),
    ("portuguese", "pt", Algorithm::Portuguese),
    ("romanian", "ro", Algorithm::Romanian),
    ("russian", "ru", Algorithm::Russian),
    ("spanish", "es", Algorithm::Spanish),
    ("swedish", "sv", Algorithm::Swedish),
    ("tamil", "ta", Algorithm::Tamil),
    ("turkish", "tr", Algorithm::Turkish),
];

/// How runs of Chinese, Japanese and Korean characters (written without spaces between
/// words) are split into terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segmenter {
    /// Left as the base tokenizer made them.
    None,
    /// Dictionary words (jieba), each also indexed by the shorter dictionary words inside
    /// it at the same position, so `全文` finds `全文检索`.
    Jieba,
    /// Overlapping character bigrams (Lucene's CJK analyzer): no dictionary, every word
    /// findable, some false matches across word boundaries that BM25 ranks low.
    Bigram,
}

/// Languages whose text is segmented: (name, ISO code, segmenter). No stemming (CJK words
/// do not inflect the way Snowball handles); stop words from NLTK where it has a list.
const SEGMENTED: &[(&str, &str, Segmenter)] = &[
    ("chinese", "zh", Segmenter::Jieba),
    ("japanese", "ja", Segmenter::Bigram),
    ("korean", "ko", Segmenter::Bigram),
    ("cjk", "cjk", Segmenter::Bigram),
];

/// Largest n-gram length accepted: longer grams index little that whole words do not.
const MAX_NGRAM: usize = 32;

/// A ready analysis pipeline (the stemmer and stop-word set built once).
pub struct Analyzer {
    opts: AnalyzerOptions,
    stemmer: Option<Stemmer>,
    stop_words: HashSet<String>,
    segmenter: Segmenter,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("opts", &self.opts)
            .finish()
    }
}

impl Analyzer {
    /// Checks `opts` and builds the pipeline; errors name the option that is wrong.
    pub fn new(opts: AnalyzerOptions) -> Result<Analyzer> {
        if opts.max_token_length == 0 {
            return Err(Error::invalid("max_token_length must be at least 1"));
        }
        let ngram_ok = (1..=opts.ngram_max_length).contains(&opts.ngram_min_length)
            && opts.ngram_max_length <= MAX_NGRAM;
        if opts.base_tokenizer == BaseTokenizer::Ngram && !ngram_ok {
            return Err(Error::invalid(format!(
                "n-gram lengths must satisfy 1 <= ngram_min_length <= ngram_max_length <= \
                 {MAX_NGRAM}; got {} and {}",
                opts.ngram_min_length, opts.ngram_max_length
            )));
        }
        let wanted = opts.language.trim().to_lowercase();
        if let Some(&(_, code, segmenter)) = SEGMENTED
            .iter()
            .find(|(name, code, _)| *name == wanted || *code == wanted)
        {
            if segmenter == Segmenter::Jieba && !cfg!(feature = "chinese") {
                return Err(Error::invalid(
                    "this build of oxvec has no Chinese segmentation (the 'chinese' feature); \
                     use language='cjk' for character bigrams",
                ));
            }
            let mut a = Analyzer {
                opts,
                stemmer: None,
                stop_words: HashSet::new(),
                segmenter,
            };
            if a.opts.remove_stop_words {
                let words = stop_words::lookup(code).unwrap_or(&[]);
                a.stop_words = words.iter().map(|w| a.normalize(w)).collect();
            }
            return Ok(a);
        }
        let language = LANGUAGES
            .iter()
            .find(|(name, code, _)| *name == wanted || *code == wanted);
        let needs_language = opts.stem || opts.remove_stop_words;
        let Some(&(_, code, algorithm)) = language else {
            if needs_language {
                let names: Vec<&str> = LANGUAGES.iter().map(|l| l.0).collect();
                return Err(Error::invalid(format!(
                    "language '{}' has no stemmer or stop-word list here; supported: {} \
                     (or pass stem=False, remove_stop_words=False)",
                    opts.language,
                    names.join(", ")
                )));
            }
            return Ok(Analyzer {
                opts,
                stemmer: None,
                stop_words: HashSet::new(),
                segmenter: Segmenter::None,
            });
        };
        let mut a = Analyzer {
            stemmer: opts.stem.then(|| Stemmer::create(algorithm)),
            stop_words: HashSet::new(),
            opts,
            segmenter: Segmenter::None,
        };
        if a.opts.remove_stop_words {
            // The list goes through the same case and folding steps as the text does, so
            // "Über" meets "über" whatever the options.
            let words = stop_words::lookup(code).unwrap_or(&[]);
            a.stop_words = words.iter().map(|w| a.normalize(w)).collect();
        }
        Ok(a)
    }

    /// The options this analyzer was built from.
    pub fn options(&self) -> &AnalyzerOptions {
        &self.opts
    }

    /// Appends the terms of `text` to `out`; positions continue from `first_position`
    /// (so several values of one row, or several columns, do not overlap). Returns the
    /// position after the last token.
    pub fn analyze(&self, text: &str, first_position: u32, out: &mut Vec<Token>) -> u32 {
        let mut pos = first_position;
        // CJK text is compared composed and in its usual widths: decomposed Hangul,
        // half-width katakana and full-width Latin become what queries type (NFKC).
        let normalized: String;
        let text = if self.segmenter != Segmenter::None && !text.is_ascii() {
            normalized = text.nfkc().collect();
            normalized.as_str()
        } else {
            text
        };
        let emit = |word: &str, pos: u32, out: &mut Vec<Token>| {
            if word.len() > self.opts.max_token_length {
                return;
            }
            let term = self.normalize(word);
            if term.is_empty() || self.stop_words.contains(&term) {
                return;
            }
            let term = match &self.stemmer {
                Some(s) => s.stem(&term).into_owned(),
                None => term,
            };
            out.push(Token {
                term,
                position: pos,
            });
        };
        match self.opts.base_tokenizer {
            BaseTokenizer::Raw => {
                if !text.is_empty() {
                    emit(text, pos, out);
                    pos += 1;
                }
            }
            BaseTokenizer::Whitespace if self.segmenter != Segmenter::None => {
                for w in text.split_whitespace() {
                    pos = self.segment(w, pos, &mut |t, p| emit(t, p, out));
                }
            }
            BaseTokenizer::Simple if self.segmenter != Segmenter::None => {
                for w in words(text) {
                    pos = self.segment(w, pos, &mut |t, p| emit(t, p, out));
                }
            }
            BaseTokenizer::Whitespace => {
                for w in text.split_whitespace() {
                    emit(w, pos, out);
                    pos += 1;
                }
            }
            BaseTokenizer::Simple => {
                for w in words(text) {
                    emit(w, pos, out);
                    pos += 1;
                }
            }
            BaseTokenizer::Ngram => {
                for w in words(text) {
                    self.ngrams(w, pos, out);
                    pos += 1;
                }
            }
        }
        pos
    }

    /// Emits the terms of one token with CJK runs segmented: other runs are one term each;
    /// returns the next position.
    fn segment(&self, word: &str, mut pos: u32, emit: &mut dyn FnMut(&str, u32)) -> u32 {
        for (cjk, run) in script_runs(word) {
            if !cjk {
                emit(run, pos);
                pos += 1;
                continue;
            }
            match self.segmenter {
                #[cfg(feature = "chinese")]
                Segmenter::Jieba => {
                    let jieba = jieba();
                    for t in jieba.cut(run, true) {
                        emit(t.word, pos);
                        // The dictionary words inside a long word, at its position.
                        let chars: Vec<usize> = t.word.char_indices().map(|c| c.0).collect();
                        for n in [2usize, 3] {
                            if chars.len() <= n {
                                continue;
                            }
                            for s in 0..=chars.len() - n {
                                let end = chars.get(s + n).copied().unwrap_or(t.word.len());
                                let sub = &t.word[chars[s]..end];
                                if jieba.has_word(sub) {
                                    emit(sub, pos);
                                }
                            }
                        }
                        pos += 1;
                    }
                }
                _ => {
                    // Each character, and the bigram it starts, at its position: bigrams
                    // rank whole words, the characters let one-character words be found.
                    let chars: Vec<usize> = run.char_indices().map(|c| c.0).collect();
                    for s in 0..chars.len() {
                        let one = chars.get(s + 1).copied().unwrap_or(run.len());
                        emit(&run[chars[s]..one], pos);
                        if s + 1 < chars.len() {
                            let two = chars.get(s + 2).copied().unwrap_or(run.len());
                            emit(&run[chars[s]..two], pos);
                        }
                        pos += 1;
                    }
                }
            }
        }
        pos
    }

    /// The n-grams of one word, after case and folding (stemming a fragment means nothing;
    /// stop words are still dropped whole).
    fn ngrams(&self, word: &str, pos: u32, out: &mut Vec<Token>) {
        if word.len() > self.opts.max_token_length {
            return;
        }
        let w = self.normalize(word);
        if self.stop_words.contains(&w) {
            return;
        }
        let chars: Vec<(usize, char)> = w.char_indices().collect();
        let (lo, hi) = (self.opts.ngram_min_length, self.opts.ngram_max_length);
        let starts = if self.opts.prefix_only {
            chars.len().min(1)
        } else {
            chars.len()
        };
        for s in 0..starts {
            for n in lo..=hi {
                if s + n > chars.len() {
                    break;
                }
                let end = chars.get(s + n).map_or(w.len(), |c| c.0);
                out.push(Token {
                    term: w[chars[s].0..end].to_string(),
                    position: pos,
                });
            }
        }
    }

    /// Case and folding of one token.
    fn normalize(&self, word: &str) -> String {
        let lowered;
        let w = if self.opts.lower_case {
            lowered = word.to_lowercase();
            lowered.as_str()
        } else {
            word
        };
        if self.opts.ascii_folding {
            fold(w)
        } else {
            w.to_string()
        }
    }
}

/// The process's jieba segmenter, its dictionary loaded on first use (~0.1 s).
#[cfg(feature = "chinese")]
fn jieba() -> &'static jieba_rs::Jieba {
    static JIEBA: std::sync::OnceLock<jieba_rs::Jieba> = std::sync::OnceLock::new();
    JIEBA.get_or_init(jieba_rs::Jieba::new)
}

/// Whether `c` is written without spaces between words: Han ideographs, kana, Hangul.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF // hiragana, katakana
        | 0x31F0..=0x31FF // katakana extensions
        | 0x3400..=0x4DBF // Han extension A
        | 0x4E00..=0x9FFF // Han
        | 0xAC00..=0xD7AF // Hangul syllables
        | 0x1100..=0x11FF | 0x3130..=0x318F // Hangul jamo
        | 0xF900..=0xFAFF // Han compatibility
        | 0xFF66..=0xFF9F // half-width katakana
        | 0x20000..=0x3134F // Han extensions B to G
    )
}

/// `word` cut where it changes between CJK and other characters: (is CJK, run).
fn script_runs(word: &str) -> impl Iterator<Item = (bool, &str)> {
    let mut rest = word;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let cjk = is_cjk(first);
        let end = rest
            .char_indices()
            .find(|&(_, c)| is_cjk(c) != cjk)
            .map_or(rest.len(), |(i, _)| i);
        let (run, tail) = rest.split_at(end);
        rest = tail;
        Some((cjk, run))
    })
}

/// Maximal runs of letters, digits and combining marks (so decomposed accents, Indic
/// viramas and Thai tone marks stay inside their word).
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || is_combining_mark(c)))
        .filter(|w| !w.is_empty())
}

/// `s` with the accents of Latin letters removed (each Latin letter decomposed, its
/// combining marks dropped) and the Latin letters that do not decompose spelled in ASCII.
/// Other scripts pass through unchanged (Cyrillic й stays й, Japanese が stays が), as
/// Lucene's ASCII folding leaves them.
fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    // Composed first, so a decomposed "i" + U+0308 is one Latin letter here.
    let mut after_latin = false;
    for c in s.nfc() {
        if is_combining_mark(c) {
            // A mark left over on a Latin letter (no composed form exists) goes too.
            if !after_latin {
                out.push(c);
            }
            continue;
        }
        after_latin = is_latin(c);
        if !after_latin || c.is_ascii() {
            out.push(c);
            continue;
        }
        for d in std::iter::once(c).nfkd() {
            if is_combining_mark(d) {
                continue;
            }
            match d {
                'ß' => out.push_str("ss"),
                'ẞ' => out.push_str("SS"),
                'æ' => out.push_str("ae"),
                'Æ' => out.push_str("AE"),
                'œ' => out.push_str("oe"),
                'Œ' => out.push_str("OE"),
                'ø' => out.push('o'),
                'Ø' => out.push('O'),
                'ł' => out.push('l'),
                'Ł' => out.push('L'),
                'đ' | 'ð' => out.push('d'),
                'Đ' | 'Ð' => out.push('D'),
                'þ' => out.push_str("th"),
                'Þ' => out.push_str("TH"),
                'ı' => out.push('i'),
                _ => out.push(d),
            }
        }
    }
    out
}

/// Letters of the Latin blocks (Latin-1 Supplement to Latin Extended-B, IPA, Latin
/// Extended Additional, the ligatures).
fn is_latin(c: char) -> bool {
    matches!(c as u32, 0x41..=0x5a | 0x61..=0x7a | 0xc0..=0x24f | 0x1e00..=0x1eff | 0xfb00..=0xfb06)
        && c != '×'
        && c != '÷'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(opts: AnalyzerOptions, text: &str) -> Vec<(String, u32)> {
        let a = Analyzer::new(opts).unwrap();
        let mut out = Vec::new();
        a.analyze(text, 0, &mut out);
        out.into_iter().map(|t| (t.term, t.position)).collect()
    }

    fn just_terms(opts: AnalyzerOptions, text: &str) -> Vec<String> {
        terms(opts, text).into_iter().map(|t| t.0).collect()
    }

    #[test]
    fn the_default_pipeline_splits_lowers_drops_stop_words_and_stems() {
        let got = terms(
            AnalyzerOptions::default(),
            "The Running foxes, and the jumped-over dogs!",
        );
        // "the", "and" and "over" are stop words (NLTK's English list); their positions
        // stay counted.
        assert_eq!(
            got,
            vec![
                ("run".into(), 1),
                ("fox".into(), 2),
                ("jump".into(), 5),
                ("dog".into(), 7)
            ]
        );
    }

    #[test]
    fn folding_removes_accents_and_spells_special_letters() {
        let opts = AnalyzerOptions {
            stem: false,
            remove_stop_words: false,
            ..Default::default()
        };
        assert_eq!(
            just_terms(opts.clone(), "Café Straße Ærø Łódź naïve"),
            vec!["cafe", "strasse", "aero", "lodz", "naive"]
        );
        let no_fold = AnalyzerOptions {
            ascii_folding: false,
            ..opts.clone()
        };
        assert_eq!(just_terms(no_fold, "Café"), vec!["café"]);
        // Decomposed input folds the same, and stays one word.
        assert_eq!(
            just_terms(opts.clone(), "nai\u{308}ve Cafe\u{301}"),
            vec!["naive", "cafe"]
        );
        // Other scripts pass through, lower-cased, accents and all.
        assert_eq!(
            just_terms(opts.clone(), "Привет мир"),
            vec!["привет", "мир"]
        );
        assert_eq!(just_terms(opts.clone(), "йод ёж"), vec!["йод", "ёж"]);
        assert_eq!(just_terms(opts.clone(), "がっこう"), vec!["がっこう"]);
        // Marks inside Indic and Thai words do not split them.
        assert_eq!(just_terms(opts, "हिन्दी"), vec!["हिन्दी"]);
    }

    #[test]
    fn case_is_kept_when_asked() {
        let opts = AnalyzerOptions {
            lower_case: false,
            stem: false,
            remove_stop_words: false,
            ..Default::default()
        };
        assert_eq!(just_terms(opts, "Rust rust"), vec!["Rust", "rust"]);
    }

    #[test]
    fn whitespace_and_raw_tokenizers_keep_punctuation() {
        let plain = AnalyzerOptions {
            stem: false,
            remove_stop_words: false,
            ..Default::default()
        };
        let ws = AnalyzerOptions {
            base_tokenizer: BaseTokenizer::Whitespace,
            ..plain.clone()
        };
        assert_eq!(just_terms(ws, "a-b  c.d\te"), vec!["a-b", "c.d", "e"]);
        let raw = AnalyzerOptions {
            base_tokenizer: BaseTokenizer::Raw,
            ..plain
        };
        assert_eq!(just_terms(raw.clone(), "SKU-42/X"), vec!["sku-42/x"]);
        assert!(just_terms(raw, "").is_empty());
    }

    #[test]
    fn ngrams_cover_every_substring_or_only_prefixes() {
        let opts = AnalyzerOptions {
            base_tokenizer: BaseTokenizer::Ngram,
            ngram_min_length: 2,
            ngram_max_length: 3,
            remove_stop_words: false,
            ..Default::default()
        };
        assert_eq!(
            terms(opts.clone(), "Héllo x"),
            vec![
                ("he".into(), 0),
                ("hel".into(), 0),
                ("el".into(), 0),
                ("ell".into(), 0),
                ("ll".into(), 0),
                ("llo".into(), 0),
                ("lo".into(), 0)
            ]
        );
        let prefix = AnalyzerOptions {
            prefix_only: true,
            ..opts
        };
        assert_eq!(just_terms(prefix, "search"), vec!["se", "sea"]);
    }

    #[test]
    fn long_tokens_are_dropped_and_positions_continue_across_values() {
        let a = Analyzer::new(AnalyzerOptions::default()).unwrap();
        let mut out = Vec::new();
        let blob = "x".repeat(41);
        let next = a.analyze(&format!("vector {blob} search"), 0, &mut out);
        assert_eq!(next, 3);
        a.analyze("databases", next, &mut out);
        let got: Vec<(&str, u32)> = out.iter().map(|t| (t.term.as_str(), t.position)).collect();
        assert_eq!(got, vec![("vector", 0), ("search", 2), ("databas", 3)]);
    }

    #[test]
    fn languages_are_found_by_name_or_code_and_unknown_ones_are_refused() {
        let de = AnalyzerOptions {
            language: "de".into(),
            ..Default::default()
        };
        // "und" is a German stop word; "Häuser" stems to "haus" after folding.
        assert_eq!(just_terms(de, "Häuser und Gärten"), vec!["haus", "gart"]);
        let fr = AnalyzerOptions {
            language: "French".into(),
            ..Default::default()
        };
        assert_eq!(just_terms(fr, "les chevaux"), vec!["cheval"]);
        let err = Analyzer::new(AnalyzerOptions {
            language: "klingon".into(),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("klingon") && err.contains("english"), "{err}");
        // Without stemming or stop words any language name is fine.
        assert!(Analyzer::new(AnalyzerOptions {
            language: "klingon".into(),
            stem: false,
            remove_stop_words: false,
            ..Default::default()
        })
        .is_ok());
    }

    #[test]
    fn chinese_is_cut_into_dictionary_words_and_japanese_into_bigrams() {
        let zh = AnalyzerOptions {
            language: "zh".into(),
            ..AnalyzerOptions::default()
        };
        let got = terms(zh.clone(), "南京市长江大桥，支持GPU加速的全文检索");
        let has = |t: &str, p: u32| got.contains(&(t.to_string(), p));
        // Dictionary words, one position each; Latin runs inside stay whole (lower-cased).
        assert!(has("南京市", 0) && has("长江大桥", 1), "{got:?}");
        assert!(has("gpu", 3) && has("加速", 4), "{got:?}");
        // The words inside a compound share its position, so the parts find it.
        assert!(has("长江", 1) && has("大桥", 1), "{got:?}");
        assert!(
            has("全文检索", 6) && has("全文", 6) && has("检索", 6),
            "{got:?}"
        );
        // NLTK's Chinese stop words go ("的").
        assert!(!got.iter().any(|t| t.0 == "的"), "{got:?}");
        let ja = AnalyzerOptions {
            language: "japanese".into(),
            ..AnalyzerOptions::default()
        };
        assert_eq!(
            terms(ja.clone(), "東京都 検索"),
            [
                ("東", 0),
                ("東京", 0),
                ("京", 1),
                ("京都", 1),
                ("都", 2),
                ("検", 3),
                ("検索", 3),
                ("索", 4)
            ]
            .map(|(t, p)| (t.to_string(), p))
        );
        assert_eq!(terms(ja.clone(), "猫"), vec![("猫".to_string(), 0)]);
        // Half-width katakana, full-width Latin and decomposed Hangul as typed (NFKC).
        assert_eq!(terms(ja.clone(), "ｶﾀ"), terms(ja.clone(), "カタ"));
        assert_eq!(terms(ja, "ＡＢＣ"), vec![("abc".to_string(), 0)]);
        let ko = AnalyzerOptions {
            language: "ko".into(),
            ..AnalyzerOptions::default()
        };
        let nfd: String = "검색".nfd().collect();
        assert_eq!(terms(ko.clone(), &nfd), terms(ko, "검색"));
        // Other languages leave CJK runs whole, as before.
        assert_eq!(terms(AnalyzerOptions::default(), "東京都").len(), 1);
    }

    #[test]
    fn bad_ngram_lengths_are_refused() {
        for (lo, hi) in [(0, 3), (4, 3), (2, 33)] {
            let err = Analyzer::new(AnalyzerOptions {
                base_tokenizer: BaseTokenizer::Ngram,
                ngram_min_length: lo,
                ngram_max_length: hi,
                ..Default::default()
            })
            .unwrap_err()
            .to_string();
            assert!(err.contains("ngram_min_length"), "{err}");
        }
        assert!(BaseTokenizer::parse("NGRAM").is_ok());
        assert!(BaseTokenizer::parse("words").is_err());
    }

    #[test]
    fn options_round_trip_through_json_with_defaults_for_missing_fields() {
        let o = AnalyzerOptions {
            base_tokenizer: BaseTokenizer::Ngram,
            prefix_only: true,
            ..Default::default()
        };
        let back: AnalyzerOptions =
            serde_json::from_str(&serde_json::to_string(&o).unwrap()).unwrap();
        assert_eq!(back, o);
        let partial: AnalyzerOptions = serde_json::from_str(r#"{"stem": false}"#).unwrap();
        assert_eq!(
            partial,
            AnalyzerOptions {
                stem: false,
                ..Default::default()
            }
        );
    }
}
