"""Answer selection: a sentence answers only when it is about the question and has what it asks for; one fact once."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from summarizer.answers import (
    AnswerType,
    Candidate,
    ChosenSentence,
    QuestionProfile,
    check_candidate,
    name_roots,
    profile_question,
    select_answer,
    term_root,
)
from summarizer.retrieval import ScoredPassage, tokenize

SENATE = [
    Candidate(
        "The final tally was 97-1.",
        "Capitol Wire",
        "Senate passes defence bill\nThe Senate passed the annual defence bill on Thursday.",
    ),
    Candidate(
        "The Senate voted 97-1 on Thursday to pass the bill, which now goes to the House.",
        "Hill Daily",
        "Defence bill clears the Senate",
    ),
    Candidate("Only one senator, from Kentucky, voted against it.", "Beltway News", "Senate backs defence bill"),
]


def ranked_as_given(candidates: list[Candidate], top: float = 0.9) -> list[ScoredPassage]:
    """Retrieval scores falling from ``top`` in the order given (high enough to be considered)."""
    return [ScoredPassage(i, top - 0.01 * i, top - 0.01 * i, 0.0) for i in range(len(candidates))]


def distinct_vectors(count: int) -> np.ndarray:
    """Orthogonal unit vectors: no two sentences look alike to the encoder."""
    return np.eye(count, dtype=np.float32)


def choose(profile: QuestionProfile, candidates: list[Candidate]) -> list[ChosenSentence]:
    """The reply's sentences for candidates ranked in the order given, no two alike to the encoder."""
    return select_answer(profile, ranked_as_given(candidates), candidates, distinct_vectors(len(candidates)))


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who won the final?", AnswerType.ENTITY),
        ("Which coach did the team fire?", AnswerType.ENTITY),
        ("What is the name of the shop?", AnswerType.ENTITY),
        ("When will the elections be held?", AnswerType.TIME),
        ("From what date can customers register?", AnswerType.TIME),
        ("Where did the ministers meet?", AnswerType.PLACE),
        ("Which Iranian island was hit?", AnswerType.PLACE),
        ("How many tankers were blacklisted?", AnswerType.QUANTITY),
        ("How much did AMD pay?", AnswerType.QUANTITY),
        ("How old was she?", AnswerType.QUANTITY),
        ("What is the new price cap on Russian oil?", AnswerType.QUANTITY),
        ("What was the building worth?", AnswerType.QUANTITY),
        ("What did North Korea warn about?", AnswerType.OTHER),
        ("Did the Bank of England cut rates?", AnswerType.OTHER),
    ],
)
def test_answer_type_follows_the_question_word(question: str, kind: AnswerType):
    """who/which -> a name; when -> a time; where -> a place; how many/much/old, what price/worth -> a number."""
    assert profile_question(question).answer_type is kind


def test_names_and_salient_terms_of_a_question():
    """Capitalised names and places are kept apart from the other salient terms; question words are dropped."""
    profile = profile_question("How many pirates did the Chinese navy capture?")
    assert [[term for term, _ in name.terms] for name in profile.names] == [["chinese"]]
    assert profile.places == {"CN"}
    assert [term for term, _ in profile.terms] == ["pirate", "navy", "capture"]


def test_inflections_share_a_root():
    """Verb forms and irregular pasts meet; the words of a question and of a sentence are compared by root."""
    assert term_root("warned") == term_root("warning") == term_root("warn")
    assert term_root("hired") == term_root("hire")
    assert term_root("murdered") == term_root("murdering") == term_root("murder") == term_root("murders")
    assert term_root("offered") == term_root("offer")
    assert term_root("paid") == "pay" and term_root("died") == term_root("death") == "die"
    assert term_root("november") == "november"


def test_world_cup_question_is_refused_against_a_senate_vote_archive():
    """High retrieval scores are not enough: none of these sentences is about the World Cup, so nothing answers."""
    profile = profile_question("Who won the 1998 FIFA World Cup final?")
    assert select_answer(profile, ranked_as_given(SENATE), SENATE, distinct_vectors(3)) == []
    assert not check_candidate(profile, SENATE[0]).answers


def test_the_senate_question_is_answered_from_the_same_archive():
    """A question the archive does answer, on the same sentences, leads with the sentence that says it all; the
    other outlet's "97-1" is the same fact, so it is named, not repeated."""
    profile = profile_question("By how many votes did the Senate pass the defence bill?")
    chosen = select_answer(profile, ranked_as_given(SENATE), SENATE, distinct_vectors(3))
    assert chosen and chosen[0].index == 1 and chosen[0].also == (0,)


