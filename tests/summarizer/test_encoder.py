"""The sentence encoder: shape, normalisation, cache, precision and injected models."""

from __future__ import annotations

import numpy as np
import pytest

from summarizer.encoder import Encoder, TextEncoder, word_vector
from summarizer.errors import ModelLoadError

SENTENCES = [
    "Sanctions were imposed on the regime.",
    "The government faced new economic penalties.",
    "The football match ended in a draw.",
]


def test_vectors_are_unit_float32_rows_and_similarity_makes_sense(encoder):
    """(n, 384) float32 unit vectors; paraphrases are closer than unrelated sentences."""
    vectors = encoder.encode(SENTENCES)
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sims = vectors @ vectors.T
    assert sims[0, 1] > 0.45 > 0.2 > sims[0, 2]
    assert isinstance(encoder, TextEncoder)


def test_no_sentence_is_embedded_twice(encoder):
    """Repeats inside a call and across calls come from the cache, with identical vectors."""
    fresh = [f"Unique cache test sentence number {i}." for i in range(3)]
    before = encoder.cache_info()
    first = encoder.encode([fresh[0], fresh[1], fresh[0], fresh[2]])
    middle = encoder.cache_info()
    assert middle.misses - before.misses == 3
    again = encoder.encode(list(reversed(fresh)))
    after = encoder.cache_info()
    assert after.misses == middle.misses
    assert after.hits - middle.hits == 3
    assert np.array_equal(first[0], first[2])
    assert np.array_equal(again[2], first[0])


def test_cache_is_bounded_lru(encoder):
    """A small cache keeps only the most recently used sentences (sharing the loaded model)."""
    small = Encoder(cache_size=2, tokenizer=encoder._tokenizer, model=encoder._model)
    small.encode(["Alpha one is here.", "Beta two is here.", "Gamma three is here."])
    assert small.cache_info().size == 2
    small.encode(["Gamma three is here."])
    assert small.cache_info().hits == 1
    small.encode(["Alpha one is here."])
    assert small.cache_info().misses == 4


def test_empty_input_gives_an_empty_matrix(encoder):
    """Zero sentences give a (0, 384) array."""
    assert encoder.encode([]).shape == (0, 384)


def test_bf16_matches_fp32_closely(encoder):
    """bf16 changes the vectors by a cosine of about 1e-4 (a separate model copy, same weights)."""
    bf16 = Encoder(bf16=True, threads=2)
    a = encoder.encode(SENTENCES)
    b = bf16.encode(SENTENCES)
    assert bf16.loaded and bf16.name.endswith("bf16")
    assert np.min(np.sum(a * b, axis=1)) > 0.999


def test_batches_are_shared_out_to_single_threaded_workers(encoder):
    """Two workers embed a call's batches at once, torch on one thread each, without changing the process's
    setting; the vectors are those of one batch at a time."""
    import torch

    texts = [f"Sentence {i} about {'talks ' * (i % 7)}in Tokyo." for i in range(40)]
    process_threads = torch.get_num_threads()
    shared = Encoder(threads=2, batch_size=4, cache_size=0, tokenizer=encoder._tokenizer, model=encoder._model)
    vectors = shared.encode(texts)
    assert shared._workers is not None
    seen = set(shared._workers.map(lambda _: torch.get_num_threads(), range(8)))
    assert seen == {1}
    assert torch.get_num_threads() == process_threads
    one_at_a_time = Encoder(threads=1, batch_size=40, cache_size=0, tokenizer=encoder._tokenizer, model=encoder._model)
    assert np.min(np.sum(vectors * one_at_a_time.encode(texts), axis=1)) > 0.9999


def test_injected_tiny_model_runs_through_the_same_code(tmp_path, encoder):
    """A tiny random BERT, saved and loaded by path, goes through the same tokenise/pool/normalise code."""
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=encoder._tokenizer.vocab_size,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(tmp_path)
    encoder._tokenizer.save_pretrained(tmp_path)
    tiny = Encoder(tmp_path, max_tokens=32)
    vectors = tiny.encode(SENTENCES)
    assert vectors.shape == (3, 16)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_missing_model_directory_is_a_model_load_error(tmp_path):
    """A path without a model raises ModelLoadError and never tries to download."""
    with pytest.raises(ModelLoadError):
        Encoder(tmp_path / "nowhere").encode(["x"])


@pytest.mark.parametrize(("kwargs", "message"), [({"batch_size": 0}, "batch_size"), ({"cache_size": -1}, "cache_size")])
def test_bad_settings_are_rejected(kwargs, message):
    """Nonsense settings fail early."""
    with pytest.raises(ValueError, match=message):
        Encoder(**kwargs)


def test_length_batching_gives_the_same_vectors_as_one_at_a_time(encoder):
    """Sentences of very different lengths are batched by length; each vector equals its solo encoding."""
    texts = [
        "Talks failed.",
        "The ministers met in Geneva on Friday to discuss a ceasefire, officials said. " * 3,
        "Oil prices rose after the announcement in Brussels on Tuesday.",
        "Tehran summoned three European envoys.",
    ]
    fresh = Encoder(tokenizer=encoder._tokenizer, model=encoder._model, cache_size=0, batch_size=3)
    together = fresh.encode(texts)
    alone = np.vstack([fresh.encode([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-5)


def test_a_word_vector_is_the_word_in_its_context(encoder):
    """The vector of "who" is a unit float32 row that depends on the question around it, cached; the question's own
    vector comes out of the same pass, cached and as ``encode`` gives it; a word that is not there gives None."""
    question = "Who did the New Orleans Saints sign on Tuesday?"
    fresh = Encoder(tokenizer=encoder._tokenizer, model=encoder._model)
    who = fresh.word_vector(question, "who")
    assert who is not None and who.dtype == np.float32 and who.shape == (384,)
    assert np.isclose(np.linalg.norm(who), 1.0, atol=1e-5)
    other = fresh.word_vector("Who won the 1998 World Cup final?", "Who")
    assert other is not None and float(who @ other) < 0.99
    before = fresh.cache_info()
    assert np.allclose(fresh.encode([question])[0], encoder.encode([question])[0], atol=1e-5)
    assert fresh.cache_info().hits == before.hits + 1
    assert fresh.word_vector(question, "Who") is who  # cached, whatever the case
    assert fresh.word_vector(question, "when") is None
    assert fresh.word_vector("Whoever signs wins.", "who") is None  # a word, not part of one
    assert fresh.word_vector(question, "") is None


def test_word_vector_is_none_for_an_encoder_without_one(encoder):
    """Any `TextEncoder` may offer word vectors; one that does not gives None."""

    class Plain:
        def encode(self, texts):
            return np.zeros((len(texts), 3), dtype=np.float32)

    assert word_vector(Plain(), "Who signed?", "who") is None
    vector = word_vector(encoder, "Who signed?", "Who")
    assert vector is not None and vector.shape == (384,)
