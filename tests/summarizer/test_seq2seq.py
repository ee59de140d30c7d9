"""The abstractive backend, loaded through the real code path from a tiny random BART, and its guard."""

from __future__ import annotations

import pytest

from summarizer.errors import ModelLoadError
from summarizer.extractive import Summarizer
from summarizer.sentences import split_sentences
from summarizer.seq2seq import FaithfulnessGuard, Seq2SeqSummarizer

ARTICLE = (
    "The European Union agreed a new package of sanctions against Iran on Tuesday. "
    "Foreign ministers meeting in Brussels approved asset freezes on 12 officials and three companies. "
    "Iran said the measures were illegal and vowed to respond. "
    "The sanctions follow months of talks over Iran's nuclear programme. "
    "Diplomats said further steps were possible if talks fail. "
    "Oil prices rose slightly after the announcement."
)
CORPUS = [ARTICLE, "Russia fired missiles at Kyiv on Monday.", "The talks ended without a deal in Geneva."] * 3


@pytest.fixture(scope="session")
def tiny_bart(tmp_path_factory) -> str:
    """A 15k-parameter random BART with a 300-token BPE tokenizer, saved like any downloaded model."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import BartConfig, BartForConditionalGeneration, GenerationConfig, PreTrainedTokenizerFast

    path = tmp_path_factory.mktemp("tiny-bart")
    tk = Tokenizer(models.BPE(unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tk.train_from_iterator(CORPUS, trainer)
    tk.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> $B </s>",
        special_tokens=[("<s>", tk.token_to_id("<s>")), ("</s>", tk.token_to_id("</s>"))],
    )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        mask_token="<mask>",
        model_max_length=128,
    )
    tok.save_pretrained(path)
    config = BartConfig(
        vocab_size=len(tok),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=128,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.eos_token_id,
        forced_eos_token_id=tok.eos_token_id,
    )
    torch.manual_seed(0)  # the same random weights whatever ran before
    model = BartForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        max_new_tokens=20,
        min_new_tokens=8,  # random weights must still write something for the guard to judge
        num_beams=2,
        decoder_start_token_id=config.decoder_start_token_id,
        bos_token_id=config.bos_token_id,
        eos_token_id=config.eos_token_id,
        pad_token_id=config.pad_token_id,
    )
    model.save_pretrained(path)
    return str(path)


def test_tiny_model_loads_by_path_and_every_sentence_points_into_the_source(tiny_bart, encoder):
    """Random weights write gibberish: the guard replaces it by source sentences, and says so."""
    summ = Seq2SeqSummarizer(tiny_bart, guard_encoder=encoder)
    assert isinstance(summ, Summarizer)
    summary = summ.summarize(ARTICLE, max_sentences=2)
    assert summary.method.startswith("seq2seq:")
    assert summary.rejected  # the gibberish was caught
    assert 1 <= len(summary.sentences) <= 2
    for s in summary.sentences:
        assert ARTICLE[s.start : s.end] == s.text
        assert not s.generated


def test_guard_off_keeps_generated_text_but_still_cites_a_source_sentence(tiny_bart, encoder):
    """With the guard off the model's own words are shown, each pointing to its closest source sentence."""
    summary = Seq2SeqSummarizer(tiny_bart, guard_encoder=encoder, guard="off").summarize(ARTICLE)
    assert summary.sentences
    sources = split_sentences(ARTICLE)
    for s in summary.sentences:
        assert s.generated
        assert sources[s.index].start == s.start and sources[s.index].end == s.end


def test_guard_drop_falls_back_to_the_lead_when_nothing_survives(tiny_bart, encoder):
    """Dropping every unsupported sentence leaves nothing generated, so the lead is shown instead."""
    summary = Seq2SeqSummarizer(tiny_bart, guard_encoder=encoder, guard="drop").summarize(ARTICLE, max_sentences=2)
    assert [s.index for s in summary.sentences] == [0, 1]
    assert summary.rejected


def test_long_articles_are_chunked_to_the_input_limit_and_batched(tiny_bart, encoder):
    """An article over the model's input limit becomes several chunks, generated together; nothing raises."""
    summ = Seq2SeqSummarizer(tiny_bart, guard_encoder=encoder, max_input_tokens=100, batch_size=3, max_chunks=4)
    sentences = split_sentences(" ".join([ARTICLE] * 4))  # 24 sentences of 38 to 70 tokens each
    chunks = summ.chunk(sentences)
    assert len(chunks) == 4  # capped: the rest of a very long article is not read
    assert all(len(summ._tokenizer(c)["input_ids"]) <= 100 for c in chunks)
    assert " ".join(chunks) == " ".join(s.text for s in sentences[: sum(len(split_sentences(c)) for c in chunks)])
    summaries = summ.summarize_many([" ".join([ARTICLE] * 4), ARTICLE])
    assert len(summaries) == 2 and all(s.sentences for s in summaries)
    assert summ.input_limit == 100


def test_model_limit_comes_from_the_config(tiny_bart, encoder):
    """Without an explicit limit, the model's max_position_embeddings / tokenizer limit is used."""
    summ = Seq2SeqSummarizer(tiny_bart, guard_encoder=encoder)
    summ.load()
    assert summ.input_limit == 128


def test_a_missing_or_non_seq2seq_model_is_a_model_load_error(tmp_path, encoder):
    """A missing directory or an encoder-only model fails with ModelLoadError, never a download."""
    with pytest.raises(ModelLoadError):
        Seq2SeqSummarizer(str(tmp_path / "missing"), guard_encoder=encoder).summarize(ARTICLE)
    with pytest.raises(ModelLoadError):
        Seq2SeqSummarizer("org/not-a-cached-model", guard_encoder=encoder).load()


def test_guard_keeps_paraphrases_and_rejects_unrelated_or_invented_numbers(encoder):
    """Supported: a paraphrase. Unsupported: an unrelated claim, or a figure the source never gives."""
    source = split_sentences(ARTICLE)
    verdicts = FaithfulnessGuard(encoder).check(
        [
            "EU ministers approved fresh sanctions on Tehran on Tuesday.",
            "The football club sacked its manager after a run of defeats.",
            "Foreign ministers in Brussels froze the assets of 40 officials.",
            "Asset freezes hit 12 officials and three companies.",
        ],
        source,
        ARTICLE,
    )
    assert [v.supported for v in verdicts] == [True, False, False, True]
    assert verdicts[0].source_index == 0
    assert "similarity" in verdicts[1].reason
    assert "40" in verdicts[2].reason
    assert verdicts[3].source_index == 1


def test_bad_guard_mode_is_rejected(tiny_bart):
    """Only replace, drop and off exist."""
    with pytest.raises(ValueError, match="guard"):
        Seq2SeqSummarizer(tiny_bart, guard="maybe")  # type: ignore[arg-type]