def test_the_asked_for_kind_must_be_in_the_sentence():
    """ "When" needs a date or time in the sentence itself, "where" a place, "how many" a number."""
    when = profile_question("When did the Senate vote on the defence bill?")
    assert check_candidate(when, SENATE[1]).answers  # "on Thursday"
    assert not check_candidate(when, Candidate("The Senate voted to pass the defence bill.", "x")).answers
    where = profile_question("Where did the Quad foreign ministers meet?")
    assert check_candidate(where, Candidate("The Quad foreign ministers met in New Delhi on Monday.", "x")).answers
    assert not check_candidate(where, Candidate("The Quad foreign ministers met on Monday.", "x")).answers


def test_every_name_of_the_question_must_be_covered():
    """The Indian navy's capture does not answer a question about the Chinese navy."""
    profile = profile_question("How many pirates did the Chinese navy capture?")
    assert not check_candidate(profile, Candidate("The Indian navy has captured 23 Somali pirates.", "x")).answers
    chinese = Candidate("China's navy has captured 23 Somali pirates in the Gulf of Aden.", "x")
    assert check_candidate(profile, chinese).answers  # "China's" is an alias of the country "Chinese" names


def test_context_covers_what_a_sentence_refers_back_to():
    """ "She was 91." answers when the sentence before names her and says she died; alone it does not."""
    profile = profile_question("How old was Esther Williams when she died?")
    context = "Esther Williams dies at 91\nEsther Williams, the swimming champion turned actress, has died."
    assert check_candidate(profile, Candidate("She was 91.", "x", context)).answers
    assert not check_candidate(profile, Candidate("She was 91.", "x")).answers


def test_a_date_in_the_question_may_be_anywhere_in_the_article():
    """Datelines carry the month and year that questions add; answer sentences rarely repeat them."""
    profile = profile_question("Which Iranian island was hit by the earthquake in November 2005?")
    sentence = "Ten people were killed when an earthquake razed villages on the Gulf island of Qeshm off Iran's coast."
    assert not check_candidate(profile, Candidate(sentence, "x")).answers
    dated = Candidate(sentence, "x", article_terms=frozenset({"november", "2005"}))
    assert check_candidate(profile, dated).answers


def test_one_fact_once_with_other_outlets_as_also_reported_by():
    """Three outlets give the same figure: one sentence, the other two named under it. A fourth outlet adds a
    different fact: it supports the answer. A second sentence from the lead's outlet is never shown."""
    candidates = [
        Candidate("The EU blacklisted 117 tankers of Russia's shadow fleet on Friday.", "Brussels Post"),
        Candidate("Brussels added 117 tankers to its blacklist.", "Berlin Daily"),
        Candidate("In all, 117 tankers are now blacklisted by the EU.", "London Ledger"),
        Candidate("The EU also blacklisted 40 companies that insure the tankers.", "Vienna Review"),
        Candidate("The EU blacklisted 117 tankers, officials confirmed.", "Brussels Post"),
    ]
    profile = profile_question("How many tankers did the EU blacklist?")
    chosen = choose(profile, candidates)
    assert [item.index for item in chosen] == [0, 3]
    assert chosen[0].also == (1, 2)
    assert chosen[1].also == ()


def test_at_most_two_supporting_sentences_each_from_another_outlet():
    """However many outlets add something, the reply has the lead and at most two more, from distinct outlets."""
    outlets = ["A", "A", "B", "C", "D"]
    candidates = [
        Candidate(f"Officials said {n} ships were inspected at the port of Rotterdam on Monday.", outlet)
        for n, outlet in zip((10, 20, 30, 40, 50), outlets, strict=True)
    ]
    profile = profile_question("How many ships were inspected at the port?")
    chosen = choose(profile, candidates)
    assert [candidates[item.index].source for item in chosen] == ["A", "B", "C"]


def test_two_wordings_of_one_fact_are_not_both_shown():
    """Without a typed answer to compare ("what did they say"), sentences saying the same in other words are one."""
    candidates = [
        Candidate("North Korea warned on Thursday that it would answer the drills with force.", "Seoul Herald"),
        Candidate("On Thursday North Korea warned it would answer the drills with force.", "Tokyo Times"),
    ]
    vectors = np.asarray([[1.0, 0.0], [0.96, 0.28]], dtype=np.float32)  # cosine 0.96: the same meaning
    profile = profile_question("What did North Korea warn about on Thursday?")
    chosen = select_answer(profile, ranked_as_given(candidates), candidates, vectors)
    assert [item.index for item in chosen] == [0] and chosen[0].also == (1,)


def test_a_name_counts_only_where_the_article_writes_it_as_one():
    """ "Tonight Show" is not matched by "tonight's show": the name's rarest word must be one the article writes
    with a capital and never in lower case."""
    profile = profile_question("Who is the new host of the Tonight Show?")
    text = "Capaldi was unveiled on tonight's special show, the BBC said. The host thanked Peter Capaldi."
    other = Candidate("The host thanked Peter Capaldi.", "x", article_names=name_roots(text))
    assert not check_candidate(profile, other).names_covered
    article = "The Tonight Show has a new host. Jimmy Fallon will host the Tonight Show from February, NBC said."
    sentence = "Jimmy Fallon will host the Tonight Show from February, NBC said."
    fallon = Candidate(sentence, "y", article_names=name_roots(article))
    check = check_candidate(profile, fallon)
    assert check.answers and "jimmy fallon" in check.evidence


