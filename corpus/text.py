"""Text primitives shared by chunking, lexical search and answer extraction: sentences, folding, terms."""

from __future__ import annotations

import functools
import re
import threading
import unicodedata

import snowballstemmer

# Bump when sentence splitting, term normalisation, where passages start or what the timeline stores changes:
# indexes built before are then rebuilt.
ANALYZER_VERSION = 6  # 4: header lines in any order (corpus/header.py), timeline lines cut to a glance; 5: passages
# start after the headline and byline; 6: "many" and "much" are stop words ("how many" asks for a count)

# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "col", "lt", "sgt", "capt", "gov", "sen",
    "rep", "pres", "vs", "etc", "no", "inc", "ltd", "co", "corp", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "approx", "e.g", "i.e", "u.s", "u.k", "u.n", "e.u",
}
# A sentence ends at . ! ? (plus closing quotes/brackets) followed by white space.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")
_WORD = re.compile(r"\w+(?:[.'’]\w+)*", re.UNICODE)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Split text[start:end] into sentences; each (s, e) is trimmed of white space, line breaks always split."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    # A line break ends a sentence unless the next line goes on in lower case (a wrapped line).
    for line in re.finditer(r"(?:[^\r\n]|[\r\n]+(?=[ \t]*[a-z]))+", text[start:end]):
        line_start = start + line.start()
        piece = line.group()
        cut = 0
        for m in _SENTENCE_END.finditer(piece):
            if _is_abbreviation(piece, m.start()) or not _starts_sentence(piece, m.end()):
                continue
            _add_span(spans, text, line_start + cut, line_start + m.end())
            cut = m.end()
        _add_span(spans, text, line_start + cut, line_start + len(piece))
    return spans


_LAST_WORD = re.compile(r"\w+(?:\.\w+)*$")
_NEXT_CHAR = re.compile(r"\s*(\S)")


def _is_abbreviation(piece: str, dot: int) -> bool:
    if piece[dot] != ".":
        return False
    # Look back a little, not to the start of the line (which made long lines quadratic) ...
    lo = max(0, dot - 32)
    m = _LAST_WORD.search(piece, lo, dot)
    if m and m.start() == lo and lo > 0:  # ... unless the word is longer than that
        m = _LAST_WORD.search(piece, 0, dot)
    if not m:
        return False
    word = m.group().lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _starts_sentence(piece: str, after: int) -> bool:
    m = _NEXT_CHAR.match(piece, after)
    return not m or not m.group(1).islower()


def _add_span(spans: list[tuple[int, int]], text: str, s: int, e: int) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        spans.append((s, e))


