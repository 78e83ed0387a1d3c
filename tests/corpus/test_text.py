from corpus.text import fold, sentence_spans, terms


def test_sentences_split_on_stops_and_line_breaks_not_on_abbreviations():
    text = "The U.S. first supplied them. Neither the U.S., Ukraine, nor Russia signed.\nDr. Smith agreed!"
    got = [text[s:e] for s, e in sentence_spans(text)]
    assert got == ["The U.S. first supplied them.", "Neither the U.S., Ukraine, nor Russia signed.", "Dr. Smith agreed!"]


def test_a_wrapped_line_continues_its_sentence():
    text = "the aggressor states\nwould not hesitate to use them. Next one."
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "the aggressor states\nwould not hesitate to use them.", "Next one."]


def test_sentence_spans_are_offsets_into_the_text_with_crlf():
    text = "First line.\r\n\r\nSecond “quoted.” Third?\r\n"
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == ["First line.", "Second “quoted.”", "Third?"]


def test_fold_removes_diacritics_and_case():
    assert fold("Nausėda Šakalienė Žinių Kasčiūnas") == "nauseda sakaliene ziniu kasciunas"


def test_terms_match_across_diacritics_spelling_and_inflection():
    assert terms("Nauseda") == terms("Nausėda")
    assert terms("defence") == terms("defense")
    assert terms("organisations") == terms("organizations")
    assert terms("voted") == terms("vote")
    assert terms("Lithuania's") == terms("Lithuania")
    assert terms("the and of") == []


def test_a_negated_participle_also_gives_its_base_term():
    assert terms("unexploded") == ["unexplod", "explod"] and terms("explode") == ["explod"]
    assert terms("unacceptable") == ["unaccept"] + terms("acceptable")
    # not every word starting with "un" is a negation
    for word in ("united", "understood", "unicameral", "universal", "unanimous"):
        assert len(terms(word)) == 1