def test_capitals_of_a_headline_name_nothing():
    """In a title-case headline only the words the article writes as names elsewhere count: "Murder" is not one,
    so the headline offers only a person noun, and the sentence that names the accused leads."""
    article = (
        "Murder Trial Ordered For Woman Accused In Kraft Plant Shootings\n"
        "Yvonne Hiller is accused of the shooting at the Kraft plant. The murder trial starts Monday."
    )
    names = name_roots(article)
    candidates = [
        Candidate("Murder Trial Ordered For Woman Accused In Kraft Plant Shootings", "A", article_names=names),
        Candidate("Yvonne Hiller is accused of the shooting at the Kraft plant.", "B", article_names=names),
    ]
    profile = profile_question("Who is on trial for the shooting at the Kraft plant?")
    headline = check_candidate(profile, candidates[0])
    assert "murder" not in headline.evidence and headline.strength < 1.0
    chosen = choose(profile, candidates)
    assert chosen[0].index == 1


def test_a_money_question_needs_a_sum_of_money():
    """ "What was it worth?": "nine acre" is a number but no sum; "$380,600" is."""
    profile = profile_question("What was the Matanuska Maid dairy building worth?")
    assert profile.money
    acres = Candidate("The Matanuska Maid dairy building stood on a nine acre site.", "x")
    value = Candidate("The Matanuska Maid dairy building was valued at $380,600.", "y")
    assert not check_candidate(profile, acres).answers
    check = check_candidate(profile, value)
    assert check.answers and check.evidence == {"380600"}


def test_which_x_prefers_the_name_next_to_x():
    """ "Which bank": the sentence naming "Marfin Bank" leads over one naming a university near a bank."""
    candidates = [
        Candidate("Protesters in Athens set fire to cars near the Polytechnic University and a bank branch.", "A"),
        Candidate("Three people died when protesters in Athens set fire to the Marfin Bank branch.", "B"),
    ]
    profile = profile_question("Which bank did protesters set on fire in Athens?")
    assert profile.focus == {"bank"}
    strengths = [check_candidate(profile, candidate).strength for candidate in candidates]
    assert strengths[1] > strengths[0]
    chosen = choose(profile, candidates)
    assert chosen[0].index == 1


def test_the_answer_other_outlets_agree_on_leads():
    """One sentence names the BBC, three outlets name Peter Capaldi: Capaldi leads though ranked lower, and the
    other two outlets are listed as also reporting it."""
    candidates = [
        Candidate("The BBC says the role in Doctor Who will go to a new actor after Matt Smith.", "A"),
        Candidate("Peter Capaldi will take over from Matt Smith as the Doctor.", "B"),
        Candidate("Matt Smith is to be replaced by Peter Capaldi in Doctor Who.", "C"),
        Candidate("Next year Peter Capaldi replaces Matt Smith as the Doctor.", "D"),
    ]
    profile = profile_question("Who is taking over from Matt Smith as the Doctor?")
    chosen = choose(profile, candidates)
    assert chosen[0].index == 1 and set(chosen[0].also) == {2, 3}


@pytest.mark.parametrize(("word", "other"), [("kids", "children"), ("naval", "navy"), ("piracy", "pirates")])
def test_close_paraphrases_share_a_root(word: str, other: str):
    """A question's "kids" is an article's "children"; "naval" is "navy"."""
    assert [term_root(term) for term in tokenize(word)] == [term_root(term) for term in tokenize(other)]


def test_how_many_kids_is_answered_by_a_count_of_children():
    profile = profile_question("How many kids did Zurana Horton have?")
    check = check_candidate(profile, Candidate("Horton was the mother of 12 children.", "A", "Zurana Horton shot"))
    assert check.answers and "12" in check.evidence


def test_a_name_that_only_attributes_the_report_answers_who_less_plainly():
    """ "The BBC says actor Matt Smith will take over": the BBC tells, it does not take over; the sentence naming
    Peter Capaldi leads though retrieval ranks it lower."""
    candidates = [
        Candidate("The BBC says little-known actor Matt Smith will take over the title role in Doctor Who.", "A"),
        Candidate("Peter Capaldi, the bookmakers' choice, will take over for the retiring Matt Smith.", "B"),
    ]
    profile = profile_question("Who is taking over from Matt Smith as the Doctor?")
    strengths = [check_candidate(profile, candidate).strength for candidate in candidates]
    assert strengths[1] > strengths[0] > 0
    chosen = choose(profile, candidates)
    assert chosen[0].index == 1