class _FoldTable(dict):
    """str.translate table, filled as characters are met: combining marks dropped, ’ made '."""

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        self[code] = value = None if unicodedata.combining(char) else ("'" if char == "’" else char)
        return value


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Lower-case and strip diacritics, so 'Nausėda' and 'Nauseda' compare equal."""
    if text.isascii():
        return text.casefold()
    return unicodedata.normalize("NFKD", text).translate(_FOLD_TABLE).casefold()


# British spellings mapped to American ones so that 'defence' finds 'defense'.
_SPELLING = [
    (re.compile(r"(?<=\w)(enc)(e|es)$"), r"ens\2"),  # defence, offence, licence
    (re.compile(r"(?<=\w{2})is(e|es|ed|ing|ation|ations)$"), r"iz\1"),  # organise, organisation
    (re.compile(r"(?<=\w{2})our(s|ed|ing)?$"), r"or\1"),  # labour, favour
    (re.compile(r"(?<=\w{2})tre(s)?$"), r"ter\1"),  # centre
]
_SPELLING_KEEP = {"hour", "hours", "our", "ours", "four", "tour", "tours", "pour", "sour", "your", "yours", "flour",
                  "since", "fence", "fences", "hence", "pence", "science", "sciences", "conscience", "rise", "wise",
                  "otherwise", "precise", "concise", "raise", "raised", "praise", "noise", "poise", "promise",
                  "promised", "surprise", "surprised", "exercise", "exercised", "advise", "advised", "revise",
                  "revised", "franchise", "expertise", "premise", "premises", "compromise", "enterprise", "televise",
                  "televised", "supervise", "improvise", "despise", "devise", "comprise", "comprised", "disguise",
                  "arise", "arised", "cruise", "cruises", "lease", "ease", "metre", "theatre", "litre"}
_STOPWORDS = set(
    "a an the and or but if then than of to in on at by for with from into onto over under about as is are was were "
    "be been being am do does did done have has had having it its it's this that these those there here what which "
    "who whom whose when where why how will would shall should can could may might must not no nor so such too very "
    "just also only own same other any all both each few more most some many much i me my we our us you your he him his she "
    "her they them their what's s t one ever yet up down out off again further once while during before after "
    "above below between through against until".split()
)
# The snowball stemmer keeps the word being stemmed in its own fields, so threads sharing one would stem each
# other's words (wrong stems, IndexError); each thread gets its own.
_stemmers = threading.local()


def _stem(word: str) -> str:
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = snowballstemmer.stemmer("english")
    return stemmer.stemWord(word)


# Irregular verb forms mapped to the base form, which the stemmer cannot do ("withdrew" finds "withdraw").
_IRREGULAR_TABLE = """
arise arose arisen|awake awoke awoken|be was were been|bear bore borne born|beat beaten|become became|
begin began begun|bend bent|bet|bid|bind bound|bite bit bitten|bleed bled|blow blew blown|break broke broken|
breed bred|bring brought|broadcast|build built|burn burnt|burst|buy bought|catch caught|choose chose chosen|
cling clung|come came|cost|creep crept|cut|deal dealt|dig dug|do did done|draw drew drawn|dream dreamt|
drink drank drunk|drive drove driven|eat ate eaten|fall fell fallen|feed fed|feel felt|fight fought|
find found|flee fled|fly flew flown|forbid forbade forbidden|forecast|foresee foresaw foreseen|
forget forgot forgotten|forgive forgave forgiven|freeze froze frozen|get got gotten|give gave given|
go went gone|grind ground|grow grew grown|hang hung|have has had|hear heard|hide hid hidden|hit|hold held|
hurt|keep kept|kneel knelt|know knew known|lay laid|lead led|lean leant|leap leapt|learn learnt|leave left|
lend lent|let|lie lay lain|light lit|lose lost|make made|mean meant|meet met|mislead misled|overcome overcame|
overtake overtook overtaken|overthrow overthrew overthrown|pay paid|prove proven|put|quit|read|rid|
ride rode ridden|ring rang rung|rise rose risen|run ran|say said|see saw seen|seek sought|sell sold|
send sent|set|shake shook shaken|shed|shine shone|shoot shot|show shown|shrink shrank shrunk|shut|
sing sang sung|sink sank sunk|sit sat|sleep slept|slide slid|speak spoke spoken|spend spent|spin spun|
spread|stand stood|steal stole stolen|stick stuck|sting stung|strike struck stricken|strive strove striven|
swear swore sworn|sweep swept|swim swam swum|swing swung|take took taken|teach taught|tear tore torn|
tell told|think thought|throw threw thrown|undergo underwent undergone|understand understood|
undertake undertook undertaken|uphold upheld|upset|wake woke woken|wear wore worn|weave wove woven|
weep wept|win won|wind wound|withdraw withdrew withdrawn|withhold withheld|withstand withstood|write wrote written
"""
# Verbs that report speech all mean 'say' to a reader asking "what did X say?".
_REPORTING = {"tell": "say", "stated": "say", "remark": "say", "remarked": "say", "told": "say",
              "declared": "say", "claimed": "say", "asserted": "say", "insisted": "say", "stating": "say"}
_IRREGULAR = {form: group.split()[0] for group in _IRREGULAR_TABLE.replace("\n", "").split("|")
              for form in group.split()[1:]}
for _ambiguous in ("found", "left", "lay", "ground", "bound", "wound", "saw", "lit", "rose"):
    _IRREGULAR.pop(_ambiguous, None)  # also common words of their own (found a company, the left, a rose)


@functools.lru_cache(maxsize=200_000)
def _normalise_word(word: str) -> str:
    if "." in word:  # U.S., LRT.lt: keep as written
        return word
    word = _IRREGULAR.get(word, word)
    word = _REPORTING.get(word) or word
    if word not in _SPELLING_KEEP:
        for pattern, repl in _SPELLING:
            word = pattern.sub(repl, word)
    return _stem(word)


def words(text: str) -> list[str]:
    """The words of a text, folded, keeping internal dots and apostrophes (U.S., LRT.lt)."""
    return _WORD.findall(fold(text))


def terms(text: str, keep_stopwords: bool = False) -> list[str]:
    """Index terms: folded, possessives dropped, British spellings made American, stemmed; no stop words.
    A negated participle or adjective ("unexploded", "unacceptable") also gives the term of its base."""
    return word_terms(words(text), keep_stopwords)


def word_terms(folded_words: list[str], keep_stopwords: bool = False) -> list[str]:
    """`terms` of a text whose `words` are already known."""
    out = []
    for w in folded_words:
        if w.endswith("'s"):
            w = w[:-2]
        w = w.replace("'", "")
        if w and (keep_stopwords or w not in _STOPWORDS):
            out.append(_normalise_word(w))
            if w.startswith("un") and len(w) >= 8 and w.endswith(("ed", "able", "ible")):
                # "unexploded" is "not exploded": "bomblets that do not explode" finds "unexploded ordnance"
                out.append(_normalise_word(w[2:]))
    return out

