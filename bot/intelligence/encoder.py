"""The sentence encoder the bot uses for news intelligence: one per process, built from the settings."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from bot.config import Settings
from summarizer.encoder import Encoder, bf16_supported


def encoder_for(settings: Settings) -> Encoder:
    """The process's encoder for these settings (created once, loaded lazily on first use).

    bf16 is used only when enabled and the CPU runs it natively; vectors stored with one precision and queried
    with the other agree to a cosine of 0.9999, so switching precision needs no re-processing.
    """
    wants_bf16 = settings.encoder_bf16 and settings.summarizer_device == "cpu"
    return _encoder(
        settings.encoder_threads or None,
        wants_bf16,
        settings.summarizer_device,
        settings.sentence_encoder or None,
        settings.sentence_encoder_multilingual,
    )


def question_encoder_for(settings: Settings) -> Encoder:
    """The encoder for questions: always float32, whose latency on one sentence is steady (~7 ms on 2 cores).

    bf16 wins for batches but is erratic on single sentences (up to ~0.5 s when a new input length needs new
    kernels), which is what a question is. With bf16 off this is the same object as :func:`encoder_for`.
    """
    return _encoder(
        settings.encoder_threads or None,
        False,
        settings.summarizer_device,
        settings.sentence_encoder or None,
        settings.sentence_encoder_multilingual,
    )


@cache
def _encoder(threads: int | None, wants_bf16: bool, device: str, path: str | None, multilingual: bool) -> Encoder:
    # SENTENCE_ENCODER is loaded by the same code as the bundled MiniLM: any local sentence-transformers folder
    # (a BERT-style model with mean pooling) works; only its declaration says whether it is multilingual.
    return Encoder(
        Path(path).expanduser() if path else None,
        threads=threads,
        bf16=wants_bf16 and bf16_supported(),
        device=device,
        multilingual=multilingual,
    )