def test_a_reporting_name_is_the_answer_when_the_report_names_no_one_else():
    """ "JNIM said that it had carried out the ambush": JNIM is who did it."""
    profile = profile_question("Which group claimed the ambush near Timbuktu?")
    text = "The jihadist group JNIM said on Sunday that it had carried out an ambush near Timbuktu."
    check = check_candidate(profile, Candidate(text, "A"))
    assert check.answers and check.strength == 1.0


def test_who_said_questions_keep_the_speaker_as_the_answer():
    profile = profile_question("Who said the Doctor would be played by Peter Capaldi?")
    text = "Producer Steven Moffat said Peter Capaldi would play the Doctor."
    assert check_candidate(profile, Candidate(text, "A")).strength == 1.0


@pytest.mark.parametrize(
    ("question", "verb", "role"),
    [
        ("Who did New Orleans sign after putting Pierre Thomas on injured reserve?", "hire", "object"),
        ("Which coach did the 76ers get rid of?", "fire", "object"),
        ("Which Indian navy ship stopped the pirates?", "thwart", "subject"),
        ("Who will write Syria's new constitution?", "draft", "subject"),
        ("Who is on trial for the shooting?", "", ""),
        ("Who was found guilty of murder?", "", ""),
    ],
)
def test_a_who_question_names_its_verb_and_the_role_asked(question: str, verb: str, role: str):
    """The verb comes with the words reports use for it ("get rid of": fire); "who is/was ..." has no role."""
    profile = profile_question(question)
    assert (term_root(verb) in profile.verb if verb else not profile.verb) and profile.role == role


COACH = "Which coach did the 76ers get rid of to bring back Maurice Cheeks?"
SHIP = "Which Indian navy ship stopped the pirates?"


@pytest.mark.parametrize(
    ("question", "text", "in_role"),
    [
        (COACH, "The 76ers fired coach Jim O'Brien on Monday.", True),
        (COACH, "Jim O'Brien was relieved of his duties by the 76ers.", True),
        (COACH, "Maurice Cheeks was fired as coach of the Philadelphia 76ers.", False),
        (COACH, "The Philadelphia 76ers fired Coach Maurice Cheeks on Saturday.", False),
        (COACH, "Maurice Cheeks became the fifth NBA coach to be fired.", False),
        (SHIP, "Indian ship INS Sukanya thwarted the attack by pirates.", True),
        (SHIP, "The pirates were stopped by INS Sukanya.", True),
        (SHIP, "The Indian navy said a German naval helicopter foiled the pirates.", False),
    ],
)
def test_a_name_fills_the_asked_role_only_beside_the_verb(question: str, text: str, in_role: bool):
    """The name on the side of the verb that the role and the voice say fills the role, unless the question gives
    it: "Maurice Cheeks was fired" tells of another firing, for a question that names Cheeks."""
    context = "The 76ers bring back Maurice Cheeks as coach" if question == COACH else "Indian navy ship stops pirates"
    check = check_candidate(profile_question(question), Candidate(text, "A", context))
    assert check.answers and check.in_role is in_role


def test_the_name_in_the_asked_role_leads():
    """ "Who did New Orleans sign": the sentence naming who was signed leads over the one naming who was placed on
    injured reserve, though retrieval ranks that one first and its names are as plain."""
    title = "New Orleans Saints place Pierre Thomas on injured reserve"
    candidates = [
        Candidate("Pierre Thomas was placed on injured reserve by the New Orleans Saints, meaning he misses the "
                  "NFL playoffs.", "A", title),
        Candidate("The Saints signed rookie Joique Bell off the Eagles practice squad.", "B", title),
    ]  # fmt: skip
    profile = profile_question("Who did New Orleans sign after putting Pierre Thomas on injured reserve?")
    checks = [check_candidate(profile, candidate) for candidate in candidates]
    assert all(check.answers for check in checks) and [check.in_role for check in checks] == [False, True]
    chosen = choose(profile, candidates)
    assert chosen[0].index == 1


def test_how_many_x_is_answered_most_plainly_by_a_count_of_x():
    """ "How many fire crews": "Eight crews fought the blaze" leads over "dozens of firefighters", which counts
    something else, though retrieval ranks it first."""
    context = "Fire at Waitrose in Wellington"
    candidates = [
        Candidate("Dozens of firefighters tackled the blaze at the supermarket on Sunday.", "A", context),
        Candidate("Eight crews fought the blaze which broke out early on Sunday.", "B", context),
    ]
    profile = profile_question("How many fire crews tackled the Waitrose blaze in Wellington?")
    strengths = [check_candidate(profile, candidate).strength for candidate in candidates]
    assert strengths[1] > strengths[0] > 0
    chosen = choose(profile, candidates)
    assert chosen[0].index == 1


