"""The on-disk cache of token texts: hit, miss, corrupt or stale files, unwritable folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flowsleuth.agent.llm.constrained import GuidedDecoder
from flowsleuth.agent.llm.vocab import cached_texts, token_texts, vocab_key


class CountingTokenizer:
    """A tokenizer stand-in that counts how often the vocabulary is decoded."""

    def __init__(self, vocab: list[str]) -> None:
        self.all_special_ids = [0]
        self.vocab = vocab
        self.decodes = 0

    def __len__(self) -> int:
        return len(self.vocab)

    def batch_decode(self, ids: list[list[int]]) -> list[str]:
        self.decodes += 1
        return ["".join(self.vocab[i] for i in seq) for seq in ids]


VOCAB = ["<s>", "a", " b", '"', "\n", "7", "é"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "tokenizer.json").write_text('{"model": "one"}')
    return tmp_path


def test_miss_builds_and_writes_then_hit_reads_without_decoding(folder: Path) -> None:
    tok = CountingTokenizer(VOCAB)
    assert token_texts(tok, folder) == VOCAB
    assert tok.decodes == 1
    [cache] = folder.glob("vocab-*.json")
    assert json.loads(cache.read_text()) == VOCAB
    assert token_texts(tok, folder) == VOCAB
    assert tok.decodes == 1  # the second start read the file


@pytest.mark.parametrize(
    "content",
    ["", '["<s>", "a"', "not json", '{"a": 1}', '["too", "short"]', json.dumps([1] * len(VOCAB)), "\udcff"],
    ids=["empty", "truncated", "junk", "object", "wrong-length", "not-strings", "bad-utf8"],
)
def test_corrupt_file_is_rebuilt_and_replaced(folder: Path, content: str) -> None:
    path = folder / "vocab-x.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    calls = []
    texts = cached_texts(path, len(VOCAB), lambda: calls.append(1) or list(VOCAB))
    assert texts == VOCAB and calls == [1]
    assert json.loads(path.read_text()) == VOCAB
    assert list(folder.glob(".vocab-*")) == []  # no temporary file left behind


def test_key_changes_with_tokenizer_files_size_and_versions(folder: Path) -> None:
    key = vocab_key(folder, 7, ("5.0", "0.23"))
    assert key == vocab_key(folder, 7, ("5.0", "0.23"))
    assert key != vocab_key(folder, 8, ("5.0", "0.23"))
    assert key != vocab_key(folder, 7, ("5.1", "0.23"))
    (folder / "tokenizer.json").write_text('{"model": "two"}')
    assert key != vocab_key(folder, 7, ("5.0", "0.23"))


def test_another_model_never_reads_a_stale_cache(folder: Path) -> None:
    first = CountingTokenizer(VOCAB)
    token_texts(first, folder)
    (folder / "tokenizer.json").write_text('{"model": "two"}')
    other = ["x", "y", "z", "w", "v", "u", "t"]  # same size, other texts
    second = CountingTokenizer(other)
    assert token_texts(second, folder) == other
    assert second.decodes == 1
    assert len(list(folder.glob("vocab-*.json"))) == 2


def test_unwritable_folder_still_returns_texts(tmp_path: Path) -> None:
    path = tmp_path / "missing-dir" / "vocab-x.json"
    assert cached_texts(path, len(VOCAB), lambda: list(VOCAB)) == VOCAB
    assert not path.exists()


def test_decoder_uses_given_texts_without_decoding() -> None:
    tok = CountingTokenizer(VOCAB)
    decoder = GuidedDecoder(model=None, tokenizer=tok, token_texts=list(VOCAB))
    assert tok.decodes == 0
    assert decoder.token_texts == VOCAB
    assert decoder.stop_ids == [0, 3, 4]  # special, quote, newline
    assert GuidedDecoder(model=None, tokenizer=tok).token_texts == VOCAB
    assert tok.decodes == 1