def test_what_round_asks_for_a_rank_not_a_count():
    """ "In six rounds" counts the rounds; "in the sixth round" (or "6th") says which one."""
    profile = profile_question("In what round did Wladimir Klitschko beat Tony Thompson?")
    count, rank, digits = (
        check_candidate(profile, Candidate(text, "A"))
        for text in (
            "Wladimir Klitschko beat Tony Thompson in six rounds.",
            "Wladimir Klitschko beat Tony Thompson in the sixth round.",
            "Wladimir Klitschko beat Tony Thompson in the 6th round.",
        )
    )
    assert count.answers and rank.answers and digits.answers
    assert count.strength < rank.strength == digits.strength == 1.0


def test_an_ordinal_is_its_number():
    """ "The sixth round" and "the 6th round" are one answer, which two outlets support against one "11th"."""
    context = "Klitschko beats Tony Thompson"
    candidates = [
        Candidate("Wladimir Klitschko beat Tony Thompson in the 11th round in 2008.", "A", context),
        Candidate("Wladimir Klitschko beat Tony Thompson in the sixth round on Saturday.", "B", context),
        Candidate("Wladimir Klitschko beat Tony Thompson in the 6th round in Bern.", "C", context),
    ]
    profile = profile_question("In what round did Wladimir Klitschko beat Tony Thompson?")
    assert check_candidate(profile, candidates[1]).evidence == check_candidate(profile, candidates[2]).evidence
    chosen = choose(profile, candidates)
    assert chosen[0].index == 1 and chosen[0].also == (2,)


def test_a_comma_ends_a_name():
    """ "The camp in Yida, South Sudan" names Yida: the comma parts two names, so the sentence gives the answer
    the other outlet gives ("the Yida Refugee Camp") and is listed under it rather than shown as another fact."""
    candidates = [
        Candidate("On Thursday the Yida Refugee Camp in South Sudan was bombed.", "A"),
        Candidate("Sudan bombed the Samaritan's Purse refugee camp in Yida, South Sudan, on Thursday.", "B"),
    ]
    profile = profile_question("Which refugee camp in South Sudan was bombed?")
    assert "yida" in check_candidate(profile, candidates[1]).evidence
    chosen = choose(profile, candidates)
    assert [item.index for item in chosen] == [0] and chosen[0].also == (1,)


@pytest.mark.parametrize(
    ("question", "texts", "lead"),
    [
        (
            "Who is on trial for the shooting at the Kraft plant?",
            ("The shooting at the Kraft plant happened minutes after Hiller was suspended from her job.",
             "A woman named Yvonne Hiller shot two co-workers at the Kraft plant in Philadelphia."),
            1,
        ),
        (
            "Who was shot by officers in Flatbush on Saturday?",
            ("Police said Kimani was shot by officers in Flatbush on Saturday.",
             "Officers shot the teenager, Kimani Gray, 16, in Flatbush on Saturday."),
            1,
        ),
        (
            "Who has been charged with killing his mother and sister in Millom?",
            ("John Jenkin, 23, of Carlisle, has been charged with killing his mother and sister in Millom.",
             "Detectives in North Carlisle say John Paul Jenkin killed his mother and sister in Millom."),
            0,
        ),
    ],
)  # fmt: skip
def test_a_who_reply_names_the_person_in_full(question: str, texts: tuple[str, str], lead: int):
    """A lead that names the answer by a surname ("Hiller") or a first name ("Kimani") alone yields to an answer
    as plain that gives the full name; a lead that already gives a full name keeps its place, whatever one-word
    place it also names ("Carlisle", not "North Carlisle")."""
    names = frozenset(root for text in texts for root in name_roots(text))
    candidates = [Candidate(text, outlet, article_names=names) for text, outlet in zip(texts, "AB", strict=True)]
    profile = profile_question(question)
    assert all(check.answers and check.strength == 1.0 for check in map(partial(check_candidate, profile), candidates))
    assert choose(profile, candidates)[0].index == lead


def test_an_ordinal_the_question_gives_must_be_said_of_the_same_thing():
    """ "The 13th Doctor" is not the 12th: a report of the 12th answers nothing, however close; "thirteenth" is
    the same ordinal. "Their third fight" is not answered by a "third round" of another fight. "First" marks the
    original ("the first film") more than one of many, and binds nothing."""
    profile = profile_question("Who was cast as the 13th Doctor after Peter Capaldi?")
    assert profile.ordinals == ((("13th", "thirteenth"), frozenset({"doctor", "pet"})),)
    twelfth = Candidate("Peter Capaldi revealed that he had been cast as the 12th Doctor while filming.", "A")
    thirteenth = Candidate("Jodie Whittaker was cast as the thirteenth Doctor, after Peter Capaldi.", "B")
    assert not check_candidate(profile, twelfth).answers
    assert check_candidate(profile, thirteenth).answers

    profile = profile_question("In which round did Wladimir Klitschko stop Tony Thompson in their third fight?")
    another = Candidate(
        "Wladimir Klitschko stopped Tony Thompson in the sixth round.", "A", "Klitschko wins in third round"
    )
    third = Candidate("In their third fight, Wladimir Klitschko stopped Tony Thompson in the sixth round.", "B")
    assert not check_candidate(profile, another).answers
    assert check_candidate(profile, third).answers
    assert profile_question("How much was Gary Ross paid for the first Hunger Games?").ordinals == ()


def test_a_year_or_a_figure_the_question_gives_binds_like_a_name():
    """A decimal figure binds as a year does ("the 4.6 earthquake"); a count does not ("8 years" is written
    "eight-year" as often)."""
    assert profile_question("When did the 4.6 earthquake strike in 2013?").bound == ("4.6", "2013")
    assert profile_question("How much did Boston offer Mark Teixeira over 8 years?").bound == ()
    profile = profile_question("Where did the 4.6 earthquake strike?")
    assert not check_candidate(profile, Candidate("A 5.1 earthquake struck near Healdsburg.", "A")).answers
    assert check_candidate(profile, Candidate("A 4.6 earthquake struck near Healdsburg.", "A")).answers


def test_a_rarer_name_of_the_question_must_be_near_the_answer():
    """ "How much did AMD pay to acquire Calxeda": a report on AMD buying SeaMicro that names Calxeda once, in
    passing, answers nothing; the sentence or its context must name the question's rarest name. A name the
    question gives alone may be anywhere in the article (a dateline)."""
    profile = profile_question("How much did AMD pay to acquire Calxeda?")
    names = frozenset({"amd", "seamicro", "calxeda"})

    def rare(term: str) -> float:
        return 5.0 if term == "calxeda" else 1.0

    seamicro = Candidate("AMD will pay $334 million to acquire SeaMicro.", "A", article_names=names)
    calxeda = Candidate("AMD will pay $334 million to acquire Calxeda.", "A", article_names=names)
    assert not check_candidate(profile, seamicro, rare).answers
    assert check_candidate(profile, calxeda, rare).answers
    alone = profile_question("How much did AMD pay?")
    assert check_candidate(alone, Candidate("The company will pay $334 million.", "A", article_names=names)).answers

    # of three names, one near besides the commonest is enough: the sentence names Bush, not the department
    profile = profile_question("What did Obama sign at the Interior Department to put the Bush rule on hold?")
    names = frozenset({"obama", "interior", "depart", "bush"})

    def rarity(term: str) -> float:
        return {"interior": 5.0, "bush": 3.0}.get(term, 1.0)

    signed = Candidate("The president signed a memorandum putting on hold a Bush rule.", "A", article_names=names)
    assert check_candidate(profile, signed, rarity).names_covered


def test_a_sentence_that_denies_the_asked_verb_does_not_answer():
    """ "His team will not sign Mark Teixeira" names a team, but says it did not do what the question asks."""
    profile = profile_question("Which team did Mark Teixeira finally sign with?")
    assert {"sign", "hire"} <= profile.verb
    denied = Candidate("The Boston Red Sox said their team will not sign Mark Teixeira after all.", "A")
    signed = Candidate("The New York Yankees finally signed Mark Teixeira, a team source said.", "B")
    assert not check_candidate(profile, denied).answers
    assert check_candidate(profile, signed).answers


def test_a_name_that_holds_a_place_is_not_that_place():
    """ "The Washington Navy Yard" is not covered by an article about the United States that never names it;
    "Washington" alone is."""
    candidate = Candidate("A gunman shot three people at a printing plant in California.", "A",
                          article_places=frozenset({"US"}))  # fmt: skip
    assert not check_candidate(
        profile_question("Who was the gunman in the Washington Navy Yard shooting?"), candidate
    ).answers
    assert check_candidate(profile_question("Who was the gunman in the Washington shooting?"), candidate).names_covered


def test_a_line_in_capitals_has_no_acronyms():
    """In "GRANDMOTHER KILLED BY DRUNK DRIVER ... DA SAYS" every word is in capitals: "DRUNK", "SAYS" and "DA"
    are no acronyms, and the line names no driver."""
    profile = profile_question("Who was the driver charged in the hit-and-run in Richmond Hill?")
    shouted = Candidate("GRANDMOTHER KILLED BY DRUNK DRIVER IN HIT-AND-RUN IN RICHMOND HILL, QUEENS DA SAYS", "A")
    check = check_candidate(profile, shouted)
    assert check.evidence == frozenset() and not check.answers


def test_who_holds_a_role_is_answered_by_the_name_beside_the_role():
    """ "Who was AMD's chief executive": the name next to "chief executive" leads over the names of a sentence
    that tells of the deal."""
    profile = profile_question("Who was AMD's chief executive when it bought SeaMicro?")
    assert profile.focus == {"executiv"}
    candidates = [
        Candidate("Chip designer AMD, a rival of Intel, agreed to buy SeaMicro, a Silicon Valley startup.", "A"),
        Candidate("AMD chief executive Rory Read welcomed the SeaMicro deal on Wednesday.", "B"),
    ]
    assert choose(profile, candidates)[0].index == 1


@pytest.mark.parametrize(
    ("question", "vague", "plain"),
    [
        (
            "When will the Oscars be broadcast?",
            "The Oscars, with Ellen DeGeneres as host, will be broadcast in 2014.",
            "The Oscars will be broadcast live on Sunday, March 2.",
        ),
        (
            "When is Catching Fire scheduled to be released?",
            "Catching Fire is scheduled to be released in 2013.",
            "Catching Fire is scheduled to be released in November 2013.",
        ),
        (
            "When is Catching Fire scheduled to be released?",
            "Catching Fire is scheduled for a November 2013 release.",
            "Catching Fire is scheduled to be released on November 22, 2013.",
        ),
        (
            "At what time did the earthquake near Healdsburg strike?",
            "The earthquake near Healdsburg struck this morning.",
            "The earthquake near Healdsburg struck at 2 a.m.",
        ),
        (
            "How long had Yvonne Hiller worked at the Kraft plant?",
            "Yvonne Hiller shot two co-workers at the Kraft plant where she worked.",
            "Yvonne Hiller had worked at the Kraft plant for 15 years.",
        ),
        (
            "How deep was the earthquake near Healdsburg?",
            "A 4.6 earthquake struck near Healdsburg, 2 people said it was deep.",
            "The earthquake near Healdsburg had a depth of 1.2 miles, deep for the area.",
        ),
    ],
)
def test_the_plainer_of_two_answers_leads(question: str, vague: str, plain: str):
    """ "When": a year alone says less than a month, a month less than a day; "at what time" asks for a time of
    day, not "this morning". "How long had she worked": "15 years", not "two co-workers"; "how deep": "1.2
    miles"."""
    profile = profile_question(question)
    candidates = [Candidate(vague, "A"), Candidate(plain, "B")]
    assert all(check_candidate(profile, candidate).answers for candidate in candidates)
    assert choose(profile, candidates)[0].index == 1


def test_a_sentence_that_writes_the_lead_s_answer_states_the_same_fact():
    """ "The warehouse in Palmer" answers "in which town" with Palmer; "Palmer's historic warehouse" writes Palmer
    too, though not as a place: one fact, the second outlet under "also reported by"."""
    candidates = [
        Candidate("The fire destroyed the Matanuska Maid warehouse in Palmer on Tuesday.", "A"),
        Candidate("A fire on Tuesday destroyed Palmer's historic Matanuska Maid warehouse in Alaska.", "B"),
    ]
    profile = profile_question("In which town did fire destroy the Matanuska Maid warehouse?")
    chosen = choose(profile, candidates)
    assert [item.index for item in chosen] == [0] and chosen[0].also == (1,)


def test_a_figure_with_its_unit_is_that_figure():
    """ "A 6.1-magnitude earthquake", "a magnitude-6.1 earthquake" and "an earthquake of magnitude 6.1" give one
    figure; a score stays whole."""
    profile = profile_question("What was the magnitude of the earthquake that hit Aceh?")
    hyphenated = check_candidate(profile, Candidate("A 6.1-magnitude earthquake hit Indonesia's Aceh province.", "A"))
    unit_first = check_candidate(profile, Candidate("A magnitude-6.1 earthquake hit Indonesia's Aceh province.", "A"))
    plain = check_candidate(profile, Candidate("An earthquake of magnitude 6.1 hit Aceh province.", "B"))
    assert hyphenated.evidence == unit_first.evidence == plain.evidence == {"6.1"}
    rifles = profile_question("How many rifles did the navy seize from the pirates?")
    seized = check_candidate(rifles, Candidate("The navy seized 14 AK-47 rifles from the pirates.", "A"))
    assert seized.evidence == {"14"}  # a model's name, not a figure
    score = profile_question("What was the final score when the Colts beat the Chiefs?")
    assert "20-13" in check_candidate(score, Candidate("The Colts beat the Chiefs 20-13 on Sunday.", "A")).evidence


def test_how_old_is_answered_by_an_age():
    """ "How old was Cheeks": "Cheeks, 48," is an age; "seven seasons" is a count, and "the 21st head coach" a
    rank, neither an age."""
    profile = profile_question("How old was Maurice Cheeks when the 76ers hired him as coach?")
    candidates = [
        Candidate("Maurice Cheeks stayed for seven seasons until the 76ers hired him as coach.", "A"),
        Candidate("Maurice Cheeks, 48, was hired as coach by the 76ers on Tuesday.", "B"),
    ]
    assert all(check_candidate(profile, candidate).answers for candidate in candidates)
    assert choose(profile, candidates)[0].index == 1
    for text in ("The 76ers hired a 48-year-old Maurice Cheeks as coach.", "The 76ers hired Maurice Cheeks, aged 48."):
        assert check_candidate(profile, Candidate(text, "C")).strength == 1.0
    rank = Candidate("The 76ers hired Maurice Cheeks as their 21st head coach.", "D")
    assert not check_candidate(profile, rank).evidence


def test_which_person_is_answered_by_a_name_that_is_the_person():
    """ "Which judge": in "a Norwalk Superior Court judge upheld ..." the name says where the judge sits; "Judge
    Philip Hickok" is the judge."""
    profile = profile_question("Which judge sentenced Jose Luis Orozco to death?")
    court = Candidate("A Norwalk Superior Court judge sentenced Jose Luis Orozco to death on Thursday.", "A")
    named = Candidate("Judge Philip Hickok sentenced Jose Luis Orozco to death on Thursday.", "B")
    assert check_candidate(profile, court).strength < check_candidate(profile, named).strength == 1.0
    assert choose(profile, [court, named])[0].index == 1


def test_how_many_x_verb_is_answered_by_a_count_of_x_that_did_it():
    """ "How many people were killed": "10 people had been killed" says it; "home to 120,000 people" counts
    people too, but not the ones killed."""
    profile = profile_question("How many people were killed by the earthquake on Qeshm island?")
    candidates = [
        Candidate("The earthquake struck Qeshm island, home to 120,000 people, early on Sunday.", "A"),
        Candidate("On Qeshm island 10 people had been killed by the earthquake, the governor said.", "B"),
    ]
    strengths = [check_candidate(profile, candidate).strength for candidate in candidates]
    assert strengths[0] < strengths[1] == 1.0
    assert choose(profile, candidates)[0].index == 1


def test_how_old_is_answered_most_plainly_by_the_age_of_the_one_asked_about():
    """ "How old was Zurana Horton": "Zurana Horton, 34," over the ages of the two accused in the same report."""
    profile = profile_question("How old was Zurana Horton when she was killed in Brownsville?")
    candidates = [
        Candidate("Zurana Horton was killed in Brownsville when Andrew Lopez, 20, opened fire from a roof.", "A"),
        Candidate("Zurana Horton, 34, was killed in Brownsville on Friday afternoon.", "B"),
    ]
    assert choose(profile, candidates)[0].index == 1


def test_a_time_of_day_is_no_count():
    """ "Shot just before 11:30 p.m." tells no number of shots; "shot 11 times" does."""
    profile = profile_question("How many times did officers shoot Kimani Gray?")
    clock = check_candidate(profile, Candidate("Officers shot Kimani Gray just before 11:30 p.m. on Saturday.", "A"))
    assert not clock.evidence
    assert check_candidate(profile, Candidate("Officers shot Kimani Gray 11 times on Saturday.", "B")).evidence == {
        "11"
    }


def test_a_question_in_an_article_answers_nothing():
    """ "Should the Yankees go higher than $25 million a season?" names a sum, but asks; it tells nothing."""
    profile = profile_question("How much money did the New York Yankees offer Mark Teixeira?")
    asking = Candidate("Should the New York Yankees offer Mark Teixeira more than $25 million a season?", "A")
    telling = Candidate("The New York Yankees offered Mark Teixeira $180 million over eight years.", "B")
    assert not check_candidate(profile, asking).answers
    assert check_candidate(profile, telling).answers


def test_of_two_plain_answers_the_one_closer_to_the_question_word_leads():
    """Two outlets name two people, as plainly, for "who": the one whose sentence is nearer the vector of "who" in
    the question (the person asked for, more than the topic) leads, whatever retrieval said; without that vector the
    sentence closer to the question does."""
    candidates = [
        Candidate("Harbour Club's new striker is Ana Costa, who arrived from Porto on Monday.", "A"),
        Candidate("Harbour Club's new striker, Lena Moritz, arrived from Porto on Monday.", "B"),
    ]
    profile = profile_question("Who is Harbour Club's new striker?")
    assert profile.question_word == "Who"
    ranked, vectors = ranked_as_given(candidates), distinct_vectors(2)

    def lead(asked: np.ndarray | None) -> int:
        return select_answer(profile, ranked, candidates, vectors, asked=asked)[0].index

    assert lead(vectors[1]) == 1 and lead(vectors[0]) == 0
    assert lead(None) == 0
    assert profile_question("In which year did it open?").question_word == "which"
    assert profile_question("Name the ship that stopped the pirates.").question_word == ""
